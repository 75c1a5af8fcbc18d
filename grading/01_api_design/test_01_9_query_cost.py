"""Grading for exercise 01.9: a GraphQL query-cost function (exercises/01_api_design/query_cost.py).

Documents and their numbers are generated per run (the seed is in every failure message), priced by
your function and by the course's ``reference.api_design.graphql.limits.query_cost``, then sent over
HTTP to the course's GraphQL app with your function installed, counting the SQL statements it sends.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import graphql
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference.api_design.auth import Principal
from reference.api_design.graphql.app import create_app
from reference.api_design.graphql.limits import MAX_COST, MAX_FIRST, query_cost
from reference.api_design.graphql.schema import build_schema, schema
from reference.api_design.graphql.seed import Seeded, seed_users_with_orders
from reference.api_design.graphql.statements import count_statements
from reference.auth.authenticator import JwtAuthenticator, access_token_for
from reference.auth.keys import KeyRing, generate_key
from reference.auth.tokens import TokenIssuer
from reference.databases.migrate import upgrade
from reference.databases.models import UserRole

SCHEMA = schema._schema
SEED = secrets.randbits(32)  # one per run, printed with every failure
ISSUER = TokenIssuer(KeyRing(generate_key()), "https://auth.course.test", "course-api")


@pytest.fixture
def rng() -> random.Random:
    return random.Random(SEED)


def reference_cost(query: str, variables: dict[str, Any] | None = None) -> int:
    return query_cost(SCHEMA, graphql.parse(query), variables)


def learner_cost(
    exercise: ModuleType,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    return int(exercise.query_cost(SCHEMA, graphql.parse(query), variables, operation_name))


def default_first(type_name: str, field_name: str) -> int:
    """The schema's own default for ``first`` (read, never assumed)."""
    owner = SCHEMA.get_type(type_name)
    assert isinstance(owner, graphql.GraphQLObjectType)
    value = owner.fields[field_name].args["first"].default_value
    assert isinstance(value, int)
    return value


def users(first: str, inner: str = "cursor", alias: str = "") -> str:
    arguments = f"(first: {first})" if first else ""
    return f"{alias}users{arguments} {{ edges {{ {inner} }} }}"


def orders(first: str, inner: str = "cursor") -> str:
    arguments = f"(first: {first})" if first else ""
    return f"orders{arguments} {{ edges {{ {inner} }} }}"


# --- documents generated per run ---------------------------------------------------------------


@dataclass
class Document:
    """A random valid document: ``first`` as literals, variables, variable defaults or left out;
    aliases, named fragments spread several times, inline fragments, a second operation."""

    rng: random.Random
    definitions: list[str] = field(default_factory=list)  # "$v0: Int!" …
    variables: dict[str, int] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    aliases: int = 0

    def first(self) -> str:
        n = self.rng.randint(1, MAX_FIRST)
        kind = self.rng.choice(["literal", "literal", "variable", "default", "omitted"])
        if kind == "literal":
            return str(n)
        if kind == "omitted":
            return ""
        name = f"v{len(self.definitions)}"
        if kind == "variable":
            self.definitions.append(f"${name}: Int!")
            self.variables[name] = n
        else:
            self.definitions.append(f"${name}: Int = {n}")
        return f"${name}"

    def alias(self) -> str:
        self.aliases += 1
        return f"a{self.aliases}: "

    def times(self) -> int:
        return self.rng.choice([1, 1, 1, 2, 3])

    def user(self, depth: int) -> str:
        parts = ["id name"]
        if depth > 0:
            for _ in range(self.times()):
                listing = self.alias() + orders(self.first(), f"node {{ {self.order(depth - 1)} }}")
                if self.rng.random() < 0.3:
                    listing = f"... on User {{ {listing} }}"
                parts.append(listing)
        if self.rng.random() < 0.4:
            name = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {name} on User {{ {orders(self.first())} }}")
            parts += [f"...{name}"] * self.rng.randint(1, 3)
        return " ".join(parts)

    def order(self, depth: int) -> str:
        if depth > 0 and self.rng.random() < 0.7:
            return f"id status user {{ {self.user(depth)} }}"
        return "id totalCents __typename"

    def build(self) -> tuple[str, dict[str, int], str | None]:
        depth = self.rng.randint(1, 3)
        selections = [
            users(self.first(), f"node {{ {self.user(depth - 1)} }}", self.alias())
            for _ in range(self.times())
        ]
        if self.rng.random() < 0.5:
            selections.append(f"me {{ {self.user(depth - 1)} }}")
        definitions = f"({', '.join(self.definitions)})" if self.definitions else ""
        main = f"query Main{definitions} {{ {' '.join(selections)} }}"
        parts = [main, *self.fragments]
        operation_name = None
        if self.rng.random() < 0.3:  # a second, cheap operation, before or after Main
            other = "query Other { me { name orders(first: 1) { edges { cursor } } } }"
            parts.insert(self.rng.randint(0, 1), other)
            operation_name = "Main"
        return " ".join(parts), self.variables, operation_name


