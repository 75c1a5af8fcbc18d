"""Conditional requests: strong ETags, 304, and If-Match making concurrent writers lose nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference.api_design import etag as etags
from reference.api_design.seed import Cast


def test_get_sends_a_strong_etag_and_304_on_a_match(client: TestClient, cast: Cast) -> None:
    bob = cast.principals["bob"].user_id
    first = client.get(f"/users/{bob}", headers=cast.headers("admin"))
    tag = first.headers["ETag"]
    assert tag.startswith('"')
    assert not tag.startswith("W/")
    again = client.get(f"/users/{bob}", headers=cast.headers("admin"))
    assert again.headers["ETag"] == tag, "an unchanged resource keeps its ETag"
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        cached = client.get(
            f"/users/{bob}", headers={**cast.headers("admin"), "If-None-Match": header}
        )
        assert cached.status_code == 304, header
        assert cached.headers["ETag"] == tag
    stale = client.get(f"/users/{bob}", headers={**cast.headers("admin"), "If-None-Match": '"x"'})
    assert stale.status_code == 200


def test_the_etag_changes_on_any_write_even_one_that_bypasses_the_api(
    client: TestClient, cast: Cast, api_db: str
) -> None:
    import psycopg

    bob = cast.principals["bob"].user_id
    before = client.get(f"/users/{bob}", headers=cast.headers("admin")).headers["ETag"]
    with psycopg.connect(api_db, autocommit=True) as connection:
        connection.execute("UPDATE users SET status = 'inactive' WHERE id = %s", (bob,))
    after = client.get(f"/users/{bob}", headers=cast.headers("admin")).headers["ETag"]
    assert after != before


def test_callers_with_different_links_get_different_strong_etags(
    client: TestClient, cast: Cast
) -> None:
    alice = cast.principals["alice"].user_id
    as_admin = client.get(f"/users/{alice}", headers=cast.headers("admin"))
    as_alice = client.get(f"/users/{alice}", headers=cast.headers("alice"))
    assert as_admin.content != as_alice.content
    assert as_admin.headers["ETag"] != as_alice.headers["ETag"]
    assert "Authorization" in as_admin.headers["Vary"].split(", ")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_writes_without_if_match_are_428(client: TestClient, cast: Cast, method: str) -> None:
    alice = cast.principals["alice"].user_id
    response = client.request(
        method,
        f"/users/{alice}",
        json={"email": "alice@example.com", "name": "Alice"},
        headers=cast.headers("alice"),
    )
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]


def test_if_match_is_optional_when_the_app_says_so(
    make_app: Callable[..., FastAPI], cast: Cast
) -> None:
    alice = cast.principals["alice"].user_id
    with TestClient(make_app(require_if_match=False)) as lenient:
        response = lenient.patch(
            f"/users/{alice}", json={"name": "Al"}, headers=cast.headers("alice")
        )
    assert response.status_code == 200


def test_a_weak_tag_never_satisfies_if_match(client: TestClient, cast: Cast) -> None:
    alice = cast.principals["alice"].user_id
    tag = client.get(f"/users/{alice}", headers=cast.headers("alice")).headers["ETag"]
    response = client.patch(
        f"/users/{alice}",
        json={"name": "Al"},
        headers={**cast.headers("alice"), "If-Match": f"W/{tag}"},
    )
    assert response.status_code == 412


def test_two_writers_no_lost_update(client: TestClient, cast: Cast) -> None:
    """Both read version 1; the first write wins, the second is told (412) instead of overwriting."""
    alice = cast.principals["alice"].user_id
    url, headers = f"/users/{alice}", cast.headers("alice")
    seen_by_a = client.get(url, headers=headers).headers["ETag"]
    seen_by_b = client.get(url, headers=headers).headers["ETag"]
    a = client.put(
        url,
        json={"email": "alice@example.com", "name": "Alice A"},
        headers={**headers, "If-Match": seen_by_a},
    )
    b = client.put(
        url,
        json={"email": "alice.b@example.com", "name": "alice"},
        headers={**headers, "If-Match": seen_by_b},
    )
    assert a.status_code == 200
    assert b.status_code == 412
    final = client.get(url, headers=headers).json()["data"]
    assert final["name"] == "Alice A", "writer A's change survived"
    # B re-reads, re-applies, and succeeds.
    fresh = client.get(url, headers=headers).headers["ETag"]
    retry = client.patch(
        url, json={"email": "alice.b@example.com"}, headers={**headers, "If-Match": fresh}
    )
    assert retry.status_code == 200
    assert retry.json()["data"] | {} == final | {
        "email": "alice.b@example.com",
        "updated_at": retry.json()["data"]["updated_at"],
    }


def test_concurrent_writers_with_one_etag_exactly_one_wins(
    make_app: Callable[..., FastAPI], cast: Cast
) -> None:
    """Eight threads race with the same If-Match; the compare-and-set in the UPDATE lets one through."""
    alice = cast.principals["alice"].user_id
    url, headers = f"/users/{alice}", cast.headers("alice")
    with TestClient(make_app()) as client:
        tag = client.get(url, headers=headers).headers["ETag"]
        barrier = threading.Barrier(8)
        statuses: list[int] = []
        lock = threading.Lock()

        def writer(n: int) -> None:
            barrier.wait()
            response = client.patch(
                url, json={"name": f"writer {n}"}, headers={**headers, "If-Match": tag}
            )
            with lock:
                statuses.append(response.status_code)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = client.get(url, headers=headers).json()["data"]["name"]
    assert sorted(statuses) == [200] + [412] * 7
    assert final.startswith("writer ")


def test_if_match_on_delete_is_honoured(client: TestClient, cast: Cast) -> None:
    bob = cast.principals["bob"].user_id
    admin = cast.headers("admin")
    assert (
        client.delete(
            f"/users/{bob}", headers={**admin, "If-Match": '"1-0000000000000000"'}
        ).status_code
        == 412
    )
    tag = client.get(f"/users/{bob}", headers=admin).headers["ETag"]
    assert client.delete(f"/users/{bob}", headers={**admin, "If-Match": tag}).status_code == 204


@pytest.mark.parametrize(
    ("header", "current", "passes"),
    [
        ('"1-a"', '"1-a"', True),
        ('W/"1-a"', '"1-a"', False),
        ('"0-b", "1-a"', '"1-a"', True),
        ("*", '"1-a"', True),
        ('"1-b"', '"1-a"', False),
        ("garbage", '"1-a"', False),
    ],
)
def test_if_match_comparison(header: str, current: str, passes: bool) -> None:
    assert etags.if_match_passes(header, current) is passes
