"""Request and response models of the users resource: what goes in, what comes out.

The pattern: input models forbid unknown keys and bound every string (and refuse NUL, which
PostgreSQL cannot store — otherwise a fuzzer finds a 500); query parameters are a model too, so
``page``/``limit`` arrive as bounded integers and ``sort`` is an allow-list (the guide passed raw
strings through, making ``sort=password_hash`` an oracle). Output models list their fields, so a
``password_hash`` can never ride along (the guide returned whole Prisma rows). Taught in
``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import email_validator
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from reference.databases.models import OrderStatus, UserRole, UserStatus

MAX_LIMIT = 100
MAX_PAGE = 1_000_000  # offset pagination past a million pages is a scan; keep OFFSET in range
SORT_KEYS = ("created_at", "-created_at", "email", "-email", "name", "-name")
SortKey = Literal["created_at", "-created_at", "email", "-email", "name", "-name"]


def _email(value: str) -> str:
    """Syntax-check an address (RFC 5322 via email-validator); return it with the domain normalised.

    Reserved names (``.test``, ``.local``, ``.arpa`` …) pass: this API sends no mail, and the spec's
    ``format: email`` promises syntax, not deliverability — otherwise schemathesis rightly reports
    schema-valid requests rejected.
    """
    candidate = value
    for reserved in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        if value.lower().rstrip(".").endswith("." + reserved):
            candidate = value.rstrip(".")[: -len(reserved)] + "com"
            break
    try:
        validated = email_validator.validate_email(candidate, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        raise ValueError(f"not a valid e-mail address: {error}") from None
    local = validated.local_part if candidate == value else value.rpartition("@")[0]
    domain = validated.domain if candidate == value else value.rpartition("@")[2].lower()
    return f"{local}@{domain}"


Email = Annotated[
    str, Field(max_length=254, json_schema_extra={"format": "email"}), AfterValidator(_email)
]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00]+$")]
Password = Annotated[str, Field(min_length=8, max_length=128, pattern=r"^[^\x00]+$")]


class ListParams(BaseModel):
    """``GET /users`` query: bounded integers and an allow-listed sort key."""

    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number.")
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="Items per page, at most 100.")
    sort: SortKey = Field(
        "created_at", description="Sort key; a leading '-' sorts descending. Ties break on id."
    )


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Name
    password: Password


class UserReplace(BaseModel):
    """PUT: the full set of fields a caller may change."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Name


class UserPatch(BaseModel):
    """PATCH: any subset of the PUT fields; an explicit ``null`` is refused, not stored."""

    model_config = ConfigDict(extra="forbid")

    email: Email | SkipJsonSchema[None] = None
    name: Name | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _no_nulls(self) -> UserPatch:
        for key in self.model_fields_set:
            if getattr(self, key) is None:
                raise ValueError(f"{key} may be omitted but not null")
        return self


class Link(BaseModel):
    href: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    status: UserStatus
    role: UserRole
    created_at: datetime
    updated_at: datetime


class UserDocument(BaseModel):
    """One user and the actions the caller may take on it."""

    data: UserOut
    links: dict[str, Link]


class PageMeta(BaseModel):
    page: int
    limit: int
    total: int


class UserList(BaseModel):
    data: list[UserDocument]
    meta: PageMeta
    links: dict[str, Link]


class OrderOut(BaseModel):
    id: uuid.UUID
    status: OrderStatus
    total_cents: int
    created_at: datetime


class OrderList(BaseModel):
    data: list[OrderOut]
    meta: PageMeta
    links: dict[str, Link]


class ApiRoot(BaseModel):
    links: dict[str, Link]


def user_out(row: Any) -> UserOut:
    """Build the public view of a ``User`` row — the one place fields are chosen."""
    return UserOut.model_validate(row, from_attributes=True)
