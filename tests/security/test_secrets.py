"""reference/security/secrets.py: placeholder secrets refused outside development; secrets and
passwords never reach a log line or an error message (a full login flow captured at DEBUG)."""

from __future__ import annotations

import logging

import jwt
import pytest
import redis
from argon2 import PasswordHasher

from reference.security.passwords import PasswordWorkers, RedisAccounts, login
from reference.security.secrets import SecretsError, load_settings

STRONG = "k7Qv9L2mXz8RtB4nWp6YcH1sJd3FgA5eUo0iKl_-"


@pytest.mark.parametrize(
    "secret",
    [
        "your-secret-key",  # .env.example
        "your-secret-key-here-change-me-in-production-please",
        "changeme-changeme-changeme-changeme",
        "a" * 64,
        "abababababababababababababababababab",
        "s" * 31,
        "",
    ],
)
@pytest.mark.parametrize("environment", ["production", "staging"])
def test_placeholders_are_refused_outside_development(secret: str, environment: str) -> None:
    with pytest.raises(SecretsError, match="JWT_SECRET") as error:
        load_settings({"APP_ENV": environment, "JWT_SECRET": secret})
    if secret:
        assert secret not in str(error.value), "the error must not quote the secret"


def test_the_environment_defaults_to_production() -> None:
    """Fail closed: a forgotten APP_ENV is production, so a placeholder is refused."""
    with pytest.raises(SecretsError):
        load_settings({"JWT_SECRET": "your-secret-key"})
    assert load_settings({"JWT_SECRET": STRONG}).environment == "production"


def test_development_accepts_a_placeholder() -> None:
    settings = load_settings({"APP_ENV": "development", "JWT_SECRET": "dev"})
    assert settings.jwt_secret.get_secret_value() == "dev"


@pytest.mark.parametrize("environ", [{}, {"APP_ENV": "development"}])
def test_a_missing_secret_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(SecretsError, match="not set"):
        load_settings(environ)


def test_an_unknown_environment_is_refused_without_echoing_the_secret() -> None:
    with pytest.raises(SecretsError) as error:
        load_settings({"APP_ENV": "prod", "JWT_SECRET": STRONG})
    assert STRONG not in str(error.value)
    assert STRONG not in repr(error.value.__context__)


def test_the_secret_is_masked_in_repr_and_str() -> None:
    settings = load_settings({"JWT_SECRET": STRONG})
    assert STRONG not in repr(settings)
    assert STRONG not in str(settings)
    assert STRONG not in str(settings.model_dump())


def test_a_full_login_flow_logs_neither_secret_nor_password(
    redis_client: redis.Redis, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Everything at DEBUG, every logger (redis, argon2, ours): the secret, the password and the
    stored hash appear in no record, formatted or as an argument."""
    password = "Tr0ub4dor&3-horse-battery"
    caplog.set_level(logging.DEBUG)
    settings = load_settings({"APP_ENV": "production", "JWT_SECRET": STRONG})
    logging.getLogger("app").debug("settings loaded: %r", settings)
    accounts = RedisAccounts(redis_client, redis_prefix + "accounts")
    old_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)
    accounts.add("a@x.com", old_hash)
    workers = PasswordWorkers(2, PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1))
    assert login(accounts, workers, "a@x.com", "wrong " + password) is False
    assert login(accounts, workers, "nobody@x.com", password) is False
    assert login(accounts, workers, "a@x.com", password) is True  # upgrades the hash
    token = jwt.encode(
        {"sub": "a@x.com"}, settings.jwt_secret.get_secret_value(), algorithm="HS256"
    )
    logging.getLogger("app").info("issued a session for %s", "a@x.com")
    new_hash = str(accounts.password_hash("a@x.com"))
    assert any("login succeeded" in r.getMessage() for r in caplog.records), "the flow did log"
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for secret in (STRONG, password, old_hash, new_hash, token):
        assert secret not in text
