"""REST level 3: links come from the router, survive a root path or mount, and are only advertised
when the caller may follow them — checked by following every one with its method."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference.api_design.seed import Cast

FOLLOW_BODIES: dict[str, dict[str, Any]] = {
    "PUT": {"email": "renamed@example.com", "name": "Renamed"},
    "PATCH": {"name": "Patched"},
    "POST": {"email": "fresh@example.com", "name": "Fresh", "password": "long enough"},
}


def follow(client: TestClient, link: dict[str, str], headers: dict[str, str]) -> int:
    """Call ``link`` with its method (conditional writes get the current ETag first)."""
    method, href = link["method"], link["href"]
    extra = dict(headers)
    if method in ("PUT", "PATCH"):
        extra["If-Match"] = client.get(href, headers=headers).headers["ETag"]
    body = FOLLOW_BODIES.get(method)
    if body and "email" in body:
        body = {**body, "email": f"{uuid.uuid4().hex[:12]}@example.com"}
    response = client.request(method, href, headers=extra, json=body)
    status: int = response.status_code  # TestClient types as Any: it is annotated against httpx2
    return status


def user_doc_links(client: TestClient, prefix: str, cast: Cast, who: str, target: str) -> Any:
    user_id = cast.principals[target].user_id
    response = client.get(f"{prefix}/users/{user_id}", headers=cast.headers(who))
    assert response.status_code == 200
    return response.json()["links"]


@pytest.mark.parametrize(
    ("who", "target", "expected"),
    [
        ("admin", "bob", {"self", "update", "patch", "delete", "orders", "collection"}),
        ("manager", "bob", {"self", "orders", "collection"}),
        ("manager", "manager", {"self", "update", "patch", "orders", "collection"}),
        ("alice", "alice", {"self", "update", "patch", "orders"}),
    ],
)
def test_links_depend_on_the_callers_permissions(
    client: TestClient, cast: Cast, who: str, target: str, expected: set[str]
) -> None:
    assert set(user_doc_links(client, "", cast, who, target)) == expected


def test_a_plain_user_is_never_offered_delete(client: TestClient, cast: Cast) -> None:
    links = user_doc_links(client, "", cast, "alice", "alice")
    assert "delete" not in links
    assert all(link["method"] != "DELETE" for link in links.values())


def _as_served(app: FastAPI, root_path: str, mount: bool) -> tuple[TestClient, str]:
    if mount:
        outer = FastAPI()
        outer.mount(root_path, app)
        return TestClient(outer), root_path
    # A proxy strips the prefix and tells the app via root_path; the client still sends the prefix.
    return TestClient(app, root_path=root_path), root_path


@pytest.mark.parametrize(
    ("root_path", "mount"),
    [("", False), ("/api/v1", False), ("/api/v1", True)],
    ids=["bare", "root_path", "mounted"],
)
@pytest.mark.parametrize(
    ("who", "target"), [("admin", "bob"), ("manager", "bob"), ("alice", "alice")]
)
def test_every_advertised_link_can_be_followed(
    make_app: Callable[..., FastAPI],
    cast: Cast,
    root_path: str,
    mount: bool,
    who: str,
    target: str,
) -> None:
    app = make_app()
    client, prefix = _as_served(app, root_path, mount)
    with client:
        headers = cast.headers(who)
        root = client.get(f"{prefix}/", headers=headers)
        assert root.status_code == 200
        documents = [root.json()["links"], user_doc_links(client, prefix, cast, who, target)]
        if "users" in documents[0]:
            documents.append(
                client.get(documents[0]["users"]["href"], headers=headers).json()["links"]
            )
        links = [link for document in documents for link in document.values()]
        assert all(link["href"].startswith(f"{prefix}/") for link in links)
        # Deletions last, so the other links are followed while their target still exists.
        for link in sorted(links, key=lambda link: link["method"] == "DELETE"):
            status = follow(client, link, headers)
            assert status not in (403, 404, 405), (link, status)
            assert status < 400, (link, status)
