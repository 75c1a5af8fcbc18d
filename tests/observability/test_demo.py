"""The chapter 08 demo, api → users on real sockets, shipping into the course's OpenSearch: one request
is found by its request id as log lines *and* spans of both services, all with one trace id; its
metrics are labelled by route; the failing, missing and unreachable paths answer problem details and
leave their evidence too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opensearchpy import OpenSearch

from course.testing.resources import unique_name
from reference.api_design.graphql.background import serve_in_background
from reference.config import REPO_ROOT
from reference.observability import demo
from reference.observability.logstore import trace
from reference.observability.tracing import SPAN_KIND, TRACERESPONSE
from reference.setup.ports import free_port

TOKEN = "demo-test-" + os.urandom(16).hex()


@pytest.fixture
def running(opensearch: OpenSearch, log_index: str) -> Iterator[demo.RunningDemo]:
    started = demo.run_in_background(opensearch, log_index, token=TOKEN)
    yield started
    started.stop()


def evidence(running: demo.RunningDemo, request_id: str, count: int) -> list[dict[str, Any]]:
    """Every document of the request once ``count`` are in (spans end just after the answer)."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        running.telemetry.flush()
        found = trace(running.telemetry.client, running.telemetry.index, request_id)
        if len(found) >= count:
            break
        time.sleep(0.05)
    return found


def test_one_request_is_one_query_of_logs_and_spans(running: demo.RunningDemo) -> None:
    answer = httpx.get(f"{running.api.url}/api/profiles/1")
    assert answer.status_code == 200
    assert answer.json() == {
        "user": {"id": "1", "name": "Ada Lovelace"},
        "greeting": "Hello, Ada Lovelace",
    }
    request_id = answer.headers["x-request-id"]
    trace_id = answer.headers[TRACERESPONSE].split("-")[1]

    # 4 log lines (api: requested, served, access; users: loaded, access = 5) + 4 spans.
    documents = evidence(running, request_id, 9)
    spans = [doc for doc in documents if doc.get("kind") == SPAN_KIND]
    lines = [doc for doc in documents if doc.get("kind") != SPAN_KIND]
    assert sorted((doc["service"], doc["event"]) for doc in lines) == [
        ("api", "http.request"),
        ("api", "profile.requested"),
        ("api", "profile.served"),
        ("users", "http.request"),
        ("users", "user.loaded"),
    ]
    assert sorted((doc["service"], doc["span_kind"], doc["event"]) for doc in spans) == [
        ("api", "client", f"GET 127.0.0.1:{running.users.port}/users/1"),
        ("api", "server", "GET /api/profiles/{user_id}"),
        ("users", "internal", "users.lookup"),
        ("users", "server", "GET /users/{user_id}"),
    ]
    # The same ids on every document: the request id crossed the hop as a header, the trace as
    # traceparent; every log line carries the span it was written in.
    assert {doc["trace_id"] for doc in documents} == {trace_id}
    assert {doc["request_id"] for doc in documents} == {request_id}
    span_ids = {doc["span_id"] for doc in spans}
    assert {doc["span_id"] for doc in lines} <= span_ids
    by_kind = {(doc["service"], doc["span_kind"]): doc for doc in spans}
    assert by_kind["users", "server"]["parent_span_id"] == by_kind["api", "client"]["span_id"]
    assert by_kind["api", "client"]["parent_span_id"] == by_kind["api", "server"]["span_id"]


def test_metrics_are_labelled_by_route_and_need_the_token(running: demo.RunningDemo) -> None:
    statuses = [httpx.get(f"{running.api.url}/api/profiles/{n}").status_code for n in (1, 2, 404)]
    assert statuses == [200, 200, 404]
    assert httpx.get(f"{running.api.url}/metrics").status_code == 401
    text = httpx.get(
        f"{running.api.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
    ).text
    route = 'route="/api/profiles/{user_id}"'
    assert f'http_requests_total{{method="GET",{route},service="api",status="200"}} 2.0' in text
    assert f'http_requests_total{{method="GET",{route},service="api",status="404"}} 1.0' in text


def test_the_failing_path_leaves_error_evidence_and_a_problem(running: demo.RunningDemo) -> None:
    answer = httpx.get(f"{running.api.url}/api/profiles/0")
    assert answer.status_code == 502
    assert answer.headers["content-type"] == "application/problem+json"
    documents = evidence(running, answer.headers["x-request-id"], 9)
    errors = {(doc["service"], doc["event"]) for doc in documents if doc["level"] == "error"}
    assert ("users", "user.lookup_failed") in errors
    assert ("api", "users.failed") in errors
    assert ("users", "GET /users/{user_id}") in errors  # the 500 span
    assert ("api", "GET /api/profiles/{user_id}") in errors  # the 502 span


def test_unreachable_users_is_a_503_problem_not_a_500(
    opensearch: OpenSearch, log_index: str
) -> None:
    sink = demo.telemetry(opensearch, log_index)
    api = demo.api_service(sink, f"http://127.0.0.1:{free_port()}", token=TOKEN, batch=False)
    server = serve_in_background(api.app)
    try:
        answer = httpx.get(f"{server.url}/api/profiles/1")
    finally:
        server.stop()
        sink.close()
    assert answer.status_code == 503
    assert answer.json()["detail"] == "the users service did not answer"


def test_the_metrics_token_is_kept_private_across_restarts(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    token = demo.metrics_token()
    assert demo.metrics_token() == token
    assert len(token) >= 32
    assert (isolated_env / demo.TOKEN_FILE).stat().st_mode & 0o077 == 0
    monkeypatch.setenv("METRICS_TOKEN", "from-the-environment-" + "x" * 20)
    assert demo.metrics_token().startswith("from-the-environment-")


def test_main_says_what_is_missing_when_opensearch_is_not_there(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENSEARCH_URL", f"http://127.0.0.1:{free_port()}")
    assert demo.main([]) == 1
    assert "course services up opensearch" in capsys.readouterr().out


def test_the_module_serves_both_services_and_ships_into_its_index(
    opensearch: OpenSearch, isolated_env: Path
) -> None:
    """``python -m reference.observability.demo`` itself (on free ports here): it answers, ships,
    and on SIGTERM stops cleanly with what it buffered flushed into the index."""
    index = unique_name("demo").lower()
    api_port, users_port = free_port(), free_port()
    command = [sys.executable, "-m", "reference.observability.demo", "--index", index]
    command += ["--api-port", str(api_port), "--users-port", str(users_port)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert "logs and spans" in process.stdout.readline()  # printed once both are about to serve
        deadline = time.monotonic() + 15
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{api_port}/api/profiles/3", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the demo did not start listening"
                time.sleep(0.05)
        assert answer.json()["user"]["name"] == "Edsger Dijkstra"
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 128 + signal.SIGTERM  # ended as SIGTERM says, after flushing
        opensearch.indices.refresh(index=index)
        request_id = answer.headers["x-request-id"]
        documents = trace(opensearch, index, request_id)
        assert {(doc["service"], doc.get("kind", "log")) for doc in documents} == {
            ("api", "log"),
            ("api", "span"),
            ("users", "log"),
            ("users", "span"),
        }
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        opensearch.indices.delete(index=index, ignore_unavailable=True)
        opensearch.indices.delete_index_template(name=f"{index}-template", ignore=[404])
