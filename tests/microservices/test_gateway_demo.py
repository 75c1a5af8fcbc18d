"""The demo services behind the launcher's Envoy: each under /api/v1 (the gateway passes the path on
as declared), a public /health, and the users service's JWKS, whose key survives a restart."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from reference.api_design.graphql.background import serve_in_background
from reference.microservices.demo import demo_app, demo_keys
from reference.microservices.discovery import Registration
from reference.microservices.etcd import etcd_client
from reference.microservices.gateway import JWKS_PATH


def test_services_answer_under_the_gateway_s_paths(isolated_env: Path) -> None:
    keys = demo_keys()
    with TestClient(demo_app("users", keys)) as users:
        assert users.get("/health").json() == {"status": "ok", "service": "users"}
        assert users.get("/api/v1/users/1").json()["name"] == "Ada"
        assert users.get(JWKS_PATH).json() == keys.jwks()
    with TestClient(demo_app("orders")) as orders:
        assert orders.get("/api/v1/orders/1").status_code == 503  # no registry: said, not a 500
        assert orders.get(JWKS_PATH).status_code == 404


def test_the_demo_key_is_kept_across_restarts(isolated_env: Path) -> None:
    assert demo_keys().jwks() == demo_keys().jwks()
    key_file = isolated_env / "microservices-demo" / "signing-key.pem"
    assert key_file.stat().st_mode & 0o077 == 0


def test_demo_users_registers_while_it_serves_and_orders_finds_it_there(
    isolated_env: Path, etcd_url: str, etcd_prefix: str
) -> None:
    """The diagram's second hop: users registers itself (127.0.0.1 and its port, never an empty host)
    for as long as it serves, and orders reaches a users instance it only knows from the registry."""
    client = etcd_client(etcd_url)
    with TestClient(demo_app("users", etcd_url=etcd_url, port=18111, prefix=etcd_prefix)):
        [(value, _meta)] = client.get_prefix(etcd_prefix + "users/")
        assert json.loads(value) == {
            "name": "users",
            "id": "users-demo",
            "address": "127.0.0.1",
            "port": 18111,
        }
    assert client.get_prefix(etcd_prefix + "users/") == []  # gone at shutdown, not at lease expiry

    users = serve_in_background(demo_app("users"))
    registration = Registration(
        etcd_url, "users", "u1", "127.0.0.1", users.port, prefix=etcd_prefix
    ).start()
    try:
        with TestClient(demo_app("orders", etcd_url=etcd_url, prefix=etcd_prefix)) as orders:
            answer = orders.get("/api/v1/orders/7")
        assert answer.status_code == 200, answer.text
        assert answer.json()["user"]["name"] == "Ada"
        assert answer.json()["users_instance"] == "u1"
    finally:
        registration.stop()
        users.stop()
