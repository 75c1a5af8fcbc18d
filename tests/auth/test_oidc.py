"""OIDC login against the course's Keycloak: authorization code + PKCE S256 through the login app,
state single-use (bad or replayed → 400), nonce and audience checked, identity keyed on iss+sub,
unverified email never linked; Keycloak access tokens accepted by the JwtAuthenticator beside the
course's own; client credentials; the guide's auth URL beside ours.

The browser is scripted with httpx (Keycloak's login form; its cookies are marked Secure even on
http, so they are carried by hand)."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import redis
from fastapi.testclient import TestClient

from guide.auth.oauth import GoogleOAuth
from reference.auth.authenticator import JwtAuthenticator
from reference.auth.keys import KeyRing, generate_key
from reference.auth.oidc import (
    AccountDirectory,
    Identity,
    LoginFailed,
    OidcClient,
    issuer_verifier,
    login_app,
    provider_verifier,
)
from reference.auth.tokens import InvalidToken, TokenIssuer, TokenVerifier, ring_source
from reference.databases.models import UserRole
from reference.setup.connect import CourseRealm

CALLBACK = "http://127.0.0.1:9/callback"  # never contacted: the test carries the redirect


def browser_login(authorization_url: str, user: str, password: str) -> dict[str, str]:
    """Open the authorization URL, submit Keycloak's login form; the callback's query."""
    cookies: dict[str, str] = {}

    def send(method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        response = client.request(method, url, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    with httpx.Client(timeout=20) as client:
        page = send("GET", authorization_url)
        form = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text)
        assert form, f"no login form (HTTP {page.status_code})"
        answer = send(
            "POST", html.unescape(form.group(1)), data={"username": user, "password": password}
        )
    assert answer.status_code == 302, answer.text[:300]
    location = answer.headers["location"]
    assert location.startswith(CALLBACK), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


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


@pytest.fixture
def app(oidc: OidcClient, redis_client: redis.Redis, redis_prefix: str) -> TestClient:
    return TestClient(login_app(oidc, AccountDirectory(redis_client, redis_prefix + "acct:")))


def start(app: TestClient) -> str:
    response = app.get("/login", follow_redirects=False)
    assert response.status_code == 302
    return str(response.headers["location"])


def test_login_sends_pkce_s256_nonce_state_and_openid(app: TestClient) -> None:
    query = parse_qs(urlsplit(start(app)).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["nonce"][0]
    assert query["state"][0]
    assert "openid" in query["scope"][0].split()


def test_guide_auth_url_lacks_what_ours_has(app: TestClient) -> None:
    guide = GoogleOAuth("course-web", "s", CALLBACK).get_auth_url("fixed-state")
    ours = start(app)
    for parameter in ("code_challenge=", "nonce=", "openid"):
        assert parameter not in guide
        assert parameter in ours


def test_alice_logs_in(app: TestClient, keycloak_realm: CourseRealm) -> None:
    callback = browser_login(start(app), "alice", keycloak_realm.passwords["alice"])
    answer = app.get("/callback", params=callback)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["issuer"] == keycloak_realm.issuer
    assert "user" in body["roles"]
    assert "manager" not in body["roles"]
    # The same person logging in again lands in the same account.
    again = app.get(
        "/callback", params=browser_login(start(app), "alice", keycloak_realm.passwords["alice"])
    )
    assert again.json()["account"] == body["account"]


def test_bad_and_replayed_state_are_400(app: TestClient, keycloak_realm: CourseRealm) -> None:
    callback = browser_login(start(app), "alice", keycloak_realm.passwords["alice"])
    forged = app.get("/callback", params={**callback, "state": "made-up"})
    assert forged.status_code == 400
    assert forged.headers["content-type"].startswith("application/problem+json")
    assert app.get("/callback", params=callback).status_code == 200
    assert app.get("/callback", params=callback).status_code == 400  # state used once
    assert app.get("/callback", params={"code": "x"}).status_code == 400
    assert app.get("/callback", params={"state": "s", "error": "access_denied"}).status_code == 400


def test_nonce_and_audience_are_checked(oidc: OidcClient, keycloak_realm: CourseRealm) -> None:
    callback = browser_login(oidc.begin_login(), "alice", keycloak_realm.passwords["alice"])
    identity = oidc.handle_callback(callback)
    id_token = str(identity.tokens["id_token"])
    with pytest.raises(LoginFailed, match="nonce"):
        oidc.validate_id_token(id_token, "another-login's-nonce")
    spa = OidcClient(
        keycloak_realm.issuer,
        keycloak_realm.spa_client_id,
        "",
        CALLBACK,
        oidc.store,
        prefix=oidc.prefix,
    )
    with pytest.raises(LoginFailed, match="InvalidAudience"):
        spa.validate_id_token(id_token, "irrelevant")
    with pytest.raises(LoginFailed):
        oidc.validate_id_token(id_token[:-6] + "AAAAAA", "irrelevant")


def test_code_cannot_be_redeemed_without_our_verifier(
    oidc: OidcClient, keycloak_realm: CourseRealm, redis_client: redis.Redis
) -> None:
    """A stolen code is useless to someone without the PKCE verifier stored with the state."""
    callback = browser_login(oidc.begin_login(), "alice", keycloak_realm.passwords["alice"])
    key = f"{oidc.prefix}state:{callback['state']}"
    record = redis_client.get(key)
    assert record is not None
    redis_client.set(key, str(record).replace('"verifier": "', '"verifier": "x'))
    with pytest.raises(LoginFailed, match="code exchange"):
        oidc.handle_callback(callback)


def _identity(email: str, verified: bool, sub: str = "s1") -> Identity:
    return Identity("https://idp.example", sub, email, verified, (), {})


def test_identity_keyed_on_issuer_and_subject(redis_client: redis.Redis, redis_prefix: str) -> None:
    accounts = AccountDirectory(redis_client, redis_prefix)
    first = accounts.sign_in(_identity("a@example.com", True))
    # Same person, email changed at the provider: still the same account.
    assert accounts.sign_in(_identity("new@example.com", True)) == first
    # Same sub at another issuer is another person.
    other = Identity("https://other.example", "s1", None, False, (), {})
    assert accounts.sign_in(other) != first


def test_unverified_email_never_links(redis_client: redis.Redis, redis_prefix: str) -> None:
    accounts = AccountDirectory(redis_client, redis_prefix)
    victim = accounts.create("victim@example.com")
    assert accounts.sign_in(_identity("victim@example.com", False, "attacker")) != victim
    assert accounts.sign_in(_identity("victim@example.com", True, "victim-at-idp")) == victim


def test_keycloak_access_tokens_pass_the_authenticator(
    oidc: OidcClient, keycloak_realm: CourseRealm
) -> None:
    authenticator = JwtAuthenticator([provider_verifier(oidc, "course-api")])
    callback = browser_login(oidc.begin_login(), "bob", keycloak_realm.passwords["bob"])
    identity = oidc.handle_callback(callback)
    principal = authenticator(str(identity.tokens["access_token"]))
    assert principal is not None
    assert principal.role is UserRole.MANAGER
    # The ID token is not an access token (typ claim "ID"), nor is the refresh token.
    assert authenticator(str(identity.tokens["id_token"])) is None
    assert authenticator(str(identity.tokens["refresh_token"])) is None
    # An API that is not course-api refuses the same token.
    assert (
        JwtAuthenticator([provider_verifier(oidc, "another-api")])(
            str(identity.tokens["access_token"])
        )
        is None
    )


def test_client_credentials(keycloak_realm: CourseRealm, redis_client: redis.Redis) -> None:
    service = OidcClient(
        keycloak_realm.issuer,
        keycloak_realm.service_client_id,
        keycloak_realm.service_client_secret,
        CALLBACK,
        redis_client,
    )
    token = service.client_credentials()
    assert token["token_type"].lower() == "bearer"
    principal = JwtAuthenticator([provider_verifier(service, "course-api")])(token["access_token"])
    assert principal is not None
    assert principal.role is UserRole.USER


def test_one_authenticator_for_keycloak_and_the_course_issuer(
    oidc: OidcClient, keycloak_realm: CourseRealm
) -> None:
    """Configured with both issuers, the authenticator accepts each one's access tokens and routes
    by ``iss``: a course token never meets Keycloak's keys, nor the reverse."""
    ring = KeyRing(generate_key("EdDSA", kid="course-1"))
    course = TokenIssuer(ring, "https://auth.course.test", "course-api")
    both = JwtAuthenticator(
        [
            provider_verifier(oidc, "course-api"),
            TokenVerifier(ring_source(ring), course.issuer, "course-api"),
        ]
    )
    bob = oidc.handle_callback(
        browser_login(oidc.begin_login(), "bob", keycloak_realm.passwords["bob"])
    )
    from_keycloak = both(str(bob.tokens["access_token"]))
    from_course = both(course.access_token("00000000-0000-4000-8000-000000000001", ["admin"]))
    assert from_keycloak is not None
    assert from_keycloak.role is UserRole.MANAGER
    assert from_course is not None
    assert from_course.role is UserRole.ADMIN
    # A course-signed token claiming Keycloak's issuer is checked against Keycloak's JWKS: refused.
    impostor = TokenIssuer(ring, keycloak_realm.issuer, "course-api")
    assert both(impostor.access_token("00000000-0000-4000-8000-000000000001", ["admin"])) is None


