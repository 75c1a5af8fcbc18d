"""Password verification that never fails open, never leaks which accounts exist, and upgrades old
hashes — argon2id on top of chapter 03's ``reference/auth/passwords.py``.

The pattern (taught in ``notebooks/07_security_passwords.ipynb``; fixes guide-defects.md §7.3):

- :func:`verify_and_upgrade` — a malformed or corrupted stored hash is a refusal (``False``), never an
  exception (a 500); a successful login against a hash made with older parameters returns a new hash
  made with the current ones (the only moment the plaintext is there); an unknown account (``None``)
  still runs one Argon2 verification, against a dummy hash with the *current* parameters, so the
  answer takes as long as for a real account with a wrong password;
- :class:`PasswordWorkers` — at most ``limit`` Argon2 computations at once (each costs
  ``memory_cost`` KiB: 64 MiB by default), the others wait their turn instead of all allocating;
- :func:`login` — the flow a route calls: look up, verify under the bound, store an upgraded hash with
  a compare-and-set (a password changed meanwhile is not overwritten), log the outcome — never the
  password nor the hash; :class:`RedisAccounts` keeps the hashes in Redis for the course.
"""

from __future__ import annotations

import logging
import secrets
import threading
from typing import Protocol

import redis
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError

from reference.auth.passwords import HASHER, check_password, hash_password

log = logging.getLogger(__name__)


def encode_password(password: str) -> bytes:
    """UTF-8 that also takes lone surrogates (JSON ``"\\ud800"`` decodes to one): hashing must not
    raise ``UnicodeEncodeError`` — a 500 — on a string the learner's framework accepted."""
    return password.encode("utf-8", "surrogatepass")


_DUMMIES: dict[str, str] = {}  # repr of the Parameters → dummy hash; a handful of entries at most


def dummy_hash(hasher: PasswordHasher = HASHER) -> str:
    """A hash of a random secret made with ``hasher``'s parameters (computed once per parameter set):
    verifying against it costs what verifying against a real, current hash costs."""
    key = f"{hasher.type}:{hasher.time_cost}:{hasher.memory_cost}:{hasher.parallelism}:{hasher.hash_len}:{hasher.salt_len}"
    if key not in _DUMMIES:  # a race here only computes the same kind of hash twice
        _DUMMIES[key] = hasher.hash(secrets.token_bytes(16))
    return _DUMMIES[key]


# A stored hash may cost at most this many times the current parameters: a corrupted (or planted) row
# with t=4294967295 would otherwise hold a worker for ever, m=8 GiB would allocate 8 GiB.
COST_CEILING = 4


def affordable(stored: str, hasher: PasswordHasher = HASHER) -> bool:
    """Whether verifying ``stored`` costs at most :data:`COST_CEILING` × ``hasher``'s parameters;
    an unparsable hash is affordable (argon2 refuses it without any work)."""
    try:
        params = extract_parameters(stored)
    except (InvalidHashError, ValueError):
        return True
    return (
        params.time_cost <= COST_CEILING * hasher.time_cost
        and params.memory_cost <= COST_CEILING * hasher.memory_cost
        and params.parallelism <= COST_CEILING * hasher.parallelism
    )


def verify_and_upgrade(
    stored: str | None, password: str, hasher: PasswordHasher = HASHER
) -> tuple[bool, str | None]:
    """``(ok, new_hash)``. ``stored`` is the account's hash, ``None`` when there is no such account.

    ``new_hash`` is set only when ``ok`` and ``stored`` was made with other parameters than
    ``hasher``'s. A corrupted ``stored`` is ``(False, None)``, and so is one whose parameters cost more
    than :data:`COST_CEILING` × the current ones (verified as an unknown account instead)."""
    secret = encode_password(password)
    if stored is not None and not affordable(stored, hasher):
        log.warning("stored password hash exceeds the cost ceiling; login refused")
        stored = None
    if stored is None:
        check_password(dummy_hash(hasher), secret, hasher)  # same work as a wrong password
        return False, None
    return check_password(stored, secret, hasher)


class PasswordWorkers:
    """At most ``limit`` Argon2 computations at once, for callers on many threads (a sync web app's
    worker pool). ``running`` and ``queued`` are observable so tests and dashboards see the queue."""

    def __init__(self, limit: int, hasher: PasswordHasher = HASHER) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.hasher = hasher
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.running = 0
        self.queued = 0

    def _count(self, running: int, queued: int) -> None:
        with self._lock:
            self.running += running
            self.queued += queued

    def verify_and_upgrade(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        self._count(0, 1)
        with self._slots:
            self._count(1, -1)
            try:
                return verify_and_upgrade(stored, password, self.hasher)
            finally:
                self._count(-1, 0)

    def hash(self, password: str) -> str:
        self._count(0, 1)
        with self._slots:
            self._count(1, -1)
            try:
                return hash_password(encode_password(password), self.hasher)
            finally:
                self._count(-1, 0)


class AccountStore(Protocol):
    def password_hash(self, email: str) -> str | None: ...

    def replace_hash(self, email: str, old: str, new: str) -> bool: ...


# Compare-and-set: the upgrade lands only if the hash is still the one that was verified.
_REPLACE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
"""


class RedisAccounts:
    """E-mail → password hash, one Redis hash (``key``); e-mails are expected canonical already."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self._client = client
        self._key = key

    def add(self, email: str, password_hash: str) -> None:
        self._client.hset(self._key, email, password_hash)

    def password_hash(self, email: str) -> str | None:
        value = self._client.hget(self._key, email)
        return None if value is None else str(value)

    def replace_hash(self, email: str, old: str, new: str) -> bool:
        return bool(self._client.eval(_REPLACE, 1, self._key, email, old, new))


def login(store: AccountStore, workers: PasswordWorkers, email: str, password: str) -> bool:
    """Verify a login: unknown accounts cost one dummy verification, old hashes are upgraded."""
    stored = store.password_hash(email)
    ok, new_hash = workers.verify_and_upgrade(stored, password)
    if ok and new_hash is not None and stored is not None:
        upgraded = store.replace_hash(email, stored, new_hash)
        log.info("password hash upgraded for %s: %s", email, upgraded)
    # One message for unknown account and wrong password: the log does not enumerate accounts either.
    log.info("login %s for %s", "succeeded" if ok else "failed", email)
    return ok
