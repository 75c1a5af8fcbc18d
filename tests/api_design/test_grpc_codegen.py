"""The proto compiles, the committed generated modules are current, and messages round-trip (§1.7)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from reference.api_design.grpc import codegen
from reference.api_design.grpc.gen.user.v1 import user_pb2


def test_committed_generated_code_matches_a_fresh_protoc_run(tmp_path: Path) -> None:
    """Regenerating gives byte-identical files — run `uv run python -m
    reference.api_design.grpc.codegen` after editing the proto or upgrading grpcio-tools."""
    written = codegen.generate(tmp_path)
    assert written
    for fresh in written:
        committed = codegen.OUTPUT_DIR / fresh.relative_to(tmp_path)
        assert committed.exists(), f"{committed} is missing"
        assert committed.read_bytes() == fresh.read_bytes(), f"{committed} is stale"


def test_reference_proto_is_versioned_and_imports_timestamp() -> None:
    """package user.v1, in user/v1/, with google/protobuf/timestamp.proto imported."""
    descriptor = user_pb2.DESCRIPTOR
    assert descriptor.package == "user.v1"
    assert descriptor.name == "user/v1/user.proto"
    assert "google/protobuf/timestamp.proto" in [d.name for d in descriptor.dependencies]
    assert set(descriptor.message_types_by_name) >= {
        "User",
        "GetUserRequest",
        "ListUsersRequest",
        "ListUsersResponse",
        "CreateUserRequest",
        "StreamUserUpdatesRequest",
        "UserUpdate",
    }


def test_user_with_timestamp_round_trips() -> None:
    """A User serialised to bytes and parsed back is equal, created_at to the microsecond."""
    when = datetime(2024, 5, 17, 12, 30, 45, 123456, tzinfo=UTC)
    user = user_pb2.User(
        id="6f1c…",
        email="a@example.com",
        name="A",
        status=user_pb2.USER_STATUS_ACTIVE,
        created_at=when,
    )
    parsed = user_pb2.User.FromString(user.SerializeToString())
    assert parsed == user
    assert parsed.created_at.ToDatetime(tzinfo=UTC) == when


def test_generated_grpc_module_imports_its_messages_relatively() -> None:
    """The one post-processing step: `from . import user_pb2`, so the package imports anywhere."""
    source = (codegen.OUTPUT_DIR / "user" / "v1" / "user_pb2_grpc.py").read_text()
    assert "from . import user_pb2 as" in source
    assert "from user.v1 import" not in source
