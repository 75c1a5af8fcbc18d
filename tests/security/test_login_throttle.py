"""reference/security/login_throttle.py on the course Redis: per IP AND per account, shared by
every process, slots taken before the password is checked, successes handed back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from reference.security.client_ip import TrustedProxies
from reference.security.login_throttle import (
    LoginThrottle,
    Throttled,
    ThrottlePolicy,
    account_key,
    login_app,
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


PROXY = ("10.0.0.2", 40000)


@pytest.fixture
def app_client(throttle: LoginThrottle) -> TestClient:
    """The throttle behind HTTP, served through our proxy 10.0.0.2; Ada's password is 'right'."""
    app = login_app(
        throttle,
        TrustedProxies.parse(["10.0.0.0/8"]),
        lambda email, password: email == "ada@example.com" and password == "right",
    )
    return TestClient(app, client=PROXY)


def post(client: TestClient, forwarded: str, email: str = "ada@example.com", pw: str = "x") -> Any:
    return client.post(
        "/login", json={"email": email, "password": pw}, headers={"X-Forwarded-For": forwarded}
    )


def test_http_six_addresses_one_account_is_429_with_retry_after(app_client: TestClient) -> None:
    """The guide's per-IP login limit lets this through (test_rate_limit_guide.py, defect 4)."""
    codes = [post(app_client, f"203.0.113.{n}").status_code for n in range(5)]
    refused = post(app_client, "203.0.113.99")
    assert codes == [401] * 5
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    assert post(app_client, "203.0.113.100", pw="right").status_code == 429


def test_http_spoofed_header_does_not_buy_fresh_buckets(
    app_client: TestClient, throttle: LoginThrottle
) -> None:
    """An attacker behind our proxy writes a new leftmost X-Forwarded-For each time: the proxy's
    appended entry is what counts, so the attacker's per-IP window fills after 20 (the guide with
    trust proxy never refuses, defect 3)."""
    codes = [
        post(app_client, f"192.0.2.{n}, 203.0.113.66", f"user{n}@example.com").status_code
        for n in range(throttle.policy.per_ip + 1)
    ]
    assert codes == [401] * throttle.policy.per_ip + [429]


def test_http_direct_client_cannot_claim_another_address(throttle: LoginThrottle) -> None:
    """A client talking to the app directly (not via our proxy): its header is ignored."""
    app = login_app(throttle, TrustedProxies.parse(["10.0.0.0/8"]), lambda e, p: False)
    client = TestClient(app, client=("203.0.113.66", 5000))
    codes = [
        post(client, f"192.0.2.{n}", f"user{n}@example.com").status_code
        for n in range(throttle.policy.per_ip + 1)
    ]
    assert codes[-1] == 429


def test_http_malformed_forwarded_header_is_400(app_client: TestClient) -> None:
    response = post(app_client, "203.0.113.5:443")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "email", ["ada\x00@example.com", "a" * 10_000 + "@example.com", "no-at-sign"]
)
def test_http_hostile_account_name_is_422(app_client: TestClient, email: str) -> None:
    response = post(app_client, "203.0.113.5", email)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_http_operator_instead_of_a_string_is_422(app_client: TestClient) -> None:
    response = app_client.post("/login", json={"email": {"$ne": None}, "password": "x"})
    assert response.status_code == 422


def test_http_right_password_is_200_and_not_counted(app_client: TestClient) -> None:
    for _ in range(10):
        assert post(app_client, "203.0.113.5", pw="right").status_code == 200
    assert post(app_client, "203.0.113.5").status_code == 401
