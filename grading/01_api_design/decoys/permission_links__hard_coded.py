"""Decoy for 01.4: the guide's HATEOAS links — hard-coded hrefs (no prefix) and every action
offered to every caller.

Caught by test_links_follow_the_callers_permissions.
"""

from __future__ import annotations

from starlette.requests import Request

from guide.api_design.hateoas import user_response
from reference.api_design.auth import Principal
from reference.api_design.schemas import Link, UserOut


def build_links(resource: UserOut, principal: Principal, request: Request) -> dict[str, Link]:
    document = user_response(
        {"id": str(resource.id), "name": resource.name, "email": resource.email}
    )
    return {rel: Link.model_validate(link) for rel, link in document["links"].items()}
