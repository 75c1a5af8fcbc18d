"""Port of the guide's Zod schema and ``validate()`` (section "입력 검증 (Zod)").

Defects kept: a validation failure answers **400** ``{"error": "Validation failed", "details": …}``
although the guide's own status table says 422, and the shape is one of the guide's three ad-hoc
error bodies. The routes call ``validateBody``, which the guide never defines; ``validate`` is the
only validator it has, so the port's routes use that. ``updateUserSchema``/``patchUserSchema`` are
never defined either; the port uses the closest reading (PUT: email and name; PATCH: either).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, EmailStr, Field, ValidationError, field_validator


class CreateUserSchema(BaseModel):
    """``z.object({email: z.string().email().max(255).toLowerCase(), password: …, name: …})``"""

    email: EmailStr = Field(max_length=255)
    password: str = Field(min_length=8, max_length=128)
    name: str = Field(min_length=2, max_length=100)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("password")
    @classmethod
    def _rules(cls, value: str) -> str:
        for pattern, message in (
            ("[A-Z]", "Must contain uppercase"),
            ("[a-z]", "Must contain lowercase"),
            ("[0-9]", "Must contain number"),
        ):
            if not re.search(pattern, value):
                raise ValueError(message)
        return value

    @field_validator("name")
    @classmethod
    def _trim(cls, value: str) -> str:
        return value.strip()


class UpdateUserSchema(BaseModel):
    email: EmailStr
    name: str = Field(min_length=2, max_length=100)


class PatchUserSchema(BaseModel):
    email: EmailStr | None = None
    name: str | None = Field(default=None, min_length=2, max_length=100)


class ValidationFailed(Exception):
    def __init__(self, details: list[Any]) -> None:
        self.details = details


async def validate(schema: type[BaseModel], request: Request) -> dict[str, Any]:
    """``validate(schema)``: parse the body or fail with **400** (not the table's 422)."""
    try:
        payload = await request.json()
        return schema.model_validate(payload).model_dump(exclude_unset=True, mode="json")
    except ValidationError as error:
        details = error.errors(include_url=False, include_input=False, include_context=False)
        raise ValidationFailed(list(details)) from None
    except ValueError:
        raise ValidationFailed([{"msg": "body is not JSON"}]) from None


def validation_failed_response(error: ValidationFailed) -> JSONResponse:
    return JSONResponse({"error": "Validation failed", "details": error.details}, status_code=400)
