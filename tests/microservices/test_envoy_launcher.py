"""The launcher runs Envoy like any other server: up (healthy, native, probed, loopback only), killed
behind its back (its supervising ``sh``, SIGKILL) → Envoy goes with it, status names it → up restores
it, down stops it; a held port is named; its probe refuses a server that is not the course gateway.

Runs on ports of its own (an isolated state folder, ``isolated_env``), so the shared course Envoy is
never touched.
"""

from __future__ import annotations

import http.server
import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import yaml
from typer.testing import CliRunner

from course.cli import app
from course.services.base import ServiceError
from course.services.launcher import Launcher, port_holder
from reference.config import get_settings
from reference.microservices.envoy import check_config
from reference.microservices.gateway import registry_template, render_template
from reference.setup.ports import free_port
from reference.setup.probes import probe_envoy

pytestmark = [pytest.mark.xdist_group("launcher")]

TEMPLATE = Path("course/services/native/envoy/gateway.yaml.template")


@pytest.fixture
def envoy_env(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Launcher]:
    monkeypatch.setenv("GATEWAY_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("ENVOY_ADMIN_URL", f"http://127.0.0.1:{free_port()}")
    launcher = Launcher(progress=lambda _line: None)
    yield launcher
    launcher.down(["envoy"])


def envoy_children(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children() if p.name() == "envoy"]


def test_up_kill_status_up_down(envoy_env: Launcher, isolated_env: Path) -> None:
    (started,) = envoy_env.up(["envoy"])
    assert started.healthy, started.detail
    assert (started.backend, started.flavour) == ("native", "Envoy")
    assert started.version.startswith("1.40")
    assert started.pid is not None
    (envoy,) = envoy_children(started.pid)
    settings = get_settings()
    ports = {int(settings[v].rsplit(":", 1)[1]) for v in ("GATEWAY_URL", "ENVOY_ADMIN_URL")}
    listening = {
        (c.laddr.ip, c.laddr.port) for c in envoy.net_connections() if c.status == "LISTEN"
    }
    assert listening == {("127.0.0.1", port) for port in ports}
    # No demo services here: the protected route refuses without a token, the others are 503.
    gateway = settings["GATEWAY_URL"]
    assert httpx.get(f"{gateway}/api/v1/users/1").status_code == 401
    assert httpx.get(f"{gateway}/health").status_code == 503
    assert (isolated_env / "envoy" / "data" / "gateway.yaml").exists()

    # SIGKILL the supervising sh: Envoy follows (it asked for SIGTERM when its parent dies).
    os.kill(started.pid, signal.SIGKILL)
    psutil.Process(started.pid).wait(timeout=10)
    envoy.wait(timeout=10)
    status = CliRunner().invoke(app, ["services", "status", "envoy"])
    assert status.exit_code == 1
    assert "unhealthy: envoy" in status.output

    (restored,) = envoy_env.up(["envoy"])
    assert restored.healthy, restored.detail
    assert restored.pid != started.pid
    (second,) = envoy_children(restored.pid or -1)
    assert envoy_env.down(["envoy"]) == ["envoy"]
    # down returns once Envoy itself has exited: the ports are free for the next up at once.
    assert not second.is_running()
    assert all(port_holder(port) is None for port in ports)


def test_a_held_port_is_named(envoy_env: Launcher) -> None:
    gateway_port = int(get_settings()["GATEWAY_URL"].rsplit(":", 1)[1])
    server = http.server.HTTPServer(("127.0.0.1", gateway_port), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()  # answers 501 at once
    try:
        with pytest.raises(ServiceError, match=f"port {gateway_port} is held by"):
            envoy_env.up(["envoy"])
    finally:
        server.shutdown()
        server.server_close()


def test_probe_refuses_another_http_server(envoy_env: Launcher) -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"not a gateway"
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(RuntimeError, match="not with the course's Envoy configuration"):
            probe_envoy(f"http://127.0.0.1:{server.server_port}", 2.0)
    finally:
        server.shutdown()
        server.server_close()


def test_hostile_ports_are_clear_errors(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_URL", "http://127.0.0.1:18100")
    monkeypatch.setenv("ENVOY_ADMIN_URL", "http://127.0.0.1:18100")
    result = CliRunner().invoke(app, ["services", "up", "envoy"])
    assert result.exit_code == 1
    assert "different ports" in result.output
    assert "Traceback" not in result.output


def test_the_committed_template_is_the_builder_s() -> None:
    """The file the launcher and compose read is what reference/microservices/gateway.py builds."""
    assert TEMPLATE.read_text() == registry_template()
    with pytest.raises(ValueError, match="no value for"):
        render_template(TEMPLATE.read_text(), {"GATEWAY_PORT": "1"})


def test_the_compose_service_fills_every_placeholder_with_a_config_envoy_accepts(
    tmp_path: Path,
) -> None:
    """docker-compose.yml's envoy entrypoint seds the same template: applied here, Envoy validates it."""
    compose = yaml.safe_load(Path("docker-compose.yml").read_text())
    script = compose["services"]["envoy"]["entrypoint"][2].replace("$$", "$")  # compose's escape
    expressions = re.findall(r"-e '(s(.)(.+?)\2(.*?)\2g?)'", script)
    text = TEMPLATE.read_text()
    for _whole, _delimiter, pattern, replacement in expressions:
        text = text.replace(pattern, replacement)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert "${" not in body
    # The container's log folder is its volume; here, a folder of the test's own.
    assert "path: /var/log/envoy/access.log" in text
    config = tmp_path / "gateway.yaml"
    config.write_text(text.replace("/var/log/envoy/", f"{tmp_path}/"))
    check_config(config)  # raises with Envoy's message if it refuses
