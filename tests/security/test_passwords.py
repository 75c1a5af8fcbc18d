"""reference/security/passwords.py: verify_and_upgrade, the dummy verify, the concurrency bound and
the login flow on Redis (fixes of guide-defects.md §7.3, shown failing in test_passwords_guide.py)."""

from __future__ import annotations

import threading
import time
from typing import Literal

import pytest
import redis
from argon2 import PasswordHasher, extract_parameters

from reference.security.passwords import (
    PasswordWorkers,
    RedisAccounts,
    dummy_hash,
    login,
    verify_and_upgrade,
)

CURRENT = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)
OLD = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class SpyHasher(PasswordHasher):
    """The current parameters; records each ``verify``'s hash, and can hold calls on ``gate``."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        super().__init__(time_cost=2, memory_cost=1024, parallelism=1)
        self.verified: list[str] = []
        self.gate = gate
        self._lock = threading.Lock()
        self.active = 0
        self.max_active = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._lock:
            self.verified.append(hash if isinstance(hash, str) else hash.decode())
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.gate is not None:
                assert self.gate.wait(timeout=30), "the test never opened the gate"
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.active -= 1


def _eventually(condition: object, what: str) -> None:
    deadline = time.monotonic() + 30  # an upper bound on a hang, not a timing assertion
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def test_current_hash_verifies_without_upgrade() -> None:
    stored = CURRENT.hash("correct horse")
    assert verify_and_upgrade(stored, "correct horse", CURRENT) == (True, None)
    assert verify_and_upgrade(stored, "wrong", CURRENT) == (False, None)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=1024,t=2,p=1$@@@$@@@",  # bad base64
        "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ",  # truncated
        "$2b$12$KIXQJQ9Xb1Q3yq1nQ3yq1uKIXQJQ9Xb1Q3yq1nQ3yq1uKIXQJQ9Xb",  # bcrypt
        "$argon2id$v=19$m=1024,t=2,p=1$\x00$\x00",
        "$argon2id$v=19$m=1024,t=2,p=1$ü$é",
    ],
)
def test_a_corrupted_hash_is_a_refusal_not_an_error(stored: str) -> None:
    """Fixed: the guide raises (test_guide_raises_on_a_malformed_hash)."""
    assert verify_and_upgrade(stored, "pw", CURRENT) == (False, None)


@pytest.mark.parametrize(
    "params", ["m=1024,t=4294967295,p=1", "m=4194304,t=2,p=1", "m=1024,t=2,p=255"]
)
def test_a_hash_beyond_the_cost_ceiling_is_refused_without_running_it(params: str) -> None:
    """A corrupted or planted row with t=2³²-1 would hold the worker for ever (m=4 GiB would
    allocate it): refused, after one dummy verify at the current cost, like an unknown account."""
    stored = f"$argon2id$v=19${params}$c29tZXNhbHRzb21lc2FsdA$7ZU3n6U4Z9TxrE1FeSG2vYYnvx2GlpLsZcP2xBnnBMg"
    spy = SpyHasher()
    assert verify_and_upgrade(stored, "pw", spy) == (False, None)
    assert spy.verified == [dummy_hash(spy)]


def test_a_stronger_hash_within_the_ceiling_still_verifies() -> None:
    stronger = PasswordHasher(time_cost=4, memory_cost=2048, parallelism=2).hash("pw")
    assert verify_and_upgrade(stronger, "pw", CURRENT)[0] is True


def test_an_old_hash_is_upgraded_at_login_once() -> None:
    """Fixed: the guide keeps t=1 hashes for ever (test_guide_never_upgrades_an_old_hash)."""
    old = OLD.hash("pw")
    assert verify_and_upgrade(old, "wrong", CURRENT) == (False, None), "no upgrade on a failure"
    ok, new = verify_and_upgrade(old, "pw", CURRENT)
    assert ok
    assert new is not None
    assert extract_parameters(new) == extract_parameters(CURRENT.hash("x"))
    assert verify_and_upgrade(new, "pw", CURRENT) == (True, None), "upgraded once, not every login"


def test_an_unknown_account_costs_one_verify_with_current_parameters() -> None:
    """Fixed: the guide skips Argon2 for unknown e-mails (test_guide_skips_argon2_for_unknown_accounts)."""
    spy = SpyHasher()
    assert verify_and_upgrade(None, "pw", spy) == (False, None)
    assert len(spy.verified) == 1
    assert extract_parameters(spy.verified[0]) == extract_parameters(spy.hash("x"))
    assert dummy_hash(spy) == spy.verified[0], "the dummy hash is made once, not per login"


@pytest.mark.parametrize("password", ["\ud800", "a\x00b", "p" * 100_000, ""])
def test_hostile_passwords_hash_and_verify(password: str) -> None:
    """A lone surrogate (valid JSON "\\ud800") would raise UnicodeEncodeError in argon2-cffi."""
    workers = PasswordWorkers(1, CURRENT)
    stored = workers.hash(password)
    assert workers.verify_and_upgrade(stored, password) == (True, None)
    assert workers.verify_and_upgrade(stored, password + "x") == (False, None)
    assert verify_and_upgrade(None, password, CURRENT) == (False, None)


def test_workers_bound_concurrent_argon2() -> None:
    """Fixed: the guide runs every login at once (test_guide_runs_every_login_at_once). Five logins
    on two workers: two are inside Argon2, three wait; none of the three gets in before a slot frees."""
    gate = threading.Event()
    spy = SpyHasher(gate)
    workers = PasswordWorkers(2, spy)
    stored = CURRENT.hash("pw")
    results: list[tuple[bool, str | None]] = []
    threads = [
        threading.Thread(target=lambda: results.append(workers.verify_and_upgrade(stored, "pw")))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    _eventually(lambda: workers.running == 2 and workers.queued == 3, "2 running, 3 queued")
    assert spy.active == 2
    gate.set()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [(True, None)] * 5
    assert spy.max_active == 2
    assert (workers.running, workers.queued) == (0, 0)


def test_workers_refuse_a_zero_limit() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        PasswordWorkers(0)


def test_login_on_redis_upgrades_and_refuses(redis_client: redis.Redis, redis_prefix: str) -> None:
    accounts = RedisAccounts(redis_client, redis_prefix + "accounts")
    accounts.add("a@x.com", OLD.hash("pw"))
    workers = PasswordWorkers(2, CURRENT)
    assert login(accounts, workers, "a@x.com", "wrong") is False
    assert extract_parameters(str(accounts.password_hash("a@x.com"))).time_cost == 1
    assert login(accounts, workers, "a@x.com", "pw") is True
    upgraded = str(accounts.password_hash("a@x.com"))
    assert extract_parameters(upgraded).time_cost == 2
    assert login(accounts, workers, "a@x.com", "pw") is True
    assert redis_client.hget(redis_prefix + "accounts", "a@x.com") == upgraded
    assert login(accounts, workers, "nobody@x.com", "pw") is False


def test_upgrade_does_not_overwrite_a_password_changed_meanwhile(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    """The upgrade is a compare-and-set: a password reset between lookup and store wins."""
    accounts = RedisAccounts(redis_client, redis_prefix + "accounts")
    old = OLD.hash("pw")
    accounts.add("a@x.com", old)
    reset = CURRENT.hash("new password")
    accounts.add("a@x.com", reset)  # the reset lands after login read `old`
    assert accounts.replace_hash("a@x.com", old, CURRENT.hash("pw")) is False
    assert redis_client.hget(redis_prefix + "accounts", "a@x.com") == reset
