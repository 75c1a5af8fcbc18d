"""An etcd client for a URL: etcd3gw over etcd's JSON gateway, with a timeout on every request.

Chapter 04's registry is etcd standing in for the guide's Consul (Consul is not packaged where the
course runs; etcd is, and its leases, keep-alives and watches are the same ideas). The client is
``etcd3gw`` — OpenStack's, maintained, speaking the gRPC gateway's JSON over HTTP — rather than
``etcd3`` (gRPC, unmaintained since 2020). Taught in ``notebooks/04_microservices_discovery.ipynb``.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from etcd3gw.client import Etcd3Client
from etcd3gw.exceptions import Etcd3Exception

from reference.setup.ports import free_port

DEFAULT_TIMEOUT = 3.0
"""Seconds any one request may take: etcd down or hung is an error after this, never a hang."""


def etcd_client(url: str, timeout: float = DEFAULT_TIMEOUT) -> Etcd3Client:
    """A client of the etcd at ``url`` (``http://127.0.0.1:12379``); every request times out.

    A URL that is not ``http(s)://host:port`` or a timeout that is not a positive finite number is a
    ``ValueError`` here, not a confusing failure on first use.
    """
    if not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        raise ValueError(f"not an etcd URL (http://host:port): {url!r}")
    return Etcd3Client(
        host=parts.hostname,
        port=port,
        protocol=parts.scheme,
        timeout=timeout,
        api_path="/v3/",  # etcd 3.4+: skips the /version discovery round trip
    )


def range_total(url: str, timeout: float = DEFAULT_TIMEOUT) -> int:
    """How many range (read) requests etcd has served since it started: its own Prometheus counter
    ``etcd_debugging_mvcc_range_total``. A resolver that reads the registry per call moves it; one
    that resolves from a watched cache does not."""
    import httpx  # here, not at the top: it doubles the import time of every registering process

    response = httpx.get(f"{url.rstrip('/')}/metrics", timeout=timeout)
    response.raise_for_status()
    for line in response.text.splitlines():
        if line.startswith("etcd_debugging_mvcc_range_total "):
            return int(float(line.split()[1]))
    raise RuntimeError(f"{url}/metrics has no etcd_debugging_mvcc_range_total: is it etcd?")


class ScratchEtcd:
    """A throwaway single-member etcd of our own on free loopback ports (0.7 s to start).

    For what must not happen to the shared course server: counting its reads without anyone else's
    traffic, stopping it to show "etcd down", restarting it to break every watch stream. Its data
    directory survives :meth:`kill`/:meth:`start` (a restart keeps keys and leases) and is removed
    by :meth:`close`.
    """

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="scratch-etcd-"))
        self.port = free_port()
        self.peer_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> ScratchEtcd:
        binary = shutil.which("etcd")
        if binary is None:
            raise RuntimeError("no etcd binary: `course services up etcd` installs etcd-server")
        peer = f"http://127.0.0.1:{self.peer_port}"
        self.process = subprocess.Popen(
            [
                binary,
                "--name=scratch",
                f"--data-dir={self.directory / 'data'}",
                f"--listen-client-urls={self.url}",
                f"--advertise-client-urls={self.url}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=scratch={peer}",
                "--experimental-watch-progress-notify-interval=2s",
                "--logger=zap",
                "--log-outputs=stderr",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "etcd.log").open("ab"),
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                client = etcd_client(self.url, 1.0)
                client.status()
                client.session.close()
                return self
            except (Etcd3Exception, requests.RequestException):  # not up yet
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.directory / "etcd.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"scratch etcd did not start:\n{log}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: etcd is gone at once, mid-stream for every watcher."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> ScratchEtcd:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()
