"""Every defect of guide-defects §3, shown on the faithful port (``guide/auth``) and absent in the
reference (``reference/auth``). Each pair of tests runs the same scenario against both.

No ``from __future__ import annotations``: the route functions defined inside tests need their
``Annotated[..., Depends(local)]`` evaluated where the local is in scope."""

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import jwt
import pytest
import redis
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from guide.auth import abac as guide_abac
from guide.auth import rbac as guide_rbac
from guide.auth.jwt_service import JWTService, UnauthorizedError, auth_middleware
from guide.auth.oauth import GoogleOAuth
from reference.api_design.auth import BearerAuth, Principal
from reference.api_design.problems import install_problem_handlers
from reference.auth import abac
from reference.auth.authenticator import JwtAuthenticator
from reference.auth.keys import KeyRing, generate_key
from reference.auth.rbac import Permission, require_permissions
from reference.auth.refresh import RefreshRefused, SessionStore
from reference.auth.tokens import InvalidToken, TokenIssuer, TokenVerifier

SECRET = "s" * 40
Users = dict[str, dict[str, Any]]


@pytest.fixture
def users(alice: str) -> Users:
    return {alice: {"id": alice, "email": "alice@example.com", "status": "active"}}


@pytest.fixture
def guide(redis_client: redis.Redis, redis_prefix: str, users: Users) -> JWTService:
    """The guide's service with equal access and refresh secrets (a common deployment)."""
    return JWTService(
        redis_client,
        access_secret=SECRET,
        refresh_secret=SECRET,
        find_user=users.get,
        key_prefix=redis_prefix,
    )


def _payload(user: str) -> dict[str, str]:
    return {"userId": user, "email": "alice@example.com", "role": "user"}


# --- 3.1 JWTService --------------------------------------------------------------------------


def test_guide_second_device_logs_out_the_first(guide: JWTService, alice: str) -> None:
    phone = guide.generate_token_pair(_payload(alice))
    guide.generate_token_pair(_payload(alice))  # the laptop logs in
    with pytest.raises(UnauthorizedError):
        guide.refresh_tokens(phone["refreshToken"])


def test_reference_second_device_keeps_the_first(sessions: SessionStore, alice: str) -> None:
    phone = sessions.login(alice)
    sessions.login(alice)
    # The guide's single key refuses the first device here; a family per login refreshes it.
    refreshed = sessions.refresh(phone.refresh_token)
    assert refreshed.refresh_token != phone.refresh_token


def test_guide_replay_revokes_nothing(guide: JWTService, alice: str) -> None:
    stolen = guide.generate_token_pair(_payload(alice))["refreshToken"]
    time.sleep(1.01)  # jsonwebtoken's iat has one-second resolution: make the new token differ
    rotated = guide.refresh_tokens(stolen)
    with pytest.raises(UnauthorizedError):
        guide.refresh_tokens(stolen)
    guide.refresh_tokens(rotated["refreshToken"])  # the thief's replay changed nothing


def test_reference_replay_revokes_the_family(sessions: SessionStore, alice: str) -> None:
    stolen = sessions.login(alice).refresh_token
    rotated = sessions.refresh(stolen)
    with pytest.raises(RefreshRefused):
        sessions.refresh(stolen)
    with pytest.raises(RefreshRefused, match="revoked"):
        sessions.refresh(rotated.refresh_token)


def _race(refresh: Callable[[str], object], token: str, threads: int = 10) -> int:
    barrier = threading.Barrier(threads)
    wins: list[object] = []

    def attempt() -> None:
        barrier.wait()
        with contextlib.suppress(UnauthorizedError, RefreshRefused):
            wins.append(refresh(token))

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(wins)


def test_guide_concurrent_refreshes_all_succeed(
    redis_client: redis.Redis, redis_prefix: str, users: Users, alice: str
) -> None:
    """Every thread GETs and compares before any SETs: ``findById`` (between them) waits until all
    ten have compared — the interleaving a busy server produces by chance, made certain."""
    compared = threading.Barrier(10, timeout=10)

    def find_user(user_id: str) -> dict[str, Any] | None:
        compared.wait()
        return users.get(user_id)

    guide = JWTService(
        redis_client,
        access_secret=SECRET,
        refresh_secret=SECRET,
        find_user=find_user,
        key_prefix=redis_prefix,
    )
    token = guide.generate_token_pair(_payload(alice))["refreshToken"]
    assert _race(guide.refresh_tokens, token) == 10


