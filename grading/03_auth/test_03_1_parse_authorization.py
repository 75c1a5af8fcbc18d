"""Grading for exercise 03.1: RFC 6750 bearer parsing (exercises/03_auth/parse_authorization.py)."""

from __future__ import annotations

from types import ModuleType

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from reference.api_design.problems import Unauthorized, install_problem_handlers
from reference.auth.bearer import BearerError

JWT_LIKE = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl-_~+/"


@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {JWT_LIKE}",
        f"bearer {JWT_LIKE}",
        f"BEARER {JWT_LIKE}",
        f"BeArEr   {JWT_LIKE}",
        f"Bearer {JWT_LIKE}  ",
    ],
)
def test_the_scheme_is_case_insensitive(exercise: ModuleType, header: str) -> None:
    """``Bearer``, ``bearer`` and ``BEARER`` are the same scheme (RFC 9110 §11.1); extra spaces
    around the token are allowed."""
    assert exercise.parse_authorization(header) == JWT_LIKE


def test_padding_and_a_list_of_one(exercise: ModuleType) -> None:
    """``=`` padding ends a token; a list holding one header value is that value."""
    assert exercise.parse_authorization("Bearer abc==") == "abc=="
    assert exercise.parse_authorization([f"Bearer {JWT_LIKE}"]) == JWT_LIKE


@pytest.mark.parametrize("missing", [None, []])
def test_no_credentials_is_a_plain_challenge(exercise: ModuleType, missing: object) -> None:
    """No Authorization header: BearerError with the empty error code (RFC 6750 §3.1)."""
    with pytest.raises(BearerError) as refused:
        exercise.parse_authorization(missing)
    assert refused.value.error == ""


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        f"Digest {JWT_LIKE}",  # seven characters then a valid token: the guide's substring(7) accepts it
        "Bearerabc",
        "Bearer",
        "Bearer ",
        f"Bearer {JWT_LIKE} {JWT_LIKE}",
        f"Bearer {JWT_LIKE},{JWT_LIKE}",
        "Bearer abc=def",
        "Bearer tok\u00e9n",
        f"Token {JWT_LIKE}",
        f"Bearer\t{JWT_LIKE}",
    ],
)
def test_anything_else_is_invalid_request(exercise: ModuleType, header: str) -> None:
    """Another scheme, no space, no token, two tokens, characters outside RFC 6750's b64token:
    BearerError("invalid_request", …) — never a token."""
    with pytest.raises(BearerError) as refused:
        exercise.parse_authorization(header)
    assert refused.value.error == "invalid_request", header


def test_two_headers_are_ambiguous(exercise: ModuleType) -> None:
    """Two Authorization values (which one did a proxy add?) are refused even if both are valid."""
    with pytest.raises(BearerError) as refused:
        exercise.parse_authorization([f"Bearer {JWT_LIKE}", "Bearer other"])
    assert refused.value.error == "invalid_request"


def test_in_an_app_every_refusal_is_a_401_with_a_challenge(exercise: ModuleType) -> None:
    """Wired into an endpoint (every Authorization header passed on): refusals are 401 with
    ``WWW-Authenticate: Bearer …``, the one valid header reaches the handler."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/me")
    def me(request: Request) -> dict[str, str]:
        try:
            token = exercise.parse_authorization(request.headers.getlist("authorization"))
        except BearerError as error:
            raise Unauthorized(error.description, error.error) from None
        return {"token": token}

    client = TestClient(app)
    assert client.get("/me", headers={"Authorization": f"bearer {JWT_LIKE}"}).json() == {
        "token": JWT_LIKE
    }
    for headers in ({}, {"Authorization": "Basic x"}, {"Authorization": f"Digest {JWT_LIKE}"}):
        response = client.get("/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer"), headers
    two = client.get(
        "/me", headers=[("Authorization", f"Bearer {JWT_LIKE}"), ("Authorization", "Bearer x")]
    )
    assert two.status_code == 401
    assert 'error="invalid_request"' in two.headers["www-authenticate"]
