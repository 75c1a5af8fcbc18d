"""Refresh-token rotation with reuse detection: one token family per session, in Redis.

The pattern (OAuth 2.0 Security BCP §4.14): each login starts a *family* (a session, ``sid``) that
remembers the one refresh token (its ``jti``) currently valid. Refreshing presents that token and
gets a new one; the compare-and-swap of ``jti`` is ONE Lua script, so of ten concurrent refreshes of
the same token exactly one wins. Presenting a token the family has already rotated past means two
parties hold it — the user and a thief — so the whole family is revoked and its newest token stops
working too; the user's other sessions (other devices) are untouched. Strict by design: a client
that refreshes twice concurrently also trips it (it must serialise its refreshes).

Also here: logout (one family), log out everywhere (every family plus a token-version bump, which
kills outstanding access tokens), suspension (no refresh, old access tokens refused) and the token
version that makes a demotion take effect before the old access token expires.

The guide kept one key per *user* (``refresh:{userId}``): a second device's login overwrote the
first's token, a replayed token was merely refused, and its GET-compare-SET let every concurrent
refresh through. Taught in ``notebooks/03_auth_tokens.ipynb``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import redis

from reference.auth.tokens import REFRESH_TYP, InvalidToken, TokenIssuer, TokenVerifier, ring_source

# KEYS: family hash, user hash. ARGV: presented jti, new jti, sub.
# Returns {"ok", version} or {reason}.
ROTATE_LUA = """
local fam = redis.call('HMGET', KEYS[1], 'sub', 'jti', 'state')
if not fam[1] or fam[1] ~= ARGV[3] then return {'unknown'} end
if fam[3] == 'revoked' then return {'revoked'} end
if fam[2] ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'revoked')
  return {'reuse'}
end
if redis.call('HGET', KEYS[2], 'suspended') == '1' then return {'suspended'} end
redis.call('HSET', KEYS[1], 'jti', ARGV[2])
return {'ok', redis.call('HGET', KEYS[2], 'ver') or '0'}
"""


class RefreshRefused(Exception):
    """The refresh token is refused (→ 401 ``invalid_grant``); ``reason`` is for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    session_id: str
    expires_in: int


class SessionStore:
    """Logins, refreshes and revocations for the tokens of one :class:`TokenIssuer`.

    ``client`` must decode responses to ``str`` (:func:`reference.databases.redis.connect`).
    ``roles_of(sub)`` returns the user's *current* roles, read at every login and refresh, so a
    refreshed access token never carries a role the user has lost.
    """

    def __init__(
        self,
        client: redis.Redis,
        issuer: TokenIssuer,
        roles_of: Callable[[str], Iterable[str]],
        *,
        prefix: str = "auth:",
    ) -> None:
        self.redis, self.issuer, self.roles_of, self.prefix = client, issuer, roles_of, prefix
        self._rotate = client.register_script(ROTATE_LUA)
        self._refresh_verifier = TokenVerifier(
            ring_source(issuer.keys), issuer.issuer, issuer.audience, typ=REFRESH_TYP
        )

    def _family(self, sid: str) -> str:
        return f"{self.prefix}fam:{sid}"

    def _user(self, sub: str) -> str:
        return f"{self.prefix}user:{sub}"

    def _sessions(self, sub: str) -> str:
        return f"{self.prefix}user:{sub}:sessions"

    def version(self, sub: str) -> int:
        return int(self.redis.hget(self._user(sub), "ver") or 0)

    def _pair(self, sub: str, sid: str, jti: str, version: int) -> TokenPair:
        access = self.issuer.access_token(sub, self.roles_of(sub), version=version, sid=sid)
        return TokenPair(
            access, self.issuer.refresh_token(sub, sid, jti), sid, self.issuer.access_ttl
        )

    def login(self, sub: str) -> TokenPair:
        """A new session (family) for ``sub``; other sessions are untouched. The caller has
        checked the password (or the IdP has)."""
        if self.redis.hget(self._user(sub), "suspended") == "1":
            raise RefreshRefused("suspended")
        sid, jti = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        pipe = self.redis.pipeline()
        pipe.hset(self._family(sid), mapping={"sub": sub, "jti": jti, "state": "active"})
        # The family lives as long as its first refresh token: rotation does not extend a session.
        pipe.expire(self._family(sid), self.issuer.refresh_ttl)
        pipe.sadd(self._sessions(sub), sid)
        pipe.expire(self._sessions(sub), self.issuer.refresh_ttl)
        pipe.execute()
        return self._pair(sub, sid, jti, self.version(sub))

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the new pair, or :class:`RefreshRefused` (a replay revokes the family)."""
        try:
            claims = self._refresh_verifier.verify(refresh_token)
        except InvalidToken as refused:
            raise RefreshRefused(refused.reason) from None
        sub, sid, jti = claims["sub"], claims.get("sid"), claims.get("jti")
        if not isinstance(sid, str) or not isinstance(jti, str):
            raise RefreshRefused("not a session token")
        new_jti = secrets.token_urlsafe(16)
        result: list[Any] = self._rotate(
            keys=[self._family(sid), self._user(sub)], args=[jti, new_jti, sub]
        )
        if result[0] != "ok":
            raise RefreshRefused(str(result[0]))
        return self._pair(sub, sid, new_jti, int(result[1]))

    def logout(self, refresh_token: str) -> None:
        """Revoke the session the token belongs to (an invalid token is ignored: logout is
        idempotent and must not tell a caller which tokens exist)."""
        try:
            claims = self._refresh_verifier.verify(refresh_token)
        except InvalidToken:
            return
        sid = claims.get("sid")
        if isinstance(sid, str) and self.redis.hget(self._family(sid), "sub") == claims["sub"]:
            self.redis.hset(self._family(sid), "state", "revoked")

    def logout_everywhere(self, sub: str) -> None:
        """Revoke every session of ``sub`` and every access token issued so far."""
        sids: set[str] = self.redis.smembers(self._sessions(sub))  # type: ignore[assignment]
        for sid in sids:
            if self.redis.exists(self._family(sid)):
                self.redis.hset(self._family(sid), "state", "revoked")
        self.bump_version(sub)

    def bump_version(self, sub: str) -> int:
        """Refuse every access token issued to ``sub`` until now (a demotion, a password change)."""
        return int(self.redis.hincrby(self._user(sub), "ver", 1))

    def suspend(self, sub: str) -> None:
        self.redis.hset(self._user(sub), "suspended", "1")
        self.logout_everywhere(sub)

    def reinstate(self, sub: str) -> None:
        self.redis.hset(self._user(sub), "suspended", "0")

    def is_current(self, claims: dict[str, Any]) -> bool:
        """Whether an access token of this issuer is still good: its ``ver`` is the user's token
        version and its session (``sid``) has not been revoked — one round trip for both. Tokens
        of other issuers (Keycloak's) have no course session and pass."""
        if claims.get("iss") != self.issuer.issuer:
            return True
        ver, sid = claims.get("ver"), claims.get("sid")
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(self._user(str(claims["sub"])), "ver")
        pipe.hget(self._family(str(sid)), "state")
        current, state = pipe.execute()
        fresh = isinstance(ver, int) and ver >= int(current or 0)
        return fresh and (sid is None or state == "active")
