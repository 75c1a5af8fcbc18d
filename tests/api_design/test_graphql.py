"""The reference GraphQL API (strawberry) on a real PostgreSQL: batching, limits, authz, payloads.

Each test names the guide defect (guide-defects.md §1.5–1.6) it proves fixed; the same checks on the
faithful port live in ``test_graphql_port.py``. The last section is hostile input (issue 8): query
cost, forged cursors, NUL and oversized fields, long echoes, ambiguous documents.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

import graphql
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from reference.api_design.auth import Principal
from reference.api_design.graphql.app import make_engine, make_sessions
from reference.api_design.graphql.context import Context
from reference.api_design.graphql.cursors import InvalidCursor, decode_cursor
from reference.api_design.graphql.errors import MAX_MESSAGE
from reference.api_design.graphql.events import order_channel, wait_for_listeners
from reference.api_design.graphql.limits import MAX_COST, query_cost
from reference.api_design.graphql.loaders import OrdersKey, make_loaders
from reference.api_design.graphql.schema import build_schema, schema
from reference.api_design.graphql.seed import Seeded
from reference.api_design.graphql.statements import count_statements
from reference.api_design.seed import Cast
from reference.databases.models import UserRole

NESTED = """
{ users(first: 50) {
    pageInfo { hasNextPage startCursor endCursor }
    edges { cursor node { id name orders(first: 5) {
        pageInfo { hasNextPage }
        edges { node { id status totalCents createdAt } } } } } } }
