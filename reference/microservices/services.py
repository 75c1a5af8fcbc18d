"""The chapter's small services — users, orders, notifications — each registering itself in etcd.

Pattern: a service instance owns its registration. It registers when it is ready to serve (the app's
lifespan start-up), with the address clients should use and a lease its heartbeat keeps alive, and it
deregisters in its graceful shutdown — uvicorn turns SIGTERM into that shutdown, so ``kill <pid>``
removes the instance at once, while ``kill -9`` leaves it to the lease's TTL. Taught in
``notebooks/04_microservices_discovery.ipynb`` (instances started, killed and stopped as processes)
and used by the gateway's demo.

Run one instance as a process::

    uv run python -m reference.microservices.services users --port 18111

``orders`` finds ``users`` through a :class:`~reference.microservices.discovery.Resolver` (no
address in its configuration), which is service-to-service discovery in one line. Errors leave as
chapter 01's problem details (:mod:`reference.api_design.problems`): no live ``users`` instance, or
one that is registered but unreachable (killed, its lease not yet run out), is a 503 with
``Retry-After``, never a 500.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

import httpx
import requests
import uvicorn
from etcd3gw.exceptions import Etcd3Exception
from fastapi import FastAPI, HTTPException

from reference.api_design.problems import install_problem_handlers
from reference.config import get_settings
from reference.microservices.discovery import (
    DEFAULT_PREFIX,
    DiscoveryError,
    NoInstances,
    Registration,
    Resolver,
)
from reference.microservices.etcd import etcd_client

SERVICES: Final = ("users", "orders", "notifications")

# A fixed, tiny catalogue: the lesson is finding the service, not storing users.
USERS: Final = {"1": {"id": "1", "name": "Ada"}, "2": {"id": "2", "name": "Grace"}}


def create_app(
    name: str,
    *,
    registration: Registration | None = None,
    etcd_url: str | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> FastAPI:
    """The ``name`` service's app; with ``registration`` it registers itself while it serves.

    ``etcd_url`` lets ``orders`` resolve ``users`` through the registry.
    """
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    instance_id = registration.instance.id if registration else f"{name}-{os.getpid()}"

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        resolver = Resolver(etcd_url, "users", prefix=prefix) if etcd_url else None
        if resolver is not None:
            resolver.start()
        _app.state.users = resolver
        if registration is not None:
            registration.start()  # only now: the app is ready to serve what it advertises
        try:
            yield
        finally:
            if registration is not None:
                registration.stop()  # graceful shutdown (SIGTERM): gone from the registry at once
            if resolver is not None:
                resolver.close()

    app = FastAPI(title=f"{name} service", lifespan=lifespan)
    install_problem_handlers(app)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "service": name, "instance": instance_id}

    if name == "users":

        @app.get("/users/{user_id}")
        def get_user(user_id: str) -> dict[str, str]:
            if user_id not in USERS:
                raise HTTPException(404, f"no user {user_id}")
            return {**USERS[user_id], "served_by": instance_id}

    elif name == "orders":

        @app.get("/orders/{order_id}")
        async def get_order(order_id: str) -> dict[str, Any]:
            resolver: Resolver | None = app.state.users
            if resolver is None:
                raise HTTPException(503, "orders runs without a registry: no users service")
            try:
                users = resolver.resolve()
            except NoInstances as error:
                raise HTTPException(503, str(error), headers={"Retry-After": "1"}) from None
            try:
                async with httpx.AsyncClient(timeout=2.0) as client:
                    response = await client.get(f"{users.url}/users/1")
                    response.raise_for_status()
            except httpx.HTTPError as error:
                # Registered but gone (a crash inside its lease) or failing: the caller may retry,
                # and the next resolve() moves on to another instance.
                detail = f"users instance {users.id} at {users.url} failed: {type(error).__name__}"
                raise HTTPException(503, detail, headers={"Retry-After": "1"}) from None
            return {"id": order_id, "user": response.json(), "users_instance": users.id}

    else:

        @app.post("/notifications", status_code=202)
        def notify(body: dict[str, Any]) -> dict[str, Any]:
            return {"accepted": True, "served_by": instance_id, "message": body}

    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference.microservices.services", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--address", default="127.0.0.1", help="the address to bind and register")
    parser.add_argument("--id", default=None, help="instance id (default: service-hostname-pid)")
    parser.add_argument("--etcd-url", default=None, help="default: ETCD_URL")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX)
    parser.add_argument("--ttl", type=int, default=3)
    parser.add_argument("--heartbeat", type=float, default=1.0)
    args = parser.parse_args(argv)
    etcd_url = args.etcd_url or get_settings().url_for("etcd")
    instance_id = args.id or f"{args.service}-{socket.gethostname()}-{os.getpid()}"
    try:
        registration = Registration(
            etcd_url,
            args.service,
            instance_id,
            args.address,
            args.port,
            prefix=args.prefix,
            ttl=args.ttl,
            heartbeat=args.heartbeat,
        )
        app = create_app(
            args.service,
            registration=registration,
            etcd_url=etcd_url if args.service == "orders" else None,
            prefix=args.prefix,
        )
        # etcd down is a one-line error here, not a traceback from the app's start-up.
        etcd_client(etcd_url).status()
    except (DiscoveryError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (Etcd3Exception, requests.RequestException) as error:
        print(f"error: etcd at {etcd_url} is unavailable ({error!r})", file=sys.stderr)
        return 2
    # uvicorn handles SIGTERM/SIGINT as a graceful shutdown, which runs the lifespan's deregistration.
    uvicorn.run(app, host=registration.instance.address, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
