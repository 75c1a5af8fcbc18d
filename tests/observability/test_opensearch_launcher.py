"""The launcher runs OpenSearch from the integ-test zip: up (healthy, native, probed, HTTP and
transport on loopback only, as its own unprivileged user when we are root, a 512 MB heap, data under
the state folder), down stops it. Its probe refuses an Elasticsearch (same ``GET /`` shape, no
``distribution``) and anything else; a run's leftover indices are removed by its tag, another
run's are kept.

The launcher test runs a second node on ports of its own (``isolated_env``, about 20 s), so the
shared course OpenSearch is never touched; the run-tag test uses the shared one.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from course.cli import app
from course.services.base import ServiceError
from course.services.launcher import Launcher
from course.services.native.opensearch import OPENSEARCH_VERSION, OpenSearchServer, zip_path
from course.testing import resources
from course.testing.fixtures import ensure_server
from reference.config import get_settings
from reference.setup.ports import free_port
from reference.setup.probes import probe_opensearch

pytestmark = [pytest.mark.xdist_group("launcher")]


@pytest.fixture
def opensearch_env(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Launcher]:
    monkeypatch.setenv("OPENSEARCH_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("OPENSEARCH_TRANSPORT_PORT", str(free_port()))
    launcher = Launcher(progress=lambda _line: None)
    yield launcher
    launcher.down(["opensearch"])


def test_up_runs_one_loopback_node_as_its_own_user_and_down_stops_it(
    opensearch_env: Launcher, isolated_env: Path
) -> None:
    (started,) = opensearch_env.up(["opensearch"])
    assert (started.healthy, started.backend, started.flavour) == (True, "native", "OpenSearch")
    settings = get_settings()
    url = settings.url_for("opensearch")
    port = settings.endpoint("OPENSEARCH_URL").port
    transport = int(settings["OPENSEARCH_TRANSPORT_PORT"])
    process = psutil.Process(started.pid or 0)
    listening = {
        (c.laddr.ip.removeprefix("::ffff:"), c.laddr.port)
        for c in process.net_connections()
        if c.status == psutil.CONN_LISTEN
    }
    assert listening == {("127.0.0.1", port), ("127.0.0.1", transport)}
    if os.geteuid() == 0:
        assert process.username() == "opensearch"
    assert "-Xmx512m" in process.cmdline()
    nodes = httpx.get(f"{url}/_nodes/_local/settings", timeout=10).json()["nodes"]
    (node,) = nodes.values()
    assert node["settings"]["discovery"]["type"] == "single-node"
    assert node["settings"]["path"]["data"][0] == str(OpenSearchServer(settings).paths().data)
    plugins = httpx.get(f"{url}/_cat/plugins", params={"format": "json"}, timeout=10).json()
    assert plugins == []  # the integ-test distribution: no security plugin (and no other)
    # `course services logs opensearch` shows the launcher's file: it names the node's own log
    assert "/logs/course.log" in OpenSearchServer(settings).paths().log.read_text()
    assert opensearch_env.down(["opensearch"]) == ["opensearch"]
    assert not psutil.pid_exists(started.pid or 0) or (
        psutil.Process(started.pid or 0).status() == psutil.STATUS_ZOMBIE
    )


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
        # Elasticsearch 8's answer: the same shape, no "distribution"
        {"name": "n", "version": {"number": "8.15.0", "build_flavor": "default"}},
        {"version": {"number": "2.19.6", "distribution": "elasticsearch"}},
        {"status": "success", "data": {"version": "2.42.0", "goVersion": "go1.19"}},
        [1, 2],
    ],
)
def test_probe_refuses_another_server_on_the_port(body: object) -> None:
    handler = type("Handler", (_Json,), {"body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(RuntimeError, match="not as OpenSearch"):
            probe_opensearch(f"http://127.0.0.1:{server.server_address[1]}", 2.0)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OPENSEARCH_URL", "http://127.0.0.1"),
        ("OPENSEARCH_TRANSPORT_PORT", "not a port"),
        ("OPENSEARCH_TRANSPORT_PORT", "same"),
    ],
)
def test_hostile_settings_are_a_clear_error(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    port = free_port()
    monkeypatch.setenv("OPENSEARCH_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv(variable, str(port) if value == "same" else value)
    result = CliRunner().invoke(app, ["services", "up", "opensearch"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert variable in result.output


def test_a_runs_leftover_indices_are_removed_by_its_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    ensure_server("opensearch")
    settings = get_settings()
    url = settings.url_for("opensearch")
    tag, other = resources.new_run_tag(), resources.new_run_tag()
    monkeypatch.setenv(resources.RUN_TAG_VARIABLE, other)
    survivor = resources.unique_name("t")
    monkeypatch.setenv(resources.RUN_TAG_VARIABLE, tag)
    left = [resources.unique_name("t"), resources.unique_name("logs")]
    try:
        for name in [*left, survivor]:
            httpx.put(f"{url}/{name}", timeout=30).raise_for_status()
        removed, problems = resources.remove_run_resources(tag, ["opensearch"], settings)
        assert problems == []
        assert sorted(removed) == sorted(f"opensearch index {name}" for name in left)
        for name in left:
            assert httpx.head(f"{url}/{name}", timeout=10).status_code == 404
        assert httpx.head(f"{url}/{survivor}", timeout=10).status_code == 200
    finally:
        for name in [*left, survivor]:
            httpx.delete(f"{url}/{name}", timeout=30)


def test_missing_names_the_distribution_and_maven(
    isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty Maven cache: the distribution is missing; without mvn, Maven is too, and a
    download is a clear error naming the package to install (no traceback, no half-written zip)."""
    server = OpenSearchServer(get_settings())
    server.maven_repo = tmp_path
    assert f"OpenSearch {OPENSEARCH_VERSION} distribution" in server.missing()
    assert "maven" not in server.missing()  # mvn is installed here
    real_which = shutil.which
    monkeypatch.setattr(
        "course.services.native.opensearch.shutil.which",
        lambda name: None if name == "mvn" else real_which(name),
    )
    assert "maven" in server.missing()
    with pytest.raises(ServiceError, match="apt-get install maven"):
        server.download(lambda _line: None)
    assert not zip_path(tmp_path).exists()
