"""Grading for exercise 01.8: evolve user.v1 compatibly (exercises/01_api_design/user_v1_evolved.py).

Your text is compiled by protoc exactly as ``reference.api_design.grpc.codegen`` compiles the deployed
proto (grpc_tools' bundled includes), into a descriptor pool of its own. The deployed schema is the
committed ``user_pb2``: "old" below means bytes or JSON it wrote. Every message is generated per run.
"""

from __future__ import annotations

import random
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# protobuf ships no type information (reference/api_design/grpc/server.py ignores it the same way).
from google.protobuf import (  # type: ignore[import-untyped]
    descriptor_pb2,
    descriptor_pool,
    json_format,
    message_factory,
)
from google.protobuf.descriptor import (  # type: ignore[import-untyped]
    Descriptor,
    EnumDescriptor,
    FieldDescriptor,
)
from google.protobuf.message import Message  # type: ignore[import-untyped]

from reference.api_design.grpc import codegen
from reference.api_design.grpc.gen.user.v1 import user_pb2

PROTO_FILE = "user/v1/user.proto"
OLD_FILE = user_pb2.DESCRIPTOR
CHANGED = {"User", "ListUsersRequest"}  # what the change request touches; the rest must not move
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True)
class Compiled:
    """The learner's proto, compiled: protoc's answer and, when it accepted, a pool of its types."""

    result: subprocess.CompletedProcess[str]
    pool: descriptor_pool.DescriptorPool | None

    @property
    def errors(self) -> str:
        """protoc's complaints, with the scratch folder cut from the file names."""
        return re.sub(r"^\S*/proto/user/v1/", "user/v1/", self.result.stderr, flags=re.MULTILINE)

    def message(self, name: str) -> type[Message]:
        assert self.pool is not None
        try:
            descriptor = self.pool.FindMessageTypeByName(f"user.v1.{name}")
        except KeyError:
            raise AssertionError(f"your proto has no message user.v1.{name}") from None
        message_class: type[Message] = message_factory.GetMessageClass(descriptor)
        return message_class


def compile_proto(text: str, workdir: Path) -> Compiled:
    """Run codegen's protoc command on ``text`` as user/v1/user.proto, plus a descriptor set."""
    root, out = workdir / "proto", workdir / "out"
    (root / PROTO_FILE).parent.mkdir(parents=True)
    out.mkdir()
    (root / PROTO_FILE).write_text(text)
    descriptors = workdir / "descriptors.pb"
    args = codegen.protoc_command(out, proto_root=root)
    files = len(codegen.PROTO_FILES)
    # The generated Python modules would register user/v1/user.proto in the process-wide pool,
    # where the deployed one already lives; a descriptor set loads into a pool of its own.
    args[-files:-files] = [f"--descriptor_set_out={descriptors}", "--include_imports"]
    result = codegen.run_protoc(args, cwd=root)
    if result.returncode != 0:
        return Compiled(result, None)
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(descriptors.read_bytes()).file:
        pool.Add(file)
    return Compiled(result, pool)


@pytest.fixture(scope="module")
def proto_text(exercise: ModuleType) -> str:
    text = exercise.evolved_user_proto()
    assert isinstance(text, str), f"evolved_user_proto() must return the proto's text, got {text!r}"
    return text


@pytest.fixture(scope="module")
def evolved(proto_text: str, tmp_path_factory: pytest.TempPathFactory) -> Compiled:
    compiled = compile_proto(proto_text, tmp_path_factory.mktemp("evolved"))
    assert compiled.pool is not None, f"protoc refused your proto:\n{compiled.errors}"
    return compiled


@pytest.fixture
def rng() -> random.Random:
    return random.Random(uuid.uuid4().int)


def field(message: Message, name: str) -> Any:
    """``message.<name>``, or an assertion naming the missing field."""
    assert name in message.DESCRIPTOR.fields_by_name, (
        f"your {message.DESCRIPTOR.name} has no field {name!r}"
    )
    return getattr(message, name)


def random_old_user(rng: random.Random) -> Any:
    user = user_pb2.User(
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        email=f"u{rng.getrandbits(40):x}@example.test",
        name=rng.choice(["Ada", "Jürgen", "김민지", "Zoë"]) + f" {rng.getrandbits(24):x}",
        status=rng.choice(
            [
                user_pb2.USER_STATUS_ACTIVE,
                user_pb2.USER_STATUS_INACTIVE,
                user_pb2.USER_STATUS_SUSPENDED,
            ]
        ),  # never UNSPECIFIED: a status that is not on the wire hides
    )
    user.created_at.FromNanoseconds(rng.randrange(946_684_800, 1_900_000_000) * 10**9 + 1000)
    return user


def with_line_in_user(text: str, line: str) -> str:
    """``text`` with ``line`` added as the first member of ``message User``."""
    opening = re.search(r"^\s*message\s+User\s*\{", text, re.MULTILINE)
    assert opening, "your proto has no line opening `message User {`"
    return f"{text[: opening.end()]}\n  {line}\n{text[opening.end() :]}"


