"""Taught in notebooks/07_security_limits.ipynb §2.

Exercise 07.3: failed logins throttled per IP AND per account, in Redis.

The guide limits ``/api/auth/login`` to 5 attempts per hour per ``req.ip`` in each process's
memory. An attacker with 6 addresses guesses one account's password 6 times (and a botnet,
thousands of times); with 4 app processes everyone gets 4× the budget.

``login(client, prefix, ip, email, check_password)`` wraps a password check:

* at most ``PER_ACCOUNT_LIMIT`` failed logins per account and ``PER_IP_LIMIT`` per IP address
  in any ``WINDOW_MS`` span (a sliding window); when either is used up raise ``Throttled`` (its
  ``retry_after``: whole seconds, at least 1) WITHOUT calling ``check_password``;
* otherwise return ``check_password()``; a successful login is not counted (it gives back
  whatever it took);
* the counts live in Redis, under keys starting with ``prefix``, so every process shares them —
  and are taken atomically: 20 parallel guesses must not all slip past a count of 0 (count
  first, check the password after; chapter 02's ``SlidingWindowLimiter`` is a good tool: its
  ``hit(subject, token=...)`` counts one request under a token you choose and ``forget(subject,
  token)`` takes it back);
* one account, one bucket, whatever the spelling: ``Ada@Example.com``, ``ADA@EXAMPLE.COM`` and
  fullwidth ``ａｄａ@example.com`` are the same account (``normalize_email`` from
  ``reference.api_design.schemas``, then lowercase);
* ``ValueError`` — before anything is counted — for an e-mail with NUL, longer than 320
  characters or not an address at all, and for an ``ip`` that is not one IP address.

``client`` is a ``redis.Redis`` with ``decode_responses=True``.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable

import redis

from reference.api_design.schemas import normalize_email
from reference.databases.redis.rate_limiter import SlidingWindowLimiter

PER_ACCOUNT_LIMIT = 5
PER_IP_LIMIT = 20
WINDOW_MS = 15 * 60 * 1000


class Throttled(Exception):
    """Too many failed logins; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after


__all__ = ["PER_ACCOUNT_LIMIT", "PER_IP_LIMIT", "WINDOW_MS", "Throttled", "login"]


def login(
    client: redis.Redis, prefix: str, ip: str, email: str, check_password: Callable[[], bool]
) -> bool:
    """``check_password()``'s answer if this IP and this account may still try; else Throttled."""
    if len(email) > 320 or "\x00" in email:
        raise ValueError("not an e-mail address (NUL, or longer than 320 characters)")
    account = normalize_email(email).lower()
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        address = address.ipv4_mapped or ipaddress.IPv6Address(address.packed)
    buckets = [
        (
            SlidingWindowLimiter(client, PER_ACCOUNT_LIMIT, WINDOW_MS, prefix=prefix + "acct:"),
            account,
        ),
        (
            SlidingWindowLimiter(client, PER_IP_LIMIT, WINDOW_MS, prefix=prefix + "ip:"),
            str(address),
        ),
    ]
    token = secrets.token_hex(8)
    taken: list[tuple[SlidingWindowLimiter, str]] = []
    for limiter, subject in buckets:
        decision = limiter.hit(subject, token=token)
        if not decision.allowed:
            for used, used_subject in taken:
                used.forget(used_subject, token)
            raise Throttled(max(1, decision.retry_after_seconds))
        taken.append((limiter, subject))
    if check_password():
        for limiter, subject in taken:
            limiter.forget(subject, token)
        return True
    return False
