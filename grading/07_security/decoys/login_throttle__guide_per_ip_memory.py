"""Decoy for 07.3: the guide's login limiter — express-rate-limit's memory store keyed on the IP, max 5, skipSuccessfulRequests. Caught by test_six_failures_on_one_account_from_six_ips (and the two-process test)."""

from __future__ import annotations

from collections.abc import Callable

import redis

from guide.security.rate_limit import MemoryStore

PER_ACCOUNT_LIMIT = 5
PER_IP_LIMIT = 20
WINDOW_MS = 15 * 60 * 1000

_store = MemoryStore(60 * 60 * 1000)


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry in {retry_after} s")
        self.retry_after = retry_after


def login(
    client: redis.Redis, prefix: str, ip: str, email: str, check_password: Callable[[], bool]
) -> bool:
    if _store.increment(ip) > 5:
        raise Throttled(3600)
    ok = check_password()
    if ok:
        _store.decrement(ip)
    return ok
