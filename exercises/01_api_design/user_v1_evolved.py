"""Taught in notebooks/01_api_design_grpc.ipynb §6.

Exercise 01.8 — change ``user.v1`` without breaking a single client.

``reference/api_design/grpc/proto/user/v1/user.proto`` is deployed: phones, other services and
stored messages hold bytes and JSON written with it, and they will not all be updated at once. The
product team asks for four changes, in the same package ``user.v1`` (a ``user.v2`` would strand
every client):

1. ``User.status`` goes: an account's state is no longer part of the user record.
2. ``User.name`` is called ``display_name`` in code from now on. JSON clients keep sending and
   reading ``"name"``.
3. ``User`` gains a ``bool email_verified``.
4. ``ListUsersRequest.page_size`` becomes a 64-bit signed integer (the gateway uses them everywhere);
   negative values must still reach the server as negative (it answers INVALID_ARGUMENT).

Everything else stays as it is. Write the new file's complete text; the grader compiles it with
protoc (as ``reference.api_design.grpc.codegen`` does) and checks, with messages generated per run:
bytes written by the old schema read correctly with yours and the other way round, a server built
from yours passes old fields it does not know through unchanged, the JSON names stay the same, and a
later edit that reuses what you removed is refused by protoc.

What the wire carries: each field is its NUMBER and a wire type (varint, length-delimited, …), never
its name — names matter only to JSON and to your code. A number, once used, means that field forever.
"""

from __future__ import annotations


def evolved_user_proto() -> str:
    """The complete text of ``user/v1/user.proto`` after the four changes."""
    # TODO: return the proto's text: start from a copy of
    # reference/api_design/grpc/proto/user/v1/user.proto and make the four changes compatibly.
    raise NotImplementedError
