"""The demo services behind the launcher's Envoy: each under /api/v1 (the gateway passes the path on
as declared), a public /health, and the users service's JWKS, whose key survives a restart."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from reference.microservices.demo import demo_app, demo_keys
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
