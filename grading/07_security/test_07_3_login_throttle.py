"""Grading for exercise 07.3: failed logins throttled per IP and per account
(exercises/07_security/login_throttle.py).

Graded on the course Redis by what the attacker gets: how many times the password check ran and
when ``Throttled`` came. A second copy of the module stands for a second app process."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest
import redis


class Checker:
    """A password check that always answers ``answer`` and counts its calls."""

    def __init__(self, answer: bool, pause: float = 0.0) -> None:
        self.answer, self.pause = answer, pause
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        with self._lock:
            self.calls += 1
        if self.pause:
            threading.Event().wait(self.pause)  # a slow hash: the window a racy throttle loses
        return self.answer


def second_process(exercise: ModuleType) -> ModuleType:
    """A fresh copy of the learner's module: nothing it keeps in memory is shared."""
    spec = importlib.util.spec_from_file_location("login_throttle_second", exercise.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Login = Callable[[str, str, Callable[[], bool]], bool]


@pytest.fixture
def login(exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str) -> Login:
    def attempt(ip: str, email: str, check: Callable[[], bool]) -> bool:
        return bool(exercise.login(redis_client, redis_prefix, ip, email, check))

    return attempt


def test_six_failures_on_one_account_from_six_ips(exercise: ModuleType, login: Login) -> None:
    """One account, six addresses, one wrong password each: the first five are checked (False),
    the sixth is Throttled without checking. A per-IP limit (the guide's) never stops this."""
    wrong = Checker(False)
    assert [login(f"203.0.113.{n}", "ada@example.com", wrong) for n in range(5)] == [False] * 5
    with pytest.raises(exercise.Throttled) as refused:
        login("203.0.113.99", "ada@example.com", wrong)
    assert wrong.calls == 5
    assert 1 <= refused.value.retry_after <= exercise.WINDOW_MS // 1000


def test_one_ip_spraying_many_accounts(exercise: ModuleType, login: Login) -> None:
    """One address, one guess at each of 20 accounts, then a 21st: Throttled (per-account
    limits alone never stop password spraying)."""
    wrong = Checker(False)
    for n in range(exercise.PER_IP_LIMIT):
        login("203.0.113.5", f"user{n}@example.com", wrong)
    with pytest.raises(exercise.Throttled):
        login("203.0.113.5", "someone-else@example.com", wrong)
    assert wrong.calls == exercise.PER_IP_LIMIT


def test_two_processes_share_one_budget(
    exercise: ModuleType, login: Login, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """Three failures in this process and two in another (a second copy of your module): the
    sixth attempt, in either, is Throttled. Counts in a dict are per process — N workers, N×
    the budget."""
    other = second_process(exercise)
    wrong = Checker(False)
    for n in range(3):
        login(f"203.0.113.{n}", "ada@example.com", wrong)
    for n in range(2):
        other.login(redis_client, redis_prefix, f"198.51.100.{n}", "ada@example.com", wrong)
    with pytest.raises(exercise.Throttled):
        login("192.0.2.1", "ada@example.com", wrong)
    with pytest.raises(other.Throttled):
        other.login(redis_client, redis_prefix, "192.0.2.2", "ada@example.com", wrong)


def test_parallel_guesses_cannot_pass_a_stale_count(exercise: ModuleType, login: Login) -> None:
    """20 wrong guesses at one account released together, each check taking 0.2 s: only 5
    checks may run. Reading the count, checking the password and counting afterwards lets all
    20 read 'zero failures so far'."""
    slow_wrong = Checker(False, pause=0.2)
    barrier = threading.Barrier(20)

    def one(n: int) -> str:
        barrier.wait(timeout=30)
        try:
            login(f"203.0.113.{n}", "ada@example.com", slow_wrong)
        except exercise.Throttled:
            return "throttled"
        return "checked"

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(one, range(20)))
    assert slow_wrong.calls == exercise.PER_ACCOUNT_LIMIT
    assert outcomes.count("throttled") == 20 - exercise.PER_ACCOUNT_LIMIT


def test_successful_logins_are_not_counted(login: Login) -> None:
    """30 good logins from one address into one account, then a typo: the typo is checked
    (False), not Throttled — only failures count."""
    assert all(login("203.0.113.5", "ada@example.com", Checker(True)) for _ in range(30))
    assert login("203.0.113.5", "ada@example.com", Checker(False)) is False


def test_every_spelling_of_one_address_is_one_account(exercise: ModuleType, login: Login) -> None:
    """Five failures under five spellings of one address (case, fullwidth letters, a fullwidth
    domain): the sixth is Throttled. Keyed on the text as typed, each spelling is a fresh
    bucket and the limit is no limit."""
    wrong = Checker(False)
    spellings = [
        "Ada@Example.com",
        "ada@EXAMPLE.COM",
        "ＡＤＡ@example.com",
        "ada@ｅｘａｍｐｌｅ.com",
        "ADA@example.com",
    ]
    for n, spelling in enumerate(spellings):
        login(f"203.0.113.{n}", spelling, wrong)
    with pytest.raises(exercise.Throttled):
        login("192.0.2.1", "ada@example.com", wrong)


@pytest.mark.parametrize(
    "email",
    ["ada\x00@example.com", "a" * 10_000 + "@example.com", "no-at-sign", "", "ada@"],
    ids=["nul", "10kB", "no-at", "empty", "no-domain"],
)
def test_hostile_email_is_a_value_error_before_anything_runs(login: Login, email: str) -> None:
    """NUL, 10 kB, not an address: ValueError, and the password is never checked."""
    spy = Checker(True)
    with pytest.raises(ValueError):  # noqa: PT011 — any message will do
        login("203.0.113.5", email, spy)
    assert spy.calls == 0


@pytest.mark.parametrize("ip", ["", "testclient", "203.0.113.5, 10.0.0.1", "::1/128"])
def test_malformed_ip_is_a_value_error(login: Login, ip: str) -> None:
    """The ip must be one address (client_ip's answer), not a header value or a name."""
    spy = Checker(True)
    with pytest.raises(ValueError):  # noqa: PT011
        login(ip, "ada@example.com", spy)
    assert spy.calls == 0
