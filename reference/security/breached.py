"""Passwords per NIST SP 800-63B §3.1.1.2: length and a blocklist, no composition rules.

The pattern: a password is accepted when it is long enough (8 characters at least; up to 128, so a
passphrase fits and Argon2 is not handed megabytes), is not on a list of passwords known from
breaches, and is not the account's own e-mail or name. Composition rules ("an upper-case letter, a
digit") are what the guide's Zod schema has and what 800-63B §3.1.1.2 says not to impose:
``Password1`` passes them and is in every breach corpus, ``correct horse battery staple`` fails them.
Taught in ``notebooks/07_security_input.ipynb`` §3.

The list ships as data with the ``zxcvbn`` package (PyPI, Dropbox's strength estimator): its
``passwords`` frequency list holds the 30,000 most common passwords of leaked corpora, lower-cased.
It is loaded once, offline. The online alternative, Have I Been Pwned's range API, is
k-anonymous (the client sends the first 5 hex digits of the SHA-1 and compares the suffixes it gets
back); :class:`Blocklist` is the seam where such a checker would plug in.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from typing import Protocol

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

MIN_LENGTH = 8  # 800-63B: at least 8 characters for a memorized secret chosen by the user
MAX_LENGTH = 128  # 800-63B asks for at least 64; 128 keeps passphrases and bounds hashing work


class Blocklist(Protocol):
    def __contains__(self, password: object, /) -> bool: ...


@functools.cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's list of the 30,000 most common breached passwords (lower-case)."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def fold(password: str) -> str:
    """The form compared with the list: NFKC (800-63B §5.1.1.2 asks for it) and case-folded."""
    return unicodedata.normalize("NFKC", password).casefold()


def is_breached(password: str, blocklist: Blocklist | None = None) -> bool:
    """Whether ``password`` (any case, any Unicode compatibility form) is on the blocklist."""
    return fold(password) in (common_passwords() if blocklist is None else blocklist)


def password_problems(
    password: str, *, context: Iterable[str] = (), blocklist: Blocklist | None = None
) -> list[str]:
    """Why ``password`` is refused (empty: it is acceptable). ``context``: the account's e-mail,
    name … — 800-63B lists context-specific words beside breached ones."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"is shorter than {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"is longer than {MAX_LENGTH} characters")
    if "\x00" in password:
        problems.append("contains a NUL character")
    if is_breached(password, blocklist):
        problems.append("is a common password (it appears in breached-password lists)")
    folded = fold(password)
    for word in context:
        if word and fold(word) in folded and len(word) >= 4:
            problems.append("contains your e-mail address or name")
            break
    return problems
