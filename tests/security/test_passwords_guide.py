"""The guide's PasswordService (guide/security/passwords.py) shows each defect of guide-defects.md §7.3;
the fixes are tested in test_passwords.py."""

from __future__ import annotations

import asyncio
import threading
from typing import Literal

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from guide.security.passwords import GUIDE_HASHER, PasswordService, guide_login

FAST = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)
OLD = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class CountingHasher(PasswordHasher):
    """Counts ``verify`` calls, and (with ``barrier``) holds every call until ``parties`` are inside."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        super().__init__(time_cost=2, memory_cost=1024, parallelism=1)
        self.calls = 0
        self.barrier = barrier

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.calls += 1
        if self.barrier is not None:
            self.barrier.wait(timeout=30)  # raises BrokenBarrierError if they never all get in
        return super().verify(hash, password)


def test_the_guide_uses_its_documented_parameters() -> None:
    params = extract_parameters(GUIDE_HASHER.hash("x"))
    assert (params.memory_cost, params.time_cost, params.type.name) == (65536, 3, "ID")


def test_guide_verifies_right_and_wrong_passwords() -> None:
    service = PasswordService(FAST)
    stored = asyncio.run(service.hash("correct horse"))
    assert asyncio.run(service.verify("correct horse", stored)) is True
    assert asyncio.run(service.verify("wrong", stored)) is False


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=1024,t=2,p=1$@@@$@@@",
        "$argon2id$v=19$m=1024,t=2,p=1$ü$é",
    ],
)
def test_guide_raises_on_a_malformed_hash(stored: str) -> None:
    """Defect: a corrupted row is an exception (a 500 in the route), not a refused login."""
    with pytest.raises((InvalidHashError, VerificationError, UnicodeEncodeError)):
        asyncio.run(PasswordService(FAST).verify("pw", stored))


def test_guide_never_upgrades_an_old_hash() -> None:
    """Defect: a t=1 hash verifies and there is no way to get a current one back."""
    old = OLD.hash("pw")
    service = PasswordService(FAST)
    assert asyncio.run(service.verify("pw", old)) is True
    assert not hasattr(service, "needs_rehash")
    assert FAST.check_needs_rehash(old)


def test_guide_skips_argon2_for_unknown_accounts() -> None:
    """Defect: no dummy verify — an unknown e-mail costs no Argon2 work, so timing tells."""
    spy = CountingHasher()
    service = PasswordService(spy)
    stored = spy.hash("pw")
    assert asyncio.run(guide_login(service, stored, "wrong")) is False
    assert spy.calls == 1
    assert asyncio.run(guide_login(service, None, "wrong")) is False
    assert spy.calls == 1, "the unknown account did no verification at all"


def test_guide_runs_every_login_at_once() -> None:
    """Defect: no bound — five parallel logins are five Argon2 computations (5 × 64 MiB with the
    guide's parameters) at the same moment; the barrier only opens when all five are inside."""
    spy = CountingHasher(threading.Barrier(5))
    service = PasswordService(spy)
    stored = spy.hash("pw")

    async def five() -> list[bool]:
        return await asyncio.gather(*(service.verify("pw", stored) for _ in range(5)))

    assert asyncio.run(five()) == [True] * 5
