"""Run the user service with the standard health service on a real port.

Pattern: a gRPC server is the service *plus* ``grpc.health.v1.Health`` (what load balancers and
Kubernetes probe) — SERVING while up, NOT_SERVING once shutdown begins, so traffic drains before
the port closes. The server protects itself before any handler runs: a request larger than
``max_message_bytes`` is ``RESOURCE_EXHAUSTED`` (gRPC's default of 4 MB would let a 4 MB password
reach Argon2); bytes that are not the method's protobuf message are ``INVALID_ARGUMENT``, not the
``INTERNAL`` grpcio answers by default (:class:`UndecodableRequests`); and the thread pool holds
``max_streams`` long-lived update streams *plus* ``unary_workers`` threads that streams can never
take, so unary calls and health checks keep answering while streams are open (health ``Watch`` is
non-blocking and holds no thread). ``port=0`` picks a free port (tests, notebooks). Run it with::

    uv run python -m reference.api_design.grpc.server   # 127.0.0.1:50051, Keycloak's tokens

Taught in ``notebooks/01_api_design_grpc.ipynb``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sqlalchemy import Engine, create_engine

from reference.api_design.auth import Authenticator
from reference.api_design.grpc.auth import AuthInterceptor
from reference.api_design.grpc.errors import status_for
from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.api_design.grpc.repository import UserRepository
from reference.api_design.grpc.servicer import DEFAULT_MAX_STREAMS, StatusMapper, UserServicer
from reference.config import get_settings, to_sqlalchemy_url

SERVICE_NAME: str = user_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
# The largest valid request is a CreateUserRequest of ~1.5 KB (or 100 stream ids, ~4 KB).
MAX_MESSAGE_BYTES = 64 * 1024
DEFAULT_UNARY_WORKERS = 8


class _Undecodable:
    """What :class:`UndecodableRequests` hands a handler instead of a message it could not parse."""


_UNDECODABLE = _Undecodable()


class UndecodableRequests(grpc.ServerInterceptor):  # type: ignore[misc]
    """Answer bytes that do not parse as the method's request message with ``INVALID_ARGUMENT``.

    grpcio reports a failed deserialisation as ``INTERNAL`` ("Exception deserializing request!"),
    which tells a client that sent garbage — or a string field that is not UTF-8 — that the server
    is broken. The deserialiser here returns a marker instead, and the handler refuses it. Placed
    after :class:`AuthInterceptor` (which wraps it), so an anonymous caller is refused before its
    request body is looked at (REST likewise answers 401 before parsing a body).
    """

    def intercept_service(
        self,
        continuation: Callable[[Any], grpc.RpcMethodHandler | None],
        handler_call_details: Any,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.request_streaming or handler.request_deserializer is None:
            return handler
        decode = handler.request_deserializer

        def tolerant(raw: bytes) -> Any:
            try:
                return decode(raw)
            except DecodeError:
                return _UNDECODABLE

        kind = "unary_stream" if handler.response_streaming else "unary_unary"
        behaviour = getattr(handler, kind)

        # wraps() keeps attributes grpcio reads off the behaviour (health Watch's non-blocking flag).
        @functools.wraps(behaviour)
        def guarded(request: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            if request is _UNDECODABLE:
                context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT, "the request is not a valid protobuf message"
                )
            return behaviour(request, context, *args, **kwargs)

        return handler._replace(request_deserializer=tolerant, **{kind: guarded})


class HealthServicer(health.HealthServicer):  # type: ignore[misc]
    """grpcio-health's servicer, without its deadlock on watchers that hang up at once.

    Its ``Watch`` sends the first status while holding the servicer's lock, and that send waits
    for grpc's event thread; its close callback runs *on* grpc's event thread and takes the same
    lock. A watcher cancelled before its first send completes deadlocks the whole server (seen in
    CI: ``stop()`` hung). The clean-up runs on a thread of its own instead.
    """

    def _on_close_callback(  # type: ignore[no-untyped-def]
        self, send_response_callback, service
    ) -> Callable[[], None]:
        clean_up = super()._on_close_callback(send_response_callback, service)
        return lambda: threading.Thread(target=clean_up, daemon=True).start()


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    engine: Engine

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, grace: float = 1.0) -> None:
        """Report NOT_SERVING, let in-flight calls finish for ``grace`` seconds, then close."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.engine.dispose()


def start_server(
    database_url: str,
    port: int = 0,
    *,
    authenticator: Authenticator,
    repository: UserRepository | None = None,
    status_mapper: StatusMapper = status_for,
    max_streams: int = DEFAULT_MAX_STREAMS,
    unary_workers: int = DEFAULT_UNARY_WORKERS,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> RunningServer:
    """Start serving on ``127.0.0.1:port`` (0 = any free port) and return the running server.

    ``authenticator`` maps a bearer token to a :class:`~reference.api_design.auth.Principal` — the
    same seam as the REST and GraphQL apps'.
    """
    engine = create_engine(to_sqlalchemy_url(database_url), pool_size=5, pool_pre_ping=True)
    # No maximum_concurrent_rpcs: it would count health Watch streams too (which hold no thread),
    # so anonymous watchers could lock every caller out; the stream slots do the bounding instead.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_streams + unary_workers),
        # The first interceptor is the outermost: authentication runs before anything else, so a
        # refused caller learns nothing about request bodies either.
        interceptors=[AuthInterceptor(authenticator, SERVICE_NAME), UndecodableRequests()],
        options=[("grpc.max_receive_message_length", max_message_bytes)],
    )
    servicer = UserServicer(
        engine, database_url, repository, status_mapper, max_streams=max_streams
    )
    user_pb2_grpc.add_UserServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    health_servicer = HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server=server, port=bound, health=health_servicer, engine=engine)


if __name__ == "__main__":
    # Chapter 03's authenticator: access tokens of the course's Keycloak realm for course-api.
    from reference.auth.authenticator import JwtAuthenticator
    from reference.auth.oidc import issuer_verifier
    from reference.setup.connect import keycloak_realm

    authenticator = JwtAuthenticator([issuer_verifier(keycloak_realm().issuer, "course-api")])
    running = start_server(get_settings().database_url, 50051, authenticator=authenticator)
    print(f"user.v1.UserService on {running.target}")
    running.server.wait_for_termination()
