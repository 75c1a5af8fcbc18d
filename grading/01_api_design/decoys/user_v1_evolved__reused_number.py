"""Decoy for 01.8: gives the freed number 4 to the new email_verified (reserving only the name) —
caught by the old-to-new, new-to-old and pass-through tests and test_status_number_is_reserved."""

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
  reserved "status";

  string id = 1;
  string email = 2;
  string display_name = 3 [json_name = "name"];
  bool email_verified = 4;
  google.protobuf.Timestamp created_at = 5;
}""",
        ),
        ("int32 page_size = 1;", "int64 page_size = 1;"),
    ]
    for old, new in edits:
        assert old in text, f"the deployed proto no longer holds {old!r}"
        text = text.replace(old, new)
    return text