"""


def context(engine: AsyncEngine, pg_url: str, principal: Principal | None) -> Context:
    return Context(sessions=make_sessions(engine), listen_url=pg_url, principal=principal)


def admin(seeded: Seeded) -> Principal:
    return Principal(seeded.admin_id, UserRole.ADMIN)


def user(seeded: Seeded, n: int = 0) -> Principal:
    return Principal(seeded.user_ids[n], UserRole.USER)


async def run(ctx: Context, query: str, **variables: Any) -> Any:
    return await schema.execute(query, variable_values=variables or None, context_value=ctx)


def codes(result: Any) -> list[str]:
    return [e.extensions.get("code") for e in result.errors or []]


# --- N+1 -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_nested_users_and_orders_run_at_most_three_statements(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """§1.5 N+1: 50 users × orders(first: 5) is one users query plus one batched orders query."""
    with count_statements(engine) as log:
        result = await run(context(engine, pg_url, admin(seeded)), NESTED)
    assert result.errors is None
    assert log.count <= 3, log.statements
    users = result.data["users"]
    assert len(users["edges"]) == 50
    assert users["pageInfo"]["hasNextPage"] is True
    regular = [e["node"] for e in users["edges"] if e["node"]["name"] != "Admin"]
    assert len(regular) == 49
    assert all(len(u["orders"]["edges"]) == 5 for u in regular)
    assert all(u["orders"]["pageInfo"]["hasNextPage"] for u in regular)  # 7 orders each


@pytest.mark.asyncio
async def test_batched_orders_equal_each_users_own_newest_orders(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """The one-statement window query returns exactly what a per-user query would."""
    result = await run(context(engine, pg_url, admin(seeded)), NESTED)
    with psycopg.connect(pg_url) as conn:
        for edge in result.data["users"]["edges"][1:6]:
            expected = [
                str(row[0])
                for row in conn.execute(
                    "SELECT id FROM orders WHERE user_id = %s"
                    " ORDER BY created_at DESC, id DESC LIMIT 5",
                    (edge["node"]["id"],),
                )
            ]
            assert [o["node"]["id"] for o in edge["node"]["orders"]["edges"]] == expected


@pytest.mark.asyncio
async def test_no_count_query_per_page(seeded: Seeded, engine: AsyncEngine, pg_url: str) -> None:
    """§1.5 totalCount: pages learn hasNextPage from one extra row, never a COUNT(*)."""
    with count_statements(engine) as log:
        await run(context(engine, pg_url, admin(seeded)), NESTED)
    assert not any("count(" in s.lower() for s in log.statements)


# --- limits ----------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("first", [0, 101, 1000])
async def test_first_is_bounded(
    seeded: Seeded, engine: AsyncEngine, pg_url: str, first: int
) -> None:
    """§1.5 unbounded first: users(first) and orders(first) outside 1..100 are BAD_USER_INPUT."""
    ctx = context(engine, pg_url, admin(seeded))
    outer = await run(ctx, "query($f: Int!) { users(first: $f) { edges { cursor } } }", f=first)
    inner = await run(
        ctx, "query($f: Int!) { me { orders(first: $f) { edges { cursor } } } }", f=first
    )
    assert codes(outer) == ["BAD_USER_INPUT"]
    assert codes(inner) == ["BAD_USER_INPUT"]
    assert outer.data is None


DEPTH_12 = (
    "{ users(first: 1) { edges { node { orders(first: 1) { edges { node { user {"
    " orders(first: 1) { edges { node { user { name } } } } } } } } } } } }"
)


@pytest.mark.asyncio
async def test_deep_query_is_rejected_before_any_sql(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """§1.5 no depth limit: a depth-12 query fails validation and never reaches the database."""
    with count_statements(engine) as log:
        result = await run(context(engine, pg_url, admin(seeded)), DEPTH_12)
    assert result.errors is not None
    assert "exceeds maximum operation depth" in result.errors[0].message
    assert log.count == 0


@pytest.mark.asyncio
async def test_huge_document_is_rejected_by_the_token_limit(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """A 3,000-token document is refused while parsing."""
    query = "{ me { " + "name " * 3000 + "} }"
    result = await run(context(engine, pg_url, admin(seeded)), query)
    assert result.errors is not None
    assert "tokens" in result.errors[0].message


@pytest.mark.asyncio
async def test_alias_flood_is_rejected(seeded: Seeded, engine: AsyncEngine, pg_url: str) -> None:
    """Twenty aliases of one field exceed the alias limit."""
    query = "{ " + " ".join(f"a{i}: me {{ name }}" for i in range(20)) + " }"
    result = await run(context(engine, pg_url, admin(seeded)), query)
    assert result.errors is not None
    assert "aliases" in result.errors[0].message


# --- authorization ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_non_admin_reading_another_user_is_forbidden(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """§1.5 user(id) without authz: a regular user asking for someone else gets FORBIDDEN."""
    other = str(seeded.user_ids[1])
    result = await run(
        context(engine, pg_url, user(seeded)),
        "query($id: ID!) { user(id: $id) { email } }",
        id=other,
    )
    assert codes(result) == ["FORBIDDEN"]
    assert result.data == {"user": None}


@pytest.mark.asyncio
async def test_self_and_staff_may_read_a_user(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """A user reads themself; an admin reads anyone; an unknown id is null, not an error."""
    query = "query($id: ID!) { user(id: $id) { name } }"
    own = await run(context(engine, pg_url, user(seeded)), query, id=str(seeded.user_ids[0]))
    staff = await run(context(engine, pg_url, admin(seeded)), query, id=str(seeded.user_ids[1]))
    unknown = await run(context(engine, pg_url, admin(seeded)), query, id=str(uuid.uuid4()))
    assert own.data == {"user": {"name": "User 1"}}
    assert staff.data == {"user": {"name": "User 2"}}
    assert unknown.errors is None
    assert unknown.data == {"user": None}


@pytest.mark.asyncio
async def test_anonymous_and_malformed_ids_get_clear_codes(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """No token → UNAUTHENTICATED; a non-UUID id → BAD_USER_INPUT (not a masked 500)."""
    anonymous = await run(context(engine, pg_url, None), "{ me { name } }")
    malformed = await run(context(engine, pg_url, admin(seeded)), '{ user(id: "nope") { name } }')
    listing = await run(context(engine, pg_url, user(seeded)), "{ users { edges { cursor } } }")
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    assert codes(malformed) == ["BAD_USER_INPUT"]
    assert codes(listing) == ["FORBIDDEN"]


@pytest.mark.asyncio
async def test_unexpected_errors_are_masked(seeded: Seeded, pg_url: str) -> None:
    """A database failure reaches the client as a generic message, not the driver's text."""
    broken = make_engine(pg_url.rsplit("/", 1)[0] + "/no_such_database_here")
    try:
        result = await run(context(broken, pg_url, admin(seeded)), "{ me { name } }")
    finally:
        await broken.dispose()
    assert result.errors is not None
    message = result.errors[0].message
    assert "no_such_database_here" not in message
    assert "does not exist" not in message


