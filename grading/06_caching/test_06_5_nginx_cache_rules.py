"""Grading for exercise 06.5: nginx cache rules (exercises/06_caching/nginx_cache_rules.py).

A throwaway nginx with the learner's rules (``reference.caching.nginx.throwaway_nginx``: its own port
and cache) in front of a counting origin (``reference.caching.origin``): every verdict comes from the
``X-Cache-Status`` header and the origin's call counts. Each test uses paths of its own. Every
request opens its own connection (nginx finishes a background update before reading the next request
on the connection that triggered it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import ModuleType
from urllib.parse import quote

import httpx
import pytest

from reference.caching.nginx import throwaway_nginx
from reference.caching.origin import CountingOrigin, counting_origin


@pytest.fixture(scope="module")
def origin() -> Iterator[CountingOrigin]:
    with counting_origin() as server:
        yield server


@pytest.fixture(scope="module")
def cache(exercise: ModuleType, origin: CountingOrigin) -> Iterator[str]:
    with throwaway_nginx(origin.url, exercise.nginx_cache_rules()) as base:
        yield base


def get(
    base: str,
    path: str,
    cc: str | None,
    status: int = 200,
    authorization: str | None = None,
    timeout: float = 15.0,
) -> httpx.Response:
    query = f"status={status}" + (f"&cc={quote(cc)}" if cc is not None else "")
    headers = {"Connection": "close"}
    if authorization:
        headers["Authorization"] = authorization
    return httpx.get(f"{base}{path}?{query}", headers=headers, timeout=timeout)


def statuses(
    base: str, path: str, cc: str | None, status: int = 200, authorization: str | None = None
) -> list[str]:
    """X-Cache-Status of two identical requests in a row."""
    return [
        get(base, path, cc, status, authorization).headers.get("x-cache-status", "")
        for _ in range(2)
    ]


def test_public_response_is_stored(cache: str, origin: CountingOrigin) -> None:
    """`public, max-age=60`: the first request is a MISS, the second a HIT; the origin is called once."""
    assert statuses(cache, "/public", "public, max-age=60") == ["MISS", "HIT"]
    assert origin.count("/public") == 1


def test_s_maxage_is_the_shared_lifetime(cache: str, origin: CountingOrigin) -> None:
    """`max-age=0, s-maxage=60`: browsers revalidate, the shared cache keeps it for a minute (HIT)."""
    assert statuses(cache, "/smax", "public, max-age=0, s-maxage=60") == ["MISS", "HIT"]
    assert origin.count("/smax") == 1


@pytest.mark.parametrize("cc", [None, "no-store", "max-age=0", "private, max-age=60"])
def test_responses_without_a_shared_lifetime_are_not_stored(
    cache: str, origin: CountingOrigin, cc: str | None
) -> None:
    """No lifetime, no-store, max-age=0, private: never stored — the origin decides, so no
    proxy_ignore_headers and no blanket proxy_cache_valid."""
    path = "/nolife-" + "".join(c for c in str(cc) if c.isalnum())
    assert statuses(cache, path, cc) == ["MISS", "MISS"]
    assert origin.count(path) == 2


def test_authorised_response_is_not_shared(cache: str, origin: CountingOrigin) -> None:
    """A response to an Authorization request, `max-age=60` but not public, is not stored: Bob must
    get his own page, not Alice's (nginx on its own would store it) — and Alice's second request
    reaches the origin too: a cache keyed on the token still serves a revoked token's page."""
    get(cache, "/me", "max-age=60", authorization="Bearer alice")
    again = get(cache, "/me", "max-age=60", authorization="Bearer alice")
    assert again.headers.get("x-cache-status") != "HIT", "Alice's page was stored in the cache"
    bob = get(cache, "/me", "max-age=60", authorization="Bearer bob")
    assert bob.json()["authorization"] == "Bearer bob", "Bob was served Alice's cached response"
    assert origin.count("/me") == 3


