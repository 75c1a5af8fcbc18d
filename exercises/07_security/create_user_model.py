"""Taught in notebooks/07_security_input.ipynb §1.

Exercise 07.4: a sign-up model that strips before it checks, and refuses instead of coercing.

The guide's Zod schema ``name: z.string().min(2).max(100).trim()`` checks the length of the raw
string and trims afterwards, so ``"   a"`` is stored as ``"a"`` and ``"    "`` as ``""``; its
password rules are composition regexes (``Password1`` passes, ``correct horse battery staple``
does not), the opposite of NIST SP 800-63B. Write the three functions that ``CreateUser``
runs as before-validators; each receives the raw JSON value (a string, or anything else a client
sent) and returns the clean string or raises ``ValueError`` (pydantic turns it into a 422):

* ``canonical_email``: a ``str`` only (a dict such as ``{"$ne": null}`` is a MongoDB operator, a
  number is not an address: refuse both, never ``str()`` them); strip surrounding whitespace; at
  most 254 characters; a valid address (``normalize_email`` from
  ``reference.api_design.schemas`` checks the syntax and folds compatibility forms); then the whole
  address lower-case — ``" A@X.COM"`` is the account ``a@x.com``.
* ``clean_name``: a ``str`` only; strip first, THEN check 2–100 characters; no control or
  invisible formatting character (NUL, tab, newline, a bidi override such as ``\u202e``).
* ``check_password``: a ``str`` only; 8–128 characters (not stripped: spaces are part of a
  passphrase); no composition rules; refused when it is a commonly breached password
  (``is_breached`` from ``reference.security.breached`` checks zxcvbn's 30,000-entry list).

Unknown keys (``"role": "admin"``) are already refused by ``extra="forbid"``. The grader also
signs users up through ``reference.security.validation.create_signup_app(…, model=CreateUser)``
on PostgreSQL: ``" A@X.COM"`` after ``a@x.com`` must be a 409, and what is stored is canonical.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

MAX_EMAIL = 254
NAME_LENGTH = (2, 100)
PASSWORD_LENGTH = (8, 128)


def canonical_email(value: object) -> str:
    """The address in its one spelling: stripped, valid, lower-case."""
    # TODO: refuse a non-str, strip, bound the length, normalize_email(...), then .lower().
    raise NotImplementedError


def clean_name(value: object) -> str:
    """The name stripped, then 2–100 printable characters."""
    # TODO: refuse a non-str, strip FIRST, then check the length and the characters.
    raise NotImplementedError


def check_password(value: object) -> str:
    """The password as sent: 8–128 characters, not a breached one."""
    # TODO: refuse a non-str, check the length bounds, then is_breached(value).
    raise NotImplementedError


class CreateUser(BaseModel):
    """A sign-up body: three strings, cleaned and checked; anything else is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: Annotated[str, BeforeValidator(canonical_email)]
    name: Annotated[str, BeforeValidator(clean_name)]
    password: Annotated[str, BeforeValidator(check_password)]
