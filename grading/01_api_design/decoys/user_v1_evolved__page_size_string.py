"""Decoy for 01.8: changes page_size from int32 to string ("any size fits"), another wire type, so
old values are lost — caught by test_page_size_is_64_bit_and_reads_the_same_both_ways."""

from __future__ import annotations

from reference.api_design.grpc.codegen import PROTO_ROOT

OLD_USER = """\
message User {
  string id = 1;
  string email = 2;
  string name = 3;
  UserStatus status = 4;
  google.protobuf.Timestamp created_at = 5;
}"""


def evolved_user_proto() -> str:
    """The complete text of ``user/v1/user.proto`` after the four changes."""
    text = (PROTO_ROOT / "user/v1/user.proto").read_text()
    edits = [
        (
            OLD_USER,
            """\
message User {
  reserved 4;
  reserved "status";

  string id = 1;
  string email = 2;
  string display_name = 3 [json_name = "name"];
  google.protobuf.Timestamp created_at = 5;
  bool email_verified = 6;
}""",
        ),
        ("int32 page_size = 1;", "string page_size = 1;"),
    ]
    for old, new in edits:
        assert old in text, f"the deployed proto no longer holds {old!r}"
        text = text.replace(old, new)
    return text