def test_cost_matches_on_random_documents(exercise: ModuleType, rng: random.Random) -> None:
    """60 documents generated for this run — aliases, fragments spread several times, inline
    fragments, first as a literal, a variable, a variable's default or left out, and sometimes a
    second operation picked by operation_name — must each cost what the course's query_cost says."""
    for _ in range(60):
        query, variables, operation_name = Document(rng).build()
        assert not graphql.validate(SCHEMA, graphql.parse(query)), query  # the generator's check
        expected = query_cost(SCHEMA, graphql.parse(query), variables, operation_name)
        got = learner_cost(exercise, query, variables, operation_name)
        assert got == expected, (
            f"(seed {SEED}) expected cost {expected:,}, got {got:,} for\n{query}\n"
            f"variables {variables}, operation_name {operation_name!r}"
        )


def test_aliases_each_cost(exercise: ModuleType, rng: random.Random) -> None:
    """Aliases add rows without adding depth: k aliases of the same users(first: a) { … orders(first:
    b) } cost k × (a + a × b). A depth limit never sees them, and a map of fields keyed by field
    name (not by alias) counts them once."""
    k, a, b = rng.randint(2, 15), rng.randint(2, MAX_FIRST), rng.randint(2, MAX_FIRST)
    query = (
        "{ "
        + " ".join(users(str(a), f"node {{ {orders(str(b))} }}", f"x{i}: ") for i in range(k))
        + " }"
    )
    got = learner_cost(exercise, query)
    assert got == k * (a + a * b), (
        f"(seed {SEED}) {k} aliases: expected {k * (a + a * b):,}, got {got:,}\n{query}"
    )


def test_a_fragment_costs_each_time_it_is_spread(exercise: ModuleType, rng: random.Random) -> None:
    """A named fragment is priced where it is spread, every time: spread under two lists of a1 and
    a2 users, its orders(first: b) costs a1 × b + a2 × b. Remembering fragments already priced (to
    stop cycles) makes the second spread free — validation already refuses cycles."""
    a1, a2, b = (rng.randint(2, MAX_FIRST) for _ in range(3))
    query = (
        f"fragment Orders on User {{ {orders(str(b))} }} {{ "
        + users(str(a1), "node { ...Orders }", "x: ")
        + " "
        + users(str(a2), "node { ...Orders }", "y: ")
        + " }"
    )
    expected = a1 + a1 * b + a2 + a2 * b
    got = learner_cost(exercise, query)
    assert got == expected, f"(seed {SEED}) expected {expected:,}, got {got:,}\n{query}"


def test_nesting_multiplies(exercise: ModuleType, rng: random.Random) -> None:
    """users(first: a) { … orders(first: b) { … user { orders(first: c) … costs a + a·b + a·b·c:
    each list returns up to first items FOR EACH item above it. Adding the firsts (a + b + c)
    prices a million-row query at 300."""
    a, b, c = (rng.randint(2, MAX_FIRST) for _ in range(3))
    inner = orders(str(b), f"node {{ user {{ {orders(str(c))} }} }}")
    query = "{ " + users(str(a), f"node {{ {inner} }}") + " }"
    expected = a + a * b + a * b * c
    got = learner_cost(exercise, query)
    assert got == expected, f"(seed {SEED}) expected {expected:,}, got {got:,}\n{query}"


