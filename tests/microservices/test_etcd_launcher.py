"""The launcher runs etcd like any other server: up (healthy, native, probed), killed behind its back
→ status names it → up restores it with its keys, down stops it; its probe refuses a server that is
not etcd.

Runs on ports of its own (an isolated state folder, ``isolated_env``), so the shared course etcd is
never touched.
"""

from __future__ import annotations

import http.server
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from course.cli import app
from course.services.launcher import Launcher
from reference.config import get_settings
from reference.microservices.etcd import etcd_client
from reference.setup.ports import free_port_pair
from reference.setup.probes import probe_etcd

pytestmark = [pytest.mark.xdist_group("launcher")]


@pytest.fixture
def etcd_env(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Launcher]:
    monkeypatch.setenv("ETCD_URL", f"http://127.0.0.1:{free_port_pair()}")
    launcher = Launcher(progress=lambda _line: None)
    yield launcher
    launcher.down(["etcd"])


def test_up_kill_status_up_keeps_the_keys_and_down_stops(etcd_env: Launcher) -> None:
    (started,) = etcd_env.up(["etcd"])
    assert started.healthy
    assert started.backend == "native"
    assert started.pid is not None
    assert started.flavour == "etcd"
    url = get_settings().url_for("etcd")
    client = etcd_client(url)
    client.put("kept", "still here")
    # Both of its ports are loopback-only and its data is under the state folder.
    listening = {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.Process(started.pid).net_connections()
        if c.status == psutil.CONN_LISTEN
    }
    port = int(url.rsplit(":", 1)[1])
    assert listening == {("127.0.0.1", port), ("127.0.0.1", port + 1)}

    os.kill(started.pid, signal.SIGKILL)
    psutil.Process(started.pid).wait(timeout=10)
    status = CliRunner().invoke(app, ["services", "status", "etcd"])
    assert status.exit_code != 0
    assert "etcd" in status.output

    (restored,) = etcd_env.up(["etcd"])
    assert restored.healthy
    assert client.get("kept") == [b"still here"]
    assert etcd_env.down(["etcd"]) == ["etcd"]
    assert not psutil.pid_exists(restored.pid or 0) or (
        psutil.Process(restored.pid or 0).status() == psutil.STATUS_ZOMBIE
    )


class _NotEtcd(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_probe_refuses_another_server_on_the_port() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotEtcd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(RuntimeError, match="not as etcd"):
            probe_etcd(f"http://127.0.0.1:{server.server_address[1]}", 2.0)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("url", ["http://127.0.0.1:65535", "not a url", "http://127.0.0.1"])
def test_a_hostile_etcd_url_is_a_clear_error(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("ETCD_URL", url)
    result = CliRunner().invoke(app, ["services", "up", "etcd"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "ETCD_URL" in result.output or "port" in result.output
