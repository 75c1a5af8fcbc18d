"""Decoy for 07.4: the guide's .min(2).max(100).trim() — length checked on the raw name, stripped afterwards. Caught by test_name_is_stripped_before_its_length_is_checked."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from reference.api_design.schemas import normalize_email
from reference.security.breached import is_breached

MAX_EMAIL = 254
NAME_LENGTH = (2, 100)
PASSWORD_LENGTH = (8, 128)


def canonical_email(value: object) -> str:
    """The address in its one spelling: stripped, valid, lower-case."""
    if not isinstance(value, str):
        raise ValueError("an e-mail address is a string")
    text = value.strip()
    if len(text) > MAX_EMAIL:  # before parsing: a 10 kB string costs nothing
        raise ValueError(f"an e-mail address has at most {MAX_EMAIL} characters")
    return normalize_email(text).lower()


def clean_name(value: object) -> str:
    """The name stripped, then 2–100 printable characters."""
    if not isinstance(value, str):
        raise ValueError("a name is a string")
    low, high = NAME_LENGTH
    if not low <= len(value) <= high:
        raise ValueError(f"a name has {low}-{high} characters once surrounding spaces go")
    name = value.strip()
    if not name.isprintable():  # C0/C1 controls and Cf formatting (bidi overrides) are not
        raise ValueError("a name has no control or invisible formatting characters")
    return name


def check_password(value: object) -> str:
    """The password as sent: 8–128 characters, not a breached one."""
    if not isinstance(value, str):
        raise ValueError("a password is a string")
    low, high = PASSWORD_LENGTH
    if not low <= len(value) <= high:
        raise ValueError(f"a password has {low}-{high} characters")
    if is_breached(value):
        raise ValueError("this password is common in breached-password lists; choose another")
    return value


class CreateUser(BaseModel):
    """A sign-up body: three strings, cleaned and checked; anything else is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: Annotated[str, BeforeValidator(canonical_email)]
    name: Annotated[str, BeforeValidator(clean_name)]
    password: Annotated[str, BeforeValidator(check_password)]