def test_authorised_response_marked_public_is_shared(cache: str, origin: CountingOrigin) -> None:
    """`public` is the origin's explicit permission: an authorised response marked public is stored
    and served (HIT) — refusing every Authorization request throws that away."""
    assert statuses(cache, "/pub", "public, max-age=60", authorization="Bearer alice") == [
        "MISS",
        "HIT",
    ]
    assert origin.count("/pub") == 1


@pytest.mark.parametrize("status", [500, 503, 403])
def test_errors_are_not_stored(cache: str, origin: CountingOrigin, status: int) -> None:
    """A 500/503/403 carrying `public, max-age=60` (the guide's middleware sets it before the
    handler) is not stored: the next request reaches the origin again."""
    path = f"/err{status}"
    assert statuses(cache, path, "public, max-age=60", status=status) == ["MISS", "MISS"]
    assert origin.count(path) == 2


def test_a_404_with_a_lifetime_is_negative_cached(cache: str, origin: CountingOrigin) -> None:
    """A 404 the origin gave a lifetime is stored (negative caching): HIT the second time."""
    assert statuses(cache, "/absent", "public, max-age=30", status=404) == ["MISS", "HIT"]
    assert origin.count("/absent") == 1


def test_concurrent_misses_share_one_fetch(cache: str, origin: CountingOrigin) -> None:
    """Three readers miss the same cold entry while the origin is slow: one request reaches the
    origin, the others wait for it and get the stored answer (proxy_cache_lock) instead of each
    fetching — a stampede on every cold or expired key."""
    cc = "public, max-age=60"
    release = origin.hold("/cold")
    results: list[httpx.Response] = []
    first = threading.Thread(target=lambda: results.append(get(cache, "/cold", cc)))
    first.start()
    followers = [
        threading.Thread(target=lambda: results.append(get(cache, "/cold", cc))) for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 10  # bounds a hang only
        while origin.count("/cold") == 0:
            assert first.is_alive(), "the first miss never arrived"
            assert time.monotonic() < deadline, "the first miss never arrived"
            time.sleep(0.01)
        for follower in followers:
            follower.start()
        # Give the followers time to reach nginx while the origin is held. On a slower machine
        # they arrive later, after the entry is stored: that only makes the test more lenient.
        time.sleep(0.5)
    finally:
        release.set()
        for thread in [first, *followers]:
            thread.join(15)
    assert [r.status_code for r in results] == [200, 200, 200]
    assert origin.count("/cold") == 1, (
        f"{origin.count('/cold')} concurrent misses reached the origin: add proxy_cache_lock"
    )


def test_stale_is_served_while_one_request_revalidates(cache: str, origin: CountingOrigin) -> None:
    """After expiry, with the origin hanging, readers get the stale entry at once (STALE, then
    UPDATING) and the origin sees one revalidation — proxy_cache_use_stale updating +
    proxy_cache_background_update (+ proxy_cache_lock)."""
    cc = "public, max-age=1"
    assert get(cache, "/swr", cc).headers["x-cache-status"] == "MISS"
    release = origin.hold("/swr")
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                response = get(cache, "/swr", cc, timeout=4.0)
            except httpx.ReadTimeout:
                pytest.fail("after expiry the cache made the reader wait for the slow origin")
            if response.headers["x-cache-status"] != "HIT":
                break
            assert time.monotonic() < deadline, "the entry never expired"
            time.sleep(0.1)
        assert response.headers["x-cache-status"] == "STALE"
        try:
            followers = [get(cache, "/swr", cc, timeout=4.0) for _ in range(2)]
        except httpx.ReadTimeout:
            pytest.fail("a reader waited for the revalidation instead of getting the stale entry")
        assert [r.headers["x-cache-status"] for r in followers] == ["UPDATING", "UPDATING"]
        assert origin.count("/swr") == 2
    finally:
        release.set()
