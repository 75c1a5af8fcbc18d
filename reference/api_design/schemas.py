"""Request and response models of the users resource: what goes in, what comes out.

The pattern: input models forbid unknown keys and bound every string; query parameters are a model
too, so ``page``/``limit`` arrive as bounded integers and ``sort`` is an allow-list (the guide passed
raw strings through, making ``sort=password_hash`` an oracle). Output models list their fields, so a
``password_hash`` can never ride along (the guide returned whole Prisma rows). Taught in
``notebooks/01_api_design_rest.ipynb``.

These models are the ONE user-input policy of the course: the REST app, the GraphQL schema, the
gRPC servicer and chapter 07's sign-up (``reference.security.validation.CreateUser`` is
:class:`UserCreate`) validate with them, so the same input gets the same answer from all four.
Every string is stripped first and measured after (the guide's Zod schema measured, then trimmed);
the models are strict (a number or an object where a string belongs is refused, never ``str()``-ed).

- **E-mail** (:func:`canonical_email`): stripped, at most 254 characters (checked before parsing),
  compatibility forms folded (NFKC: fullwidth ``ａ`` is ``a``, as UTS 46 already does for domains),
  RFC 5322 syntax (email-validator), the domain IDNA-decoded (``xn--exmple-cua.test`` and
  ``EXÄMPLE.test`` are both ``exämple.test``), then the whole address lower-cased: one spelling per
  account, so ``" A@X.COM"`` is the account ``a@x.com`` (409 / TAKEN / ALREADY_EXISTS), and the
  ``lower(email)`` unique index settles races. A trailing dot, however many, is refused. Reserved
  names (``.test``, ``.local`` …) pass: this API sends no mail.
- **Name**: stripped, then 2–100 characters with no control character (NUL, tab, newline, a bidi
  override …): ``"   a"`` and ``"    "`` are refused everywhere.
- **Password** (NIST SP 800-63B, :mod:`reference.security.breached`): 8–128 characters, not
  stripped, no NUL, no composition rules; refused when it is on the breached-password list or
  contains the account's e-mail or name. Lone surrogates (``"\ud800"`` in JSON) are refused by
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
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from reference.databases.models import OrderStatus, UserRole, UserStatus
from reference.security.breached import MAX_LENGTH, MIN_LENGTH, password_problems

MAX_LIMIT = 100
MAX_PAGE = 1_000_000  # offset pagination past a million pages is a scan; keep OFFSET in range
SORT_KEYS = ("created_at", "-created_at", "email", "-email", "name", "-name")
SortKey = Literal["created_at", "-created_at", "email", "-email", "name", "-name"]
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# Control characters (C0, DEL, C1) and the bidi embeddings/overrides/isolates, which make a name
# display other than it reads ("evil\u202egnp.exe" shows as "evilexe.png").
_CONTROLS = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}]")
# What Name enforces, for the spec: no such character, and two non-space ones at least (then
# the stripped name, from the first to the last of them, has two characters or more).
_SOLID = f"[^\\s{_CONTROLS}]"
NAME_PATTERN = f"^[^{_CONTROLS}]*{_SOLID}[^{_CONTROLS}]*{_SOLID}[^{_CONTROLS}]*$"
MAX_EMAIL = 254  # RFC 5321's path limit less the angle brackets


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


def canonical_email(value: str) -> str:
    """The one spelling of an account's address: stripped, NFKC, valid, lower-case.

    ``ValueError`` when it is not an address (including anything over 254 characters, checked
    before any parsing so a 10 kB string costs nothing).
    """
    stripped = value.strip()
    if len(stripped) > MAX_EMAIL:
        raise ValueError(f"an e-mail address has at most {MAX_EMAIL} characters")
    return normalize_email(stripped).lower()


def _no_controls(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("a name may not contain control characters (NUL, tab, bidi override …)")
    return value


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


# The length is canonical_email's to check, after stripping; the spec states it for clients.
Email = Annotated[
    str,
    Field(json_schema_extra={"format": "email", "maxLength": MAX_EMAIL}),
    AfterValidator(canonical_email),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=100),
    Field(json_schema_extra={"pattern": NAME_PATTERN}),
    AfterValidator(_no_controls),
]
# Never in a repr or a log line (a model printed in a traceback must not carry the password).
Password = Annotated[
    str,
    StringConstraints(min_length=MIN_LENGTH, max_length=MAX_LENGTH, pattern=r"^[^\x00]+$"),
    Field(repr=False),
]
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


# Input models: unknown keys refused, no coercion, immutable once checked.
_INPUT = ConfigDict(strict=True, extra="forbid", frozen=True)


class UserCreate(BaseModel):
    """A new account (POST /users, createUser, CreateUser, chapter 07's sign-up)."""

    model_config = _INPUT

    email: Email
    name: Name
    password: Password

    @field_validator("password")
    @classmethod
    def _not_breached(cls, password: str, info: ValidationInfo) -> str:
        # email and name are declared first, so info.data holds them when they were valid.
        email = str(info.data.get("email", ""))
        context = (email, email.partition("@")[0], str(info.data.get("name", "")))
        problems = password_problems(password, context=context)
        if problems:
            raise ValueError("the password " + "; ".join(problems))
        return password


class UserReplace(BaseModel):
    """PUT: the full set of fields a caller may change."""

    model_config = _INPUT

    email: Email
    name: Name


class UserPatch(BaseModel):
    """PATCH: any subset of the PUT fields; an explicit ``null`` is refused, not stored."""

    model_config = _INPUT

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
