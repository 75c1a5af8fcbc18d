"""Taught in notebooks/07_security_passwords.ipynb §2.

Exercise 07.5: verify a login's password against the stored argon2id hash — never crash, upgrade old
hashes, and make unknown accounts cost the same as known ones.

The guide's ``PasswordService.verify`` is ``argon2.verify(hash, password)`` and nothing else: a
corrupted hash in the database raises (the route answers 500), a hash made years ago with ``t=1``
stays ``t=1`` for ever, and the caller returns early for an unknown e-mail — so a login for an
existing account takes one Argon2 computation longer, and the answer time tells an attacker which
e-mails have accounts.

Write :func:`verify_and_upgrade`, returning ``(ok, new_hash)``:

- ``stored`` is the account's hash; a wrong password is ``(False, None)``, the right one
  ``(True, None)``;
- a ``stored`` that is not a valid hash (empty, truncated, another algorithm, junk characters) is
  ``(False, None)``: no exception may escape;
- when the password is right and ``stored`` was made with other parameters than ``hasher``'s,
  ``new_hash`` is a fresh hash of the password made with ``hasher`` (the caller stores it); a hash
  already made with the current parameters is not hashed again;
- ``stored is None`` means there is no such account: still run exactly one ``hasher.verify``, against
  a hash made with ``hasher``'s current parameters (make it once and keep it — hashing a new one on
  every login would cost twice as much), then return ``(False, None)``;
- encode the password as UTF-8 with ``"surrogatepass"`` before hashing or verifying: a JSON body can
  carry a lone surrogate (``"\\ud800"``), which plain UTF-8 refuses with an exception.

Use ``hasher.verify``, ``hasher.check_needs_rehash`` and ``hasher.hash`` (argon2-cffi's
``PasswordHasher``; the grading passes one that counts its calls).
"""

from __future__ import annotations

import contextlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# dummy_hash's memory: one dummy hash per parameter set, made on first use.
_DUMMIES: dict[tuple[object, ...], str] = {}


def dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of a random secret made with ``hasher``'s parameters — the same one on every call with
    the same parameters."""
    key = (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len)
    if key not in _DUMMIES:
        _DUMMIES[key] = hasher.hash(secrets.token_bytes(16))
    return _DUMMIES[key]


def verify_and_upgrade(
    stored: str | None, password: str, hasher: PasswordHasher
) -> tuple[bool, str | None]:
    """``(ok, new_hash)`` — see the module docstring."""
    secret = password.encode("utf-8", "surrogatepass")
    if stored is None:
        # It never matches; the point is the time it took.
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy_hash(hasher), secret)
        return False, None
    try:
        hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        # UnicodeEncodeError: argon2-cffi encodes a str hash as ASCII; junk characters raise it.
        return False, None
    return True, hasher.hash(secret) if hasher.check_needs_rehash(stored) else None
