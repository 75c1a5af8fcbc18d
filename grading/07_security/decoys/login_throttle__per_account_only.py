"""Decoy for 07.3: per account only — one address spraying one guess at each of many accounts is never stopped. Caught by test_one_ip_spraying_many_accounts."""

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
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry in {retry_after} s")
        self.retry_after = retry_after


def _account(email: str) -> str:
    if len(email) > 320 or "\x00" in email:
        raise ValueError("not an e-mail address")
    return normalize_email(email).lower()


def _ip(ip: str) -> str:
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def login(
    client: redis.Redis, prefix: str, ip: str, email: str, check_password: Callable[[], bool]
) -> bool:
    account = _account(email)
    _ip(ip)
    buckets = [
        (SlidingWindowLimiter(client, PER_ACCOUNT_LIMIT, WINDOW_MS, prefix=prefix + "a:"), account),
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
    ok = check_password()
    if ok:
        for limiter, subject in taken:
            limiter.forget(subject, token)
    return ok
