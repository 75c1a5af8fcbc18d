"""Configuration that refuses placeholder secrets outside development, and never shows a secret.

The pattern (taught in ``notebooks/07_security_passwords.ipynb`` §5): the guide reads
``process.env.JWT_SECRET`` and friends and uses whatever is there — ``.env.example``'s
``your-secret-key`` included. Here the settings fail closed: the environment defaults to
``production``; outside ``development``/``test`` a secret must be set, at least 32 bytes, not a known
placeholder and not one repeated character class (``aaaa…``). Secrets are ``SecretStr``: their
``repr``/``str``, log lines and validation errors show ``**********``, never the value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, model_validator

Environment = Literal["development", "test", "staging", "production"]
RELAXED: frozenset[str] = frozenset({"development", "test"})
MIN_SECRET_BYTES = 32
MIN_DISTINCT_CHARACTERS = 10
# Words that mark a value copied from an example file or a tutorial; matched inside the secret, so
# "your-secret-key-here-change-me-in-production" is refused as well as "changeme".
PLACEHOLDER_WORDS: tuple[str, ...] = (
    "changeme", "change-me", "change_me", "replace", "your-", "your_", "example", "placeholder",
    "secret", "password", "default", "todo", "xxxx", "1234",
)  # fmt: skip


class SecretsError(ValueError):
    """The configuration is unusable; the message names the variable, never its value."""


def weakness(value: str) -> str | None:
    """Why ``value`` is no production secret, or ``None``."""
    lowered = value.lower()
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"shorter than {MIN_SECRET_BYTES} bytes"
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return "a placeholder from an example or tutorial"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"fewer than {MIN_DISTINCT_CHARACTERS} distinct characters"
    return None


class SecuritySettings(BaseModel):
    # hide_input_in_errors: a ValidationError would otherwise print the offending input — the secret.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    environment: Environment = "production"
    jwt_secret: SecretStr

    @model_validator(mode="after")
    def _strong_outside_development(self) -> Self:
        if self.environment not in RELAXED:
            reason = weakness(self.jwt_secret.get_secret_value())
            if reason is not None:
                raise ValueError(f"JWT_SECRET is {reason} (environment {self.environment})")
        return self


def load_settings(environ: Mapping[str, str] | None = None) -> SecuritySettings:
    """Settings from ``APP_ENV`` and ``JWT_SECRET``; :class:`SecretsError` when unusable."""
    env = os.environ if environ is None else environ
    environment = env.get("APP_ENV", "production")
    secret = env.get("JWT_SECRET")
    if secret is None:
        raise SecretsError(f"JWT_SECRET is not set (environment {environment})")
    try:
        return SecuritySettings.model_validate({"environment": environment, "jwt_secret": secret})
    except ValidationError as error:
        # hide_input_in_errors keeps the value out; the message keeps the reason.
        reasons = "; ".join(str(e["msg"]) for e in error.errors())
        raise SecretsError(reasons) from None
