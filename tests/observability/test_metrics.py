"""The fixed metrics (:mod:`reference.observability.metrics`) on real uvicorn servers, scraped over
HTTP and by a scratch Prometheus: bounded labels, mount prefixes, aborts counted, a protected
``/metrics``, one registry per app, several workers summed, buckets from measurements."""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from reference.api_design.graphql.background import BackgroundServer, serve_in_background
from reference.observability.metrics import (
    OTHER_METHOD,
    UNMATCHED,
    buckets_from_samples,
    check_buckets,
    create_app,
    histogram_quantile,
    instrument,
    samples,
)
from reference.observability.prometheus import ScrapeJob, ScratchPrometheus, wait_for
from reference.setup.ports import free_port

TOKEN = "t0k3n-Qx8vB2mR7zLw4pYc9nHs6dJf3gKa"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    s = serve_in_background(create_app("users", token=TOKEN))
    yield s
    s.stop()


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def scrape(client: httpx.Client) -> str:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    return response.text


def count(text: str, name: str = "http_requests_total", **labels: str) -> float:
    return sum(
        v for found, v in samples(text, name) if all(found.get(k) == x for k, x in labels.items())
    )


def series(text: str) -> int:
    return len(samples(text, "http_requests_total"))


def test_random_404s_add_no_series(client: httpx.Client) -> None:
    assert client.get("/nothing-here").status_code == 404  # the <unmatched> series exists
    scrape(client)  # …and the scrape's own
    before = scrape(client)
    for _ in range(1000):
        assert client.get(f"/wp-admin/{uuid.uuid4().hex}").status_code == 404
    after = scrape(client)
    assert series(after) == series(before)
    assert (
        count(after, route=UNMATCHED, status="404") - count(before, route=UNMATCHED, status="404")
        == 1000
    )


def test_route_label_keeps_the_mount_prefix(client: httpx.Client) -> None:
    before = scrape(client)
    assert client.get("/api/users/7").status_code == 200
    assert client.get("/api/orders/7").status_code == 200
    after = scrape(client)
    for route in ("/api/users/{user_id}", "/api/orders/{order_id}"):
        assert (
            count(after, route=route, status="200") - count(before, route=route, status="200") == 1
        )


def test_templates_through_parameterised_and_nested_mounts() -> None:
    items, carts, v2, app = FastAPI(), FastAPI(), FastAPI(), FastAPI()

    @items.get("/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    @carts.get("/{cart_id}")
    async def cart(cart_id: str) -> dict[str, str]:
        return {"id": cart_id}

    v2.mount("/carts", carts)
    app.mount("/shops/{shop_id}/items", items)
    app.mount("/api/v2", v2)
    instrument(app, "shop", token=TOKEN)
    s = serve_in_background(app)
    try:
        with httpx.Client(base_url=s.url, timeout=10) as c:
            for _ in range(20):
                assert c.get(f"/shops/{uuid.uuid4().hex}/items/1").status_code == 200
            assert c.get("/api/v2/carts/9").status_code == 200
            routes = {labels["route"] for labels, _ in samples(scrape(c), "http_requests_total")}
    finally:
        s.stop()
    assert routes == {"/shops/{shop_id}/items/{item_id}", "/api/v2/carts/{cart_id}"}


def test_an_aborted_request_is_counted(client: httpx.Client) -> None:
    labels = {"route": "/slow", "method": "GET"}
    before = scrape(client)
    with socket.create_connection((client.base_url.host, client.base_url.port)) as sock:
        sock.sendall(b"GET /slow?seconds=0.4 HTTP/1.1\r\nHost: users\r\n\r\n")
        wait_for(lambda: count(scrape(client), "http_requests_in_progress", **labels) == 1, 5)
    # closed while the handler sleeps: counted once it ends, as aborted, its duration observed
    wait_for(lambda: count(scrape(client), "http_requests_aborted_total", **labels) >= 1, 5)
    after = scrape(client)
    assert (
        count(after, "http_requests_aborted_total", **labels)
        - count(before, "http_requests_aborted_total", **labels)
        == 1
    )
    assert count(after, **labels) - count(before, **labels) == 1
    assert count(after, "http_requests_in_progress", **labels) == 0
    durations = count(after, "http_request_duration_seconds_count", **labels)
    assert durations - count(before, "http_request_duration_seconds_count", **labels) == 1


def test_a_completed_request_is_not_an_abort(client: httpx.Client) -> None:
    before = count(scrape(client), "http_requests_aborted_total")
    for _ in range(20):
        assert client.get("/api/users/1").status_code == 200
    assert count(scrape(client), "http_requests_aborted_total") == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {b"authorization": b"Bearer \xff\xfe"},  # not UTF-8
        {"authorization": "Bearer " + TOKEN * 200},  # 7 KB
        {"authorization": "Bearer wrong"},
        {"authorization": f"bearer {TOKEN}x"},
        {"authorization": TOKEN},
    ],
)
def test_metrics_need_the_token(
    client: httpx.Client, headers: dict[str, str] | dict[bytes, bytes]
) -> None:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401
    assert "http_requests_total" not in response.text


