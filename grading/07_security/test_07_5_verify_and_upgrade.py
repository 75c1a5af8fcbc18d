"""Grading for exercise 07.5: verify, upgrade, dummy-verify (exercises/07_security/verify_and_upgrade.py).

Cheap Argon2 parameters keep the run fast; what is graded is which calls reach the hasher and what
comes back, never the learner's source."""

from __future__ import annotations

from types import ModuleType
from typing import Literal

import pytest
from argon2 import PasswordHasher, extract_parameters

OLD = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CURRENT = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)  # the spy's parameters


class SpyHasher(PasswordHasher):
    """The "current" parameters (t=2); remembers every hash ``verify`` was given and counts ``hash``."""

    def __init__(self) -> None:
        super().__init__(time_cost=2, memory_cost=1024, parallelism=1)
        self.verified: list[str] = []
        self.hashed = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(hash if isinstance(hash, str) else hash.decode("ascii", "replace"))
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        return super().hash(password, salt=salt)


@pytest.fixture
def spy() -> SpyHasher:
    return SpyHasher()


def test_right_and_wrong_password(exercise: ModuleType, spy: SpyHasher) -> None:
    """A current hash: the right password is (True, None), a wrong one (False, None). Verify with
    hasher.verify — a fresh hash never equals the stored one (each has its own random salt)."""
    stored = CURRENT.hash("correct horse")
    assert exercise.verify_and_upgrade(stored, "correct horse", spy) == (True, None)
    assert exercise.verify_and_upgrade(stored, "Correct horse", spy) == (False, None)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=1024,t=2,p=1$@@@$@@@",
        "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ",
        "$2b$12$KIXQJQ9Xb1Q3yq1nQ3yq1uKIXQJQ9Xb1Q3yq1nQ3yq1uKIXQJQ9Xb",
        "$argon2id$v=19$m=1024,t=2,p=1$ü$é",
    ],
    ids=["empty", "text", "bad-base64", "truncated", "bcrypt", "non-ascii"],
)
def test_a_corrupted_hash_is_false_not_an_exception(
    exercise: ModuleType, spy: SpyHasher, stored: str
) -> None:
    """A stored hash that is not valid (empty, cut off, another algorithm, junk characters) must be
    a refused login, (False, None) — an exception here is a 500 on the login route. argon2-cffi
    raises InvalidHashError, VerificationError, or (junk characters) UnicodeEncodeError."""
    assert exercise.verify_and_upgrade(stored, "pw", spy) == (False, None)


def test_an_old_hash_is_upgraded(exercise: ModuleType, spy: SpyHasher) -> None:
    """A hash made with t=1 and the right password: (True, new_hash), new_hash made with the
    hasher's current parameters and verifying the same password."""
    ok, new_hash = exercise.verify_and_upgrade(OLD.hash("pw"), "pw", spy)
    assert ok is True
    assert new_hash is not None, "an old (t=1) hash must be replaced at login"
    assert extract_parameters(new_hash) == extract_parameters(CURRENT.hash("x"))
    PasswordHasher().verify(new_hash, "pw")


def test_a_wrong_password_never_upgrades(exercise: ModuleType, spy: SpyHasher) -> None:
    """Only a successful login may rehash: the password is only known to be right then."""
    assert exercise.verify_and_upgrade(OLD.hash("pw"), "wrong", spy) == (False, None)


def test_a_current_hash_is_not_rehashed(exercise: ModuleType, spy: SpyHasher) -> None:
    """A hash already made with the current parameters stays: (True, None) and no hasher.hash call
    (rehashing on every login doubles its cost and rewrites the row each time)."""
    stored = CURRENT.hash("pw")
    assert exercise.verify_and_upgrade(stored, "pw", spy) == (True, None)
    assert spy.hashed == 0


def test_an_unknown_account_still_verifies_once(exercise: ModuleType, spy: SpyHasher) -> None:
    """stored None (no such account) is (False, None) after exactly one hasher.verify — without it
    the answer comes one Argon2 computation sooner, and timing tells which e-mails exist."""
    assert exercise.verify_and_upgrade(None, "pw", spy) == (False, None)
    assert len(spy.verified) == 1, f"hasher.verify was called {len(spy.verified)} times, not once"


def test_the_dummy_hash_has_the_current_parameters(exercise: ModuleType, spy: SpyHasher) -> None:
    """The dummy verify must cost what a real one costs: its hash is made with the hasher's
    parameters (a hard-coded hash with other memory/time costs answers faster or slower)."""
    exercise.verify_and_upgrade(None, "pw", spy)
    assert spy.verified, "no hasher.verify for the unknown account"
    assert extract_parameters(spy.verified[0]) == extract_parameters(CURRENT.hash("x"))


def test_the_dummy_hash_is_made_once(exercise: ModuleType, spy: SpyHasher) -> None:
    """Ten unknown-account logins hash at most once (the dummy hash is kept): hashing a fresh dummy
    per login makes unknown accounts twice as slow — the leak again, the other way round."""
    for _ in range(10):
        assert exercise.verify_and_upgrade(None, "pw", spy) == (False, None)
    assert spy.hashed <= 1, f"hasher.hash was called {spy.hashed} times for 10 logins"
    assert len(spy.verified) == 10


def test_a_lone_surrogate_password(exercise: ModuleType, spy: SpyHasher) -> None:
    """ "\\ud800" (valid JSON) must not raise: encoded with "surrogatepass" it verifies against a hash
    of the same bytes, and is refused for an unknown account."""
    typed = "pw\ud800"
    stored = CURRENT.hash(typed.encode("utf-8", "surrogatepass"))
    assert exercise.verify_and_upgrade(stored, typed, spy) == (True, None)
    assert exercise.verify_and_upgrade(stored, "pw", spy) == (False, None)
    assert exercise.verify_and_upgrade(None, typed, spy) == (False, None)
