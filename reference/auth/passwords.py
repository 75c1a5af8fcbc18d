"""Password hashing with argon2id (argon2-cffi), rehashed on login when the parameters change.

The pattern: store only ``$argon2id$v=19$m=…,t=…,p=…$salt$hash``; verify in constant time; when a
login succeeds against a hash made with older (weaker) parameters, hash the password again with the
current ones — the only moment the plaintext is available. Chapter 07 goes deeper (peppers,
breached-password checks). Taught in ``notebooks/03_auth_tokens.ipynb``.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()  # argon2id with the library's current RFC 9106 defaults


def hash_password(password: str | bytes, hasher: PasswordHasher = HASHER) -> str:
    return hasher.hash(password)


def check_password(
    stored: str, password: str | bytes, hasher: PasswordHasher = HASHER
) -> tuple[bool, str | None]:
    """``(ok, new_hash)``: ``new_hash`` is set when ``ok`` and ``stored`` needs a rehash."""
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        # UnicodeEncodeError: a stored "hash" with non-ASCII characters (a corrupted row) — a refusal.
        return False, None
    return True, hasher.hash(password) if hasher.check_needs_rehash(stored) else None
