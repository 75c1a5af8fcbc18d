"""Grading for exercise 01.4: permission-aware links (exercises/01_api_design/permission_links.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference.api_design import policy
from reference.api_design.app import create_app
from reference.api_design.auth import Principal
from reference.api_design.seed import CHEAP_HASHER, Cast, seed_cast
from reference.databases.migrate import upgrade


@pytest.fixture
def cast(pg_url: str) -> Cast:
    upgrade(pg_url)
    return seed_cast(pg_url)


@pytest.fixture
def serve(
    pg_url: str, cast: Cast, exercise: ModuleType
) -> Iterator[Callable[[str, bool], tuple[TestClient, str]]]:
    """Serve the reference app with YOUR build_links: bare, behind a root_path, or mounted."""
    clients: list[TestClient] = []

    def start(prefix: str, mount: bool) -> tuple[TestClient, str]:
        app = create_app(
            pg_url,
            authenticator=cast.authenticator,
            link_builder=exercise.build_links,
            password_hasher=CHEAP_HASHER,
        )
        if mount:
            outer = FastAPI()
            outer.mount(prefix, app)
            client = TestClient(outer)
        else:
            client = TestClient(app, root_path=prefix)
        clients.append(client.__enter__())
        return client, prefix

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def links_of(client: TestClient, prefix: str, cast: Cast, who: str, target: str) -> Any:
    response = client.get(
        f"{prefix}/users/{cast.principals[target].user_id}", headers=cast.headers(who)
    )
    assert response.status_code == 200, response.text
    return response.json()["links"]


@pytest.mark.parametrize(
    ("who", "target", "rels"),
    [
        ("admin", "bob", {"self", "update", "patch", "delete", "orders"}),
        ("manager", "bob", {"self", "orders"}),
        ("manager", "manager", {"self", "update", "patch", "orders"}),
        ("alice", "alice", {"self", "update", "patch", "orders"}),
    ],
)
def test_links_follow_the_callers_permissions(
    serve: Callable[[str, bool], tuple[TestClient, str]],
    cast: Cast,
    who: str,
    target: str,
    rels: set[str],
) -> None:
    """Advertise an action only when the policy lets this caller take it: a plain user sees no
    delete link (not even on their own record), a manager may read anyone but change only themselves."""
    client, prefix = serve("", False)
    assert set(links_of(client, prefix, cast, who, target)) == rels


def owners_only(principal: Principal, action: str, owner_id: uuid.UUID | None = None) -> bool:
    """Another policy: anyone may read; only a record's owner may update or delete it — whatever
    their role."""
    if action == "read":
        return True
    return action in ("update", "delete") and owner_id == principal.user_id


@pytest.mark.parametrize(
    ("who", "target", "rels"),
    [
        ("admin", "bob", {"self", "orders"}),
        ("alice", "alice", {"self", "update", "patch", "delete", "orders"}),
        ("manager", "manager", {"self", "update", "patch", "delete", "orders"}),
    ],
)
def test_links_follow_the_policy_not_the_roles(
    serve: Callable[[str, bool], tuple[TestClient, str]],
    cast: Cast,
    exercise: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    who: str,
    target: str,
    rels: set[str],
) -> None:
    """The links must come from the policy, so that when the policy changes they change with it.
    Here the grader swaps in another policy (anyone reads; only the owner updates or deletes,
    admins included) and your build_links must follow it. Rules re-derived from role names
    ("admin gets every link") give the old answers: ask may(principal, action, resource.id)."""
    monkeypatch.setattr(policy, "may", owners_only)
    monkeypatch.setattr(exercise, "may", owners_only, raising=False)
    client, prefix = serve("", False)
    assert set(links_of(client, prefix, cast, who, target)) == rels


def test_methods_match_the_relations(
    serve: Callable[[str, bool], tuple[TestClient, str]], cast: Cast
) -> None:
    """self and orders are GET, update is PUT, patch is PATCH, delete is DELETE."""
    client, prefix = serve("", False)
    links = links_of(client, prefix, cast, "admin", "bob")
    methods = {rel: link["method"] for rel, link in links.items()}
    assert methods == {
        "self": "GET",
        "update": "PUT",
        "patch": "PATCH",
        "delete": "DELETE",
        "orders": "GET",
    }


@pytest.mark.parametrize(
    ("prefix", "mount"),
    [("", False), ("/api/v1", False), ("/api/v1", True)],
    ids=["bare", "root_path", "mounted"],
)
@pytest.mark.parametrize(
    ("who", "target"), [("admin", "bob"), ("alice", "alice"), ("manager", "bob")]
)
def test_every_link_can_be_followed(
    serve: Callable[[str, bool], tuple[TestClient, str]],
    cast: Cast,
    prefix: str,
    mount: bool,
    who: str,
    target: str,
) -> None:
    """Follow every advertised link with its method: none may answer 403, 404 or 405 — also when
    the API is served under /api/v1. Hard-coded "/users/…" hrefs lose the prefix; build them with
    request.url_for(route_name, user_id=…)."""
    client, prefix = serve(prefix, mount)
    headers = cast.headers(who)
    links = links_of(client, prefix, cast, who, target)
    for rel in sorted(links, key=lambda rel: rel == "delete"):
        link = links[rel]
        assert link["href"].startswith(f"{prefix}/users/"), f"{rel}: {link['href']}"
        extra = dict(headers)
        body = None
        if link["method"] in ("PUT", "PATCH"):
            extra["If-Match"] = client.get(link["href"], headers=headers).headers["ETag"]
            body = {"email": f"{uuid.uuid4().hex[:10]}@example.com", "name": "Followed"}
        status = client.request(link["method"], link["href"], headers=extra, json=body).status_code
        assert status not in (403, 404, 405), f"{rel} {link['method']} {link['href']} → {status}"
        assert status < 400, f"{rel} → {status}"
