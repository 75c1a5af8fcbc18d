"""Login throttled per IP AND per account, in Redis, on chapter 02's sliding-window Lua limiter.

The guide limits ``/api/auth/login`` to 5 attempts an hour per ``req.ip`` in express-rate-limit's
memory store, with ``skipSuccessfulRequests`` (guide-defects.md 7.1). So: each app process has its
own counts (N processes, N× the budget); an attacker with many addresses (a botnet, IPv6, a spoofed
``X-Forwarded-For``) guesses one account's password without limit, because nothing counts per
account; and ``req.ip`` behind a proxy is the proxy, so every user shares one bucket.

The pattern, each step against one of those:

- Two sliding windows in Redis (shared by every process): one per client IP (from
  ``reference.security.client_ip``, the trusted-proxy walk) and one per ACCOUNT. Either one full
  → ``Throttled`` with ``Retry-After``, and the password is not even checked.
- The slot is TAKEN before the password is checked (the Lua script checks and counts in one
  step), never "read the count, verify, then count": that check-then-act lets 20 parallel
  guesses all pass a count of 0.
- A successful login hands its slots back (``forget``) when the policy counts failures only —
  the guide's ``skipSuccessfulRequests``, done atomically per key rather than by a decrement in
  one process's memory.
- The account key is the canonical e-mail (chapter 01's ``canonical_email``, the sign-up's own:
  stripped, NFKC, IDNA domain, lower-cased as the ``lower(email)`` unique index compares), then hashed — ``Ada@Example.com`` and
  fullwidth ``ａｄａ@example.com`` are one account and one bucket, and no address sits in Redis in
  clear. A name that cannot be an e-mail (NUL, 10 kB, no ``@``) is a ``ValueError`` before any
  counting or verifying.

``login_app`` puts it behind HTTP the way an app would: the IP from ``client_ip`` (trusted
proxies only; a malformed header → 400), a refused attempt → 429 problem+json with ``Retry-After``,
a hostile e-mail → 422, a wrong password → 401. Taught in ``notebooks/07_security_limits.ipynb`` §2.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import redis
from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from reference.api_design.problems import (
    BadRequest,
    ProblemError,
    TooManyRequests,
    install_problem_handlers,
)
from reference.api_design.schemas import canonical_email
from reference.databases.redis.rate_limiter import SlidingWindowLimiter
from reference.security.client_ip import TrustedProxies, canonical_ip, client_ip

MAX_EMAIL_LENGTH = 320
"""RFC 3696's bound on an address; a longer login name is refused before NFKC or IDNA sees it."""


class Throttled(Exception):
    """Too many failed logins for this IP or this account; retry after ``retry_after`` seconds."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(f"too many failed logins for this {scope}; retry in {retry_after} s")
        self.scope = scope
        self.retry_after = retry_after


def account_key(email: str) -> str:
    """The one bucket name of an account, whatever spelling of its e-mail was typed."""
    if len(email) > MAX_EMAIL_LENGTH:
        raise ValueError(f"an e-mail address has at most {MAX_EMAIL_LENGTH} characters")
    if "\x00" in email:
        raise ValueError("an e-mail address may not contain NUL")
    canonical = canonical_email(email)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ThrottlePolicy:
    """Limits per window; per IP is higher than per account (offices and NAT share one address)."""

    per_account: int = 5
    per_ip: int = 20
    window_ms: int = 15 * 60 * 1000
    count_successes: bool = False


class LoginThrottle:
    """Wraps a password check: refuses it when the IP or the account has failed too often."""

    def __init__(
        self, client: redis.Redis, policy: ThrottlePolicy | None = None, *, prefix: str = ""
    ) -> None:
        self.policy = policy or ThrottlePolicy()
        window = self.policy.window_ms
        self.by_account = SlidingWindowLimiter(
            client, self.policy.per_account, window, prefix=f"{prefix}login:account:"
        )
        self.by_ip = SlidingWindowLimiter(
            client, self.policy.per_ip, window, prefix=f"{prefix}login:ip:"
        )

    def attempt(self, ip: str, email: str, check_password: Callable[[], bool]) -> bool:
        """``check_password()``'s answer, if this IP and account may try; else ``Throttled``."""
        account = account_key(email)
        address = str(canonical_ip(ip))
        token = secrets.token_hex(8)
        decision = self.by_account.hit(account, token=token)
        if not decision.allowed:
            raise Throttled("account", decision.retry_after_seconds)
        decision = self.by_ip.hit(address, token=token)
        if not decision.allowed:
            # the account slot was not used for a guess: give it back
            self.by_account.forget(account, token)
            raise Throttled("IP address", decision.retry_after_seconds)
        ok = check_password()  # an exception here keeps the slots: it counts as a failure
        if ok and not self.policy.count_successes:
            self.by_account.forget(account, token)
            self.by_ip.forget(address, token)
        return ok


class BadCredentials(ProblemError):
    """401 for a login: no ``WWW-Authenticate`` bearer challenge (no token was involved)."""

    status, title = 401, "Unauthorized"


class InvalidLogin(ProblemError):
    status, title = 422, "Unprocessable Content"


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: str = Field(max_length=MAX_EMAIL_LENGTH)
    password: str = Field(max_length=1024)


def login_app(
    throttle: LoginThrottle,
    trusted: TrustedProxies,
    check_password: Callable[[str, str], bool],
) -> FastAPI:
    """``POST /login`` guarded by ``throttle``, keyed on the client IP through ``trusted`` proxies."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/login")
    def login(body: LoginBody, request: Request) -> dict[str, bool]:
        try:
            ip = client_ip(request, trusted)
        except ValueError as error:
            raise BadRequest(str(error)) from None
        try:
            ok = throttle.attempt(ip, body.email, lambda: check_password(body.email, body.password))
        except Throttled as refused:
            raise TooManyRequests(refused.retry_after, str(refused)) from None
        except ValueError as error:
            raise InvalidLogin(str(error)) from None
        if not ok:
            raise BadCredentials("Wrong e-mail or password.")
        return {"ok": True}

    return app