def test_reference_concurrent_refreshes_one_wins(sessions: SessionStore, alice: str) -> None:
    assert _race(sessions.refresh, sessions.login(alice).refresh_token) == 1


def test_guide_refresh_token_is_an_access_token(guide: JWTService, alice: str) -> None:
    refresh = guide.generate_token_pair(_payload(alice))["refreshToken"]
    assert guide.verify_access_token(refresh)["userId"] == alice


def test_reference_refresh_token_is_not_an_access_token(
    sessions: SessionStore, verifier: TokenVerifier, alice: str
) -> None:
    with pytest.raises(InvalidToken, match="typ"):
        verifier.verify(sessions.login(alice).refresh_token)


def test_guide_garbage_refresh_token_is_an_uncaught_error(guide: JWTService) -> None:
    with pytest.raises(jwt.PyJWTError):  # not UnauthorizedError: the error handler answers 500
        guide.refresh_tokens("garbage")


def test_reference_garbage_refresh_token_is_refused(sessions: SessionStore) -> None:
    with pytest.raises(RefreshRefused):
        sessions.refresh("garbage")


def test_guide_deleted_user_is_a_type_error(guide: JWTService, users: Users, alice: str) -> None:
    token = guide.generate_token_pair(_payload(alice))["refreshToken"]
    del users[alice]
    with pytest.raises(TypeError):
        guide.refresh_tokens(token)


def test_guide_suspended_user_keeps_refreshing_with_no_role(
    guide: JWTService, users: Users, alice: str
) -> None:
    token = guide.generate_token_pair(_payload(alice))["refreshToken"]
    users[alice]["status"] = "suspended"
    refreshed = guide.refresh_tokens(token)
    assert guide.verify_access_token(refreshed["accessToken"])["role"] is None


def test_reference_suspended_user_cannot_refresh(sessions: SessionStore, alice: str) -> None:
    pair = sessions.login(alice)
    sessions.suspend(alice)
    with pytest.raises(RefreshRefused):
        sessions.refresh(pair.refresh_token)


# --- 3.2 authMiddleware ----------------------------------------------------------------------


def _guide_app(service: JWTService) -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    def me(user: Annotated[dict[str, Any], Depends(auth_middleware(service))]) -> dict[str, Any]:
        return user

    return app


def _reference_app(authenticator: JwtAuthenticator) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    bearer = BearerAuth(authenticator)

    @app.get("/me")
    async def me(principal: Annotated[Principal, Depends(bearer)]) -> dict[str, str]:
        return {"id": str(principal.user_id)}

    return app


def test_guide_middleware_accepts_any_scheme(guide: JWTService, alice: str) -> None:
    token = guide.generate_token_pair(_payload(alice))["accessToken"]
    client = TestClient(_guide_app(guide))
    assert client.get("/me", headers={"Authorization": f"Digest {token}"}).status_code == 200
    refused = client.get("/me", headers={"Authorization": "Bearerabc"})
    assert refused.status_code == 401
    assert "www-authenticate" not in refused.headers


