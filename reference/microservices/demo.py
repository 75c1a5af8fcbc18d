"""The chapter 04 demo services behind the launcher's Envoy: users, orders, notifications.

Pattern: the guide's diagram (API Gateway → services) on one machine. ``course services up envoy``
runs the gateway on ``GATEWAY_URL`` (18100) with routes to 127.0.0.1:18111–18113
(``course/services/native/envoy/gateway.yaml.template``); ``uv run python -m
reference.microservices.demo`` serves the discovery helper's services
(:mod:`reference.microservices.services`) there, each under ``/api/v1`` — the gateway passes the
path on as declared, so the service owns ``/api/v1/users/…`` — plus a public ``/health``. The users
service also publishes the JWKS (``/.well-known/jwks.json``) Envoy verifies tokens against; the
demo prints a one-hour token to try::

    curl -i http://127.0.0.1:18100/api/v1/users/1 -H "Authorization: Bearer $TOKEN"

Discovery is live too: users registers itself in etcd (``ETCD_URL``; ``course services up etcd``) and
orders finds it there, so ``/api/v1/orders/1`` through the gateway is a request that crosses two
services. Each service also answers on its own paths at the root (``/users/1``), where a peer that
resolved it through the registry calls it. Without etcd the demo still serves, saying so, and orders
answers 503 (no users service). Taught in ``notebooks/04_microservices_gateway.ipynb``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from reference.auth.keys import KeyRing, SigningKey
from reference.auth.tokens import TokenIssuer
from reference.config import get_settings, state_dir
from reference.microservices.discovery import DEFAULT_PREFIX, DiscoveryError, Registration
from reference.microservices.gateway import DEMO_AUDIENCE, DEMO_ISSUER, DEMO_PORTS, JWKS_PATH
from reference.microservices.services import create_app


def demo_app(
    name: str,
    keys: KeyRing | None = None,
    *,
    etcd_url: str | None = None,
    port: int | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> Starlette:
    """Service ``name`` under ``/api/v1`` (and at the root), a public ``/health`` and (users) the
    issuer's JWKS. With ``etcd_url``, users registers as ``127.0.0.1:port`` and orders resolves it."""

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": name})

    async def jwks(_request: Request) -> Response:
        return JSONResponse(keys.jwks() if keys is not None else {"keys": []})

    routes: list[BaseRoute] = [Route("/health", health)]
    if keys is not None:
        routes.append(Route(JWKS_PATH, jwks))
    registration = None
    if etcd_url is not None and name == "users" and port is not None:
        registration = Registration(
            etcd_url, "users", "users-demo", "127.0.0.1", port, prefix=prefix
        )
    service = create_app(
        name,
        registration=registration,
        etcd_url=etcd_url if name == "orders" else None,
        prefix=prefix,
    )
    service.state.users = None
    routes += [Mount("/api/v1", app=service), Mount("", app=service)]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # A mounted app's lifespan does not run by itself: run the service's, without which it
        # neither registers nor resolves. No etcd: serve anyway, and say what is missing.
        async with AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(service.router.lifespan_context(service))
            except DiscoveryError as error:
                print(f"{name}: no registry ({error}); serving without discovery", file=sys.stderr)
            yield

    return Starlette(routes=routes, lifespan=lifespan)


def demo_keys() -> KeyRing:
    """The demo issuer's key, kept under the state folder: Envoy caches the JWKS for five minutes,
    so a key made afresh at every start would refuse the new tokens until the cache expired."""
    path = state_dir() / "microservices-demo" / "signing-key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key: delete it to make a new one")
    return KeyRing(SigningKey("demo-1", "EdDSA", private))


async def serve(servers: Sequence[uvicorn.Server]) -> None:
    await asyncio.gather(*(server.serve() for server in servers))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference.microservices.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="where to listen (compose: 0.0.0.0)")
    args = parser.parse_args(argv)
    keys = demo_keys()
    etcd_url = get_settings()["ETCD_URL"]
    issuer = TokenIssuer(keys, DEMO_ISSUER, DEMO_AUDIENCE, access_ttl=3600)
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                demo_app(name, keys if name == "users" else None, etcd_url=etcd_url, port=port),
                host=args.host,
                port=port,
                log_level="warning",
            )
        )
        for name, port in DEMO_PORTS.items()
    ]
    print(f"users, orders, notifications on {args.host}:{', '.join(map(str, DEMO_PORTS.values()))}")
    print(f"TOKEN={issuer.access_token('alice', ['user'])}  # sub alice, valid for one hour")
    asyncio.run(serve(servers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