def test_a_weak_token_is_refused_at_build_time() -> None:
    for weak in ("", "changeme", "secret-metrics-token-0123456789abcdef"):
        with pytest.raises(ValueError, match="metrics token"):
            create_app("users", token=weak)


def test_building_the_app_twice_never_duplicates_timeseries() -> None:
    first, second = create_app("users", token=TOKEN), create_app("users", token=TOKEN)
    assert first is not second  # prometheus-client's "Duplicated timeseries" would have raised


def test_methods_are_bounded(client: httpx.Client) -> None:
    before = scrape(client)
    for _ in range(50):
        method = "X" + uuid.uuid4().hex[:8].upper()
        assert client.request(method, "/api/users/1").status_code == 405
    after = scrape(client)
    methods = {labels["method"] for labels, _ in samples(after, "http_requests_total")}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", OTHER_METHOD}
    got = count(after, method=OTHER_METHOD, route="/api/users/{user_id}", status="405")
    assert (
        got - count(before, method=OTHER_METHOD, route="/api/users/{user_id}", status="405") == 50
    )


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/api/users/%00", "/api/users/{user_id}"),
        ("/api/users/%F0%9F%92%A5%E2%80%AE", "/api/users/{user_id}"),
        ("/%00%ff/x", UNMATCHED),
        ("/" + "a" * 8000, UNMATCHED),
    ],
)
def test_hostile_paths_get_a_bounded_label(client: httpx.Client, path: str, route: str) -> None:
    before = scrape(client)
    status = client.get(path).status_code
    assert status in (200, 404)
    after = scrape(client)
    assert (
        count(after, route=route, status=str(status))
        - count(before, route=route, status=str(status))
        == 1
    )
    routes = {labels["route"] for labels, _ in samples(after, "http_requests_total")}
    assert all(len(r) < 40 for r in routes)


def test_concurrent_requests_are_all_counted(client: httpx.Client) -> None:
    route = "/api/orders/{order_id}"
    before = count(scrape(client), route=route)
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda i: client.get(f"/api/orders/{i}").status_code, range(300)))
    assert statuses == [200] * 300
    after = scrape(client)
    assert count(after, route=route) - before == 300
    assert count(after, "http_requests_in_progress", route=route) == 0


def test_bodies_and_streams_pass_through_the_watch() -> None:
    """The middleware reads ``receive`` on the app's behalf: a 1 MiB upload in chunks arrives whole,
    a streamed response streams, and both are counted once, not as aborts."""
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, object]:
        body = await request.body()
        return {"length": len(body), "digest": hashlib.sha256(body).hexdigest()}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(50):
                yield f"{i}\n".encode()
                await asyncio.sleep(0)

        return StreamingResponse(chunks(), media_type="text/plain")

    instrument(app, "io", token=TOKEN)
    payload = os.urandom(1 << 20)

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(payload), 65536):
            yield payload[start : start + 65536]

    s = serve_in_background(app)
    try:
        with httpx.Client(base_url=s.url, timeout=10) as c:
            answer = c.post("/echo", content=pieces()).json()
            assert answer == {"length": len(payload), "digest": hashlib.sha256(payload).hexdigest()}
            assert c.get("/stream").text == "".join(f"{i}\n" for i in range(50))
            text = scrape(c)
    finally:
        s.stop()
    assert count(text, route="/echo", status="200") == 1
    assert count(text, route="/stream", status="200") == 1
    assert count(text, "http_requests_aborted_total") == 0


def test_an_unhandled_exception_counts_as_500() -> None:
    app = FastAPI()

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    instrument(app, "crashy", token=TOKEN)
    s = serve_in_background(app)
    try:
        # uvicorn closes the connection after this 500 (the exception went past the response):
        # one connection for it, another for the scrape
        assert httpx.get(f"{s.url}/crash", timeout=10).status_code == 500
        with httpx.Client(base_url=s.url, timeout=10) as c:
            assert count(scrape(c), route="/crash", status="500") == 1
    finally:
        s.stop()


