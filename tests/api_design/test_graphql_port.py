"""The guide's GraphQL code (``guide/api_design/graphql_port.py``) shows every §1.5–1.6 defect.

Each test here is the mirror of one in ``test_graphql.py``: the same observation, the opposite
outcome. If a port test starts failing, the port stopped being faithful.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import graphql
import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from guide.api_design import graphql_port as port
from reference.api_design.auth import Principal
from reference.api_design.graphql.app import make_sessions
from reference.api_design.graphql.events import order_channel, wait_for_listeners
from reference.api_design.graphql.schema import schema as reference_schema
from reference.api_design.graphql.seed import Seeded
from reference.api_design.graphql.statements import count_statements
from reference.databases.models import UserRole

NESTED = """
{ users(first: 50) { edges { node { id orders(first: 5) {
    totalCount edges { node { id status } } } } } } }
"""


def context(engine: AsyncEngine, pg_url: str, principal: Principal | None) -> port.GuideContext:
    return port.GuideContext(make_sessions(engine), principal, pg_url)


async def run(ctx: port.GuideContext, query: str, **variables: Any) -> Any:
    return await port.guide_schema.execute(
        query, variable_values=variables or None, context_value=ctx
    )


def test_guide_sdl_does_not_build() -> None:
    """§1.5: Profile, DateTime, UserConnection, OrderEdge, Order, UpdateUserInput, UserPayload are
    used but never defined."""
    with pytest.raises(TypeError) as failure:
        port.build_guide_sdl()
    for undefined in ("Profile", "DateTime", "UserConnection", "OrderEdge", "Order"):
        assert f"Unknown type '{undefined}'" in str(failure.value)
    for undefined in ("UpdateUserInput", "UserPayload"):
        assert undefined in str(failure.value)


def test_reference_sdl_round_trips() -> None:
    """The reference schema's printed SDL builds on its own (every named type is defined)."""
    rebuilt = graphql.build_schema(reference_schema.as_str())
    assert {"User", "Order", "PageInfo", "UpdateUserPayload"} <= set(rebuilt.type_map)


def test_guide_page_info_has_no_start_cursor() -> None:
    """§1.5: the guide's PageInfo lacks startCursor; the reference's has it."""
    guide_fields = port.guide_schema._schema.type_map["PageInfo"].fields  # type: ignore[attr-defined]
    reference_fields = reference_schema._schema.type_map["PageInfo"].fields  # type: ignore[attr-defined]
    assert "startCursor" not in guide_fields
    assert "startCursor" in reference_fields


