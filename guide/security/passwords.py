"""The guide's ``PasswordService`` (보안 베스트 프랙티스 › 비밀번호 해싱 (Argon2)), ported from node-argon2 to
argon2-cffi — defects included.

Defects kept on purpose (guide-defects.md §7.3; each has a test in
``tests/security/test_passwords_guide.py`` and a fix in ``reference/security/passwords.py``):

- ``verify`` throws on a malformed stored hash (node-argon2 rejects the promise; argon2-cffi raises
  ``InvalidHashError``), so one corrupted row turns a login into a 500 instead of a refusal;
- no rehash: hashes made with older, weaker parameters (``t=1``) are verified and kept for ever;
- no dummy verify: the service only hashes, the caller looks the user up first, so a login for an
  unknown e-mail returns without any Argon2 work and its answer time tells which accounts exist;
- no bound on concurrency: every login runs a 64 MiB Argon2 computation at once (node-argon2 on the
  libuv pool, this port on the default executor), so N parallel logins need N × 64 MiB.

Liberties: node-argon2 resolves ``verify`` to ``false`` on a wrong password; argon2-cffi raises
``VerifyMismatchError``, which the port maps to ``False`` so only the malformed-hash defect remains.
node-argon2's defaults for the options the guide leaves out (parallelism 4, 32-byte hash, 16-byte
salt) are written out.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import VerifyMismatchError

# The guide's options (memoryCost is in KiB: 64 MiB) plus node-argon2's defaults for the rest.
GUIDE_HASHER = PasswordHasher(
    time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16, type=Type.ID
)


class PasswordService:
    """``hash`` and ``verify`` exactly as the guide writes them: no rehash, no bound, no dummy."""

    def __init__(self, hasher: PasswordHasher = GUIDE_HASHER) -> None:
        self._hasher = hasher

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password: str, hash: str) -> bool:  # the guide's parameter name
        try:
            return await asyncio.to_thread(self._hasher.verify, hash, password)
        except VerifyMismatchError:
            return False  # node-argon2's ``false``; InvalidHashError still escapes (the defect)


async def guide_login(service: PasswordService, stored_hash: str | None, password: str) -> bool:
    """How the guide's routes use the service: look the user up, verify only when found."""
    if stored_hash is None:
        return False
    return await service.verify(password, stored_hash)
