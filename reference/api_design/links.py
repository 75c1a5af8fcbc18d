"""Hypermedia links (REST level 3) built from the router and filtered by what the caller may do.

The pattern: every ``href`` comes from ``request.url_for(<route name>, …)``, so it carries the app's
``root_path`` or mount prefix (the guide hard-coded ``"/users/user-123"``, which breaks as soon as
the API lives under ``/api/v1``), and a link is advertised only when
:func:`reference.api_design.policy.may` allows it (the guide offered ``delete`` to everyone). A
client that follows any link it is given, with the link's method, is never refused. Taught in
``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from starlette.requests import Request

from reference.api_design.auth import Principal
from reference.api_design.policy import Action, may
from reference.api_design.schemas import Link, UserOut

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
LinkBuilder = Callable[[UserOut, Principal, Request], dict[str, Link]]

# rel -> (route name, method, action the policy must allow)
USER_LINKS: tuple[tuple[str, str, Method, Action], ...] = (
    ("self", "get_user", "GET", "read"),
    ("update", "replace_user", "PUT", "update"),
    ("patch", "patch_user", "PATCH", "update"),
    ("delete", "delete_user", "DELETE", "delete"),
    ("orders", "list_user_orders", "GET", "read"),
)


def href(request: Request, route: str, **params: Any) -> str:
    """The path of ``route`` as a client must request it (root path and mount prefix included)."""
    return request.url_for(route, **params).path


def link(request: Request, route: str, method: Method, **params: Any) -> Link:
    return Link(href=href(request, route, **params), method=method)


def user_links(user: UserOut, principal: Principal, request: Request) -> dict[str, Link]:
    """The links of one user document: only those the principal may follow."""
    links = {
        rel: link(request, route, method, user_id=user.id)
        for rel, route, method, action in USER_LINKS
        if may(principal, action, user.id)
    }
    if may(principal, "list"):
        links["collection"] = link(request, "list_users", "GET")
    return links


def page_href(
    request: Request, route: str, page: int, limit: int, sort: str | None, **params: Any
) -> str:
    query = f"page={page}&limit={limit}" + (f"&sort={sort}" if sort else "")
    return f"{href(request, route, **params)}?{query}"


def page_links(
    request: Request,
    route: str,
    *,
    page: int,
    limit: int,
    total: int,
    sort: str | None = None,
    **params: Any,
) -> dict[str, Link]:
    """``self``/``first``/``last`` and, where they exist, ``prev``/``next`` of a paged list."""
    last = max(1, -(-total // limit))
    pages = {"self": page, "first": 1, "last": last}
    if page > 1:
        pages["prev"] = min(page - 1, last)
    if page < last:
        pages["next"] = page + 1
    return {
        rel: Link(href=page_href(request, route, number, limit, sort, **params), method="GET")
        for rel, number in pages.items()
    }


def root_links(principal: Principal, request: Request) -> dict[str, Link]:
    """The API root: where a client starts (the only URL it needs to know)."""
    links = {
        "self": link(request, "api_root", "GET"),
        "me": link(request, "get_user", "GET", user_id=principal.user_id),
    }
    if may(principal, "list"):
        links["users"] = link(request, "list_users", "GET")
    if may(principal, "create"):
        links["create_user"] = link(request, "create_user", "POST")
    return links
