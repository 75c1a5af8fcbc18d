"""Grading for exercise 03.4: the OIDC callback against Keycloak (exercises/03_auth/handle_callback.py).

A scripted browser logs in at the course's Keycloak (realm ``course``); the callback's query is then
handed to your function."""

from __future__ import annotations

import html
import json
import re
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import redis

from reference.auth.oidc import LoginFailed, OidcClient
from reference.setup.connect import CourseRealm

CALLBACK = "http://127.0.0.1:9/callback"


def browser_login(url: str, user: str, password: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    with httpx.Client(timeout=20) as client:

        def send(method: str, target: str, **kwargs: Any) -> httpx.Response:
            header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
            response = client.request(method, target, headers=header, **kwargs)
            for line in response.headers.get_list("set-cookie"):
                name, _, rest = line.partition("=")
                cookies[name.strip()] = rest.split(";", 1)[0]
            return response

        page = send("GET", url)
        form = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text)
        assert form, f"Keycloak showed no login form (HTTP {page.status_code})"
        answer = send(
            "POST", html.unescape(form.group(1)), data={"username": user, "password": password}
        )
    assert answer.status_code == 302, f"Keycloak did not redirect back (HTTP {answer.status_code})"
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


@pytest.fixture
def oidc(keycloak_realm: CourseRealm, redis_client: redis.Redis, redis_prefix: str) -> OidcClient:
    return OidcClient(
        keycloak_realm.issuer,
        keycloak_realm.web_client_id,
        keycloak_realm.web_client_secret,
        CALLBACK,
        redis_client,
        prefix=redis_prefix,
    )


def login(oidc: OidcClient, realm: CourseRealm, user: str = "alice") -> dict[str, str]:
    return browser_login(oidc.begin_login(), user, realm.passwords[user])


def test_a_login_gives_the_iss_sub_identity(
    exercise: ModuleType, oidc: OidcClient, keycloak_realm: CourseRealm
) -> None:
    """Alice's callback: an Identity whose issuer is the realm and whose subject is the ID token's
    ``sub`` (a stable id) — not her email."""
    identity = exercise.handle_callback(oidc, login(oidc, keycloak_realm))
    claims = jwt.decode(identity.tokens["id_token"], options={"verify_signature": False})
    assert identity.issuer == keycloak_realm.issuer
    assert identity.subject == claims["sub"]
    assert identity.subject != identity.email
    assert identity.email == "alice@example.com"


def test_a_forged_or_missing_state_is_refused(
    exercise: ModuleType, oidc: OidcClient, keycloak_realm: CourseRealm
) -> None:
    """A real code with a state we never issued, or with no state: LoginFailed (login CSRF)."""
    callback = login(oidc, keycloak_realm)
    with pytest.raises(LoginFailed):
        exercise.handle_callback(oidc, {**callback, "state": "made-up"})
    without = {k: v for k, v in callback.items() if k != "state"}
    with pytest.raises(LoginFailed):
        exercise.handle_callback(oidc, without)


def test_a_state_is_good_once(
    exercise: ModuleType, oidc: OidcClient, keycloak_realm: CourseRealm, redis_client: redis.Redis
) -> None:
    """The same callback twice: the first logs in, the second is LoginFailed, and no record is
    left behind under that state."""
    callback = login(oidc, keycloak_realm)
    exercise.handle_callback(oidc, callback)
    with pytest.raises(LoginFailed):
        exercise.handle_callback(oidc, callback)
    assert redis_client.exists(f"{oidc.prefix}state:{callback['state']}") == 0


def test_a_provider_error_spends_the_state(
    exercise: ModuleType, oidc: OidcClient, redis_client: redis.Redis
) -> None:
    """``?error=access_denied&state=…``: LoginFailed, and the state cannot be used afterwards."""
    state = parse_qs(urlsplit(oidc.begin_login()).query)["state"][0]
    with pytest.raises(LoginFailed):
        exercise.handle_callback(oidc, {"state": state, "error": "access_denied"})
    assert redis_client.exists(f"{oidc.prefix}state:{state}") == 0


def test_the_stored_nonce_is_the_one_checked(
    exercise: ModuleType, oidc: OidcClient, keycloak_realm: CourseRealm, redis_client: redis.Redis
) -> None:
    """Our stored nonce changed before the callback (as if the ID token came from another login):
    LoginFailed — the nonce to expect is ours, never the token's own."""
    callback = login(oidc, keycloak_realm)
    key = f"{oidc.prefix}state:{callback['state']}"
    record = json.loads(str(redis_client.get(key)))
    redis_client.set(key, json.dumps({**record, "nonce": "another-login"}))
    with pytest.raises(LoginFailed):
        exercise.handle_callback(oidc, callback)


def test_the_code_is_redeemed_with_our_verifier(
    exercise: ModuleType, oidc: OidcClient, keycloak_realm: CourseRealm, redis_client: redis.Redis
) -> None:
    """Our stored PKCE verifier changed: Keycloak refuses the code, LoginFailed."""
    callback = login(oidc, keycloak_realm)
    key = f"{oidc.prefix}state:{callback['state']}"
    record = json.loads(str(redis_client.get(key)))
    redis_client.set(key, json.dumps({**record, "verifier": "x" * 50}))
    with pytest.raises(LoginFailed):
        exercise.handle_callback(oidc, callback)


def test_no_code_is_refused(exercise: ModuleType, oidc: OidcClient) -> None:
    state = parse_qs(urlsplit(oidc.begin_login()).query)["state"][0]
    with pytest.raises(LoginFailed):
        exercise.handle_callback(oidc, {"state": state})
