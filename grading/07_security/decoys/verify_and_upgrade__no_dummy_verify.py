"""Decoy for 07.5: returns at once for an unknown account (the guide's caller) — timing tells.
Caught by test_an_unknown_account_still_verifies_once (the spy counts no verify)."""

from __future__ import annotations

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
    secret = password.encode("utf-8", "surrogatepass")
    if stored is None:
        return False, None
    try:
        hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False, None
    return True, hasher.hash(secret) if hasher.check_needs_rehash(stored) else None
