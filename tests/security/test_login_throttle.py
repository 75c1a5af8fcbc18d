"""reference/security/login_throttle.py on the course Redis: per IP AND per account, shared by
every process, slots taken before the password is checked, successes handed back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from reference.security.login_throttle import (
    LoginThrottle,
    Throttled,
    ThrottlePolicy,
    account_key,
)


def fail() -> bool:
    return False


def succeed() -> bool:
    return True


@pytest.fixture
def throttle(redis_client: redis.Redis, redis_prefix: str) -> LoginThrottle:
    return LoginThrottle(redis_client, prefix=redis_prefix)


def test_six_failures_on_one_account_from_six_ips_is_429(throttle: LoginThrottle) -> None:
    """The guide's per-IP limit never refuses this (test_rate_limit_guide.py, defect 4)."""
    for n in range(5):
        assert throttle.attempt(f"203.0.113.{n}", "ada@example.com", fail) is False
    with pytest.raises(Throttled) as refused:
        throttle.attempt("203.0.113.6", "ada@example.com", fail)
    assert refused.value.scope == "account"
    assert refused.value.retry_after > 0


def test_per_ip_limit_across_accounts(throttle: LoginThrottle) -> None:
    """One address spraying 20 accounts with one guess each: the 21st is refused."""
    for n in range(20):
        throttle.attempt("203.0.113.5", f"user{n}@example.com", fail)
    with pytest.raises(Throttled) as refused:
        throttle.attempt("203.0.113.5", "someone@example.com", fail)
    assert refused.value.scope == "IP address"


def test_refused_attempt_does_not_check_the_password(throttle: LoginThrottle) -> None:
    calls: list[int] = []
    for _ in range(5):
        throttle.attempt("203.0.113.5", "ada@example.com", fail)

    def spy() -> bool:
        calls.append(1)
        return True

    with pytest.raises(Throttled):
        throttle.attempt("203.0.113.5", "ada@example.com", spy)
    assert calls == []


def test_refusal_by_ip_gives_the_account_slot_back(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    """A guess refused by the IP limit was not a guess at the account: its slot is returned."""
    throttle = LoginThrottle(redis_client, ThrottlePolicy(per_ip=1), prefix=redis_prefix)
    throttle.attempt("203.0.113.5", "bob@example.com", fail)
    for _ in range(3):
        with pytest.raises(Throttled):
            throttle.attempt("203.0.113.5", "ada@example.com", fail)
    for n in range(5):
        throttle.attempt(f"198.51.100.{n}", "ada@example.com", fail)


def test_successes_are_not_counted(throttle: LoginThrottle) -> None:
    for _ in range(30):
        assert throttle.attempt("203.0.113.5", "ada@example.com", succeed) is True
    assert throttle.attempt("203.0.113.5", "ada@example.com", fail) is False


def test_successes_counted_when_that_is_the_policy(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    throttle = LoginThrottle(
        redis_client, ThrottlePolicy(count_successes=True), prefix=redis_prefix
    )
    for _ in range(5):
        throttle.attempt("203.0.113.5", "ada@example.com", succeed)
    with pytest.raises(Throttled):
        throttle.attempt("203.0.113.5", "ada@example.com", succeed)


def test_two_processes_share_one_budget(redis_client: redis.Redis, redis_prefix: str) -> None:
    """Two throttles (two app processes) on one Redis: 5 failures in all, not 5 each."""
    first = LoginThrottle(
        redis.Redis(connection_pool=redis_client.connection_pool), prefix=redis_prefix
    )
    second = LoginThrottle(redis_client, prefix=redis_prefix)
    for n in range(3):
        first.attempt(f"203.0.113.{n}", "ada@example.com", fail)
    for n in range(2):
        second.attempt(f"198.51.100.{n}", "ada@example.com", fail)
    with pytest.raises(Throttled):
        first.attempt("192.0.2.1", "ada@example.com", fail)


def test_parallel_guesses_cannot_pass_a_stale_count(throttle: LoginThrottle) -> None:
    """20 guesses released at once, each password check slow: at most 5 checks run (a
    read-count-then-verify throttle lets all 20 through)."""
    barrier = threading.Barrier(20)
    checks: list[int] = []
    lock = threading.Lock()

    def slow_fail() -> bool:
        with lock:
            checks.append(1)
        threading.Event().wait(0.2)  # widen the window a check-then-act throttle would lose
        return False

    def one(n: int) -> str:
        barrier.wait(timeout=30)
        try:
            throttle.attempt(f"203.0.113.{n}", "ada@example.com", slow_fail)
        except Throttled:
            return "throttled"
        return "checked"

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(one, range(20)))
    assert len(checks) == 5
    assert outcomes.count("throttled") == 15


def test_spellings_of_one_address_share_one_bucket(throttle: LoginThrottle) -> None:
    """Case, fullwidth (NFKC) and an IDNA domain spelling are one account."""
    spellings = [
        "Ada@Example.com",
        "ada@EXAMPLE.COM",
        "ＡＤＡ@example.com",
        "ada@ｅｘａｍｐｌｅ.com",
        "ADA@example.com",
    ]
    for n, spelling in enumerate(spellings):
        throttle.attempt(f"203.0.113.{n}", spelling, fail)
    with pytest.raises(Throttled):
        throttle.attempt("192.0.2.1", "ada@example.com", fail)
    idna = account_key("user@xn--exmple-cua.test")
    assert idna == account_key("user@EXÄMPLE.test")


@pytest.mark.parametrize(
    "email", ["ada\x00@example.com", "a" * 10_000 + "@example.com", "no-at-sign", "", "ada@"]
)
def test_hostile_account_names_are_value_errors(
    throttle: LoginThrottle, redis_client: redis.Redis, redis_prefix: str, email: str
) -> None:
    """Refused before anything is counted or checked."""
    with pytest.raises(ValueError, match=r"at most|NUL|not a valid e-mail"):
        throttle.attempt("203.0.113.5", email, succeed)
    assert list(redis_client.scan_iter(match=redis_prefix + "*")) == []


@pytest.mark.parametrize("ip", ["", "testclient", "203.0.113.5, 10.0.0.1", "::1/128"])
def test_malformed_ip_is_a_value_error(throttle: LoginThrottle, ip: str) -> None:
    with pytest.raises(ValueError, match="not an IP"):
        throttle.attempt(ip, "ada@example.com", succeed)


def test_keys_hold_no_address_in_clear(
    throttle: LoginThrottle, redis_client: redis.Redis, redis_prefix: str
) -> None:
    throttle.attempt("203.0.113.5", "ada@example.com", fail)
    keys = sorted(redis_client.scan_iter(match=redis_prefix + "*"))
    assert len(keys) == 2
    assert not any("ada" in key for key in keys)
