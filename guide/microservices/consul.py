"""The guide's ``ServiceDiscovery`` (서비스 디스커버리 (Consul)), ported faithfully onto etcd — defects included.

The guide registers with a Consul agent and resolves through Consul's health API. Consul is not
packaged where the course runs, so etcd stands in for it: :class:`ConsulAgent` plays the part of the
agent (it stores registrations and runs their HTTP checks every interval, from its own host), and
:class:`ServiceDiscovery` is the guide's class line for line. What it gets wrong, each shown live in
``tests/microservices/test_discovery_guide.py`` and ``notebooks/04_microservices_discovery.ipynb``:

- ``register`` sends no ``address``: Consul then stores ``Service.Address == ""``, and
  ``getService`` never falls back to the node's address, so callers get an empty host.
- The check URL is ``http://localhost:{port}/health``, and the *agent* runs it: ``localhost`` is the
  agent's machine, not the instance's. An instance elsewhere fails its check while healthy; whatever
  listens on that port next to the agent passes it for a dead instance.
- No deregistration: no ``DeregisterCriticalServiceAfter``, no SIGTERM handler, no lease. A stopped
  or crashed instance stays in the catalogue for good (critical after its next check, up to 10 s
  later; served until then).
- A random pick, and a registry read per resolution.

The fixes are :mod:`reference.microservices.discovery`.
"""

from __future__ import annotations

import json
import random
import threading
from typing import Any, TypedDict

import httpx

from reference.microservices.etcd import etcd_client

CONSUL_PREFIX = "/consul/"


class Service(TypedDict):
    name: str
    id: str
    port: int


class ConsulAgent:
    """The Consul agent the guide's code talks to, on etcd: a catalogue of registrations (plain
    keys: no lease, no TTL) and the HTTP checks it runs every ``interval`` seconds from its host."""

    def __init__(self, etcd_url: str, prefix: str = CONSUL_PREFIX, interval: float = 10.0) -> None:
        self.client = etcd_client(etcd_url)
        self.prefix = prefix
        self.interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def register(self, definition: dict[str, Any]) -> None:
        """``PUT /v1/agent/service/register``: what was not given (the address) is stored empty.
        A check starts critical until it first runs, as in Consul."""
        entry = {
            "ID": definition["id"],
            "Service": definition["name"],
            "Address": definition.get("address", ""),
            "Port": definition["port"],
            "Check": {"HTTP": definition["check"]["http"], "Status": "critical"},
        }
        self.client.put(f"{self.prefix}services/{entry['ID']}", json.dumps(entry))

    def catalogue(self) -> list[dict[str, Any]]:
        return [
            json.loads(value) for value, _meta in self.client.get_prefix(f"{self.prefix}services/")
        ]

    def health_service(self, service: str, passing: bool) -> list[dict[str, Any]]:
        """``GET /v1/health/service/<service>?passing``: the entries whose check passes."""
        entries = [e for e in self.catalogue() if e["Service"] == service]
        if passing:
            entries = [e for e in entries if e["Check"]["Status"] == "passing"]
        return [{"Service": e} for e in entries]

    def run_checks(self) -> None:
        """One round of checks, each an HTTP GET from this (the agent's) machine."""
        for entry in self.catalogue():
            try:
                ok = httpx.get(entry["Check"]["HTTP"], timeout=1.0).status_code == 200
            except httpx.HTTPError:
                ok = False
            entry["Check"]["Status"] = "passing" if ok else "critical"
            self.client.put(f"{self.prefix}services/{entry['ID']}", json.dumps(entry))

    def start(self) -> ConsulAgent:
        self._thread = threading.Thread(target=self._loop, name="consul agent", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while True:
            self.run_checks()
            if self._stopped.wait(self.interval):
                return

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(5)
        self.client.session.close()


class ServiceDiscovery:
    """The guide's class: ``new Consul({ host: process.env.CONSUL_HOST })`` is the agent here."""

    def __init__(self, consul: ConsulAgent) -> None:
        self.consul = consul

    def register(self, service: Service) -> None:
        self.consul.register(
            {
                "name": service["name"],
                "id": service["id"],
                "port": service["port"],
                "check": {"http": f"http://localhost:{service['port']}/health", "interval": "10s"},
            }
        )

    def get_service(self, name: str) -> dict[str, Any] | None:
        result = self.consul.health_service(name, passing=True)
        if not result:
            return None
        chosen = result[random.randrange(len(result))]["Service"]
        return {"address": chosen["Address"], "port": chosen["Port"]}
