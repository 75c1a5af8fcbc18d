"""Taught in notebooks/01_api_design_rest.ipynb §4.

Exercise 01.4 — a permission-aware link builder for a user document (REST level 3).

``build_links(resource, principal, request)`` returns the links of one user document, as
``{rel: Link(href=…, method=…)}``, with EXACTLY these relations — each only when the caller may follow
it (ask :func:`reference.api_design.policy.may` for each one; do not copy its rules into role checks —
the grader swaps in another policy and expects your links to follow it):

=======  ======  ====================  ================
rel      method  route name            policy action
=======  ======  ====================  ================
self     GET     ``get_user``          ``read``
update   PUT     ``replace_user``      ``update``
patch    PATCH   ``patch_user``        ``update``
delete   DELETE  ``delete_user``       ``delete``
orders   GET     ``list_user_orders``  ``read``
=======  ======  ====================  ================

Every route takes the path parameter ``user_id``. An ``href`` is a path the client can request as
is — including the prefix when the API is served under ``/api/v1`` (a ``root_path`` or a mount).
The grader plugs your function into the reference app (``create_app(…, link_builder=build_links)``)
and follows every link you advertise.
"""

from __future__ import annotations

from starlette.requests import Request

from reference.api_design.auth import Principal
from reference.api_design.policy import may  # noqa: F401, RUF100 - for your solution
from reference.api_design.schemas import Link, UserOut


def build_links(resource: UserOut, principal: Principal, request: Request) -> dict[str, Link]:
    """The links ``principal`` may follow from ``resource``, with router-built hrefs."""
    # TODO: for each relation in the table that the policy allows, build the href from the
    # router (so it carries any prefix) and return the mapping.
    raise NotImplementedError
