"""Decoy for 07.5: hashes the password and compares with == (a fresh salt never matches).
Caught by test_right_and_wrong_password."""

from __future__ import annotations

import contextlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

_DUMMIES: dict[tuple[object, ...], str] = {}


def dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len)
    if key not in _DUMMIES:
        _DUMMIES[key] = hasher.hash(secrets.token_bytes(16))
    return _DUMMIES[key]


def verify_and_upgrade(
    stored: str | None, password: str, hasher: PasswordHasher
) -> tuple[bool, str | None]:
    secret = password.encode("utf-8", "surrogatepass")
    if stored is None:
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy_hash(hasher), secret)
        return False, None
    if hasher.hash(secret) != stored:
        return False, None
    return True, hasher.hash(secret) if hasher.check_needs_rehash(stored) else None
