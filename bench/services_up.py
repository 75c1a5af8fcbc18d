"""How long ``course services up`` takes per server: cold (empty data), warm (data kept), and ``down``.

Run it when nothing else uses the servers — it stops and restarts each one:

    uv run python -m bench.services_up [NAME…]

Cold means a first start on empty data (initdb, Kafka storage format, RabbitMQ's Mnesia) with installs
already cached; warm is a restart on existing data — what a learner waits for every day. Each server's
data is moved aside for the cold run and put back afterwards, so nothing is lost. The target is a warm
``up`` of all five in ≤ 30 s on 2 cores; the table reports each time against it and warm ÷ cold.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from pathlib import Path

from course.services.launcher import SERVERS, Launcher, native_server, validate_names

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


def main(argv: list[str]) -> None:
    names = validate_names(argv) if argv else list(SERVERS)
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
    if set(names) == set(SERVERS):
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(report)


if __name__ == "__main__":
    main(sys.argv[1:])
