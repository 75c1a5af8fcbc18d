"""The webhook receiver records what a real Alertmanager POSTs (firing, then resolved, with arrival
times), keeps at most ``capacity`` notifications and counts what it evicted, and answers hostile
input with a problem+json 4xx that records nothing."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from course.testing.observability import AlertPipeline, ScratchPrometheusFactory
from reference.observability.alerting import WebhookReceiver

NOTE = {"status": "firing", "alerts": [{"status": "firing", "labels": {"alertname": "X"}}]}


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(capacity=3, max_body=1000, read_timeout=0.5) as receiver:
        yield receiver


def test_alertmanager_notifies_firing_then_resolved(
    alertmanager_webhook: AlertPipeline, scratch_prometheus: ScratchPrometheusFactory
) -> None:
    receiver, am = alertmanager_webhook.webhook, alertmanager_webhook.alertmanager
    prom = scratch_prometheus(alertmanager_url=am.url)
    rule = {"alert": "Flip", "expr": "vector(1)", "labels": {"severity": "page"}}
    prom.write_rules("flip.yml", {"groups": [{"name": "t", "rules": [rule]}]})
    prom.reload()
    fired = receiver.wait_for_status("Flip", "firing", timeout=30)
    (alert,) = fired.alerts("Flip")
    assert alert["labels"]["severity"] == "page"
    assert fired.payload["receiver"] == "webhook"
    # Alertmanager's own view
    assert [a["labels"]["alertname"] for a in am.alerts()] == ["Flip"]
    rule["expr"] = "vector(1) == 2"
    prom.write_rules("flip.yml", {"groups": [{"name": "t", "rules": [rule]}]})
    prom.reload()
    resolved = receiver.wait_for_status("Flip", "resolved", timeout=30)
    assert resolved.received_monotonic > fired.received_monotonic
    assert [status for _, status, _ in receiver.events("Flip")] == ["firing", "resolved"]


def test_records_in_order_and_evicts_the_oldest_counting_it(hook: WebhookReceiver) -> None:
    for number in range(5):
        response = httpx.post(hook.url, json={**NOTE, "groupKey": str(number)})
        assert response.status_code == 200
    assert [note.payload["groupKey"] for note in hook.notifications()] == ["2", "3", "4"]
    assert hook.evicted == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"\xff\xfe", 400),
        (b"[1, 2]", 422),
        (b'{"status": "firing"}', 422),
        (b'{"alerts": [1]}', 422),
        (b"x" * 1001, 413),
    ],
)
def test_hostile_bodies_get_a_problem_and_are_not_recorded(
    hook: WebhookReceiver, body: bytes, status: int
) -> None:
    response = httpx.post(hook.url, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == status
    assert hook.notifications() == []


def test_json_nested_past_the_recursion_limit_is_a_400() -> None:
    with WebhookReceiver() as receiver:
        deep = b"[" * 100_000 + b"]" * 100_000
        response = httpx.post(receiver.url, content=deep)
        assert response.status_code == 400
        assert response.json()["title"] == "Bad Request"
        assert receiver.notifications() == []


def test_a_get_is_405_and_no_length_is_411(hook: WebhookReceiver) -> None:
    response = httpx.get(hook.url)
    assert response.status_code == 405
    port = int(hook.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /alerts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        )
        chunks = []
        while chunk := sock.recv(4096):  # the receiver closes after a problem
            chunks.append(chunk)
        answer = b"".join(chunks).decode()
    assert answer.startswith("HTTP/1.0 411") or answer.startswith("HTTP/1.1 411")
    body = answer.split("\r\n\r\n", 1)[1]
    assert json.loads(body)["status"] == 411
    # still serving after all of that
    assert httpx.post(hook.url, json=NOTE).status_code == 200


def test_a_stalled_body_gets_408_and_the_receiver_keeps_serving(hook: WebhookReceiver) -> None:
    port = int(hook.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b'POST /alerts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"alerts"')
        answer = sock.recv(4096).decode()  # after read_timeout (0.5 s), not never
    assert " 408 " in answer.split("\r\n", 1)[0]
    assert hook.notifications() == []
    assert httpx.post(hook.url, json=NOTE).status_code == 200


def test_a_body_cut_short_is_not_recorded(hook: WebhookReceiver) -> None:
    port = int(hook.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /alerts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}")
        sock.shutdown(socket.SHUT_WR)  # the client goes away mid-body
        assert sock.recv(4096) == b""  # nobody to answer: the connection just closes
    assert hook.notifications() == []
    assert httpx.post(hook.url, json=NOTE).status_code == 200


@pytest.mark.parametrize("arguments", [{"capacity": 0}, {"max_body": 0}, {"read_timeout": 0}])
def test_bad_sizes_are_refused(arguments: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="positive"):
        WebhookReceiver(**arguments)
