"""One user-input policy (issue 15): REST ``POST /users``, GraphQL ``createUser``, gRPC
``CreateUser`` and chapter 07's ``POST /signup`` give the same verdict — created, conflict or
invalid — to the same input, and store an accepted one identically.

Before the policy was one model, chapter 01 kept an address's local part in its case, accepted a
one-character name (``"   a"`` was stored as ``"a"``), refused ``" A@X.COM"`` as malformed (422,
where chapter 07's sign-up said 409) and took breached passwords such as ``password123``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import grpc
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from reference.api_design.graphql.app import make_sessions
from reference.api_design.graphql.context import Context
from reference.api_design.graphql.schema import schema
from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.api_design.seed import CHEAP_HASHER, Cast
from reference.security.validation import create_signup_app

PASSWORD = "correct horse battery staple"
TAKEN = "a@x.test"  # created before the attempt in the "conflict" cases

# case: (email, name, password, an account TAKEN exists first, expected verdict, stored row)
Case = tuple[str, str, str, bool, str, tuple[str, str] | None]
CASES: dict[str, Case] = {
    "valid": ("a@x.test", "Ada Lovelace", PASSWORD, False, "created", ("a@x.test", "Ada Lovelace")),
    "padded upper-case e-mail, padded name": (
        " A@X.TEST ",
        "  Ada  ",
        PASSWORD,
        False,
        "created",
        ("a@x.test", "Ada"),
    ),
    "' A@X.TEST' after a@x.test": (" A@X.TEST", "Ada", PASSWORD, True, "conflict", None),
    "fullwidth spelling of a taken address": (
        "ａ@ｘ.test",
        "Ada",
        PASSWORD,
        True,
        "conflict",
        None,
    ),
    "name '   a'": ("a@x.test", "   a", PASSWORD, False, "invalid", None),
    "name '    '": ("a@x.test", "    ", PASSWORD, False, "invalid", None),
    "name ' Yu ' (two characters once stripped)": (
        "a@x.test",
        " Yu ",
        PASSWORD,
        False,
        "created",
        ("a@x.test", "Yu"),
    ),
    "NUL in name": ("a@x.test", "A\x00da", PASSWORD, False, "invalid", None),
    "128-character password": (
        "a@x.test",
        "Ada",
        (PASSWORD + " ") * 4 + "x" * 12,
        False,
        "created",
        ("a@x.test", "Ada"),
    ),
    "129-character password": ("a@x.test", "Ada", "x" * 129, False, "invalid", None),
    "10 kB password": ("a@x.test", "Ada", "p" * 10_000, False, "invalid", None),
    "NUL in password": ("a@x.test", "Ada", PASSWORD + "\x00", False, "invalid", None),
    "breached password": ("a@x.test", "Ada", "password123", False, "invalid", None),
    "password holding the e-mail": ("ada.l@x.test", "Ada", "ada.l@x.test!", False, "invalid", None),
    "255-character e-mail": ("e" * 248 + "@x.test", "Ada", PASSWORD, False, "invalid", None),
    "not an e-mail": ("a-at-x.test", "Ada", PASSWORD, False, "invalid", None),
}

Answer = tuple[str, tuple[str, str] | None]
Attempt = Callable[[dict[str, str]], Awaitable[Answer]]

REST_VERDICTS = {201: "created", 409: "conflict", 422: "invalid"}
GRPC_VERDICTS = {
    grpc.StatusCode.ALREADY_EXISTS: "conflict",
    grpc.StatusCode.INVALID_ARGUMENT: "invalid",
}


def _fresh(api_db: str, taken: bool) -> None:
    """Remove what an earlier attempt stored (the cast lives at @example.com), then create the
    taken account when the case needs one — through SQL, the same for every API."""
    with psycopg.connect(api_db, autocommit=True) as conn:
        conn.execute("DELETE FROM users WHERE email NOT LIKE '%%@example.com'")
        if taken:
            conn.execute(
                "INSERT INTO users (email, name, password_hash) VALUES (%s, 'Taken', 'x')",
                (TAKEN,),
            )


@pytest.fixture
def attempts(
    client: TestClient,
    cast: Cast,
    api_db: str,
    engine: AsyncEngine,
    grpc_as: Callable[[str], user_pb2_grpc.UserServiceStub],
) -> Iterator[dict[str, Attempt]]:
    """One sign-up attempt per API, each answering (verdict, stored (email, name) or None)."""

    async def rest(body: dict[str, str]) -> Answer:
        response = client.post("/users", json=body, headers=cast.headers("admin"))
        assert response.status_code in REST_VERDICTS, response.text
        data = response.json().get("data") if response.status_code == 201 else None
        return REST_VERDICTS[response.status_code], data and (data["email"], data["name"])

    async def graphql(body: dict[str, str]) -> Answer:
        context = Context(sessions=make_sessions(engine), listen_url=api_db, principal=None)
        mutation = """mutation($input: CreateUserInput!) {
          createUser(input: $input) { user { email name } errors { field code } } }"""
        result: Any = await schema.execute(mutation, {"input": body}, context_value=context)
        assert result.errors is None, result.errors
        payload = result.data["createUser"]
        if payload["user"] is not None:
            return "created", (payload["user"]["email"], payload["user"]["name"])
        taken = payload["errors"] == [{"field": "email", "code": "TAKEN"}]
        return ("conflict" if taken else "invalid"), None

    async def grpc_create(body: dict[str, str]) -> Answer:
        request = user_pb2.CreateUserRequest(**body)
        try:
            created = grpc_as("admin").CreateUser(request, timeout=10)
        except grpc.RpcError as error:
            return GRPC_VERDICTS.get(error.code(), str(error.code())), None
        return "created", (created.email, created.name)

    with TestClient(create_signup_app(api_db, password_hasher=CHEAP_HASHER)) as signup_client:

        async def signup(body: dict[str, str]) -> Answer:
            response = signup_client.post("/signup", json=body)
            assert response.status_code in REST_VERDICTS, response.text
            data = response.json() if response.status_code == 201 else None
            return REST_VERDICTS[response.status_code], data and (data["email"], data["name"])

        yield {"REST": rest, "GraphQL": graphql, "gRPC": grpc_create, "signup (07)": signup}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", list(CASES))
async def test_every_api_gives_the_same_answer(
    attempts: dict[str, Attempt], api_db: str, case: str
) -> None:
    """The same input is created (and stored alike), a conflict (409 / TAKEN / ALREADY_EXISTS) or
    invalid (422 / a field error / INVALID_ARGUMENT) on all four sign-up paths."""
    email, name, password, taken, verdict, stored = CASES[case]
    answers = {}
    for api, attempt in attempts.items():
        _fresh(api_db, taken)
        answers[api] = await attempt({"email": email, "name": name, "password": password})
    assert answers == dict.fromkeys(attempts, (verdict, stored))
