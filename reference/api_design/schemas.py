"""Request and response models of the users resource: what goes in, what comes out.

The pattern: input models forbid unknown keys and bound every string; query parameters are a model
too, so ``page``/``limit`` arrive as bounded integers and ``sort`` is an allow-list (the guide passed
raw strings through, making ``sort=password_hash`` an oracle). Output models list their fields, so a
``password_hash`` can never ride along (the guide returned whole Prisma rows). Taught in
``notebooks/01_api_design_rest.ipynb``.

These models are the ONE validation rule of chapter 01: the REST app, the GraphQL schema and the
gRPC servicer validate with them, so the same input gets the same answer from all three.

- **E-mail**: compatibility forms fold first (NFKC: fullwidth ``ａ`` is ``a``, as UTS 46 already
  does for domains), then RFC 5322 syntax (email-validator); the domain is stored in its one
  canonical form — IDNA-decoded, lowercase (``xn--exmple-cua.test`` and ``EXÄMPLE.test`` are both
  ``exämple.test``) — and the local part keeps its case (uniqueness is case-insensitive through the
  ``lower(email)`` index). A trailing dot, however many, is refused. Reserved names (``.test``,
  ``.local`` …) pass: this API sends no mail.
- **Name**: surrounding whitespace is stripped; what is left must be 1–100 characters with no
  control character (NUL, tab, newline, a bidi override …) — a name of three spaces is refused
  everywhere.
- **Password**: 8–128 characters, no NUL. Lone surrogates (``"\ud800"`` in JSON) are refused by
  pydantic for every string, before PostgreSQL or Argon2 could choke on them.
- **Ids**: a UUID is accepted only in its canonical text form (lowercase, hyphenated 8-4-4-4-12),
  the form every link carries; ``{…}``, ``urn:uuid:``, undashed or uppercase spellings are 422.
  Query integers likewise: plain decimal digits only (``page=+1``, ``page=1_0`` are 422).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import email_validator
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from reference.databases.models import OrderStatus, UserRole, UserStatus

MAX_LIMIT = 100
MAX_PAGE = 1_000_000  # offset pagination past a million pages is a scan; keep OFFSET in range
SORT_KEYS = ("created_at", "-created_at", "email", "-email", "name", "-name")
SortKey = Literal["created_at", "-created_at", "email", "-email", "name", "-name"]
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# Control characters (C0, DEL, C1) and the bidi embeddings/overrides/isolates, which make a name
# display other than it reads ("evil\u202egnp.exe" shows as "evilexe.png").
_CONTROLS = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}]")
# What _name enforces, for the spec: no such character, and one non-space at least.
NAME_PATTERN = f"^[^{_CONTROLS}]*[^\\s{_CONTROLS}][^{_CONTROLS}]*$"


# The last label of a domain that is reserved (RFC 6761), swapped for a neutral one while
# email-validator checks the syntax (it refuses reserved names as undeliverable), then put back.
_RESERVED_TLDS = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_NEUTRAL_TLD = "com"


def normalize_email(value: str) -> str:
    """The one stored spelling of an address; ``ValueError`` if it is not a valid one."""
    address = unicodedata.normalize("NFKC", value)
    local, _, domain = address.rpartition("@")
    head, dot, last = domain.rpartition(".")
    reserved = last.lower() if dot and last.lower() in _RESERVED_TLDS else None
    candidate = f"{local}@{head}.{_NEUTRAL_TLD}" if reserved else address
    try:
        validated = email_validator.validate_email(candidate, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        raise ValueError(f"not a valid e-mail address: {error}") from None
    canonical = validated.domain
    if reserved:
        canonical = canonical.removesuffix(_NEUTRAL_TLD) + reserved
    return f"{validated.local_part}@{canonical}"


def _name(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("a name may not contain control characters (NUL, tab, bidi override …)")
    stripped = value.strip()
    if not stripped:
        raise ValueError("a name may not be blank")
    return stripped


def _plain_decimal(value: object) -> object:
    # A query string is text, and pydantic's lax int also reads "+1", " 1 ", "01", "1_0" and "1.0":
    # one page would have several URLs (cache keys, logs). Only the spelling links carry is a number.
    if isinstance(value, str) and not re.fullmatch(r"0|[1-9][0-9]*", value):
        raise ValueError(
            "an integer in plain decimal digits (no sign, space, '_', leading 0 or fraction)"
        )
    return value


def _canonical_uuid(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(UUID_PATTERN, value):
        raise ValueError("a UUID in canonical form: lowercase, hyphenated 8-4-4-4-12")
    return value


Email = Annotated[
    str,
    Field(max_length=254, json_schema_extra={"format": "email"}),
    AfterValidator(normalize_email),
]
Name = Annotated[
    str,
    Field(min_length=1, max_length=100, json_schema_extra={"pattern": NAME_PATTERN}),
    AfterValidator(_name),
]
Password = Annotated[str, Field(min_length=8, max_length=128, pattern=r"^[^\x00]+$")]
QueryInt = Annotated[int, BeforeValidator(_plain_decimal)]
CanonicalUUID = Annotated[
    uuid.UUID,
    BeforeValidator(_canonical_uuid),
    Field(json_schema_extra={"pattern": UUID_PATTERN}),
]


class PageParams(BaseModel):
    """A paged list's query: bounded integers, nothing else."""

    model_config = ConfigDict(extra="forbid")

    page: QueryInt = Field(1, ge=1, le=MAX_PAGE, description="1-based page number.")
    limit: QueryInt = Field(20, ge=1, le=MAX_LIMIT, description="Items per page, at most 100.")


class ListParams(PageParams):
    """``GET /users`` query: bounded integers and an allow-listed sort key."""

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