def test_a_missing_first_is_the_schemas_default(exercise: ModuleType, rng: random.Random) -> None:
    """A list without first returns the schema's default page (users(first: Int! = 20) …), not one
    item: users { … orders(first: b) } costs d + d × b, and me { orders } costs d."""
    d_users, d_orders = default_first("Query", "users"), default_first("User", "orders")
    b = rng.randint(2, MAX_FIRST)
    query = "{ " + users("", f"node {{ {orders(str(b))} }}") + " }"
    got = learner_cost(exercise, query)
    assert got == d_users + d_users * b, f"(seed {SEED}) {query}: got {got:,}"
    got = learner_cost(exercise, "{ me { " + orders("") + " } }")
    assert got == d_orders, f"{{ me {{ orders }} }} costs the default {d_orders}, got {got:,}"


def test_first_from_variables_and_their_defaults(exercise: ModuleType, rng: random.Random) -> None:
    """first: $n takes n from the variables sent; a variable not sent takes its declared default
    (query($m: Int = 7)); only a first that is absent altogether takes the schema's default."""
    n, m = rng.randint(2, MAX_FIRST), rng.randint(2, MAX_FIRST)
    query = f"query($n: Int!, $m: Int = {m}) {{ " + users("$n", f"node {{ {orders('$m')} }}") + " }"
    got = learner_cost(exercise, query, {"n": n})
    assert got == n + n * m, (
        f"(seed {SEED}) n={n}, m defaults to {m}: expected {n + n * m:,}, got {got:,}"
    )


# --- the cost function installed in the course's GraphQL app -------------------------------------


@dataclass
class Served:
    client: TestClient
    app: FastAPI
    bearer: str

    def post(self, query: str) -> tuple[int, dict[str, Any], int]:
        """Status, JSON body, and the SQL statements sent while answering."""
        with count_statements(self.app.state.engine) as log:
            response = self.client.post(
                "/graphql",
                json={"query": query},
                headers={"Authorization": f"Bearer {self.bearer}"},
            )
        return response.status_code, response.json(), log.count


@pytest.fixture
def served(exercise: ModuleType, pg_url: str) -> Iterator[Served]:
    upgrade(pg_url)
    seeded: Seeded = seed_users_with_orders(pg_url, users=30, orders_per_user=3)
    app = create_app(
        pg_url,
        authenticator=JwtAuthenticator.of(ISSUER),
        schema=build_schema(cost=exercise.query_cost),
    )
    bearer = access_token_for(ISSUER, Principal(seeded.admin_id, UserRole.ADMIN))
    with TestClient(app) as client:
        yield Served(client, app, bearer)


