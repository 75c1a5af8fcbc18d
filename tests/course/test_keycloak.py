"""Keycloak, the course's OpenID Connect provider, answers a real client: discovery, JWKS, a scripted
authorization code + PKCE login, refresh with rotation, logout and client credentials.

The ``keycloak_realm`` fixture starts Keycloak on demand (it is a heavy server: only a run that
collects one of these tests pays for it). The login is what a browser does, scripted with httpx:
Keycloak marks its login cookies ``Secure`` even on plain http, and a cookie jar rightly never sends
a Secure cookie over http, so this client carries them itself (:class:`LoginSession`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from reference.setup.connect import CourseRealm

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never contacted: the test reads the redirect itself


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


class LoginSession:
    """A browser's part of the login: follows the form, keeps Keycloak's cookies (Secure ones too)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        response = self.client.request(method, url, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response


def discovery(realm: CourseRealm) -> dict[str, Any]:
    response = httpx.get(realm.discovery_url, timeout=10)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def authorize(
    realm: CourseRealm,
    user: str,
    password: str,
    *,
    client_id: str,
    challenge: str | None,
    nonce: str,
) -> httpx.Response:
    """Open the authorization endpoint, submit the login form; return Keycloak's final answer."""
    meta = discovery(realm)
    state = secrets.token_urlsafe(16)
    params = {
        "client_id": client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": REDIRECT_URI,
        "state": state,
        "nonce": nonce,
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    with httpx.Client(timeout=20) as client:
        browser = LoginSession(client)
        page = browser.request("GET", meta["authorization_endpoint"], params=params)
        if page.status_code != 200:
            return page
        form = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text)
        assert form, f"no login form in Keycloak's page (HTTP {page.status_code})"
        answer = browser.request(
            "POST",
            html.unescape(form.group(1)),
            data={"username": user, "password": password, "credentialId": ""},
        )
    if answer.status_code == 302:
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert query.get("state") == [state], "the redirect must carry our state back"
    return answer


def code_from(answer: httpx.Response) -> str:
    assert answer.status_code == 302, f"expected a redirect to the client, got {answer.status_code}"
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI), location
    return parse_qs(urlsplit(location).query)["code"][0]


def token_request(
    realm: CourseRealm, data: dict[str, str], auth: tuple[str, str]
) -> httpx.Response:
    return httpx.post(discovery(realm)["token_endpoint"], data=data, auth=auth, timeout=20)


def validate_id_token(realm: CourseRealm, token: str, nonce: str) -> dict[str, Any]:
    """Signature against the realm's JWKS, then issuer, audience, expiry and our nonce."""
    keys = jwt.PyJWKClient(discovery(realm)["jwks_uri"])
    claims: dict[str, Any] = jwt.decode(
        token,
        keys.get_signing_key_from_jwt(token).key,
        algorithms=["RS256"],
        audience=realm.web_client_id,
        issuer=realm.issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
    )
    assert claims["nonce"] == nonce, "a replayed ID token carries someone else's nonce"
    return claims


