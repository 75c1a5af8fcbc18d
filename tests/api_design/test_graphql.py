"""The reference GraphQL API (strawberry) on a real PostgreSQL: batching, limits, authz, payloads.

Each test names the guide defect (guide-defects.md §1.5–1.6) it proves fixed; the same checks on the
faithful port live in ``test_graphql_port.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from reference.api_design.auth import Principal
from reference.api_design.graphql.app import make_engine, make_sessions
from reference.api_design.graphql.context import Context
from reference.api_design.graphql.events import order_channel, wait_for_listeners
from reference.api_design.graphql.loaders import OrdersKey, make_loaders
from reference.api_design.graphql.schema import schema
from reference.api_design.graphql.seed import Seeded
from reference.api_design.graphql.statements import count_statements
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
    alice_next = asyncio.ensure_future(alice_stream.__anext__())  # type: ignore[union-attr]
    bob_next = asyncio.ensure_future(bob_stream.__anext__())  # type: ignore[union-attr]
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
        await alice_stream.aclose()  # type: ignore[union-attr]
        await bob_stream.aclose()  # type: ignore[union-attr]
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
    spoofed = await anext(spoof)  # type: ignore[arg-type]
    assert spoofed.errors is not None
    assert "userId" in spoofed.errors[0].message
    anonymous = await schema.subscribe(
        "subscription { orderStatusChanged { id } }", context_value=context(engine, pg_url, None)
    )
    first = await anext(anonymous)  # type: ignore[arg-type]
    assert [e.extensions["code"] for e in first.errors] == ["UNAUTHENTICATED"]
