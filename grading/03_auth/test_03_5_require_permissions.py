"""Grading for exercise 03.5: require_permissions, 401 vs 403 (exercises/03_auth/require_permissions.py)."""

import uuid
from types import ModuleType
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from reference.api_design.auth import Principal, StaticTokens
from reference.api_design.problems import install_problem_handlers
from reference.auth.rbac import Permission
from reference.databases.models import UserRole

# No ``from __future__ import annotations``: the routes below are built inside a fixture and their
# ``Annotated[..., Depends(local)]`` must be evaluated where the local is in scope.

PEOPLE = {role: Principal(uuid.UUID(int=index + 1), role) for index, role in enumerate(UserRole)}


def bearer(role: UserRole) -> dict[str, str]:
    return {"Authorization": f"Bearer {role.value}-token"}


class Api:
    def __init__(self, exercise: ModuleType) -> None:
        self.calls: list[str] = []
        app = FastAPI()
        install_problem_handlers(app)
        app.state.authenticator = StaticTokens({f"{r.value}-token": p for r, p in PEOPLE.items()})
        rp = exercise.require_permissions
        read = rp(Permission.USER_READ)
        delete = rp(Permission.USER_DELETE)
        either = rp(Permission.USER_DELETE, Permission.USER_UPDATE, mode="any")
        both = rp(Permission.USER_READ, Permission.USER_UPDATE, mode="all")

        @app.get("/users")
        async def list_users(who: Annotated[Principal, Depends(read)]) -> dict[str, str]:
            self.calls.append("list")
            return {"caller": str(who.user_id)}

        @app.delete("/users/1")
        async def delete_user(who: Annotated[Principal, Depends(delete)]) -> dict[str, str]:
            self.calls.append("delete")
            return {"caller": str(who.user_id)}

        @app.get("/either")
        async def either_route(who: Annotated[Principal, Depends(either)]) -> dict[str, str]:
            self.calls.append("either")
            return {"caller": str(who.user_id)}

        @app.get("/both")
        async def both_route(who: Annotated[Principal, Depends(both)]) -> dict[str, str]:
            self.calls.append("both")
            return {"caller": str(who.user_id)}

        self.client = TestClient(app)


@pytest.fixture
def api(exercise: ModuleType) -> Api:
    return Api(exercise)


def test_no_token_is_401_with_a_challenge(api: Api) -> None:
    """No Authorization header: 401 (not the guide's 403) with ``WWW-Authenticate: Bearer``;
    the handler never runs."""
    response = api.client.get("/users")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert api.calls == []


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"Authorization": "Bearer nobody-token"}, "invalid_token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "invalid_request"),
        ({"Authorization": "Bearerabc"}, "invalid_request"),
    ],
)
def test_bad_credentials_are_401_naming_the_error(
    api: Api, headers: dict[str, str], error: str
) -> None:
    """A token the authenticator refuses: ``invalid_token``; a header that is not one bearer
    token: ``invalid_request`` — both 401 with the code in the challenge, no handler call."""
    response = api.client.get("/users", headers=headers)
    assert response.status_code == 401
    assert f'error="{error}"' in response.headers["www-authenticate"]
    assert api.calls == []


def test_authenticated_without_the_permission_is_403(api: Api) -> None:
    """A plain user reading every user, or a manager deleting one: 403, no handler call."""
    assert api.client.get("/users", headers=bearer(UserRole.USER)).status_code == 403
    assert api.client.delete("/users/1", headers=bearer(UserRole.MANAGER)).status_code == 403
    assert api.calls == []


def test_manager_differs_from_user(api: Api) -> None:
    """MANAGER may read every user, USER may not (the guide gave both the same permissions)."""
    assert api.client.get("/users", headers=bearer(UserRole.MANAGER)).status_code == 200
    assert api.client.get("/users", headers=bearer(UserRole.USER)).status_code == 403


def test_admin_may_delete_and_the_handler_gets_the_caller(api: Api) -> None:
    """The dependency returns the Principal: the handler sees who called."""
    response = api.client.delete("/users/1", headers=bearer(UserRole.ADMIN))
    assert response.status_code == 200
    assert response.json() == {"caller": str(PEOPLE[UserRole.ADMIN].user_id)}
    assert api.calls == ["delete"]


def test_mode_any_and_mode_all(api: Api) -> None:
    """mode="any": a manager (update, no delete) passes; a user passes neither.
    mode="all": read AND update — a manager has both, a user neither."""
    assert api.client.get("/either", headers=bearer(UserRole.MANAGER)).status_code == 200
    assert api.client.get("/either", headers=bearer(UserRole.USER)).status_code == 403
    assert api.client.get("/both", headers=bearer(UserRole.MANAGER)).status_code == 200
    assert api.client.get("/both", headers=bearer(UserRole.USER)).status_code == 403


def test_two_authorization_headers_are_refused(api: Api) -> None:
    """An admin's token next to a user's: ambiguous, 401 — never the first, never the best."""
    response = api.client.get(
        "/users",
        headers=[("Authorization", "Bearer admin-token"), ("Authorization", "Bearer user-token")],
    )
    assert response.status_code == 401
    assert api.calls == []


def test_declaring_a_route_wrongly_fails_at_once(exercise: ModuleType) -> None:
    """No permission, or a mode that is neither 'all' nor 'any': ValueError when declared."""
    with pytest.raises(ValueError):  # noqa: PT011 - the learner's message is theirs
        exercise.require_permissions()
    with pytest.raises(ValueError):  # noqa: PT011
        exercise.require_permissions(Permission.USER_READ, mode="some")
