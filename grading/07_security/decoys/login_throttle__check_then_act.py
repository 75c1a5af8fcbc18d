"""Decoy for 07.3: reads the failure counts, checks the password, then counts the failure (INCR) — parallel guesses all read the old count. Caught by test_parallel_guesses_cannot_pass_a_stale_count."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import redis

from reference.api_design.schemas import normalize_email

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
    keys = [
        (f"{prefix}a:{_account(email)}", PER_ACCOUNT_LIMIT),
        (f"{prefix}i:{_ip(ip)}", PER_IP_LIMIT),
    ]
    for key, limit in keys:
        if int(client.get(key) or 0) >= limit:
            raise Throttled(max(1, int(client.ttl(key))))
    ok = check_password()
    if not ok:
        for key, _ in keys:
            client.incr(key)
            client.expire(key, WINDOW_MS // 1000, nx=True)
    return ok