def test_it_compiles_in_package_user_v1_with_every_rpc(evolved: Compiled) -> None:
    """Your text compiles with protoc, keeps `package user.v1`, and keeps every RPC of UserService
    with its request and response types: the package and the names make each call's path
    (/user.v1.UserService/GetUser), so changing them strands every deployed client."""
    assert evolved.pool is not None
    file = evolved.pool.FindFileByName(PROTO_FILE)
    assert file.package == "user.v1", f"package is {file.package!r}: it must stay user.v1"
    assert "UserService" in file.services_by_name, "your proto has no service UserService"
    service = file.services_by_name["UserService"]
    for old in OLD_FILE.services_by_name["UserService"].methods:
        assert old.name in service.methods_by_name, f"UserService lost rpc {old.name}"
        new = service.methods_by_name[old.name]
        assert (new.input_type.full_name, new.output_type.full_name) == (
            old.input_type.full_name,
            old.output_type.full_name,
        ), f"rpc {old.name} changed its request or response type"
        assert (new.client_streaming, new.server_streaming) == (
            old.client_streaming,
            old.server_streaming,
        ), f"rpc {old.name} changed whether it streams"


def test_old_users_read_the_same_with_your_schema(evolved: Compiled, rng: random.Random) -> None:
    """Bytes an old client wrote mean the same to new code: id, email and created_at keep their
    values, the old `name` arrives in `display_name` (a rename keeps the field's NUMBER: the wire
    carries numbers, not names), and nothing the old client sent turns into `email_verified`."""
    for _ in range(20):
        old = random_old_user(rng)
        new = evolved.message("User").FromString(old.SerializeToString())
        assert field(new, "display_name") == old.name, (
            f"an old User with name={old.name!r} reads as display_name="
            f"{field(new, 'display_name')!r}: renaming must not renumber"
        )
        assert (new.id, new.email) == (old.id, old.email)
        assert field(new, "created_at").ToNanoseconds() == old.created_at.ToNanoseconds()
        assert field(new, "email_verified") is False, (
            f"an old User with status={user_pb2.UserStatus.Name(old.status)} reads as "
            "email_verified=True: the new field took a number the old schema used"
        )


def test_new_users_read_the_same_with_the_old_schema(evolved: Compiled, rng: random.Random) -> None:
    """Bytes new code writes mean the same to an old client: its `name` is your `display_name`,
    and `email_verified` never shows up as the removed `status` (give it a number never used)."""
    for _ in range(20):
        template = random_old_user(rng)
        new = evolved.message("User")(id=template.id, email=template.email)
        assert "display_name" in new.DESCRIPTOR.fields_by_name, "your User has no display_name"
        assert "email_verified" in new.DESCRIPTOR.fields_by_name, "your User has no email_verified"
        new.display_name = template.name
        new.email_verified = True
        new.created_at.FromNanoseconds(template.created_at.ToNanoseconds())
        old = user_pb2.User.FromString(new.SerializeToString())
        assert old.name == template.name, (
            f"an old client reads name={old.name!r} where you wrote display_name={template.name!r}"
        )
        assert (old.id, old.email, old.created_at) == (
            template.id,
            template.email,
            template.created_at,
        )
        assert old.status == user_pb2.USER_STATUS_UNSPECIFIED, (
            f"an old client reads status={user_pb2.UserStatus.Name(old.status)} from a user with "
            "email_verified=true: the new field reuses status's number"
        )


def test_a_new_server_passes_old_fields_through(evolved: Compiled, rng: random.Random) -> None:
    """A service built from your schema that reads an old User and sends it on (a relay, a cache)
    keeps the status it no longer knows as an unknown field, byte for byte; a new field on the
    old number would rewrite it instead."""
    for _ in range(20):
        old = random_old_user(rng)
        relayed = evolved.message("User").FromString(old.SerializeToString()).SerializeToString()
        back = user_pb2.User.FromString(relayed)
        assert back == old, (
            f"sent {user_pb2.UserStatus.Name(old.status)} through your schema, got "
            f"{user_pb2.UserStatus.Name(back.status)} back"
        )


def test_json_keeps_its_names(evolved: Compiled, rng: random.Random) -> None:
    """JSON carries names, not numbers: after the rename, JSON clients must still send and read
    "name" (protobuf's field option `json_name` pins it). Old JSON parses into display_name, and
    new JSON says "name" (never "displayName") so old readers find it."""
    old = random_old_user(rng)
    old_json = json_format.MessageToDict(old)
    new = json_format.ParseDict(old_json, evolved.message("User")(), ignore_unknown_fields=True)
    assert field(new, "display_name") == old.name, (
        f"old JSON {sorted(old_json)} parsed with your schema lost the name"
    )
    new_json = json_format.MessageToDict(new)
    assert sorted(new_json.keys() & {"name", "displayName"}) == ["name"], (
        f"your User's JSON has the keys {sorted(new_json)}: old clients look for 'name'"
    )
    again = json_format.ParseDict(new_json, user_pb2.User(), ignore_unknown_fields=True)
    assert (again.id, again.email, again.name) == (old.id, old.email, old.name)
    assert again.created_at == old.created_at