def test_an_api_verifies_keycloak_tokens_from_discovery_alone(
    oidc: OidcClient, keycloak_realm: CourseRealm
) -> None:
    """issuer_verifier needs no client secret (what the gRPC server's main uses): Bob's access
    token verifies, for course-api only."""
    bob = oidc.handle_callback(
        browser_login(oidc.begin_login(), "bob", keycloak_realm.passwords["bob"])
    )
    token = str(bob.tokens["access_token"])
    assert issuer_verifier(keycloak_realm.issuer, "course-api").verify(token)["azp"] == "course-web"
    with pytest.raises(InvalidToken):
        issuer_verifier(keycloak_realm.issuer, "billing-api").verify(token)


# --- guide-defects 3.3: getUserInfo and the offline grant, live against Keycloak ---------------


def test_guide_user_info_accepts_another_clients_token(
    oidc: OidcClient, keycloak_realm: CourseRealm
) -> None:
    """The guide as the SPA client takes whatever access token it is handed to userinfo: alice's
    token minted for course-web logs her in to course-spa (token substitution); the reference, as
    the SPA, refuses that login's ID token even with its right nonce (``aud``/``azp`` are not ours)."""
    web = oidc.handle_callback(
        browser_login(oidc.begin_login(), "alice", keycloak_realm.passwords["alice"])
    )
    access_token, id_token = str(web.tokens["access_token"]), str(web.tokens["id_token"])
    assert jwt.decode(access_token, options={"verify_signature": False})["azp"] == "course-web"
    guide = GoogleOAuth(
        keycloak_realm.spa_client_id,
        "",
        CALLBACK,
        userinfo_url=oidc.metadata["userinfo_endpoint"],
    )
    user = guide.get_user_info(access_token)
    assert (user["id"], user["email"]) == (web.subject, "alice@example.com")
    spa = OidcClient(
        keycloak_realm.issuer,
        keycloak_realm.spa_client_id,
        "",
        CALLBACK,
        oidc.store,
        prefix=oidc.prefix,
    )
    nonce = str(jwt.decode(id_token, options={"verify_signature": False})["nonce"])
    with pytest.raises(LoginFailed, match="InvalidAudience"):
        spa.validate_id_token(id_token, nonce)
    assert oidc.validate_id_token(id_token, nonce)["sub"] == web.subject  # control: ours, accepted


