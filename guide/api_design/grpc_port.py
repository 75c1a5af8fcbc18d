"""The guide's gRPC server, ported faithfully to grpcio — defects kept.

The guide's ``user.proto`` (``guide/api_design/proto/user.proto``) does not compile, so this port
serves the reference's generated ``user.v1`` messages with the guide's handler logic::

    getUser: try { findById(id); if (!user) NOT_FOUND; callback(null, user) }
             catch (error) { callback({ code: INTERNAL, message: error.message }) }

Defects kept: the exception's text goes to the client (``INTERNAL`` + ``error.message``); a
malformed id reaches PostgreSQL as a uuid cast error and so comes back ``INTERNAL``; only
``GetUser`` exists (the other RPCs are ``UNIMPLEMENTED``); the client's deadline is ignored, so a
slow query keeps running after the client gave up; there is no health service. Never imported by
``reference/``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from sqlalchemy import Connection, Engine, Row, create_engine, text

from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.config import to_sqlalchemy_url

GUIDE_PROTO = "guide/api_design/proto/user.proto"

FindById = Callable[[Connection, str], Row[Any] | None]


def find_by_id(conn: Connection, user_id: str) -> Row[Any] | None:
    """``UserModel.findById(call.request.id)`` — the raw id goes straight into SQL."""
    return conn.execute(
        text("SELECT id, email, name, created_at FROM users WHERE id = :id"), {"id": user_id}
    ).one_or_none()


class GuideUserServicer(user_pb2_grpc.UserServiceServicer):
    def __init__(self, engine: Engine, find: FindById = find_by_id) -> None:
        self.engine = engine
        self.find = find

    def GetUser(self, request: user_pb2.GetUserRequest, context: Any) -> user_pb2.User:
        try:
            with self.engine.connect() as conn:
                user = self.find(conn, request.id)
            if not user:
                # return callback({ code: NOT_FOUND, message: 'User not found' })
                context.set_code(grpc.StatusCode.NOT_FOUND)
                context.set_details("User not found")
                return user_pb2.User()
            return user_pb2.User(
                id=str(user.id), email=user.email, name=user.name, created_at=user.created_at
            )
        except Exception as error:  # noqa: BLE001 - faithful to the guide's catch-all
            # callback({ code: grpc.status.INTERNAL, message: error.message })
            context.set_code(grpc.StatusCode.INTERNAL)
            context.set_details(str(error))
            return user_pb2.User()


@dataclass
class GuideServer:
    server: grpc.Server
    port: int
    engine: Engine

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop(0).wait()
        self.engine.dispose()


def start_guide_server(database_url: str, find: FindById = find_by_id) -> GuideServer:
    """The guide's service on a free port — no health service registered."""
    engine = create_engine(to_sqlalchemy_url(database_url))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    user_pb2_grpc.add_UserServiceServicer_to_server(  # type: ignore[no-untyped-call]
        GuideUserServicer(engine, find), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return GuideServer(server=server, port=port, engine=engine)
