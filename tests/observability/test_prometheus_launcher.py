"""The launcher runs Prometheus like any other server: up (healthy, native, probed, loopback only,
data under the state folder) with the repository's rules loaded and its scrape targets (itself,
Alertmanager, the demo app) configured; killed behind its back → status names it → up restores it,
down stops it. Its probe refuses a server that is not Prometheus; a broken rule file is a clear
error naming it, not a readiness timeout.

Runs on ports of its own (``isolated_env``), so the shared course Prometheus is never touched.
"""

from __future__ import annotations

import http.server
import json
import os
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
from course.services.launcher import Launcher
from course.services.native import prometheus as native
from reference.config import get_settings
from reference.setup.ports import free_port
from reference.setup.probes import probe_alertmanager, probe_prometheus

pytestmark = [pytest.mark.xdist_group("launcher")]


@pytest.fixture
def prometheus_env(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Launcher]:
    monkeypatch.setenv("PROMETHEUS_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("ALERTMANAGER_URL", f"http://127.0.0.1:{free_port()}")
    launcher = Launcher(progress=lambda _line: None)
    yield launcher
    launcher.down(["prometheus", "alertmanager"])


def test_up_loads_the_rules_and_targets_kill_status_up_down(
    prometheus_env: Launcher, isolated_env: Path
) -> None:
    (started,) = prometheus_env.up(["prometheus"])
    assert (started.healthy, started.backend, started.flavour) == (True, "native", "Prometheus")
    assert started.pid is not None
    url = get_settings().url_for("prometheus")
    port = int(url.rsplit(":", 1)[1])
    process = psutil.Process(started.pid)
    listening = {
        (c.laddr.ip, c.laddr.port)
        for c in process.net_connections()
        if c.status == psutil.CONN_LISTEN
    }
    assert listening == {("127.0.0.1", port)}
    assert any(arg.startswith(f"--storage.tsdb.path={isolated_env}") for arg in process.cmdline())

    groups = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
    names = {rule["name"] for group in groups for rule in group["rules"]}
    assert {
        "HighErrorRate",
        "HighLatencyP99",
        "InstanceDown",
        "route:http_errors:ratio_rate5m",
    } <= names
    # the configuration it runs (its targets become active only after discovery's first 5 s)
    config = yaml.safe_load(
        httpx.get(f"{url}/api/v1/status/config", timeout=5).json()["data"]["yaml"]
    )
    scraped = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    alertmanager_port = get_settings().endpoint("ALERTMANAGER_URL").port
    assert scraped == {
        "prometheus": [f"127.0.0.1:{port}"],
        "alertmanager": [f"127.0.0.1:{alertmanager_port}"],
        "demo": ["127.0.0.1:18120"],
    }

    os.kill(started.pid, signal.SIGKILL)
    psutil.Process(started.pid).wait(timeout=10)
    status = CliRunner().invoke(app, ["services", "status", "prometheus"])
    assert status.exit_code != 0
    assert "prometheus" in status.output
    (restored,) = prometheus_env.up(["prometheus"])
    assert restored.healthy
    assert prometheus_env.down(["prometheus"]) == ["prometheus"]
    assert not psutil.pid_exists(restored.pid or 0) or (
        psutil.Process(restored.pid or 0).status() == psutil.STATUS_ZOMBIE
    )


def test_alertmanager_up_receives_alerts_and_prometheus_sends_there(
    prometheus_env: Launcher,
) -> None:
    _prometheus, alertmanager = prometheus_env.up(["prometheus", "alertmanager"])
    assert alertmanager.healthy
    assert alertmanager.flavour == "Alertmanager"
    am_url = get_settings().url_for("alertmanager")
    am_port = int(am_url.rsplit(":", 1)[1])
    listening = {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.Process(alertmanager.pid or 0).net_connections()
        if c.status == psutil.CONN_LISTEN
    }
    assert listening == {("127.0.0.1", am_port)}  # no gossip port (9094) on any interface
    posted = httpx.post(
        f"{am_url}/api/v2/alerts",
        json=[{"labels": {"alertname": "LauncherTest", "service": "t"}}],
        timeout=5,
    )
    assert posted.status_code == 200
    held = httpx.get(f"{am_url}/api/v2/alerts", timeout=5).json()
    assert [alert["labels"]["alertname"] for alert in held] == ["LauncherTest"]
    prom_url = get_settings().url_for("prometheus")
    configured = httpx.get(f"{prom_url}/api/v1/status/config", timeout=5).json()["data"]["yaml"]
    assert f"127.0.0.1:{am_port}" in configured


def test_a_broken_rule_file_is_named_not_a_timeout(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "recording.yml").write_text(
        "groups:\n- name: x\n  rules:\n  - record: r\n    expr: sum(\n"
    )
    (tmp_path / "alerts.yml").write_text("groups: []\n")
    monkeypatch.setattr(native, "RULES_DIR", tmp_path)
    server = native.PrometheusServer(get_settings())
    with pytest.raises(ServiceError, match=r"recording\.yml"):
        server.start(lambda _line: None)


class _Json(http.server.BaseHTTPRequestHandler):
    body: object = {}

    def do_GET(self) -> None:
        payload = json.dumps(self.body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.mark.parametrize(
    "body",
    [
        {"status": "success", "data": {}},
        {"status": "success", "data": {"version": "2.42.0"}},  # no goVersion: not a Go build record
        {"version": {"number": "2.19.6", "distribution": "opensearch"}},
        ["not", "an", "object"],
    ],
)
def test_probes_refuse_another_server_on_the_port(body: object) -> None:
    handler = type("Handler", (_Json,), {"body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(RuntimeError, match="not as Prometheus"):
            probe_prometheus(url, 2.0)
        with pytest.raises(RuntimeError, match="not as Alertmanager"):
            probe_alertmanager(url, 2.0)
    finally:
        server.shutdown()
        server.server_close()


def test_the_course_servers_are_not_each_other(prometheus_url: str, alertmanager_url: str) -> None:
    """Both answer JSON on loopback; each probe accepts its own server and refuses the other."""
    assert probe_prometheus(prometheus_url, 3.0).flavour == "Prometheus"
    assert probe_alertmanager(alertmanager_url, 3.0).flavour == "Alertmanager"
    with pytest.raises((RuntimeError, httpx.HTTPStatusError)):
        probe_alertmanager(prometheus_url, 3.0)  # Prometheus has no /api/v2/status
    with pytest.raises((RuntimeError, httpx.HTTPStatusError)):
        probe_prometheus(alertmanager_url, 3.0)


@pytest.mark.parametrize("url", ["http://127.0.0.1", "not a url"])
def test_a_hostile_prometheus_url_is_a_clear_error(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("PROMETHEUS_URL", url)
    result = CliRunner().invoke(app, ["services", "up", "prometheus"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "PROMETHEUS_URL" in result.output