@pytest.mark.asyncio
async def test_guide_nested_query_is_n_plus_one(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """§1.5: orders resolve once per parent — 51+ statements, and a COUNT per page for totalCount."""
    with count_statements(engine) as log:
        result = await run(context(engine, pg_url, None), NESTED)
    assert result.errors is None
    assert log.count >= 51
    assert sum("count(" in s.lower() for s in log.statements) == 50


@pytest.mark.asyncio
async def test_guide_first_is_unbounded(seeded: Seeded, engine: AsyncEngine, pg_url: str) -> None:
    """§1.5: users(first: 1000) is executed — every row comes back, no error."""
    result = await run(context(engine, pg_url, None), "{ users(first: 1000) { edges { cursor } } }")
    assert result.errors is None
    assert len(result.data["users"]["edges"]) == 61


@pytest.mark.asyncio
async def test_guide_has_no_depth_limit(seeded: Seeded, engine: AsyncEngine, pg_url: str) -> None:
    """§1.5: a depth-12 query runs (and runs queries at every level)."""
    query = (
        "{ users(first: 2) { edges { node { orders(first: 1) { edges { node { user {"
        " orders(first: 1) { edges { node { user { name } } } } } } } } } } } }"
    )
    with count_statements(engine) as log:
        result = await run(context(engine, pg_url, None), query)
    assert result.errors is None
    deepest = result.data["users"]["edges"][1]["node"]["orders"]["edges"][0]["node"]["user"]
    assert deepest["orders"]["edges"][0]["node"]["user"] == {"name": "User 1"}
    assert log.count > 3


@pytest.mark.asyncio
async def test_guide_user_by_id_has_no_authorization(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """§1.5: a regular user reads another user's email through user(id)."""
    alice = Principal(seeded.user_ids[0], UserRole.USER)
    result = await run(
        context(engine, pg_url, alice),
        "query($id: ID!) { user(id: $id) { email } }",
        id=str(seeded.user_ids[1]),
    )
    assert result.errors is None
    assert result.data == {"user": {"email": "user0002@example.com"}}


@pytest.mark.asyncio
async def test_guide_subscription_lets_anyone_watch_anyone(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """§1.5: Alice subscribes with userId = Bob and receives Bob's order events."""
    alice, bob = seeded.user_ids[0], seeded.user_ids[1]
    stream = await port.guide_schema.subscribe(
        "subscription($u: ID!) { orderStatusChanged(userId: $u) { id status } }",
        variable_values={"u": str(bob)},
        context_value=context(engine, pg_url, Principal(alice, UserRole.USER)),
    )
    pending = asyncio.ensure_future(stream.__anext__())
    try:
        assert await asyncio.to_thread(wait_for_listeners, pg_url, order_channel(bob)) == 1
        with psycopg.connect(pg_url) as conn:
            row = conn.execute(
                "UPDATE orders SET status = 'cancelled' WHERE id ="
                " (SELECT id FROM orders WHERE user_id = %s ORDER BY created_at LIMIT 1)"
                " RETURNING id, user_id, total_cents, created_at",
                (bob,),
            ).fetchone()
            assert row is not None
            conn.execute(
                "SELECT pg_notify(%s, json_build_object('order_id', %s::text, 'user_id', %s::text,"
                " 'status', 'cancelled', 'total_cents', %s::bigint, 'created_at', %s::text)::text)",
                (order_channel(bob), row[0], row[1], row[2], row[3].isoformat()),
            )
        event = await asyncio.wait_for(pending, 5)
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending
        await stream.aclose()
    assert event.data == {"orderStatusChanged": {"id": str(row[0]), "status": "cancelled"}}


@pytest.mark.asyncio
async def test_guide_loader_keyed_by_the_wrong_type_returns_none(
    seeded: Seeded, engine: AsyncEngine
) -> None:
    """§1.6: GraphQL IDs are strings, the map is keyed by UUIDs — every user comes back None."""
    loaders = port.create_loaders(make_sessions(engine))
    ids = [str(seeded.user_ids[1]), str(seeded.user_ids[0])]
    with count_statements(engine) as log:
        found = await loaders.user_loader.load_many(ids)
    assert log.count == 1  # the rows WERE fetched …
    assert found == [None, None]  # … and then lost in the lookup


@pytest.mark.asyncio
async def test_guide_loader_has_no_batch_size_limit(seeded: Seeded, engine: AsyncEngine) -> None:
    """§1.6: 150 keys go to PostgreSQL as one 150-element IN list."""
    loaders = port.create_loaders(make_sessions(engine))
    with count_statements(engine) as log:
        await loaders.user_loader.load_many([str(uuid.uuid4()) for _ in range(150)])
    assert log.count == 1


@pytest.mark.asyncio
async def test_guide_loaders_are_shared_across_callers(
    seeded: Seeded, engine: AsyncEngine, pg_url: str
) -> None:
    """§1.6: the second caller is answered from the first caller's cache — stale, no query run."""
    sessions = make_sessions(engine)
    first = port.GuideContext(sessions, Principal(seeded.admin_id, UserRole.ADMIN), pg_url)
    second = port.GuideContext(sessions, Principal(seeded.user_ids[0], UserRole.USER), pg_url)
    assert first.loaders is second.loaders
    me = seeded.user_ids[0]
    # UUID keys, so this test sees the sharing defect rather than the key-type one.
    cached = await first.loaders.user_loader.load(me)  # type: ignore[arg-type]
    assert cached is not None
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE users SET name = 'Renamed' WHERE id = %s", (me,))
    with count_statements(engine) as log:
        seen = await second.loaders.user_loader.load(me)  # type: ignore[arg-type]
    assert seen is not None
    assert seen.name == "User 1"
    assert log.count == 0
