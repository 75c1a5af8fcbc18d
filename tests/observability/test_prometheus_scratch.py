"""A :class:`ScratchPrometheus` is a real Prometheus of our own: it scrapes the targets it is given
(a real ``prometheus-client`` exporter here), with a bearer token when asked, evaluates the rule
files it is given every second, reloads rewritten rules (and refuses broken ones with Prometheus'
own message), and is gone with its folder on exit. :class:`ScratchAlertmanager` accepts alerts and
lists them.
"""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest

from course.testing.observability import ScratchPrometheusFactory
from reference.observability.prometheus import (
    PrometheusError,
    ScrapeJob,
    ScratchPrometheus,
    _binary,
)


class _Exporter(http.server.ThreadingHTTPServer):
    registry: CollectorRegistry
    token: str | None
    seen_authorization: list[str | None]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Exporter

    def log_message(self, *_args: object) -> None:
        pass

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization")
        self.server.seen_authorization.append(auth)
        if self.server.token is not None and auth != f"Bearer {self.server.token}":
            self.send_response(401)
            self.end_headers()
            return
        body = generate_latest(self.server.registry)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _exporter(token: str | None = None) -> _Exporter:
    server = _Exporter(("127.0.0.1", 0), _Handler)
    server.registry = CollectorRegistry()
    server.token = token
    server.seen_authorization = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_scrapes_targets_with_token_and_path_and_answers_queries() -> None:
    """One server, three jobs (a first scrape takes ~5 s: Prometheus' discovery hands targets over
    at most every 5 s): an open exporter, a guarded one with its token and path, the same guarded
    one without the token (down)."""
    plain, guarded = _exporter(), _exporter(token="s3cret")
    hits = Counter("demo_hits_total", "hits", ["route"], registry=plain.registry)
    hits.labels("/a").inc(3)
    hits.labels("/b").inc(5)
    address = f"127.0.0.1:{plain.server_address[1]}"
    guarded_address = f"127.0.0.1:{guarded.server_address[1]}"
    jobs = [
        ScrapeJob("app", (address,)),
        ScrapeJob(
            "guarded", (guarded_address,), metrics_path="/internal/metrics", bearer_token="s3cret"
        ),
        ScrapeJob("tokenless", (guarded_address,)),
    ]
    try:
        with ScratchPrometheus(jobs) as prom:
            prom.wait_for(lambda: prom.value('sum(demo_hits_total{job="app"})') == 8.0, timeout=15)
            assert prom.series_count('demo_hits_total{job="app"}') == 2
            assert prom.value('demo_hits_total{route="/a"}') == 3.0
            assert prom.value("demo_hits_total{route='/nope'}") is None
            prom.wait_for(lambda: prom.value('up{job="guarded"}') == 1.0, timeout=15)
            prom.wait_for(lambda: prom.value('up{job="tokenless"}') == 0.0, timeout=15)
            assert "Bearer s3cret" in guarded.seen_authorization
            targets = prom.targets_up()
            assert targets[f"http://{address}/metrics"] is True
            assert targets[f"http://{guarded_address}/internal/metrics"] is True
            assert targets[f"http://{guarded_address}/metrics"] is False
            assert f"http://{prom.address}/metrics" in targets  # it scrapes itself too
            assert prom.query_range("up", start=0, end=1, step_s=1) == []  # nothing in 1970
            with pytest.raises(PrometheusError, match="bad_data"):
                prom.query("sum(")
            folder = prom.folder
        assert not folder.exists()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{prom.url}/-/ready", timeout=1)
    finally:
        for server in (plain, guarded):
            server.shutdown()
            server.server_close()


def test_rule_files_are_copied_evaluated_and_reloaded(tmp_path: Path) -> None:
    rules = tmp_path / "always.yml"
    rules.write_text("groups:\n- name: t\n  rules:\n  - alert: Always\n    expr: vector(1)\n")
    with ScratchPrometheus(rule_files=[rules]) as prom:
        rules.unlink()  # the server has its own copy
        prom.wait_for(lambda: prom.alert_state("Always") == "firing", timeout=15)
        assert [rule["name"] for rule in prom.rules()] == ["Always"]
        prom.write_rules(
            "more.yml",
            {"groups": [{"name": "r", "rules": [{"record": "one", "expr": "vector(1)"}]}]},
        )
        prom.reload()
        prom.wait_for(lambda: prom.value("one") == 1.0, timeout=15)
        prom.write_rules(
            "broken.yml", "groups:\n- name: b\n  rules:\n  - alert: Broken\n    expr: sum(\n"
        )
        with pytest.raises(PrometheusError, match="reload refused"):
            prom.reload()
        # the rules it had are still loaded and evaluated
        assert {rule["name"] for rule in prom.rules()} == {"Always", "one"}


def test_write_rules_refuses_a_path() -> None:
    with ScratchPrometheus() as prom, pytest.raises(ValueError, match="plain"):
        prom.write_rules("../escape.yml", "groups: []")


def test_a_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)
    with pytest.raises(RuntimeError, match="course services up prometheus"):
        _binary("no-such-prometheus")


def test_the_course_rules_load_and_evaluate_cleanly(
    scratch_prometheus: ScratchPrometheusFactory, course_rules: list[Path]
) -> None:
    """What the course Prometheus loads, a scratch one loads too: every rule evaluates with no error."""
    prom = scratch_prometheus(rule_files=course_rules)
    names = {rule["name"] for rule in prom.rules()}
    assert {"HighErrorRate", "HighLatencyP99", "InstanceDown", "ErrorBudgetBurnFast"} <= names
    prom.wait_for(lambda: all(rule.get("health") == "ok" for rule in prom.rules()), timeout=15)
