"""Chapter 04's small services as real processes: each registers itself while it serves, orders finds
users through the registry, SIGTERM deregisters at once; bad arguments and etcd down are one-line
errors."""

from __future__ import annotations

import signal

import httpx
import pytest

from course.testing.discovery import ServiceStarter
from reference.microservices.discovery import Registration, Resolver, resolve_once
from reference.microservices.services import main
from reference.setup.ports import free_port

EVENTUALLY = 20.0  # two FastAPI processes starting on a loaded 2-core runner


def test_orders_finds_users_through_the_registry_and_sigterm_deregisters(
    etcd_url: str, etcd_prefix: str, service_processes: ServiceStarter
) -> None:
    users_port, orders_port = free_port(), free_port()
    users = service_processes(
        "users", users_port, etcd_url=etcd_url, prefix=etcd_prefix, instance_id="users-1"
    )
    service_processes(
        "orders", orders_port, etcd_url=etcd_url, prefix=etcd_prefix, instance_id="orders-1"
    )
    with (
        Resolver(etcd_url, "users", prefix=etcd_prefix) as users_view,
        Resolver(etcd_url, "orders", prefix=etcd_prefix) as orders_view,
    ):
        assert users_view.wait_for(lambda xs: len(xs) == 1, EVENTUALLY)
        assert orders_view.wait_for(lambda xs: len(xs) == 1, EVENTUALLY)
        (registered,) = users_view.instances()
        assert (registered.address, registered.port) == ("127.0.0.1", users_port)
        health = httpx.get(f"{registered.url}/health", timeout=5)
        assert health.json() == {"status": "ok", "service": "users", "instance": "users-1"}

        orders_url = orders_view.resolve().url
        order = httpx.get(f"{orders_url}/orders/7", timeout=5).json()
        assert order["user"] == {"id": "1", "name": "Ada", "served_by": "users-1"}

        users.send_signal(signal.SIGTERM)
        users.wait(10)
        # Gone at once: deregistered in the graceful shutdown, before the process exited.
        assert resolve_once(etcd_url, "users", prefix=etcd_prefix) == []
        # orders' own resolver follows the watch; its answer turns into a clear 503.
        for _ in range(200):
            response = httpx.get(f"{orders_url}/orders/7", timeout=5)
            if response.status_code == 503:
                break
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "no live instance of 'users'" in response.json()["detail"]

        # Registered but unreachable (a crash inside its lease): a 503 naming it, not a 500.
        ghost_port = free_port()
        with Registration(etcd_url, "users", "ghost", "127.0.0.1", ghost_port, prefix=etcd_prefix):
            for _ in range(200):
                response = httpx.get(f"{orders_url}/orders/7", timeout=5)
                if "ghost" in response.text:
                    break
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            assert response.json()["detail"] == (
                f"users instance ghost at http://127.0.0.1:{ghost_port} failed: ConnectError"
            )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["users", "--port", "0"], "port must be an integer 1-65535"),
        (["users", "--port", "80", "--address", "0.0.0.0"], "bind address"),  # noqa: S104
        (["users", "--port", "80", "--id", "a/b"], "instance id"),
        (["users", "--port", "80", "--ttl", "1"], "ttl"),
        (["users", "--port", "80", "--prefix", "nope"], "prefix"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    etcd_url: str, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main([*arguments, "--etcd-url", etcd_url]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error


def test_etcd_down_is_a_one_line_error(dead_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "--port", "8080", "--etcd-url", dead_url]) == 2
    assert f"etcd at {dead_url} is unavailable" in capsys.readouterr().err


def test_an_unknown_service_is_refused() -> None:
    from reference.microservices.services import create_app

    with pytest.raises(ValueError, match="unknown service 'payments'"):
        create_app("payments")


def test_the_apps_in_process_register_serve_and_answer_problems(
    etcd_url: str, etcd_prefix: str
) -> None:
    """The same apps without processes: the lifespan registers and deregisters, users serves and
    404s as problem+json, notifications accepts, orders reaches users through the registry."""
    from fastapi.testclient import TestClient

    from reference.api_design.graphql.background import serve_in_background
    from reference.microservices.services import create_app

    users = serve_in_background(create_app("users"))
    try:
        registration = Registration(
            etcd_url, "users", "u-in-process", "127.0.0.1", users.port, prefix=etcd_prefix
        )
        with TestClient(create_app("users", registration=registration)) as client:
            assert [i.id for i in resolve_once(etcd_url, "users", prefix=etcd_prefix)] == [
                "u-in-process"
            ]
            assert client.get("/users/2").json()["name"] == "Grace"
            missing = client.get("/users/9")
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/problem+json"
            orders = create_app("orders", etcd_url=etcd_url, prefix=etcd_prefix)
            with TestClient(orders) as orders_client:
                order = orders_client.get("/orders/3").json()
                assert order["user"]["name"] == "Ada"
                assert order["users_instance"] == "u-in-process"
        assert resolve_once(etcd_url, "users", prefix=etcd_prefix) == []
    finally:
        users.stop()
    with TestClient(create_app("notifications")) as client:
        accepted = client.post("/notifications", json={"to": "ada", "text": "hi"})
        assert accepted.status_code == 202
        assert accepted.json()["accepted"] is True
    with TestClient(create_app("orders")) as client:
        assert client.get("/orders/1").status_code == 503  # no registry configured
