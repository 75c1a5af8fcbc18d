"""Port of the guide's "Level 3 HATEOAS" response: hrefs hard-coded, every action offered to all.

Guide (TypeScript)::

    links: {
      self:   { href: "/users/user-123", method: "GET" },
      update: { href: "/users/user-123", method: "PUT" },
      delete: { href: "/users/user-123", method: "DELETE" },
      orders: { href: "/users/user-123/orders", method: "GET" }
    }

Defects kept: the hrefs ignore any mount prefix / ``root_path`` (behind ``/api/v1`` they 404),
``update``/``delete`` are advertised whatever the caller may do, and ``orders`` points at a route
the guide's router never defines.
"""

from __future__ import annotations

from typing import Any


def user_response(user: dict[str, Any]) -> dict[str, Any]:
    user_id = user["id"]
    return {
        "data": {"id": user_id, "name": user["name"], "email": user["email"]},
        "links": {
            "self": {"href": f"/users/{user_id}", "method": "GET"},
            "update": {"href": f"/users/{user_id}", "method": "PUT"},
            "delete": {"href": f"/users/{user_id}", "method": "DELETE"},
            "orders": {"href": f"/users/{user_id}/orders", "method": "GET"},
        },
    }