def test_reference_middleware_parses_rfc6750(
    sessions: SessionStore, authenticator: JwtAuthenticator, alice: str
) -> None:
    token = sessions.login(alice).access_token
    client = TestClient(_reference_app(authenticator))
    for header in (f"Digest {token}", "Basic x", "Bearerabc", f"Bearer {token} {token}"):
        refused = client.get("/me", headers={"Authorization": header})
        assert refused.status_code == 401, header
        assert refused.headers["www-authenticate"].startswith("Bearer "), header
    anonymous = client.get("/me")
    assert anonymous.status_code == 401
    assert "Bearer" in anonymous.headers["www-authenticate"]
    assert client.get("/me", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_guide_middleware_echoes_the_verification_error(guide: JWTService, alice: str) -> None:
    """``res.status(401).json({ error: error.message })``: the verifier's message goes to the
    client, so an expired token answers "Token expired" where a forged one answers "Invalid
    token" — telling whoever holds a stolen old token that its signature is genuine."""
    now = int(time.time())
    expired = jwt.encode({**_payload(alice), "iat": now - 3600, "exp": now - 60}, SECRET)
    forged = jwt.encode({**_payload(alice), "exp": now + 600}, "a-guessed-secret-" * 3)
    client = TestClient(_guide_app(guide))
    answers = {
        name: client.get("/me", headers={"Authorization": f"Bearer {token}"})
        for name, token in (("expired", expired), ("forged", forged))
    }
    assert answers["expired"].json() == {"detail": {"error": "Token expired"}}
    assert answers["forged"].json() == {"detail": {"error": "Invalid token"}}


def test_reference_refusals_are_one_problem_without_internals(
    issuer: TokenIssuer,
    verifier: TokenVerifier,
    sessions: SessionStore,
    authenticator: JwtAuthenticator,
    alice: str,
) -> None:
    """Expired, forged and garbage tokens get one and the same ``application/problem+json`` 401
    (RFC 6750 ``invalid_token``); the verifier's reasons (``InvalidToken.reason``) are for logs,
    and none of them reaches the client."""
    now = time.time()
    expired = replace(issuer, clock=lambda: now - 3600).access_token(alice, ["user"])
    stranger = KeyRing(generate_key("EdDSA", kid="k1"))
    forged = replace(issuer, keys=stranger).access_token(alice, ["admin"])
    reasons = []
    for token in (expired, forged):
        with pytest.raises(InvalidToken) as refused:
            verifier.verify(token)
        reasons.append(refused.value.reason)
    assert reasons[0] != reasons[1]  # the server knows why ...
    client = TestClient(_reference_app(authenticator))
    answers = [
        client.get("/me", headers={"Authorization": f"Bearer {token}"})
        for token in (expired, forged, "garbage")
    ]
    assert (
        client.get(
            "/me", headers={"Authorization": f"Bearer {sessions.login(alice).access_token}"}
        ).status_code
        == 200
    )
    for answer in answers:  # ... the client is told only that the token is not valid
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json() == answers[0].json()
        assert answer.headers["www-authenticate"] == answers[0].headers["www-authenticate"]
        assert not any(reason.lower() in answer.text.lower() for reason in reasons)
        assert "Traceback" not in answer.text


# --- 3.4 RBAC --------------------------------------------------------------------------------


def _guide_rbac_app(service: JWTService) -> FastAPI:
    app = FastAPI()

    def user_if_any(request: Request) -> None:
        header = request.headers.get("authorization")
        if header:
            request.state.user = service.verify_access_token(header[7:])

    @app.get(
        "/users",
        dependencies=[
            Depends(user_if_any),
            Depends(guide_rbac.require_permission(guide_rbac.Permission.USER_READ)),
        ],
    )
    def list_users() -> list[str]:
        return []

    return app


def _reference_rbac_app(authenticator: JwtAuthenticator) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.authenticator = authenticator

    @app.get("/users", dependencies=[Depends(require_permissions(Permission.USER_READ))])
    def list_users() -> list[str]:
        return []

    return app


def test_guide_rbac_anonymous_is_403_and_manager_equals_user(guide: JWTService) -> None:
    client = TestClient(_guide_rbac_app(guide))
    assert client.get("/users").status_code == 403
    user = jwt.encode({"userId": "u", "role": "user"}, SECRET, algorithm="HS256")
    # USER_READ lets a plain user read every user; MANAGER has exactly the same permissions.
    assert client.get("/users", headers={"Authorization": f"Bearer {user}"}).status_code == 200
    roles = guide_rbac.ROLE_PERMISSIONS
    assert roles[guide_rbac.Role.MANAGER] == roles[guide_rbac.Role.USER]


def test_reference_rbac_anonymous_401_user_403_manager_200(
    sessions: SessionStore,
    authenticator: JwtAuthenticator,
    roles: dict[str, list[str]],
    alice: str,
) -> None:
    client = TestClient(_reference_rbac_app(authenticator))
    anonymous = client.get("/users")
    assert anonymous.status_code == 401
    assert "Bearer" in anonymous.headers["www-authenticate"]
    user = sessions.login(alice).access_token
    assert client.get("/users", headers={"Authorization": f"Bearer {user}"}).status_code == 403
    roles[alice] = ["manager"]
    manager = sessions.login(alice).access_token
    assert client.get("/users", headers={"Authorization": f"Bearer {manager}"}).status_code == 200


def test_guide_role_is_stale_for_the_token_lifetime(
    guide: JWTService, users: Users, alice: str
) -> None:
    """The guide has no token version: a token minted as admin stays admin after a demotion."""
    admin_token = guide.generate_token_pair({**_payload(alice), "role": "admin"})["accessToken"]
    users[alice]["role"] = "user"  # demoted: nothing the guide's verify looks at
    assert guide.verify_access_token(admin_token)["role"] == "admin"


def test_reference_demotion_refuses_the_old_token(
    sessions: SessionStore, authenticator: JwtAuthenticator, bob: str
) -> None:
    token = sessions.login(bob).access_token
    sessions.bump_version(bob)
    assert authenticator(token) is None


# --- 3.5 ABAC --------------------------------------------------------------------------------

KST = ZoneInfo("Asia/Seoul")
AT_1000_KST = datetime(2026, 3, 2, 10, 0, tzinfo=KST)


@pytest.fixture
def server_zone() -> Iterator[Callable[[str], None]]:
    """Switch the process's local zone (what ``getHours()`` reads), restored afterwards."""
    before = os.environ.get("TZ")

    def switch(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield switch
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_guide_abac_decision_depends_on_the_server_zone(
    server_zone: Callable[[str], None],
) -> None:
    ctx = {
        "user": {"id": "u1", "role": "user"},
        "resource": {"type": "doc", "ownerId": "u1"},
        "action": "update",
        "environment": {"time": AT_1000_KST, "ip": "203.0.113.9"},
    }
    decisions = []
    for zone in ("UTC", "Asia/Seoul"):
        server_zone(zone)
        decisions.append(guide_abac.ABACEngine().evaluate(ctx)["allowed"])
    assert decisions == [False, True]  # 01:00 on a UTC server, 10:00 on a Seoul one


def test_reference_abac_same_decision_in_every_server_zone(
    server_zone: Callable[[str], None],
) -> None:
    ctx = abac.Context(abac.Subject("u1", "user"), abac.Resource("doc", "u1"), "update")
    decisions = []
    for zone in ("UTC", "Asia/Seoul", "America/Los_Angeles"):
        server_zone(zone)
        decisions.append(abac.evaluate(ctx, lambda: AT_1000_KST.astimezone(UTC)).allowed)
    assert decisions == [True, True, True]


def test_guide_abac_ownerless_resource_is_anyones(server_zone: Callable[[str], None]) -> None:
    server_zone("Asia/Seoul")
    # req.user from authMiddleware has userId, not id: both sides are undefined.
    ctx = {
        "user": {"userId": "u1", "role": "user"},
        "resource": {"type": "doc"},
        "action": "update",
        "environment": {"time": AT_1000_KST, "ip": "203.0.113.9"},
    }
    assert guide_abac.ABACEngine().evaluate(ctx)["allowed"] is True


def test_reference_abac_ownerless_resource_is_denied() -> None:
    ctx = abac.Context(abac.Subject("u1", "user"), abac.Resource("doc", None), "update")
    assert abac.evaluate(ctx, lambda: AT_1000_KST).allowed is False


# --- 3.3 OAuth (the reference side is the OIDC login against Keycloak) ----------------------


def test_guide_auth_url_has_no_openid_nonce_or_pkce() -> None:
    url = GoogleOAuth("cid", "secret", "http://localhost/cb").get_auth_url("state123")
    assert "openid" not in url
    assert "nonce=" not in url
    assert "code_challenge" not in url
    assert "access_type=offline" in url
    assert "prompt=consent" in url
