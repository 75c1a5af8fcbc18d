"""Decoy for 07.5: hashes a fresh dummy on every unknown-account login (twice the work: the
leak the other way round). Caught by test_the_dummy_hash_is_made_once."""

from __future__ import annotations

import contextlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_DUMMIES: dict[tuple[object, ...], str] = {}


def dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_bytes(16))


def verify_and_upgrade(
    stored: str | None, password: str, hasher: PasswordHasher
) -> tuple[bool, str | None]:
    secret = password.encode("utf-8", "surrogatepass")
    if stored is None:
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy_hash(hasher), secret)
        return False, None
    try:
        hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False, None
    return True, hasher.hash(secret) if hasher.check_needs_rehash(stored) else None
