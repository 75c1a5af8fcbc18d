"""Decoy for 07.4: no isinstance check, so a dict or a number reaches .strip()/len() and raises AttributeError/TypeError — a 500, not a 422. Caught by test_operators_and_wrong_types_are_refused."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from reference.api_design.schemas import normalize_email
from reference.security.breached import is_breached

MAX_EMAIL = 254
NAME_LENGTH = (2, 100)
PASSWORD_LENGTH = (8, 128)


class CreateUser(BaseModel):
    """A sign-up body: three strings, cleaned and checked; anything else is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str
    name: str
    password: str

    @field_validator("email", mode="before")
    @classmethod
    def canonical_email(cls, value: Any) -> str:
        """The address in its one spelling: stripped, valid, lower-case."""
        text: str = value.strip()
        if len(text) > MAX_EMAIL:  # before parsing: a 10 kB string costs nothing
            raise ValueError(f"an e-mail address has at most {MAX_EMAIL} characters")
        return normalize_email(text).lower()

    @field_validator("name", mode="before")
    @classmethod
    def clean_name(cls, value: Any) -> str:
        """The name stripped, then 2–100 printable characters."""
        name: str = value.strip()
        low, high = NAME_LENGTH
        if not low <= len(name) <= high:
            raise ValueError(f"a name has {low}-{high} characters once surrounding spaces go")
        if not name.isprintable():  # C0/C1 controls and Cf formatting (bidi overrides) are not
            raise ValueError("a name has no control or invisible formatting characters")
        return name

    @field_validator("password", mode="before")
    @classmethod
    def check_password(cls, value: Any) -> str:
        """The password as sent: 8–128 characters, not a breached one."""
        password: str = value
        low, high = PASSWORD_LENGTH
        if not low <= len(password) <= high:
            raise ValueError(f"a password has {low}-{high} characters")
        if is_breached(password):
            raise ValueError("this password is common in breached-password lists; choose another")
        return password
