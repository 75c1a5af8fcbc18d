"""Grading for exercise 08.3: RED metrics by route template (exercises/08_observability/route_metrics.py).

Graded by scraping a real app: a FastAPI shop with two routers mounted under ``/api/users`` and
``/api/orders`` (each with its own ``/{…_id}`` route), one under ``/shops/{shop_id}/items``, one
mounted inside ``/api/v2``, a slow route and a crashing one, instrumented by
your ``instrument(app, "shop")`` and served by uvicorn; ``/metrics`` there serves the registry you
returned. Only what that scrape shows counts."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import prometheus_client
import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reference.api_design.graphql.background import BackgroundServer, serve_in_background
from reference.observability.metrics import OTHER_METHOD, UNMATCHED, samples

USER = "/api/users/{user_id}"
ORDER = "/api/orders/{order_id}"
SHOP_ITEM = "/shops/{shop_id}/items/{item_id}"
CART = "/api/v2/carts/{cart_id}"


def shop(exercise: ModuleType) -> tuple[FastAPI, Any]:
    users, orders, app = FastAPI(), FastAPI(), FastAPI()

    @users.get("/{user_id}")
    async def user(user_id: str) -> dict[str, str]:
        return {"id": user_id}

    @orders.get("/{order_id}")
    async def order(order_id: str) -> dict[str, str]:
        return {"id": order_id}

    @app.get("/slow")
    async def slow(seconds: float = 0.1) -> dict[str, float]:
        await asyncio.sleep(min(seconds, 3.0))
        return {"slept": seconds}

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("the grader's deliberate crash")

    holder: list[Any] = []

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(holder[0]), media_type=CONTENT_TYPE_LATEST)

    items, carts, v2 = FastAPI(), FastAPI(), FastAPI()

    @items.get("/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    @carts.get("/{cart_id}")
    async def cart(cart_id: str) -> dict[str, str]:
        return {"id": cart_id}

    v2.mount("/carts", carts)
    app.mount("/api/users", users)
    app.mount("/api/orders", orders)
    app.mount("/shops/{shop_id}/items", items)  # a mount whose prefix has a parameter
    app.mount("/api/v2", v2)  # mounts inside mounts
    holder.append(exercise.instrument(app, "shop"))
    return app, holder[0]


@pytest.fixture(scope="module")
def server(exercise: ModuleType) -> Iterator[BackgroundServer]:
    app, _ = shop(exercise)
    s = serve_in_background(app)
    yield s
    s.stop()


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def scrape(client: httpx.Client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, "the grader's /metrics could not render your registry"
    return response.text


def total(text: str, name: str = "http_requests_total", **labels: str) -> float:
    return sum(
        v for found, v in samples(text, name) if all(found.get(k) == x for k, x in labels.items())
    )


def wait_until(check: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_random_404s_add_no_series(client: httpx.Client) -> None:
    """A scanner's 1,000 random paths must not create 1,000 series: every path that matches no route
    is labelled route="<unmatched>" (the guide's req.path fallback labels each by its own path)."""
    client.get("/warm-up-404")
    scrape(client)
    before = scrape(client)
    for _ in range(1000):
        client.get(f"/wp-admin/{uuid.uuid4().hex}.php")
    after = scrape(client)
    assert len(samples(after, "http_requests_total")) == len(
        samples(before, "http_requests_total")
    ), (
        "new http_requests_total series appeared for random 404 paths: label unmatched paths '<unmatched>'"
    )
    grew = total(after, route=UNMATCHED, status="404") - total(
        before, route=UNMATCHED, status="404"
    )
    assert grew == 1000, (
        f'expected 1000 more requests with route="{UNMATCHED}", status="404"; got {grew}'
    )


def test_route_template_keeps_the_mount_prefix(client: httpx.Client) -> None:
    """/api/users/7 is route "/api/users/{user_id}" and /api/orders/7 is "/api/orders/{order_id}":
    the mounted router's own "/{user_id}" would make the two services one series."""
    before = scrape(client)
    assert client.get("/api/users/7").status_code == 200
    assert client.get("/api/orders/7").status_code == 200
    after = scrape(client)
    for route in (USER, ORDER):
        grew = total(after, route=route, method="GET", service="shop") - total(
            before, route=route, method="GET", service="shop"
        )
        assert grew == 1, f'expected one more request labelled route="{route}", got {grew}'


def test_prefixes_are_templates_at_every_depth(client: httpx.Client) -> None:
    """A mount's prefix is a template too: /shops/{shop_id}/items/{item_id}, not the shop id each
    request names (root_path holds the concrete one), and mounts inside mounts add every prefix."""
    client.get("/shops/0/items/0")
    scrape(client)
    before = scrape(client)
    for _ in range(200):
        assert client.get(f"/shops/{uuid.uuid4().hex}/items/1").status_code == 200
    assert client.get("/api/v2/carts/9").status_code == 200
    after = scrape(client)
    grew = total(after, route=SHOP_ITEM) - total(before, route=SHOP_ITEM)
    assert grew == 200, f'expected 200 more requests labelled route="{SHOP_ITEM}", got {grew}'
    cart_grew = total(after, route=CART) - total(before, route=CART)
    assert cart_grew == 1, f'expected one more request labelled route="{CART}", got {cart_grew}'
    new = len(samples(after, "http_requests_total")) - len(samples(before, "http_requests_total"))
    assert new <= 1, f"{new} new series for 200 shops and one cart: the shop id leaked into a label"


@pytest.mark.parametrize(
    ("path", "route", "status"),
    [
        ("/api/users/%00", USER, "200"),
        ("/api/users/%F0%9F%92%A5%E2%80%AE", USER, "200"),
        ("/%00%ff/%C0%AF", UNMATCHED, "404"),
        ("/" + "x" * 8000, UNMATCHED, "404"),
    ],
    ids=["nul", "emoji_and_bidi", "invalid_utf8", "8k_path"],
)
def test_hostile_paths_get_a_bounded_label(
    client: httpx.Client, path: str, route: str, status: str
) -> None:
    """A NUL, an emoji with a bidi override, bytes that are no UTF-8, an 8 KB path: the request is
    answered as usual (never a 500 from the metrics) and counted under its template."""
    before = scrape(client)
    assert client.get(path).status_code == int(status)
    after = scrape(client)
    grew = total(after, route=route, status=status) - total(before, route=route, status=status)
    assert grew == 1, (
        f'expected one more request with route="{route}", status="{status}", got {grew}'
    )


def test_status_is_the_exact_code(client: httpx.Client) -> None:
    """status is the exact code ("200", "404", "500") — the recording rules select status=~"5.."."""
    before = scrape(client)
    client.get("/api/users/1")
    client.get("/nowhere")
    httpx.get(f"{client.base_url}/crash", timeout=10)  # its own connection: uvicorn closes it
    after = scrape(client)
    for route, status in ((USER, "200"), (UNMATCHED, "404"), ("/crash", "500")):
        grew = total(after, route=route, status=status) - total(before, route=route, status=status)
        assert grew == 1, f'expected one more request with route="{route}", status="{status}"'


def test_aborted_requests_are_counted(client: httpx.Client) -> None:
    """A client that hangs up while /slow works is still a request: http_requests_total and the
    duration count grow by one when the handler ends, and http_requests_aborted_total by one."""
    labels = {"route": "/slow", "method": "GET"}
    before = scrape(client)
    with socket.create_connection((client.base_url.host, client.base_url.port)) as sock:
        sock.sendall(b"GET /slow?seconds=0.6 HTTP/1.1\r\nHost: shop\r\n\r\n")
        # hang up once the handler runs (your in-progress gauge says so; at most 0.3 s without it)
        gauge = "http_requests_in_progress"
        wait_until(lambda: total(scrape(client), gauge, route="/slow") >= 1, timeout=0.3)
    aborted = "http_requests_aborted_total"
    assert wait_until(
        lambda: total(scrape(client), aborted, **labels) > total(before, aborted, **labels)
    ), "the request whose client left was not counted in http_requests_aborted_total"
    after = scrape(client)
    assert total(after, **labels) - total(before, **labels) == 1, (
        "the aborted request is missing from http_requests_total"
    )
    count = "http_request_duration_seconds_count"
    assert total(after, count, **labels) - total(before, count, **labels) == 1, (
        "its duration was not observed"
    )


def test_completed_requests_are_no_aborts(client: httpx.Client) -> None:
    """Requests answered in full are not counted as aborted."""
    before = total(scrape(client), "http_requests_aborted_total")
    for i in range(20):
        client.get(f"/api/orders/{i}")
    client.get("/slow", params={"seconds": 0.05})
    assert total(scrape(client), "http_requests_aborted_total") == before


def test_methods_are_bounded(client: httpx.Client) -> None:
    """Any method name is a valid token to the HTTP parser; 30 invented ones must not add 30 series:
    methods outside the standard nine are labelled "_OTHER"."""
    before = scrape(client)
    for _ in range(30):
        client.request("Q" + uuid.uuid4().hex[:10].upper(), "/api/users/1")
    after = scrape(client)
    methods = {labels["method"] for labels, _ in samples(after, "http_requests_total")}
    known = {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "DELETE",
        "CONNECT",
        "OPTIONS",
        "TRACE",
        "PATCH",
        OTHER_METHOD,
    }
    assert methods <= known, f"unbounded method labels: {sorted(methods - known)[:5]}"
    grew = total(after, method=OTHER_METHOD) - total(before, method=OTHER_METHOD)
    assert grew == 30, f'expected 30 more requests with method="{OTHER_METHOD}", got {grew}'


def test_in_progress_returns_to_zero(client: httpx.Client) -> None:
    """http_requests_in_progress is 1 while /slow runs, and 0 after it and after a crash."""
    gauge = "http_requests_in_progress"
    with httpx.Client(base_url=client.base_url, timeout=10) as other:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(other.get, "/slow", params={"seconds": 0.5})
            assert wait_until(lambda: total(scrape(client), gauge, route="/slow") == 1), (
                "http_requests_in_progress{route='/slow'} never showed the running request"
            )
            assert pending.result().status_code == 200
    httpx.get(f"{client.base_url}/crash", timeout=10)
    after = scrape(client)
    assert total(after, gauge, route="/slow") == 0
    assert total(after, gauge, route="/crash") == 0, (
        "a request that raised stayed 'in progress' forever"
    )


def test_concurrent_requests_keep_their_own_labels(client: httpx.Client) -> None:
    """300 requests from 16 threads at once — 200s, 404s and slow ones interleaved — each counted
    once under its own route and status: per-request state lives in the request, not in the
    middleware object all requests share."""
    from concurrent.futures import ThreadPoolExecutor

    paths = [
        f"/api/users/{i}" if i % 3 == 0 else f"/gone/{i}" if i % 3 == 1 else "/slow?seconds=0.01"
        for i in range(300)
    ]
    before = scrape(client)
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda path: client.get(path).status_code, paths))
    assert statuses.count(200) == 200
    assert statuses.count(404) == 100
    after = scrape(client)
    for route, status, expected in (
        (USER, "200", 100),
        (UNMATCHED, "404", 100),
        ("/slow", "200", 100),
    ):
        grew = total(after, route=route, status=status) - total(before, route=route, status=status)
        assert grew == expected, (
            f'route="{route}", status="{status}": expected +{expected}, got +{grew}'
        )


def test_each_app_has_its_own_registry(exercise: ModuleType) -> None:
    """instrument() on a second app (tests, --reload) must neither raise "Duplicated timeseries" nor
    share the first app's counts: each app gets a registry of its own, not prometheus_client.REGISTRY."""
    first_app, first = shop(exercise)
    _second_app, second = shop(exercise)
    assert first is not prometheus_client.REGISTRY
    assert second is not prometheus_client.REGISTRY
    s = serve_in_background(first_app)
    try:
        for _ in range(3):
            httpx.get(f"{s.url}/api/users/1", timeout=10)
    finally:
        s.stop()
    first_text, second_text = generate_latest(first).decode(), generate_latest(second).decode()
    assert total(first_text, route=USER) == 3
    assert total(second_text, route=USER) == 0, (
        "the second app's registry counted the first app's requests"
    )
