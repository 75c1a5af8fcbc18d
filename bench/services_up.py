"""How long ``course services up`` takes per server: cold (empty data), warm (data kept), and ``down``.

Run it when nothing else uses the servers — it stops and restarts each one:

    uv run python -m bench.services_up [NAME…]

Keycloak (``uv run python -m bench.services_up keycloak``) is measured apart, on a state folder, a
port, a Maven cache and a distribution of its own, so the running Keycloak is left alone: cold is
everything a clean clone pays (download, unpack, optimized build, first start creating the schema and
importing the realm); warm is a restart, with and without the class-data archive the first run
records, against the 45 s target.

Cold means a first start on empty data (initdb, Kafka storage format, RabbitMQ's Mnesia) with installs
already cached; warm is a restart on existing data — what a learner waits for every day. Each server's
data is moved aside for the cold run and put back afterwards, so nothing is lost. The target is a warm
``up`` of all five in ≤ 30 s on 2 cores; the table reports each time against it and warm ÷ cold.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from course.services.base import STATE_ROOT
from course.services.launcher import SERVERS, Launcher, native_server, validate_names
from reference.config import get_settings
from reference.setup.ports import free_port
from reference.setup.servers import probe, server

TARGET_KEYCLOAK_WARM_S = 45.0
KEYCLOAK_RESULTS = Path(__file__).parent / "results" / "services_up_keycloak.md"

TARGET_WARM_TOTAL_S = 30.0
RESULTS = Path(__file__).parent / "results" / "services_up.md"


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def measure(launcher: Launcher, name: str, rounds: int = 2) -> tuple[float, float, float]:
    """(cold up, median warm up, median down) in seconds for one server."""
    data = native_server(name, launcher.settings).paths().data
    saved = data.with_name("data.bench-saved")
    launcher.down([name])
    if data.exists():
        shutil.rmtree(saved, ignore_errors=True)
        data.rename(saved)
    try:
        cold = _timed(lambda: launcher.up([name]))
        launcher.down([name])
    finally:
        if saved.exists():
            shutil.rmtree(data, ignore_errors=True)
            saved.rename(data)
    warm: list[float] = []
    down: list[float] = []
    for _ in range(rounds):
        warm.append(_timed(lambda: launcher.up([name])))
        down.append(_timed(lambda: launcher.down([name])))
    launcher.up([name])
    return cold, statistics.median(warm), statistics.median(down)


def keycloak_phases(rounds: int = 2) -> dict[str, float]:
    """Seconds per phase of a clean-clone Keycloak and of its restarts, in isolation."""
    from course.services.native.keycloak import KeycloakServer

    work = Path(tempfile.mkdtemp(prefix="bench-keycloak-", dir=STATE_ROOT))
    os.environ["COURSE_STATE_DIR"] = str(work / "state")
    os.environ["KEYCLOAK_URL"] = f"http://127.0.0.1:{free_port()}"
    settings = get_settings()
    kc = KeycloakServer(settings)
    kc.dist, kc.maven_repo = work / "dist", work / "m2"
    quiet: Callable[[str], None] = lambda _line: None  # noqa: E731

    def start_until_ready() -> int:
        pid = kc.start(quiet)
        deadline = time.monotonic() + 900
        while True:
            try:
                probe("keycloak", settings.keycloak_url, 2.0)
                return pid
            except Exception:  # not ready yet: any failure
                if time.monotonic() > deadline or not psutil.pid_exists(pid):
                    raise
                time.sleep(0.25)

    def stop(pid: int) -> None:
        kc.stop(pid)
        psutil.Process(pid).wait(timeout=120)

    phases: dict[str, float] = {}
    try:
        phases["download (Maven Central)"] = _timed(lambda: kc.download(quiet))
        phases["unpack"] = _timed(lambda: kc.unpack(quiet))
        phases["optimized build"] = _timed(lambda: kc.build(quiet))
        pid = 0

        def first() -> None:
            nonlocal pid
            pid = start_until_ready()

        phases["first start (schema, realm import)"] = _timed(first)
        phases["first down (records the class archive)"] = _timed(lambda: stop(pid))
        # Warm restarts, with and without the class archive, interleaved so that the load other
        # processes put on the machine falls on both alike. Keycloak's own log splits each start
        # into the JVM and Quarkus booting ("started in") and Keycloak's bootstrap after it.
        no_cds = KeycloakServer(settings)
        no_cds.dist, no_cds.maven_repo = kc.dist, kc.maven_repo
        no_cds.class_data_sharing = lambda: []  # type: ignore[method-assign]
        samples: dict[str, list[float]] = {}
        for _ in range(rounds):
            for label, server_ in (("without the class archive", no_cds), ("", kc)):
                kc_saved, kc = kc, server_
                pid = 0
                samples.setdefault(f"warm start {label}".strip(), []).append(_timed(first))
                log = kc.paths().log.read_text(errors="replace")
                booted = re.findall(r"started in ([\d.]+)s", log)
                bootstrap = re.findall(r"Bootstrap completed in ([\d.]+) seconds", log)
                suffix = f" {label}" if label else ""
                if booted and bootstrap:
                    samples.setdefault(f"· JVM + Quarkus boot{suffix}", []).append(
                        float(booted[-1])
                    )
                    samples.setdefault(f"· Keycloak bootstrap{suffix}", []).append(
                        float(bootstrap[-1])
                    )
                stop(pid)
                kc = kc_saved
        phases |= {name: statistics.median(values) for name, values in samples.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return phases


LOAD_AT_START = os.getloadavg()[0]


def keycloak_main() -> None:
    phases = keycloak_phases()
    cold = sum(
        seconds
        for phase, seconds in phases.items()
        if not phase.startswith(("warm", "first down", "·"))
    )
    warm = phases["warm start"]
    lines = [
        "# `course services up keycloak` — cold (clean clone) and warm",
        "",
        "Command: `uv run python -m bench.services_up keycloak` · native backend · 2 cores · "
        f"load average at the end {os.getloadavg()[0]:.1f}. Isolated state, port, Maven cache and "
        f"distribution; load average at the start {LOAD_AT_START:.1f}. Warm: medians of 2 restarts "
        "each (start until the course realm answers), with and without the class archive, "
        "interleaved; the · rows are Keycloak's own log of those starts.",
        "",
        "| phase | seconds |",
        "|---|---|",
        *(f"| {phase} | {seconds:.1f} |" for phase, seconds in phases.items()),
        "",
        f"Cold, from nothing to the realm answering: **{cold:.0f} s**. Warm start: **{warm:.1f} s** "
        f"— {warm / TARGET_KEYCLOAK_WARM_S:.2f} × the {TARGET_KEYCLOAK_WARM_S:.0f} s target "
        f"({'met' if warm <= TARGET_KEYCLOAK_WARM_S else 'missed'}); the class archive makes it "
        f"{phases['warm start without the class archive'] / warm:.1f}× faster.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    KEYCLOAK_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    KEYCLOAK_RESULTS.write_text(report)


def main(argv: list[str]) -> None:
    if argv == ["keycloak"]:
        keycloak_main()
        return
    # Heavy servers (Keycloak) are measured apart: `python -m bench.services_up keycloak`.
    names = validate_names(argv) if argv else [n for n in SERVERS if not server(n).heavy]
    launcher = Launcher(progress=lambda _line: None, backend="native")
    launcher.up(names)
    rows = {name: measure(launcher, name) for name in names}

    launcher.down(names)
    all_warm = _timed(lambda: launcher.up(names))

    lines = [
        "# `course services up` — cold, warm and down",
        "",
        f"Command: `uv run python -m bench.services_up` · {len(names)} servers · native backend · "
        "2 cores. Medians of 2 warm rounds.",
        "",
        "| server | cold up (s) | warm up (s) | down (s) | warm ÷ cold |",
        "|---|---|---|---|---|",
    ]
    for name, (cold, warm, down) in rows.items():
        lines.append(f"| {name} | {cold:.1f} | {warm:.1f} | {down:.1f} | {warm / cold:.2f} |")
    lines += [
        "",
        f"Warm `up` of all {len(names)} together (one command, sequential starts): **{all_warm:.1f} s** "
        f"— {all_warm / TARGET_WARM_TOTAL_S:.2f} × the {TARGET_WARM_TOTAL_S:.0f} s target "
        f"({'met' if all_warm <= TARGET_WARM_TOTAL_S else 'missed'}).",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if set(names) == {n for n in SERVERS if not server(n).heavy}:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(report)


if __name__ == "__main__":
    main(sys.argv[1:])
