"""Decoy for 07.5: passes the str password on, so a lone surrogate raises UnicodeEncodeError.
Caught by test_a_lone_surrogate_password."""

from __future__ import annotations

import contextlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_DUMMIES: dict[tuple[object, ...], str] = {}


def dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len)
    if key not in _DUMMIES:
        _DUMMIES[key] = hasher.hash(secrets.token_bytes(16))
    return _DUMMIES[key]


def verify_and_upgrade(
    stored: str | None, password: str, hasher: PasswordHasher
) -> tuple[bool, str | None]:
    secret = password
    if stored is None:
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy_hash(hasher), secret)
        return False, None
    try:
        hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False, None
    return True, hasher.hash(secret) if hasher.check_needs_rehash(stored) else None
