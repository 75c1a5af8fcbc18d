"""The guide's prom-client metrics, live on a real uvicorn server: each test shows one defect
(guide-defects.md §8.2). The same properties pass on the fix in ``test_metrics.py``.

The guide's metrics live in the process-wide default registry, so every test reads differences
between two scrapes of its own ``/metrics`` — which anyone may read (defect 4)."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client import Counter

from guide.observability.metrics import create_app
from reference.api_design.graphql.background import serve_in_background
from reference.observability.metrics import histogram_quantile, samples


@pytest.fixture(scope="module")
def guide() -> Iterator[httpx.Client]:
    server = serve_in_background(create_app(), lifespan="off")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client
    server.stop()


def scrape(client: httpx.Client) -> str:
    response = client.get("/metrics")  # no credentials needed: defect 4
    assert response.status_code == 200
    return response.text


def count(text: str, **labels: str) -> float:
    return sum(
        value
        for found, value in samples(text, "http_requests_total")
        if all(found.get(k) == v for k, v in labels.items())
    )


def test_random_404s_each_add_a_series(guide: httpx.Client) -> None:
    before = len(samples(scrape(guide), "http_requests_total"))
    for _ in range(1000):
        assert guide.get(f"/wp-admin/{uuid.uuid4().hex}").status_code == 404
    after = len(samples(scrape(guide), "http_requests_total"))
    assert after - before >= 1000  # one new series per scanned path, forever


def test_id_routes_of_two_routers_collide(guide: httpx.Client) -> None:
    before = scrape(guide)
    assert guide.get("/users/7").status_code == 200
    assert guide.get("/orders/7").status_code == 200
    after = scrape(guide)
    # one series, path "/{id}", for both: users and orders cannot be told apart
    assert count(after, path="/{id}") - count(before, path="/{id}") == 2
    paths = {labels["path"] for labels, _ in samples(after, "http_requests_total")}
    assert not {"/users/{id}", "/orders/{id}"} & paths


def test_an_aborted_request_is_never_counted(guide: httpx.Client) -> None:
    before = count(scrape(guide), path="/slow")
    with socket.create_connection((guide.base_url.host, guide.base_url.port)) as sock:
        sock.sendall(b"GET /slow?seconds=0.4 HTTP/1.1\r\nHost: guide\r\n\r\n")
        time.sleep(0.1)  # the handler has started: nothing in the guide's metrics can show it
    # The client is gone; a second request of the same length ends after the aborted one did.
    assert guide.get("/slow", params={"seconds": 0.4}).status_code == 200
    assert count(scrape(guide), path="/slow") - before == 1  # two requests, one counted


def test_metrics_are_public(guide: httpx.Client) -> None:
    response = httpx.get(f"{guide.base_url}/metrics")  # a stranger without any credentials
    assert response.status_code == 200
    assert "http_requests_total" in response.text
    assert "process_open_fds" in response.text or "python_info" in response.text


def test_coarse_buckets_put_the_p99_far_from_the_truth(guide: httpx.Client) -> None:
    """98 % fast requests (5 ms) and 2 % slow ones (40 ms): the true p99 is ~40 ms, but with bounds
    0.01 and 0.1 the rank lands in a 90 ms wide bucket and the estimate is interpolated across it."""
    latencies = [0.005] * 294 + [0.04] * 6
    before = _buckets(scrape(guide))
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda s: guide.get("/slow", params={"seconds": s}).status_code, latencies)
        )
    assert statuses == [200] * len(latencies)
    after = _buckets(scrape(guide))
    delta = [(le, after[le] - before.get(le, 0.0)) for le in sorted(after)]
    estimate = histogram_quantile(0.99, delta)
    true_p99 = 0.04  # every slow request slept 40 ms; the server adds well under 10 ms to each
    assert abs(estimate - true_p99) / true_p99 > 0.2, estimate


def _buckets(text: str) -> dict[float, float]:
    return {
        float(labels["le"]): value
        for labels, value in samples(text, "http_request_duration_seconds_bucket")
        if labels["path"] == "/slow"
    }


def test_two_apps_share_the_default_registry(guide: httpx.Client) -> None:
    """Module-level metrics on the default registry: a second app built in the process serves the
    first one's counts as its own (building them per app instead raises "Duplicated timeseries")."""
    other = serve_in_background(create_app(), lifespan="off")
    try:
        with httpx.Client(base_url=other.url, timeout=10) as second:
            before = count(scrape(second), path="/{id}")
            for _ in range(3):
                assert guide.get("/users/1").status_code == 200  # the FIRST app only
            assert count(scrape(second), path="/{id}") - before == 3
    finally:
        other.stop()
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Counter("http_requests_total", "Total HTTP requests", ["method", "path", "status"])
