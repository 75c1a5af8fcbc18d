"""Run the user service with the standard health service on a real port.

Pattern: a gRPC server is the service *plus* ``grpc.health.v1.Health`` (what load balancers and
Kubernetes probe) — SERVING while up, NOT_SERVING once shutdown begins, so traffic drains before
the port closes. ``port=0`` picks a free port (tests, notebooks). Run it with::

    uv run python -m reference.api_design.grpc.server   # listens on 127.0.0.1:50051

Taught in ``notebooks/01_api_design_graphql_grpc.ipynb``.
"""

from __future__ import annotations

from concurrent import futures
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sqlalchemy import Engine, create_engine

from reference.api_design.grpc.errors import status_for
from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.api_design.grpc.repository import UserRepository
from reference.api_design.grpc.servicer import StatusMapper, UserServicer
from reference.config import get_settings, to_sqlalchemy_url

SERVICE_NAME: str = user_pb2.DESCRIPTOR.services_by_name["UserService"].full_name


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
    repository: UserRepository | None = None,
    status_mapper: StatusMapper = status_for,
    max_workers: int = 16,
) -> RunningServer:
    """Start serving on ``127.0.0.1:port`` (0 = any free port) and return the running server."""
    engine = create_engine(to_sqlalchemy_url(database_url), pool_size=5, pool_pre_ping=True)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers))
    user_pb2_grpc.add_UserServiceServicer_to_server(  # type: ignore[no-untyped-call]
        UserServicer(engine, database_url, repository, status_mapper), server
    )
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server=server, port=bound, health=health_servicer, engine=engine)


if __name__ == "__main__":
    running = start_server(get_settings().database_url, 50051)
    print(f"user.v1.UserService on {running.target}")
    running.server.wait_for_termination()
