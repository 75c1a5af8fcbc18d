"""nginx as a shared cache, observed from outside: X-Cache-Status and the origin's call counts.

One throwaway nginx with the course's rules (``reference/caching/nginx.py``) in front of a counting
origin (``reference/caching/origin.py``) for the module; each test uses paths of its own, so they
share the cache without seeing each other's entries. Every request opens its own connection: nginx
finishes a background update before it reads the next request on the connection that triggered it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from reference.caching.nginx import CacheRules, render, throwaway_nginx
from reference.caching.origin import CountingOrigin, counting_origin

pytestmark = pytest.mark.xdist_group("nginx")


@pytest.fixture(scope="module")
def origin() -> Iterator[CountingOrigin]:
    with counting_origin() as server:
        yield server


@pytest.fixture(scope="module")
def cache(origin: CountingOrigin) -> Iterator[str]:
    with throwaway_nginx(origin.url) as base:
        yield base


def get(base: str, path: str, cc: str | None = None, **query: str | None) -> httpx.Response:
    headers = {"Connection": "close"}
    for name in ("authorization", "accept_language"):
        value = query.pop(name, None)
        if value is not None:
            headers[name.replace("_", "-")] = value
    params = {"cc": cc, **query}
    url = f"{base}{path}?" + "&".join(f"{k}={quote(v)}" for k, v in params.items() if v is not None)
    return httpx.get(url, headers=headers, timeout=15)


def status(response: httpx.Response) -> str:
    return response.headers["x-cache-status"]


def test_miss_then_hit(cache: str, origin: CountingOrigin) -> None:
    first = get(cache, "/hit", "public, max-age=60")
    second = get(cache, "/hit", "public, max-age=60")
    assert (status(first), status(second)) == ("MISS", "HIT")
    assert second.json()["call"] == 1
    assert origin.count("/hit") == 1


def test_s_maxage_is_honoured_over_max_age(cache: str, origin: CountingOrigin) -> None:
    """``max-age=0, s-maxage=60``: browsers revalidate, the shared cache keeps it a minute."""
    assert status(get(cache, "/smax", "public, max-age=0, s-maxage=60")) == "MISS"
    assert status(get(cache, "/smax", "public, max-age=0, s-maxage=60")) == "HIT"
    assert origin.count("/smax") == 1


@pytest.mark.parametrize("cc", ["max-age=0", "no-store", "private, max-age=60", None])
def test_no_shared_lifetime_is_never_stored(
    cache: str, origin: CountingOrigin, cc: str | None
) -> None:
    path = f"/nolife-{(cc or 'none').replace(' ', '').replace(',', '-').replace('=', '')}"
    statuses = [status(get(cache, path, cc)) for _ in range(2)]
    assert statuses == ["MISS", "MISS"]
    assert origin.count(path) == 2


def test_stale_served_while_one_background_request_revalidates(
    cache: str, origin: CountingOrigin
) -> None:
    cc = "public, max-age=1"
    assert status(get(cache, "/swr", cc)) == "MISS"
    release = origin.hold("/swr")  # from now on the origin is slow: it answers when released
    try:
        deadline = time.monotonic() + 10
        while (response := get(cache, "/swr", cc)).headers["x-cache-status"] == "HIT":
            assert time.monotonic() < deadline, "the entry never expired"
            time.sleep(0.1)
        # Expired: answered at once from the stale entry while one background fetch is held.
        assert status(response) == "STALE"
        assert response.json()["call"] == 1
        followers = [get(cache, "/swr", cc) for _ in range(3)]
        assert [status(r) for r in followers] == ["UPDATING"] * 3
        assert origin.count("/swr") == 2  # the first fill and one revalidation, however many wait
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while (response := get(cache, "/swr", cc)).json()["call"] != 2:
        assert time.monotonic() < deadline, "the background update never landed"
        time.sleep(0.05)
    assert status(response) == "HIT"
    assert origin.count("/swr") == 2


def test_authorised_response_is_never_stored(cache: str, origin: CountingOrigin) -> None:
    """The origin forgot ``private`` (``max-age=60``): nginx alone would give Alice's body to Bob."""
    alice = get(cache, "/me", "max-age=60", authorization="Bearer alice")
    bob = get(cache, "/me", "max-age=60", authorization="Bearer bob")
    assert bob.json()["authorization"] == "Bearer bob"
    assert (status(alice), status(bob)) == ("MISS", "MISS")
    assert origin.count("/me") == 2


def test_authorised_response_marked_public_is_shared(cache: str, origin: CountingOrigin) -> None:
    get(cache, "/pub", "public, max-age=60", authorization="Bearer alice")
    bob = get(cache, "/pub", "public, max-age=60", authorization="Bearer bob")
    assert status(bob) == "HIT"
    assert origin.count("/pub") == 1


@pytest.mark.parametrize("code", ["500", "503", "401", "429"])
def test_errors_are_never_stored_even_when_marked_cacheable(
    cache: str, origin: CountingOrigin, code: str
) -> None:
    """The guide's middleware sets ``public, max-age=60`` before the handler: on a 500 too."""
    path = f"/err{code}"
    for _ in range(2):
        response = get(cache, path, "public, max-age=60", status=code)
        assert response.status_code == int(code)
        assert status(response) == "MISS"
    assert origin.count(path) == 2


def test_a_404_with_a_lifetime_is_negative_cached(cache: str, origin: CountingOrigin) -> None:
    get(cache, "/absent", "public, max-age=30", status="404")
    assert status(get(cache, "/absent", "public, max-age=30", status="404")) == "HIT"
    assert origin.count("/absent") == 1


def test_vary_keeps_one_entry_per_variant(cache: str, origin: CountingOrigin) -> None:
    def fetch(lang: str) -> httpx.Response:
        return get(
            cache, "/vary", "public, max-age=60", vary="Accept-Language", accept_language=lang
        )

    ko, en, ko_again = fetch("ko"), fetch("en"), fetch("ko")
    assert en.json()["lang"] == "en"
    assert ko_again.json()["lang"] == "ko"
    assert [status(r) for r in (ko, en, ko_again)] == ["MISS", "MISS", "HIT"]
    assert origin.count("/vary") == 2


def test_rules_nginx_rejects_are_a_value_error(origin: CountingOrigin) -> None:
    broken = CacheRules(http="", location="proxy_cache_use_stale sometimes;")
    with pytest.raises(ValueError, match="nginx rejected"), throwaway_nginx(origin.url, broken):
        pass


def test_render_names_a_missing_variable() -> None:
    with pytest.raises(ValueError, match="CACHE_ORIGIN"):
        render({"CACHE_PROXY_LISTEN": "1", "CACHE_DIR": "/x"})


@pytest.mark.parametrize("query", ["status=abc", "status=99", "delay=-1", "delay=nan"])
def test_origin_answers_hostile_instructions_with_400(origin: CountingOrigin, query: str) -> None:
    assert httpx.get(f"{origin.url}/hostile?{query}").status_code == 400
