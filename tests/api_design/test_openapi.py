"""OpenAPI 3.1: the committed spec is current, says what the code enforces, and schemathesis finds
no 5xx and no response that breaks it — against the live app and database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
import yaml
from fastapi import FastAPI

from reference.api_design.export_openapi import SPEC_PATH, current_spec, render
from reference.api_design.fuzz import fuzz_asgi, fuzz_stateful
from reference.api_design.seed import Cast, seed_users
from reference.config import REPO_ROOT

GUIDE_SPEC = REPO_ROOT / "guide" / "api_design" / "openapi.yaml"


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def unresolved_refs(spec: dict[str, Any]) -> list[str]:
    missing = []
    for ref in refs(spec):
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            missing.append(ref)
    return missing


def param(spec: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    return next(p for p in spec["paths"][path][method]["parameters"] if p["name"] == name)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return loaded


def test_committed_spec_is_not_stale() -> None:
    assert SPEC_PATH.read_text() == render(current_spec()), (
        "run: uv run python -m reference.api_design.export_openapi"
    )


def test_spec_is_valid_openapi_3_1_with_every_ref_defined(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(spec).validate()
    assert unresolved_refs(spec) == []


def test_paging_bounds_are_in_the_spec(spec: dict[str, Any]) -> None:
    limit = param(spec, "/users", "get", "limit")["schema"]
    page = param(spec, "/users", "get", "page")["schema"]
    sort = param(spec, "/users", "get", "sort")["schema"]
    assert (limit["minimum"], limit["maximum"], limit["type"]) == (1, 100, "integer")
    assert (page["minimum"], page["type"]) == (1, "integer")
    assert "password_hash" not in sort["enum"]
    assert set(sort["enum"]) == {"created_at", "-created_at", "email", "-email", "name", "-name"}


def test_error_responses_are_documented_as_problem_json(spec: dict[str, Any]) -> None:
    get_user = spec["paths"]["/users/{user_id}"]["get"]["responses"]
    assert {"200", "304", "401", "404", "422", "429", "500", "503"} <= get_user.keys()
    patch = spec["paths"]["/users/{user_id}"]["patch"]["responses"]
    assert {"400", "403", "409", "412", "428"} <= patch.keys()
    for responses in (get_user, patch):
        for status, response in responses.items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], status
    assert spec["paths"]["/users"]["post"]["responses"]["201"]["headers"]["Location"]
    bearer = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (bearer["scheme"], bearer["bearerFormat"]) == (
        "bearer",
        "JWT",
    )  # the course's EdDSA JWTs


def test_preconditions_etags_and_body_rules_are_in_the_spec(spec: dict[str, Any]) -> None:
    """What the server enforces, the spec says: If-Match required on PUT/PATCH (428), optional on
    DELETE; ETag on every user representation; 413/415 on every body; canonical UUID ids."""
    user = spec["paths"]["/users/{user_id}"]
    for method in ("put", "patch"):
        if_match = param(spec, "/users/{user_id}", method, "If-Match")
        assert if_match["in"] == "header"
        assert if_match["required"] is True
        assert "428" in user[method]["responses"]
        assert "ETag" in user[method]["responses"]["200"]["headers"]
    assert param(spec, "/users/{user_id}", "delete", "If-Match")["required"] is False
    assert "ETag" in user["get"]["responses"]["200"]["headers"]
    assert "ETag" in user["get"]["responses"]["304"]["headers"]
    created = spec["paths"]["/users"]["post"]["responses"]
    assert {"Location", "ETag"} <= created["201"]["headers"].keys()
    assert created["201"]["links"]["PatchUser"]["parameters"]["header.If-Match"] == (
        "$response.header.ETag"
    )
    for path, method in (
        ("/users", "post"),
        ("/users/{user_id}", "put"),
        ("/users/{user_id}", "patch"),
    ):
        assert {"413", "415"} <= spec["paths"][path][method]["responses"].keys()
    user_id = param(spec, "/users/{user_id}", "get", "user_id")["schema"]
    assert user_id["pattern"] == "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def test_no_user_schema_exposes_a_password_hash(spec: dict[str, Any]) -> None:
    text = json.dumps(spec["components"]["schemas"])
    assert "password_hash" not in text
    assert "password" in spec["components"]["schemas"]["UserCreate"]["properties"]
    assert "password" not in spec["components"]["schemas"]["UserOut"]["properties"]


def test_the_guides_spec_has_the_defects_the_reference_fixes() -> None:
    guide = yaml.safe_load(GUIDE_SPEC.read_text())
    assert unresolved_refs(guide) == ["#/components/schemas/UserListResponse"]
    limit = param(guide, "/users", "get", "limit")["schema"]
    assert "minimum" not in limit
    assert list(guide["paths"]["/users"]["get"]["responses"]) == ["200"]


def restorer(database_url: str) -> Callable[[], None]:
    """Snapshot the users table; the returned function puts it back (for the stateful phase)."""
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT * FROM users").fetchall()
        description = connection.execute("SELECT * FROM users").description or []
        columns = [column.name for column in description]
    names = ", ".join(columns)
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns if column != "id")
    upsert = (
        f"INSERT INTO users ({names}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )
    ids = [row[columns.index("id")] for row in rows]

    def restore() -> None:
        with psycopg.connect(database_url) as connection:
            connection.execute("DELETE FROM users WHERE id <> ALL(%s)", (ids,))
            connection.cursor().executemany(upsert, rows)

    return restore


@pytest.mark.slow
@pytest.mark.parametrize("who", ["anonymous", "alice", "admin"])
def test_schemathesis_finds_nothing_on_the_reference(
    make_app: Callable[..., FastAPI], cast: Cast, api_db: str, who: str
) -> None:
    """Positive and negative data per operation, then linked sequences, as each kind of caller."""
    seed_users(api_db, 6)
    app = make_app()
    headers = {} if who == "anonymous" else cast.headers(who)
    report = fuzz_asgi(app, headers=headers, max_examples=8)
    stateful = fuzz_stateful(app, headers=headers, max_examples=10, steps=6, reset=restorer(api_db))
    assert report.requests > 100
    assert stateful.requests > 30
    for run in (report, stateful):
        assert run.failures == {}, run.examples
        assert run.server_errors == 0
    if who == "anonymous":
        assert set(report.statuses) | set(stateful.statuses) == {401}
    elif who == "alice":
        assert report.statuses[200] > 0
        assert report.statuses[403] > 0
    else:
        # The stateful phase created users and followed their links with the ETag it was given.
        assert stateful.statuses[201] > 0
        assert stateful.statuses[200] + stateful.statuses[204] > 0


@pytest.mark.slow
def test_schemathesis_finds_server_errors_on_the_guide_port(api_db: str) -> None:
    from guide.api_design.express_crud import create_guide_app
    from reference.api_design.seed import CHEAP_HASHER

    report = fuzz_asgi(create_guide_app(api_db, password_hasher=CHEAP_HASHER), max_examples=8)
    assert report.server_errors > 0
    assert "Server error (unhandled exception)" in report.failures
