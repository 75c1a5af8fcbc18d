"""Decoy for 01.8: the guide's own user.proto (package `user`, Timestamp not imported, four messages
never defined), which protoc refuses — caught by every test (the proto must compile as user.v1).

Caught by test_it_compiles_in_package_user_v1_with_every_rpc.
"""

from __future__ import annotations

from reference.config import REPO_ROOT


def evolved_user_proto() -> str:
    """The complete text of ``user/v1/user.proto`` after the four changes."""
    return (REPO_ROOT / "guide/api_design/proto/user.proto").read_text()
