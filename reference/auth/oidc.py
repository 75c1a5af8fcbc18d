"""OpenID Connect login (authorization code + PKCE S256) and client credentials, with authlib.

The pattern (OpenID Connect Core §3.1, RFC 7636, OAuth 2.0 Security BCP):

- :meth:`OidcClient.begin_login` makes a fresh ``state``, ``nonce`` and PKCE verifier, stores them in
  Redis under the state (10 minutes, single use) and returns the provider's authorization URL;
- :meth:`OidcClient.handle_callback` takes the state back *once* (``GETDEL``: unknown or replayed →
  :class:`LoginFailed`, a 400), exchanges the code with the verifier, and validates the ID token —
  signature against the provider's JWKS, ``iss``, ``aud`` (our client id), ``exp``/``iat``, the
  ``nonce`` we stored and, when present, ``azp`` — so an ID token minted for another client, or
  replayed from another login, is refused;
- the identity is keyed on ``iss`` + ``sub`` (:func:`identity_key`), never on the email, and
  :class:`AccountDirectory` links a login to an existing account by email only when the provider
  says the email is verified.

The guide's "OIDC" asked for no ``openid`` scope (so no ID token, no nonce), used no PKCE, never
stored or checked ``state``, and keyed users on the provider's id/email from ``userinfo``.
Taught in ``notebooks/03_auth_oidc.ipynb``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import redis
import requests
from authlib.integrations.requests_client import (  # type: ignore[import-untyped]
    OAuth2Session,
    OAuthError,
)
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from reference.api_design.problems import BadRequest, install_problem_handlers
from reference.auth.authenticator import roles_in
from reference.auth.tokens import JwksCache, TokenVerifier

STATE_TTL = 600


class LoginFailed(Exception):
    """The callback is refused (answer 400): bad state, provider error, invalid ID token."""


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    roles: tuple[str, ...]
    tokens: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def key(self) -> str:
        return identity_key(self.issuer, self.subject)


def identity_key(issuer: str, subject: str) -> str:
    """One user at one provider: ``sub`` is unique only within its issuer."""
    return json.dumps([issuer, subject])


class OidcClient:
    """A confidential client of one OpenID provider, its login state kept in Redis."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        store: redis.Redis,
        *,
        prefix: str = "oidc:",
        scope: str = "openid email profile",
    ) -> None:
        self.issuer, self.client_id, self.client_secret = issuer, client_id, client_secret
        self.redirect_uri, self.store, self.prefix, self.scope = redirect_uri, store, prefix, scope
        response = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        self.metadata: dict[str, Any] = response.json()
        if self.metadata.get("issuer") != issuer:
            raise ValueError("the discovery document names another issuer")
        self.jwks = JwksCache(self.metadata["jwks_uri"])

    def session(self) -> OAuth2Session:
        """authlib's OAuth 2.0 session for this client (PKCE S256)."""
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            default_timeout=10,
        )

    def begin_login(self) -> str:
        """The authorization URL to redirect the browser to (its state is stored)."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)  # 64 characters, within RFC 7636's 43–128
        url, _ = self.session().create_authorization_url(
            self.metadata["authorization_endpoint"],
            state=state,
            code_verifier=verifier,
            nonce=nonce,
        )
        record = json.dumps({"nonce": nonce, "verifier": verifier})
        self.store.set(f"{self.prefix}state:{state}", record, ex=STATE_TTL)
        return str(url)

    def handle_callback(self, query: Mapping[str, str]) -> Identity:
        """The identity behind the redirect's ``code``, or :class:`LoginFailed`."""
        # The state first, even when the provider reports an error: it is spent either way.
        record = self.take_state(query.get("state"))
        if "error" in query:
            raise LoginFailed(f"the provider refused: {query['error']}")
        code = query.get("code")
        if not code:
            raise LoginFailed("the callback has no code")
        tokens = self.exchange(code, record["verifier"])
        claims = self.validate_id_token(str(tokens.get("id_token", "")), record["nonce"])
        return self.identity(claims, tokens)

    def take_state(self, state: str | None) -> dict[str, str]:
        """The login record stored under ``state`` — removed as it is read (``GETDEL``: used once,
        even by two concurrent callbacks); unknown or spent → :class:`LoginFailed`."""
        saved = self.store.getdel(f"{self.prefix}state:{state}") if state else None
        if saved is None:
            raise LoginFailed("unknown or already used state")
        record: dict[str, str] = json.loads(str(saved))
        return record

    def exchange(self, code: str, verifier: str) -> dict[str, Any]:
        """Redeem ``code`` at the token endpoint with the PKCE ``verifier``."""
        try:
            tokens: dict[str, Any] = self.session().fetch_token(
                self.metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
        except (OAuthError, requests.RequestException, ValueError) as error:
            raise LoginFailed(f"the code exchange failed: {type(error).__name__}") from None
        return tokens

    @staticmethod
    def identity(claims: Mapping[str, Any], tokens: Mapping[str, Any]) -> Identity:
        """Who logged in: ``iss`` + ``sub`` from validated ID-token claims."""
        return Identity(
            issuer=claims["iss"],
            subject=claims["sub"],
            email=claims.get("email"),
            email_verified=claims.get("email_verified") is True,
            roles=tuple(roles_in(claims)),
            tokens=dict(tokens),
        )

    def validate_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, checked; :class:`LoginFailed` otherwise."""
        try:
            header = jwt.get_unverified_header(id_token)
            kid = header.get("kid")
            keys = self.jwks.jwks(kid if isinstance(kid, str) else None)
            jwk = next(k for k in keys.get("keys", []) if k.get("kid") == kid)
            key = jwt.PyJWK.from_dict(dict(jwk))
            if header.get("alg") != key.algorithm_name or key.algorithm_name.startswith("HS"):
                raise LoginFailed("ID token algorithm not allowed")
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=[key.algorithm_name],
                audience=self.client_id,
                issuer=self.issuer,
                options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
            )
        except (jwt.PyJWTError, StopIteration, httpx.HTTPError) as error:
            raise LoginFailed(f"invalid ID token: {type(error).__name__}") from None
        if not secrets.compare_digest(str(claims["nonce"]), nonce):
            raise LoginFailed("the ID token's nonce is not this login's")
        azp, aud = claims.get("azp"), claims["aud"]
        if (azp is not None or isinstance(aud, list)) and azp != self.client_id:
            raise LoginFailed("the ID token was issued to another client (azp)")
        return claims

    def client_credentials(self) -> dict[str, Any]:
        """A token for this client itself (service to service), no user involved."""
        token: dict[str, Any] = self.session().fetch_token(
            self.metadata["token_endpoint"], grant_type="client_credentials"
        )
        return token


def issuer_verifier(issuer: str, audience: str) -> TokenVerifier:
    """A verifier of an OpenID provider's access tokens for ``audience``, from its discovery
    document alone (no client credentials): what an API server needs."""
    response = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    jwks = JwksCache(response.json()["jwks_uri"])
    return TokenVerifier(jwks.jwks, issuer, audience, typ="JWT", claim_typ="Bearer")


def provider_verifier(client: OidcClient, audience: str) -> TokenVerifier:
    """A verifier of the provider's *access* tokens for our API (``aud`` = ``audience``), sharing
    the client's cached JWKS, for :class:`~reference.auth.authenticator.JwtAuthenticator` beside
    the course's own issuer."""
    return TokenVerifier(client.jwks.jwks, client.issuer, audience, typ="JWT", claim_typ="Bearer")


class AccountDirectory:
    """Local accounts and the provider identities linked to them, in Redis.

    An identity (``iss``+``sub``) already linked → its account. Otherwise an existing account with
    the same email is linked only when the provider verified that email; an unverified email gets a
    new account of its own (whoever registered the address at the provider proves nothing).
    """

    def __init__(self, client: redis.Redis, prefix: str = "accounts:") -> None:
        self.redis, self.prefix = client, prefix

    def create(self, email: str) -> str:
        """A local (password) account owning ``email``."""
        account = secrets.token_hex(8)
        if not self.redis.set(f"{self.prefix}email:{email.lower()}", account, nx=True):
            raise ValueError("email already registered")
        return account

    def sign_in(self, identity: Identity) -> str:
        """The account ``identity`` signs in to, linking or creating one."""
        by_identity = f"{self.prefix}identity:{identity.key}"
        known = self.redis.get(by_identity)
        if known is not None:
            return str(known)
        account: str | None = None
        if identity.email and identity.email_verified:
            owner = self.redis.get(f"{self.prefix}email:{identity.email.lower()}")
            account = str(owner) if owner is not None else None
        if account is None:
            account = secrets.token_hex(8)
            if identity.email and identity.email_verified:
                self.redis.set(f"{self.prefix}email:{identity.email.lower()}", account, nx=True)
        # NX: two concurrent first logins of one identity end in the same account.
        self.redis.set(by_identity, account, nx=True)
        return str(self.redis.get(by_identity))


def login_app(client: OidcClient, accounts: AccountDirectory) -> FastAPI:
    """``GET /login`` (302 to the provider) and ``GET /callback`` (400 problem on any refusal)."""
    app = FastAPI(title="Backend Skill Lab — OIDC login")
    install_problem_handlers(app)

    @app.get("/login", status_code=302)
    def login() -> RedirectResponse:
        return RedirectResponse(client.begin_login(), status_code=302)

    @app.get("/callback")
    def callback(request: Request) -> dict[str, Any]:
        try:
            identity = client.handle_callback(dict(request.query_params))
        except LoginFailed as refused:
            raise BadRequest(str(refused)) from None
        return {
            "account": accounts.sign_in(identity),
            "issuer": identity.issuer,
            "subject": identity.subject,
            "roles": sorted(identity.roles),
        }

    return app
