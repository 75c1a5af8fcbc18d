"""Decoy for 01.8: renames name by retiring number 3 and adding display_name as field 7, so the name
is lost between old and new bytes — caught by test_old_users_… and test_new_users_read_the_same_…

Caught by test_old_users_read_the_same_with_your_schema.
"""

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
  reserved 3, 4;
  reserved "name", "status";

  string id = 1;
  string email = 2;
  google.protobuf.Timestamp created_at = 5;
  bool email_verified = 6;
  string display_name = 7 [json_name = "name"];
}""",
        ),
        ("int32 page_size = 1;", "int64 page_size = 1;"),
    ]
    for old, new in edits:
        assert old in text, f"the deployed proto no longer holds {old!r}"
        text = text.replace(old, new)
    return text