def test_guide_asks_for_offline_refresh_tokens_it_never_keeps(
    oidc: OidcClient, keycloak_realm: CourseRealm
) -> None:
    """``access_type=offline`` + ``prompt=consent``: every login re-consents and mints a long-lived
    refresh token, yet the guide's login yields only ``{id, email, name, provider}`` — the token is
    dropped, still valid at the provider, and nobody can use or revoke it."""
    query = parse_qs(urlsplit(GoogleOAuth("course-web", "s", CALLBACK).get_auth_url("s")).query)
    assert query["access_type"] == ["offline"]
    assert query["prompt"] == ["consent"]
    web = oidc.handle_callback(
        browser_login(oidc.begin_login(), "alice", keycloak_realm.passwords["alice"])
    )
    guide = GoogleOAuth(
        "course-web", "s", CALLBACK, userinfo_url=oidc.metadata["userinfo_endpoint"]
    )
    assert set(guide.get_user_info(str(web.tokens["access_token"]))) == {
        "id",
        "email",
        "name",
        "provider",
    }


def test_reference_asks_for_no_offline_access(
    app: TestClient, oidc: OidcClient, keycloak_realm: CourseRealm
) -> None:
    """The reference asks only for what it uses: no offline access and no forced consent, so the
    refresh token Keycloak returns is session-bound (``typ: Refresh``, gone at logout), never an
    ``Offline`` token outliving the session."""
    query = parse_qs(urlsplit(start(app)).query)
    assert "prompt" not in query
    assert "access_type" not in query
    assert "offline_access" not in query["scope"][0].split()
    web = oidc.handle_callback(
        browser_login(oidc.begin_login(), "alice", keycloak_realm.passwords["alice"])
    )
    refresh = jwt.decode(str(web.tokens["refresh_token"]), options={"verify_signature": False})
    assert refresh["typ"] == "Refresh"