def over_budget(rng: random.Random) -> list[tuple[str, str]]:
    """Documents over MAX_COST that pass the depth, token and alias limits, with this run's numbers."""
    while True:  # k aliases, each within budget alone, together over it
        k, a, b = rng.randint(2, 15), rng.randint(40, MAX_FIRST), rng.randint(20, MAX_FIRST)
        if a * (1 + b) <= MAX_COST < k * a * (1 + b):
            break
    aliased = (
        "{ "
        + " ".join(users(str(a), f"node {{ {orders(str(b))} }}", f"x{i}: ") for i in range(k))
        + " }"
    )
    while True:  # one fragment spread under two lists, each within budget alone
        a, b = rng.randint(50, MAX_FIRST), rng.randint(50, MAX_FIRST)
        if a * (1 + b) <= MAX_COST < 2 * a * (1 + b):
            break
    fragment = (
        f"fragment Orders on User {{ {orders(str(b))} }} {{ "
        + users(str(a), "node { ...Orders }", "x: ")
        + " "
        + users(str(a), "node { ...Orders }", "y: ")
        + " }"
    )
    while True:  # three small firsts whose product is over budget (their sum is tiny)
        a, b, c = (rng.randint(15, 40) for _ in range(3))
        if a + a * b + a * b * c > MAX_COST:
            break
    nested = (
        "{ "
        + users(str(a), f"node {{ {orders(str(b), f'node {{ user {{ {orders(str(c))} }} }}')} }}")
        + " }"
    )
    defaults = (
        "{ "
        + " ".join(  # no first anywhere: the schema's default at every level
            users("", f"node {{ {orders('', 'node { user { ' + orders('') + ' } }')} }}", f"x{i}: ")
            for i in range(2)
        )
        + " }"
    )
    return [
        (f"{k} aliases of users({a}) × orders({b})", aliased),
        ("a fragment spread under two lists", fragment),
        (f"users({a}) × orders({b}) × orders({c})", nested),
        ("two aliases of three nested lists with no first (the schema default)", defaults),
    ]


def in_budget(rng: random.Random) -> list[tuple[str, str]]:
    """Documents at or under MAX_COST, with this run's numbers."""
    a = rng.randint(50, MAX_FIRST)
    b = min(MAX_FIRST, MAX_COST // a - 1)
    a2, b2, c2 = (rng.randint(3, 12) for _ in range(3))
    k, a3, b3 = rng.randint(2, 5), rng.randint(2, 15), rng.randint(2, 15)
    return [
        (
            "users(100) × orders(99), exactly the budget",
            "{ " + users("100", f"node {{ {orders('99')} }}") + " }",
        ),
        (f"users({a}) × orders({b})", "{ " + users(str(a), f"node {{ {orders(str(b))} }}") + " }"),
        (
            f"users({a2}) × orders({b2}) × orders({c2}), small but deep",
            "{ "
            + users(
                str(a2), f"node {{ {orders(str(b2), f'node {{ user {{ {orders(str(c2))} }} }}')} }}"
            )
            + " }",
        ),
        (
            f"{k} aliases of users({a3}) × orders({b3})",
            "{ "
            + " ".join(users(str(a3), f"node {{ {orders(str(b3))} }}", f"x{i}: ") for i in range(k))
            + " }",
        ),
    ]


def test_over_budget_queries_are_refused_before_any_sql(served: Served, rng: random.Random) -> None:
    """Installed in the app, your cost function must refuse each of these (QUERY_TOO_EXPENSIVE) with
    0 SQL statements sent: k aliases that are each within budget, one fragment spread twice, three
    small firsts that multiply past 10,000, and nested lists that leave first to its default of 20."""
    for label, query in over_budget(rng):
        assert reference_cost(query) > MAX_COST  # the generator's own check
        status, body, statements = served.post(query)
        refused = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        assert refused == ["QUERY_TOO_EXPENSIVE"], (
            f"(seed {SEED}) {label} costs {reference_cost(query):,} > {MAX_COST:,} and must be refused"
            f" before it runs; the app answered {status} with errors {body.get('errors')}\n{query}"
        )
        assert statements == 0, f"{label}: refused, but only after {statements} SQL statements"


def test_in_budget_queries_run(served: Served, rng: random.Random) -> None:
    """Queries at or under the budget must run: users(100) × orders(99) is exactly 10,000; a
    deep query with small firsts is cheap however deep it nests; a few aliases of small lists are
    cheap too. Pricing by depth alone (100 per level) refuses queries that cost a few hundred rows."""
    for label, query in in_budget(rng):
        assert reference_cost(query) <= MAX_COST  # the generator's own check
        status, body, statements = served.post(query)
        assert (status, body.get("errors")) == (200, None), (
            f"(seed {SEED}) {label} costs {reference_cost(query):,} ≤ {MAX_COST:,} and must run;"
            f" the app answered {status} with errors {body.get('errors')}\n{query}"
        )
        assert statements >= 1, f"{label} ran without sending a statement"