def test_status_number_is_reserved(proto_text: str, evolved: Compiled, tmp_path: Path) -> None:
    """Removing status without `reserved 4;` leaves its number free: a later edit can give 4 to a new
    field, and every stored message's status would be read as that field. With the number reserved,
    protoc refuses such an edit — here, a field numbered 4 added to your User."""
    edited = compile_proto(
        with_line_in_user(proto_text, "bool reused_by_a_later_edit = 4;"), tmp_path
    )
    assert edited.result.returncode != 0, "protoc accepted a new field numbered 4 in your User"
    assert '"reused_by_a_later_edit" uses reserved number 4' in edited.errors, (
        "protoc refused a new field numbered 4 in your User, but not because 4 is reserved"
        f" (does a field of yours take 4?):\n{edited.errors}"
    )


def test_status_name_is_reserved(proto_text: str, evolved: Compiled, tmp_path: Path) -> None:
    """Reserve the removed name too (`reserved "status";`): JSON and text formats carry names, so a
    later field called status would be fed the old JSON's "status" values. protoc must refuse a new
    field named status in your User (and status itself must be gone)."""
    user = evolved.message("User").DESCRIPTOR
    assert "status" not in user.fields_by_name, "your User still has its status field"
    free = 1 + max([f.number for f in user.fields] + [4, 100])
    edited = compile_proto(with_line_in_user(proto_text, f"bool status = {free};"), tmp_path)
    assert edited.result.returncode != 0, "protoc accepted a new field named status in your User"
    assert 'Field name "status" is reserved' in edited.errors, (
        f"protoc refused the field named status, but not because the name is reserved:\n"
        f"{edited.errors}"
    )


def test_page_size_is_64_bit_and_reads_the_same_both_ways(
    evolved: Compiled, rng: random.Random
) -> None:
    """page_size must hold 64-bit signed values, and an old request's page_size (negatives too, which
    the server refuses) must read as the same number: int32 → int64 keeps the varint encoding;
    sint64 (zigzag), fixed64 or string change the bytes, and uint64 turns -1 into 2**64 - 1."""
    request = evolved.message("ListUsersRequest")
    assert "page_size" in request.DESCRIPTOR.fields_by_name, "ListUsersRequest has no page_size"
    values = [rng.randint(1, 100), rng.randint(101, INT32_MAX), rng.randint(INT32_MIN, -1), -1]
    for value in values:
        old = user_pb2.ListUsersRequest(page_size=value, page_token=f"t{rng.getrandbits(32):x}")
        new = request.FromString(old.SerializeToString())
        assert (new.page_size, new.page_token) == (value, old.page_token), (
            f"an old request with page_size={value} reads as page_size={new.page_size!r}"
        )
        back = user_pb2.ListUsersRequest.FromString(request(page_size=value).SerializeToString())
        assert back.page_size == value, (
            f"your page_size={value} reads as {back.page_size} to an old server"
        )
    wide = rng.choice([1, -1]) * rng.randint(2**40, 2**62)
    try:
        stored = request(page_size=wide)
    except (TypeError, ValueError) as error:
        raise AssertionError(f"page_size={wide} does not fit: {error}") from None
    assert request.FromString(stored.SerializeToString()).page_size == wide


def shape(descriptor: Descriptor | EnumDescriptor) -> list[tuple[Any, ...]]:
    """What the wire and JSON see of a message or enum: numbers, names, types, nesting."""
    if isinstance(descriptor, EnumDescriptor):
        return [(v.number, v.name) for v in descriptor.values]
    fields: list[tuple[Any, ...]] = [
        (
            f.number,
            f.name,
            f.json_name,
            f.type,
            f.is_repeated,
            f.message_type.full_name if f.type == FieldDescriptor.TYPE_MESSAGE else "",
            f.enum_type.full_name if f.type == FieldDescriptor.TYPE_ENUM else "",
        )
        for f in descriptor.fields
    ]
    nested = [(n.name, shape(n)) for n in [*descriptor.nested_types, *descriptor.enum_types]]
    return sorted(fields) + sorted(nested, key=lambda item: item[0])


def test_everything_else_in_v1_is_unchanged(evolved: Compiled) -> None:
    """The change request touches User and ListUsersRequest only: every other message and enum of
    user.v1 keeps its fields, numbers, types and values (UserStatus too — deployed code uses it)."""
    assert evolved.pool is not None
    file = evolved.pool.FindFileByName(PROTO_FILE)
    for kind, old_types, new_types in (
        ("message", OLD_FILE.message_types_by_name, file.message_types_by_name),
        ("enum", OLD_FILE.enum_types_by_name, file.enum_types_by_name),
    ):
        for name, old in old_types.items():
            if name in CHANGED:
                continue
            assert name in new_types, f"your proto lost {kind} {name}"
            assert shape(new_types[name]) == shape(old), f"your proto changed {kind} {name}"
