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
    return """\
// The course's user service, version 1, after a compatible change: every message written by the
// first release still reads the same, and every message written by this one reads the same to it.
syntax = "proto3";

package user.v1;

import "google/protobuf/timestamp.proto";

// Every call needs the metadata `authorization: Bearer <token>` (UNAUTHENTICATED otherwise) and is
// authorised like the REST API: users read only their own record (another's is NOT_FOUND), managers
// and admins list, only admins create (PERMISSION_DENIED otherwise). Requests over 64 KiB are
// RESOURCE_EXHAUSTED; bytes that are not the request message are INVALID_ARGUMENT.
service UserService {
  // NOT_FOUND for an unknown id, INVALID_ARGUMENT for an id that is not a UUID in canonical form.
  rpc GetUser(GetUserRequest) returns (User);
  // Keyset-paginated, oldest first. page_token is opaque: pass back next_page_token unchanged.
  rpc ListUsers(ListUsersRequest) returns (ListUsersResponse);
  // ALREADY_EXISTS when the email (compared case-insensitively) is taken.
  rpc CreateUser(CreateUserRequest) returns (User);
  // Server stream of changes, fed by PostgreSQL LISTEN/NOTIFY; ends when the client cancels. The
  // initial metadata `user-updates: listening` says no later change can be missed. A server runs
  // a bounded number of streams; one more is RESOURCE_EXHAUSTED (retry later).
  rpc StreamUserUpdates(StreamUserUpdatesRequest) returns (stream UserUpdate);
}

enum UserStatus {
  USER_STATUS_UNSPECIFIED = 0;
  USER_STATUS_ACTIVE = 1;
  USER_STATUS_INACTIVE = 2;
  USER_STATUS_SUSPENDED = 3;
}

message User {
  // status (4) was removed: its number and name stay reserved, so no later field can take them
  // and misread the status that old clients and stored messages still send.
  reserved 4;
  reserved "status";

  string id = 1;
  string email = 2;
  // Renamed from `name`: the number (the wire) is unchanged and json_name keeps JSON's "name".
  string display_name = 3 [json_name = "name"];
  google.protobuf.Timestamp created_at = 5;
  // New: a number this message never used.
  bool email_verified = 6;
}

message GetUserRequest {
  // A UUID in its canonical text form (lower-case 8-4-4-4-12); {…}, urn:uuid: and undashed are
  // INVALID_ARGUMENT.
  string id = 1;
}

message ListUsersRequest {
  // 0 means the default (50); values above 100 are coerced to 100; negative is INVALID_ARGUMENT.
  // Was int32: int64 is the same varint on the wire, so old and new values read the same.
  int64 page_size = 1;
  // Empty for the first page; otherwise a next_page_token from an earlier response.
  string page_token = 2;
}

message ListUsersResponse {
  repeated User users = 1;
  // Empty on the last page.
  string next_page_token = 2;
}

// Validated by the same model as the REST API's POST /users body (INVALID_ARGUMENT naming each
// field): email stripped then valid and stored lower-case (a taken one is ALREADY_EXISTS), name
// stripped then 2-100 characters, password 8-128 characters, no NUL, not a breached one.
message CreateUserRequest {
  string email = 1;
  string name = 2;
  string password = 3;
}

message StreamUserUpdatesRequest {
  // Only updates of these users (at most 100 ids, canonical form); empty means every user the
  // caller may read.
  repeated string user_ids = 1;
}

message UserUpdate {
  enum Kind {
    KIND_UNSPECIFIED = 0;
    KIND_CREATED = 1;
    KIND_UPDATED = 2;
  }
  Kind kind = 1;
  User user = 2;
}
"""