def web_login(realm: CourseRealm, user: str) -> tuple[dict[str, Any], str]:
    verifier, challenge = pkce_pair()
    nonce = secrets.token_urlsafe(16)
    answer = authorize(
        realm,
        user,
        realm.passwords[user],
        client_id=realm.web_client_id,
        challenge=challenge,
        nonce=nonce,
    )
    tokens = token_request(
        realm,
        {
            "grant_type": "authorization_code",
            "code": code_from(answer),
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        (realm.web_client_id, realm.web_client_secret),
    )
    assert tokens.status_code == 200, tokens.text
    return tokens.json(), nonce


def test_a_test_using_keycloak_gets_a_limit_covering_its_first_start(
    keycloak_realm: CourseRealm, request: pytest.FixtureRequest
) -> None:
    """The first test to ask for Keycloak may pay for a cold start inside its own time limit."""
    from course.testing.fixtures import HEAVY_START_TIMEOUT_S

    marker = request.node.get_closest_marker("timeout")
    assert marker is not None
    assert marker.args == (HEAVY_START_TIMEOUT_S,)


def test_discovery_and_jwks_answer(keycloak_realm: CourseRealm) -> None:
    meta = discovery(keycloak_realm)
    assert meta["issuer"] == keycloak_realm.issuer
    assert "S256" in meta["code_challenge_methods_supported"]
    jwks = httpx.get(meta["jwks_uri"], timeout=10).json()
    assert any(key["kty"] == "RSA" and key.get("use") == "sig" for key in jwks["keys"])


def test_alice_logs_in_with_code_and_pkce_and_the_id_token_validates(
    keycloak_realm: CourseRealm,
) -> None:
    tokens, nonce = web_login(keycloak_realm, "alice")
    claims = validate_id_token(keycloak_realm, tokens["id_token"], nonce)
    assert claims["preferred_username"] == "alice"
    assert claims["exp"] > time.time()
    assert "user" in claims["roles"]
    assert "manager" not in claims["roles"]
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert "course-api" in access["aud"]
    assert access["exp"] - access["iat"] <= 300, "access tokens are short-lived"


def test_roles_are_mapped_into_tokens(keycloak_realm: CourseRealm) -> None:
    tokens, nonce = web_login(keycloak_realm, "bob")
    roles = validate_id_token(keycloak_realm, tokens["id_token"], nonce)["roles"]
    assert {"manager", "user"} <= set(roles)
    assert "admin" not in roles


def test_the_id_token_is_refused_for_another_audience_or_nonce(keycloak_realm: CourseRealm) -> None:
    tokens, nonce = web_login(keycloak_realm, "alice")
    with pytest.raises(AssertionError, match="nonce"):
        validate_id_token(keycloak_realm, tokens["id_token"], "another-nonce")
    other = CourseRealm(**{**keycloak_realm.__dict__, "web_client_id": "course-spa"})
    with pytest.raises(jwt.InvalidAudienceError):
        validate_id_token(other, tokens["id_token"], nonce)


def test_the_web_client_requires_pkce(keycloak_realm: CourseRealm) -> None:
    """Without a code challenge Keycloak sends the browser back with an error, never a login form."""
    answer = authorize(
        keycloak_realm,
        "alice",
        keycloak_realm.passwords["alice"],
        client_id=keycloak_realm.web_client_id,
        challenge=None,
        nonce="n",
    )
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "code_challenge" in query["error_description"][0]


def test_a_wrong_password_gets_no_code(keycloak_realm: CourseRealm) -> None:
    answer = authorize(
        keycloak_realm,
        "alice",
        "not-her-password",
        client_id=keycloak_realm.web_client_id,
        challenge=pkce_pair()[1],
        nonce="n",
    )
    assert answer.status_code == 200
    assert "Invalid username or password" in answer.text


def test_refresh_rotates_and_logout_ends_the_session(keycloak_realm: CourseRealm) -> None:
    client = (keycloak_realm.web_client_id, keycloak_realm.web_client_secret)
    tokens, _ = web_login(keycloak_realm, "alice")
    first = tokens["refresh_token"]
    refreshed = token_request(
        keycloak_realm, {"grant_type": "refresh_token", "refresh_token": first}, client
    )
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()["refresh_token"]
    assert second != first
    reused = token_request(
        keycloak_realm, {"grant_type": "refresh_token", "refresh_token": first}, client
    )
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"

    # Rotation revoked the reuse's whole session? Log in again and end that session explicitly.
    tokens, _ = web_login(keycloak_realm, "alice")
    logout = httpx.post(
        discovery(keycloak_realm)["end_session_endpoint"],
        data={"refresh_token": tokens["refresh_token"]},
        auth=client,
        timeout=20,
    )
    assert logout.status_code == 204, logout.text
    after = token_request(
        keycloak_realm,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        client,
    )
    assert after.status_code == 400
    assert after.json()["error"] == "invalid_grant"


def test_the_service_client_gets_a_token_with_client_credentials(
    keycloak_realm: CourseRealm,
) -> None:
    answer = token_request(
        keycloak_realm,
        {"grant_type": "client_credentials"},
        (keycloak_realm.service_client_id, keycloak_realm.service_client_secret),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "refresh_token" not in body
    assert "id_token" not in body
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["azp"] == "course-service"
    assert "user" in claims["roles"]
    wrong = token_request(
        keycloak_realm,
        {"grant_type": "client_credentials"},
        (keycloak_realm.service_client_id, "not-the-secret"),
    )
    assert wrong.status_code == 401
