"""NIST 800-63B password checks: the shipped breached list, folding, length and context."""

from __future__ import annotations

import pytest

from reference.security.breached import (
    MAX_LENGTH,
    common_passwords,
    is_breached,
    password_problems,
)


def test_the_shipped_list_is_zxcvbns_30000_common_passwords() -> None:
    passwords = common_passwords()
    assert len(passwords) == 30_000
    assert {"123456", "password", "qwerty"} <= passwords


@pytest.mark.parametrize(
    "password", ["Password1", "PASSWORD123", "qwertyuiop", "ｐａｓｓｗｏｒｄ１２３", "Iloveyou"]
)
def test_breached_passwords_are_found_in_any_case_and_compatibility_form(password: str) -> None:
    assert is_breached(password)
    assert password_problems(password)


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "tr0ub4dor&3 but longer", "ünïcödé pässwörd"]
)
def test_passphrases_without_composition_pass(password: str) -> None:
    assert password_problems(password) == []


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "shorter than 8"),
        ("x" * (MAX_LENGTH + 1), "longer than 128"),
        ("nul\x00inside the password", "NUL"),
    ],
)
def test_length_and_nul_are_refused(password: str, problem: str) -> None:
    assert any(problem in p for p in password_problems(password))


def test_a_password_holding_the_accounts_own_email_or_name_is_refused() -> None:
    context = ("kim.minsu@example.test", "kim.minsu", "Minsu Kim")
    assert password_problems("KIM.MINSU@example.test!", context=context)
    assert password_problems("my name is minsu kim", context=context)
    assert password_problems("a different passphrase entirely", context=context) == []


def test_another_blocklist_plugs_in() -> None:
    assert is_breached("Hunter2-is-mine", blocklist=frozenset({"hunter2-is-mine"}))
    assert not is_breached("Password1", blocklist=frozenset())