# --- pagination ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_cursor_pagination_visits_every_user_once(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """§1.5 no startCursor: pageInfo has start and end cursors; walking `after` covers all rows."""
    ctx = context(engine, pg_url, admin(seeded))
    query = """query($after: String) { users(first: 25, after: $after) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id } } } }"""
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        result = await run(ctx, query, after=after)
        page = result.data["users"]
        info = page["pageInfo"]
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        assert info["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["id"] for e in page["edges"]]
        pages += 1
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 61


@pytest.mark.asyncio
async def test_forged_cursor_is_bad_user_input(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """A cursor the API never issued is the client's error."""
    result = await run(
        context(engine, pg_url, admin(seeded)), '{ users(after: "garbage") { edges { cursor } } }'
    )
    assert codes(result) == ["BAD_USER_INPUT"]


# --- loaders ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_user_loader_keeps_key_order_and_returns_none_for_misses(
    seeded: Seeded, engine: AsyncEngine
) -> None:
    """§1.6 wrong key type: load_many([b, a, missing, a]) → [B, A, None, A] in one query."""
    loaders = make_loaders(make_sessions(engine))
    a, b, missing = seeded.user_ids[0], seeded.user_ids[1], uuid.uuid4()
    with count_statements(engine) as log:
        found = await loaders.users.load_many([b, a, missing, a])
    assert [u.name if u else None for u in found] == ["User 2", "User 1", None, "User 1"]
    assert log.count == 1


@pytest.mark.asyncio
async def test_orders_loader_returns_empty_list_for_unknown_users(
    seeded: Seeded, engine: AsyncEngine
) -> None:
    """Unknown users have no orders — [] in their slot, not a shifted neighbour's orders."""
    loaders = make_loaders(make_sessions(engine))
    a = seeded.user_ids[0]
    with count_statements(engine) as log:
        results = await loaders.orders.load_many(
            [OrdersKey(uuid.uuid4(), 3), OrdersKey(a, 3), OrdersKey(seeded.admin_id, 3)]
        )
    assert [len(r) for r in results] == [0, 3, 0]
    assert {o.user_id for o in results[1]} == {a}
    assert log.count == 1


@pytest.mark.asyncio
async def test_loader_batches_are_bounded(seeded: Seeded, engine: AsyncEngine) -> None:
    """§1.6 no maxBatchSize: 150 keys are fetched in two statements of at most 100 ids."""
    loaders = make_loaders(make_sessions(engine))
    keys = [uuid.uuid4() for _ in range(150)]
    with count_statements(engine) as log:
        await loaders.users.load_many(keys)
    assert log.count == 2


@pytest.mark.asyncio
async def test_each_request_gets_its_own_loaders(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """§1.6 shared loader: a second caller sees current data, not the first caller's cache."""
    first = context(engine, pg_url, admin(seeded))
    second = context(engine, pg_url, user(seeded))
    assert first.loaders is not second.loaders
    me = seeded.user_ids[0]
    before = await first.loaders.users.load(me)
    assert before is not None
    assert before.name == "User 1"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE users SET name = 'Renamed' WHERE id = %s", (me,))
    with count_statements(engine) as log:
        after = await second.loaders.users.load(me)
    assert after is not None
    assert after.name == "Renamed"
    assert log.count == 1


# --- mutations -------------------------------------------------------------------------------

UPDATE = """mutation($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { user { name email } errors { field code } } }"""


@pytest.mark.asyncio
async def test_update_user_returns_a_payload(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """Own update succeeds; bad or taken emails come back as payload errors; others' are FORBIDDEN."""
    ctx = context(engine, pg_url, user(seeded))
    me, other = str(seeded.user_ids[0]), str(seeded.user_ids[1])
    ok = await run(ctx, UPDATE, id=me, input={"name": "Ada"})
    bad = await run(ctx, UPDATE, id=me, input={"email": "not-an-email"})
    taken = await run(ctx, UPDATE, id=me, input={"email": "USER0002@example.com"})
    forbidden = await run(ctx, UPDATE, id=other, input={"name": "Mallory"})
    assert ok.data["updateUser"] == {
        "user": {"name": "Ada", "email": "user0001@example.com"},
        "errors": [],
    }
    assert bad.data["updateUser"] == {
        "user": None,
        "errors": [{"field": "email", "code": "INVALID"}],
    }
    assert taken.data["updateUser"] == {
        "user": None,
        "errors": [{"field": "email", "code": "TAKEN"}],
    }
    assert codes(forbidden) == ["FORBIDDEN"]
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT name FROM users WHERE id = %s", (other,)).fetchone()
    assert row == ("User 2",)


@pytest.mark.asyncio
async def test_create_user_reports_duplicates_and_weak_passwords(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """createUser: a new account, then the same email (any case) → TAKEN, short password → error."""
    ctx = context(engine, pg_url, None)
    mutation = """mutation($input: CreateUserInput!) {
      createUser(input: $input) { user { email role } errors { field code } } }"""
    good = {"email": "grace@example.com", "name": "Grace", "password": "correct horse battery"}
    created = await run(ctx, mutation, input=good)
    again = await run(ctx, mutation, input={**good, "email": "Grace@EXAMPLE.com"})
    weak = await run(ctx, mutation, input={**good, "email": "g2@example.com", "password": "short"})
    assert created.data["createUser"] == {
        "user": {"email": "grace@example.com", "role": "USER"},
        "errors": [],
    }
    assert again.data["createUser"]["errors"] == [{"field": "email", "code": "TAKEN"}]
    assert weak.data["createUser"]["errors"] == [{"field": "password", "code": "TOO_SHORT"}]


# --- subscription ----------------------------------------------------------------------------

SET_STATUS = """mutation($id: ID!, $s: OrderStatus!) {
  updateOrderStatus(id: $id, status: $s) { order { status } errors { code } } }"""


def first_order_of(pg_url: str, user_id: uuid.UUID) -> str:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT id FROM orders WHERE user_id = %s ORDER BY created_at LIMIT 1", (user_id,)
        ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.asyncio
async def test_subscription_delivers_only_the_callers_own_orders(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """§1.5 orderStatusChanged(userId): each subscriber hears its own orders and nobody else's."""
    alice, bob = seeded.user_ids[0], seeded.user_ids[1]
    query = "subscription { orderStatusChanged { id status } }"
    alice_stream = await schema.subscribe(
        query, context_value=context(engine, pg_url, user(seeded, 0))
    )
    bob_stream = await schema.subscribe(
        query, context_value=context(engine, pg_url, user(seeded, 1))
    )
    alice_next = asyncio.ensure_future(alice_stream.__anext__())
    bob_next = asyncio.ensure_future(bob_stream.__anext__())
    try:
        for who in (alice, bob):
            seen = await asyncio.to_thread(wait_for_listeners, pg_url, order_channel(who))
            assert seen == 1
        staff = context(engine, pg_url, admin(seeded))
        bobs_order, alices_order = first_order_of(pg_url, bob), first_order_of(pg_url, alice)
        await run(staff, SET_STATUS, id=bobs_order, s="CANCELLED")
        await run(staff, SET_STATUS, id=alices_order, s="SHIPPED")
        alice_event = await asyncio.wait_for(alice_next, 5)
        bob_event = await asyncio.wait_for(bob_next, 5)
    finally:
        for pending in (alice_next, bob_next):
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        await alice_stream.aclose()
        await bob_stream.aclose()
    assert alice_event.data == {"orderStatusChanged": {"id": alices_order, "status": "SHIPPED"}}
    assert bob_event.data == {"orderStatusChanged": {"id": bobs_order, "status": "CANCELLED"}}


@pytest.mark.asyncio
async def test_subscription_requires_a_principal_and_takes_no_user_argument(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """There is no userId argument to abuse, and an anonymous subscriber is UNAUTHENTICATED."""
    spoof = await schema.subscribe(
        f'subscription {{ orderStatusChanged(userId: "{seeded.user_ids[1]}") {{ id }} }}',
        context_value=context(engine, pg_url, user(seeded)),
    )
    spoofed = await anext(spoof)
    assert spoofed.errors is not None
    assert "userId" in spoofed.errors[0].message
    anonymous = await schema.subscribe(
        "subscription { orderStatusChanged { id } }", context_value=context(engine, pg_url, None)
    )
    first = await anext(anonymous)
    assert first.errors is not None
    assert [(e.extensions or {}).get("code") for e in first.errors] == ["UNAUTHENTICATED"]


# --- hostile input (issue 8, section 2) ------------------------------------------------------

ALIAS_BOMB = (
    "{ "
    + " ".join(
        f"a{i}: users(first: 100) {{ edges {{ node {{ orders(first: 100) {{ edges {{ node {{"
        " user { orders(first: 100) { edges { cursor } } } } } } } } }"
        for i in range(15)
    )
    + " }"
)


@pytest.mark.asyncio
async def test_query_cost_is_refused_before_any_sql(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """15 aliases × users(100) × orders(100) × orders(100) is within the depth and alias limits, but
    its cost (each list's ``first`` multiplied down the nesting) is far over budget: refused with a
    clear error and no statement sent."""
    with count_statements(engine) as log:
        result = await run(context(engine, pg_url, admin(seeded)), ALIAS_BOMB)
    assert codes(result) == ["QUERY_TOO_EXPENSIVE"]
    assert result.data is None
    assert f"{MAX_COST:,}" in result.errors[0].message
    assert result.errors[0].extensions["cost"] == 15 * (100 + 100 * 100 + 100 * 100 * 100)
    assert log.count == 0


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        (
            "{ users(first: 50) { edges { node { orders(first: 5) { edges { cursor } } } } } }",
            {},
            300,
        ),
        ("{ users { edges { node { orders { edges { cursor } } } } } }", {}, 20 + 20 * 20),
        (
            "query($n: Int!) { users(first: $n) { edges { node { orders(first: $n) {"
            " edges { cursor } } } } } }",
            {"n": 10},
            110,
        ),
        ("query($n: Int = 3) { users(first: $n) { edges { cursor } } }", {}, 3),
        (
            "{ a: users(first: 10) { edges { cursor } } b: users(first: 10) { edges { cursor } } }",
            {},
            20,
        ),
        (
            "{ users(first: 10) { ...U } } fragment U on UserConnection {"
            " edges { node { orders(first: 10) { edges { cursor } } } } }",
            {},
            110,
        ),
        (
            "{ users(first: 10) { edges { node { ... on User { orders(first: 2) {"
            " edges { node { user { name } } } } } } } } }",
            {},
            30,
        ),
        ("{ users(first: 1000) { edges { cursor } } }", {}, 100),  # check_first refuses > 100
        ("{ me { name orders(first: 5) { edges { cursor } } } }", {}, 5),
    ],
)
def test_query_cost_multiplies_first_down_the_nesting(
    query: str, variables: dict[str, Any], cost: int
) -> None:
    """The cost of a document: every list field's ``first`` (or its default), multiplied by the
    ``first`` of every list above it; aliases and fragments count where they are spread."""
    assert query_cost(schema._schema, graphql.parse(query), variables) == cost


@pytest.mark.asyncio
async def test_cost_budget_boundary(seeded: Seeded, engine: AsyncEngine, pg_url: str) -> None:
    """users(100) × orders(99) costs exactly the budget and runs; one more order per user does not."""
    query = "query($n: Int!) { users(first: 100) { edges { node { orders(first: $n) { edges { cursor } } } } } }"
    ctx = context(engine, pg_url, admin(seeded))
    at_budget = await run(ctx, query, n=MAX_COST // 100 - 1)
    over = await run(context(engine, pg_url, admin(seeded)), query, n=MAX_COST // 100)
    assert at_budget.errors is None
    assert codes(over) == ["QUERY_TOO_EXPENSIVE"]


@pytest.mark.asyncio
async def test_build_schema_installs_another_cost_function(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """The seam exercise 01.9 grades through: ``build_schema(cost=…)`` prices documents with the
    function given, so one that prices ``{ me { name } }`` over budget refuses it before any SQL."""
    priced: list[tuple[Any, ...]] = []

    def over_budget(*arguments: Any) -> int:
        priced.append(arguments)
        return MAX_COST + 1

    with count_statements(engine) as log:
        result = await build_schema(cost=over_budget).execute(
            "query Me { me { name } }",
            context_value=context(engine, pg_url, admin(seeded)),
            operation_name="Me",
        )
    assert codes(result) == ["QUERY_TOO_EXPENSIVE"]
    assert log.count == 0
    assert [(args[2], args[3]) for args in priced] == [(None, "Me")]  # variables, operation


@pytest.mark.asyncio
async def test_introspection_is_costed_too(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """GraphiQL's introspection query runs; the same query under 15 aliases is over budget."""
    standard = await run(context(engine, pg_url, None), graphql.get_introspection_query())
    assert standard.errors is None
    types = "types { name fields { name args { name } type { name } } enumValues { name } }"
    flood = "{ " + " ".join(f"s{i}: __schema {{ {types} }}" for i in range(15)) + " }"
    result = await run(context(engine, pg_url, None), flood)
    assert codes(result) == ["QUERY_TOO_EXPENSIVE"]


def _cursor(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "cursor",
    [
        _cursor('["2024-01-01T00:00:00+00:00", 5]'),  # an id that is not a string
        _cursor('["2024-01-01T00:00:00+00:00", null]'),
        _cursor('["2024-01-01T00:00:00+00:00", ["a"]]'),
        _cursor('[5, "7b1d1a3e-6f0e-4a57-9f0a-000000000000"]'),
        _cursor('{"created_at": 1, "id": 2}'),
        _cursor("[" * 5000 + "]" * 5000),  # recursion in the JSON decoder
        _cursor(f'["2024-01-01T00:00:00+00:00", "{uuid.UUID(int=1)}"]' + " " * 500),  # too long
        base64.urlsafe_b64encode(b"\xff\xfe[").decode(),  # not UTF-8
    ],
)
async def test_forged_cursors_are_bad_user_input(
    seeded: Seeded, engine: AsyncEngine, pg_url: str, cursor: str
) -> None:
    """Any cursor the API did not issue — well-formed base64 and JSON with the wrong types included —
    is BAD_USER_INPUT on both connections (and gRPC's page_token, which decodes the same way)."""
    users = await run(
        context(engine, pg_url, admin(seeded)),
        "query($a: String) { users(after: $a) { edges { cursor } } }",
        a=cursor,
    )
    orders = await run(
        context(engine, pg_url, user(seeded)),
        "query($a: String) { me { orders(after: $a) { edges { cursor } } } }",
        a=cursor,
    )
    assert codes(users) == ["BAD_USER_INPUT"]
    assert codes(orders) == ["BAD_USER_INPUT"]
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


CREATE = """mutation($input: CreateUserInput!) {
  createUser(input: $input) { user { name } errors { field code message } } }"""


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": "a\x00b"}, "name", "INVALID"),
        ({"name": "   "}, "name", "TOO_SHORT"),  # stripped, then measured
        ({"name": "   a"}, "name", "TOO_SHORT"),
        ({"name": "n" * 101}, "name", "TOO_LONG"),
        ({"password": "password123"}, "password", "INVALID"),  # breached (NIST 800-63B)
        ({"password": "p" * 3_000_000}, "password", "TOO_LONG"),
        ({"password": "p\x00" * 10}, "password", "INVALID"),
        ({"email": "e\x00@example.com"}, "email", "INVALID"),
    ],
)
async def test_create_user_refuses_what_rest_refuses(
    engine: AsyncEngine, pg_url: str, api_db: str, changes: dict[str, str], field: str, code: str
) -> None:
    """NUL (PostgreSQL cannot store it), blank names and 3 MB passwords are payload errors on the
    field — validated by the REST API's own ``UserCreate`` — not "Unexpected error."."""
    good = {"email": "grace@example.com", "name": "Grace", "password": "correct horse battery"}
    result = await run(context(engine, pg_url, None), CREATE, input={**good, **changes})
    assert result.errors is None
    payload = result.data["createUser"]
    assert payload["user"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert all(len(e["message"]) < 200 for e in payload["errors"])  # the input is not echoed


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["a\x00b", "   ", "   a", "n" * 101])
async def test_update_user_refuses_what_rest_refuses(
    seeded: Seeded, engine: AsyncEngine, pg_url: str, name: str
) -> None:
    """updateUser validates through the REST API's ``UserPatch``: NUL, blank or overlong names are
    payload errors, and nothing is written."""
    me = str(seeded.user_ids[0])
    result = await run(context(engine, pg_url, user(seeded)), UPDATE, id=me, input={"name": name})
    assert result.errors is None
    assert result.data["updateUser"]["user"] is None
    assert [e["field"] for e in result.data["updateUser"]["errors"]] == ["name"]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT name FROM users WHERE id = %s", (me,)).fetchone() == ("User 1",)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"name": "   "},
        {"name": "   a"},
        {"name": " padded "},
        {"name": "a\x00b"},
        {"name": "n" * 100},
        {"name": "n" * 101},
        {"password": "p" * 7},
        {"password": "p" * 8},
        {"password": "p" * 129},
        {"password": "password123"},
        {"email": " SAME@EXAMPLE.COM "},
        {"email": "not-an-email"},
        {"email": "carol@example.test"},
    ],
)
async def test_graphql_and_rest_give_the_same_answers(
    client: TestClient, cast: Cast, engine: AsyncEngine, pg_url: str, changes: dict[str, str]
) -> None:
    """One validation model: the same sign-up data is accepted by both APIs or refused by both,
    on the same fields."""
    data = {"email": "same@example.com", "name": "Same", "password": "correct horse", **changes}
    rest = client.post("/users", json=data, headers=cast.headers("admin"))
    assert rest.status_code in (201, 422), rest.text
    rest_fields = (
        {error["loc"][-1] for error in rest.json()["errors"]} if rest.status_code == 422 else set()
    )
    with psycopg.connect(pg_url, autocommit=True) as conn:  # free the address for GraphQL
        conn.execute("DELETE FROM users WHERE email = %s", (data["email"].strip().lower(),))
    result = await run(context(engine, pg_url, None), CREATE, input=data)
    payload = result.data["createUser"]
    assert {e["field"] for e in payload["errors"]} == rest_fields
    assert (payload["user"] is not None) is (rest.status_code == 201)
    if payload["user"] is not None:
        assert payload["user"]["name"] == rest.json()["data"]["name"]


ID_SPELLINGS: dict[str, Callable[[uuid.UUID], str]] = {
    "canonical": str,
    "upper case": lambda u: str(u).upper(),
    "braces": lambda u: "{" + str(u) + "}",
    "urn": lambda u: u.urn,
    "undashed": lambda u: u.hex,
    "padded": lambda u: f" {u} ",
    "nobody's": lambda u: str(uuid.UUID(int=u.int ^ 1)),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("spelling", list(ID_SPELLINGS))
async def test_graphql_and_rest_agree_on_which_ids_name_a_user(
    client: TestClient, cast: Cast, engine: AsyncEngine, pg_url: str, spelling: str
) -> None:
    """Only the canonical spelling of an id names a user, on GraphQL as on REST and gRPC: the
    spellings ``uuid.UUID`` also reads (``{…}``, ``urn:uuid:``, undashed, upper case) used to
    resolve to alice here while REST answered 422 — one user, several ids."""
    spelled = ID_SPELLINGS[spelling](cast.principals["alice"].user_id)
    rest = client.get(f"/users/{spelled}", headers=cast.headers("admin"))
    result = await run(
        context(engine, pg_url, cast.principals["admin"]),
        "query($id: ID!) { user(id: $id) { name } }",
        id=spelled,
    )
    graphql_for_rest = {
        200: ([], {"user": {"name": "alice"}}),
        404: ([], {"user": None}),
        422: (["BAD_USER_INPUT"], {"user": None}),
    }
    assert rest.status_code in graphql_for_rest, rest.text
    assert (codes(result), result.data) == graphql_for_rest[rest.status_code]


@pytest.mark.asyncio
@pytest.mark.parametrize("spelling", ["upper case", "braces", "urn", "undashed"])
async def test_a_non_canonical_spelling_of_your_own_id_writes_nothing(
    cast: Cast, engine: AsyncEngine, pg_url: str, spelling: str
) -> None:
    """alice updating herself through another spelling of her id is BAD_USER_INPUT, not a write."""
    alice = cast.principals["alice"]
    result = await run(
        context(engine, pg_url, alice),
        UPDATE,
        id=ID_SPELLINGS[spelling](alice.user_id),
        input={"name": "Renamed"},
    )
    assert codes(result) == ["BAD_USER_INPUT"]
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT name FROM users WHERE id = %s", (alice.user_id,)).fetchone()
    assert row == ("alice",)


@pytest.mark.asyncio
async def test_long_ids_are_not_echoed(seeded: Seeded, engine: AsyncEngine, pg_url: str) -> None:
    """A 5 MB id is BAD_USER_INPUT with a message of a few dozen characters, not 5 MB."""
    huge = "x" * 5_000_000
    ctx = context(engine, pg_url, admin(seeded))
    read = await run(ctx, "query($id: ID!) { user(id: $id) { name } }", id=huge)
    write = await run(ctx, SET_STATUS, id=huge, s="PAID")
    for result in (read, write):
        assert codes(result) == ["BAD_USER_INPUT"]
        assert len(result.errors[0].message) < 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "document",
    [
        "{ " + "x" * 60_000 + " }",  # Cannot query field 'xxx…'
        "{ me(" + "a" * 60_000 + ": 1) { name } }",  # Unknown argument
        "{ me { name @" + "d" * 60_000 + " } }",  # Unknown directive
        "query($v: " + "T" * 60_000 + ") { me { name } }",  # Unknown type
        "{ me { name } } " + "y" * 60_000,  # Syntax Error: Unexpected Name 'yyy…'
    ],
)
async def test_long_names_are_not_echoed(
    seeded: Seeded, engine: AsyncEngine, pg_url: str, document: str
) -> None:
    """graphql-core's messages quote the names a document uses; a 60 KB name comes back cut."""
    result = await run(context(engine, pg_url, admin(seeded)), document)
    assert result.errors
    assert all(len(error.message) <= MAX_MESSAGE + 1 for error in result.errors)


@pytest.mark.asyncio
async def test_several_operations_need_an_operation_name(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """Two named operations and no operationName is a request error (GraphQL spec, GetOperation);
    naming one runs that one."""
    document = "query A { me { id } } query B { me { name } }"
    unnamed = await run(context(engine, pg_url, user(seeded)), document)
    named = await schema.execute(
        document, operation_name="B", context_value=context(engine, pg_url, user(seeded))
    )
    assert codes(unnamed) == ["OPERATION_RESOLUTION_FAILURE"]
    assert unnamed.data is None
    assert named.data == {"me": {"name": "User 1"}}


@pytest.mark.asyncio
async def test_client_mistakes_are_not_logged_as_server_faults(
    seeded: Seeded, engine: AsyncEngine, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A variable of the wrong type is answered to the client, not logged as an incident."""
    with caplog.at_level(logging.ERROR, logger="strawberry.execution"):
        result = await run(
            context(engine, pg_url, admin(seeded)),
            "query($f: Int!) { users(first: $f) { edges { cursor } } }",
            f="many",
        )
    assert result.errors is not None
    assert "Int cannot represent" in result.errors[0].message
    assert [r for r in caplog.records if r.name == "strawberry.execution"] == []