def test_buckets_from_samples_follow_the_measurements() -> None:
    rng = random.Random(8)
    measured = [rng.lognormvariate(-5, 0.6) for _ in range(5000)]
    fresh = sorted(rng.lognormvariate(-5, 0.6) for _ in range(20000))
    bounds = buckets_from_samples(measured)
    check_buckets(bounds)
    assert bounds[-1] > max(fresh)  # nothing in +Inf
    cumulative = [(b, float(sum(1 for x in fresh if x <= b))) for b in bounds] + [
        (float("inf"), 20000.0)
    ]
    true_p99 = fresh[int(0.99 * len(fresh)) - 1]
    assert abs(histogram_quantile(0.99, cumulative) - true_p99) / true_p99 < 0.05


@pytest.mark.parametrize(
    "latencies", [[], [0.01], [0.01, math.nan], [0.01, -0.002], [0.01, math.inf]]
)
def test_unusable_latencies_are_refused(latencies: list[float]) -> None:
    with pytest.raises(ValueError, match="latency samples"):
        buckets_from_samples(latencies)


def test_ties_give_one_bound() -> None:
    bounds = buckets_from_samples([0.001] * 600 + [0.02, 0.03, 0.05] * 100)
    check_buckets(bounds)  # 0.001 is the p50, p75 and p90 at once: one bound, not three


def test_bad_buckets_are_refused() -> None:
    for bad in ([], [0.1, 0.05], [0.1, 0.1], [0.0, 1.0], [0.1, float("inf")], [float("nan")]):
        with pytest.raises(ValueError, match="bucket"):
            check_buckets(bad)


def test_prometheus_sees_no_new_series_and_agrees_on_the_quantile(
    server: BackgroundServer, client: httpx.Client
) -> None:
    """A real Prometheus scraping the app with the token: series unchanged after 1,000 random 404s,
    and its histogram_quantile equals :func:`histogram_quantile` on the same buckets."""
    job = ScrapeJob("users", [f"127.0.0.1:{server.port}"], bearer_token=TOKEN)
    selector = 'http_requests_total{job="users"}'
    with ScratchPrometheus([job], scrape_self=False, interval_s=0.5) as prom:
        assert client.get("/nowhere").status_code == 404
        for i in range(50):  # latencies for the quantile comparison below
            assert client.get(f"/api/orders/{i}").status_code == 200
        scrape(client)
        baseline = prom.wait_for(lambda: prom.series_count(selector) or None)
        text = scrape(client)
        for _ in range(1000):
            client.get(f"/{uuid.uuid4().hex}")
        marker = count(scrape(client), route=UNMATCHED)
        prom.wait_for(
            lambda: (
                (prom.value(f'sum({selector[:-1]},route="{UNMATCHED}"}})') or 0) >= marker or None
            )
        )
        assert prom.series_count(selector) == baseline
        text = scrape(client)
        buckets = [
            (float(labels["le"]), value)
            for labels, value in samples(text, "http_request_duration_seconds_bucket")
            if labels["route"] == "/api/orders/{order_id}"
        ]
        query = 'histogram_quantile(0.99, http_request_duration_seconds_bucket{job="users",route="/api/orders/{order_id}"})'
        total = count(text, route="/api/orders/{order_id}")
        prom.wait_for(
            lambda: (
                (
                    prom.value(
                        'sum(http_requests_total{job="users",route="/api/orders/{order_id}"})'
                    )
                    or 0
                )
                >= total
                or None
            )
        )
        assert prom.value(query) == pytest.approx(histogram_quantile(0.99, buckets), rel=1e-9)


def test_several_workers_are_summed(tmp_path: Path) -> None:
    """uvicorn --workers 2 with PROMETHEUS_MULTIPROC_DIR: each scrape (whichever worker answers)
    reports every request both workers served."""
    port = free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "METRICS_TOKEN": TOKEN,
        "SERVICE_NAME": "multi",
    }
    command = [
        sys.executable, "-m", "uvicorn", "reference.observability.metrics:app_from_env", "--factory",
        "--workers", "2", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"

        def served_by() -> int | None:
            try:  # a fresh connection each time: the kernel spreads them over the workers
                return int(httpx.get(f"{url}/api/users/1", timeout=5).json()["pid"])
            except httpx.HTTPError:
                return None

        pids: set[int] = set()
        requests = 0
        deadline = time.monotonic() + 30
        while len(pids) < 2 or requests < 40:
            assert time.monotonic() < deadline, f"only workers {pids} answered"
            pid = served_by()
            if pid is not None:
                pids.add(pid)
                requests += 1
        for _ in range(4):
            text = httpx.get(f"{url}/metrics", headers=AUTH, timeout=5).text
            assert count(text, route="/api/users/{user_id}", status="200") == requests
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
