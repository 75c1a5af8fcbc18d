"""Decoy for 07.5: a hard-coded dummy hash made with cheap parameters (m=8, t=1): the dummy
verify answers faster than a real one. Caught by test_the_dummy_hash_has_the_current_parameters."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_DUMMIES: dict[tuple[object, ...], str] = {}


def dummy_hash(hasher: PasswordHasher) -> str:
    # argon2id, m=8 KiB, t=1: pasted from a tutorial, whatever the hasher's parameters.
    return "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$7ZU3n6U4Z9TxrE1FeSG2vYYnvx2GlpLsZcP2xBnnBMg"


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
