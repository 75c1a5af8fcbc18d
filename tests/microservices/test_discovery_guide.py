"""The guide's Consul discovery (``guide/microservices/consul.py``, on etcd) shows each of its
defects live; the same property holds on the reference (``reference.microservices.discovery``)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from guide.microservices.consul import ConsulAgent, ServiceDiscovery
from reference.microservices.discovery import Registration, Resolver


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def instance(host: str = "127.0.0.1") -> Iterator[int]:
    """A live service instance answering ``/health`` on ``host``; yields its port."""
    server = http.server.ThreadingHTTPServer((host, 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def agent(etcd_url: str, etcd_prefix: str) -> Iterator[ConsulAgent]:
    consul = ConsulAgent(etcd_url, prefix=etcd_prefix)
    yield consul
    consul.stop()


def test_guide_resolves_an_empty_host(agent: ConsulAgent, etcd_url: str, etcd_prefix: str) -> None:
    discovery = ServiceDiscovery(agent)
    with instance() as port:
        discovery.register({"name": "users", "id": "users-1", "port": port})
        agent.run_checks()
        found = discovery.get_service("users")
        assert found == {"address": "", "port": port}
        with pytest.raises(httpx.HTTPError):  # nowhere to connect to
            httpx.get(f"http://{found['address']}:{found['port']}/health", timeout=2)

        with (
            Registration(etcd_url, "users", "u1", "127.0.0.1", port, prefix=etcd_prefix),
            Resolver(etcd_url, "users", prefix=etcd_prefix) as resolver,
        ):
            fixed = resolver.resolve()
            assert fixed.address == "127.0.0.1"
            assert httpx.get(f"{fixed.url}/health", timeout=2).status_code == 200


def test_guide_checks_the_agents_localhost_not_the_instance(agent: ConsulAgent) -> None:
    discovery = ServiceDiscovery(agent)
    # The instance lives on "another machine" (127.0.0.2); the agent checks its own localhost.
    with instance("127.0.0.2") as port:
        assert httpx.get(f"http://127.0.0.2:{port}/health", timeout=2).status_code == 200
        discovery.register({"name": "users", "id": "users-1", "port": port})
        agent.run_checks()
        assert discovery.get_service("users") is None  # healthy, yet never resolved


def test_guide_never_deregisters_a_gone_instance(agent: ConsulAgent) -> None:
    discovery = ServiceDiscovery(agent)
    with instance() as port:
        discovery.register({"name": "users", "id": "users-1", "port": port})
        agent.run_checks()
    # The instance is gone. Until the next check (10 s in the guide) it is still served...
    assert discovery.get_service("users") == {"address": "", "port": port}
    agent.run_checks()
    # ...and afterwards it is critical, but still in the catalogue, for good.
    assert discovery.get_service("users") is None
    assert [entry["ID"] for entry in agent.catalogue()] == ["users-1"]


def test_reference_drops_a_stopped_instance_at_once(etcd_url: str, etcd_prefix: str) -> None:
    with Resolver(etcd_url, "users", prefix=etcd_prefix) as resolver:
        registration = Registration(etcd_url, "users", "u1", "127.0.0.1", 9000, prefix=etcd_prefix)
        registration.start()
        assert resolver.wait_for(lambda xs: len(xs) == 1, 15)
        registration.stop()
        assert resolver.wait_for(lambda xs: not xs, 15)


def test_the_guide_agent_checks_on_its_own_interval(agent: ConsulAgent) -> None:
    """Started, the agent runs the checks itself (every 10 s in the guide; 0.2 s here)."""
    agent.interval = 0.2
    discovery = ServiceDiscovery(agent)
    with instance() as port:
        discovery.register({"name": "users", "id": "users-1", "port": port})
        agent.start()
        deadline = time.monotonic() + 15
        while discovery.get_service("users") is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
