"""Decoy for 07.3: both limits right, but counted in a dict in this process (a lock keeps it atomic) — every app process has its own budget. Caught by test_two_processes_share_one_budget."""

from __future__ import annotations

import ipaddress
import threading
import time
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


_hits: dict[str, list[float]] = {}
_lock = threading.Lock()


def _take(key: str, limit: int) -> float | None:
    now = time.monotonic()
    recent = [t for t in _hits.get(key, []) if t > now - WINDOW_MS / 1000]
    if len(recent) >= limit:
        return recent[0] + WINDOW_MS / 1000 - now
    recent.append(now)
    _hits[key] = recent
    return None


def login(
    client: redis.Redis, prefix: str, ip: str, email: str, check_password: Callable[[], bool]
) -> bool:
    keys = [("a:" + _account(email), PER_ACCOUNT_LIMIT), ("i:" + _ip(ip), PER_IP_LIMIT)]
    with _lock:
        taken: list[str] = []
        for key, limit in keys:
            wait = _take(key, limit)
            if wait is not None:
                for used in taken:
                    _hits[used].pop()
                raise Throttled(max(1, int(wait) + 1))
            taken.append(key)
    ok = check_password()
    if ok:
        with _lock:
            for key in taken:
                _hits[key].pop()
    return ok
