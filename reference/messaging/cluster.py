"""A throwaway three-broker KRaft cluster on loopback, for the replication demonstration
(issue 11 "Replication, shown"; tests/messaging/test_replication.py).

Self-contained on purpose: it runs the jars the course's native Kafka already installed
(``.services/kafka/lib``, read only) as three broker JVMs plus one dedicated KRaft controller on
free ports, with their data in a temporary directory removed on exit. The controller is separate
because with combined broker+controller nodes, stopping two of three also loses the controller
quorum: nobody can shrink the ISR, so an ``acks=all`` send just times out instead of showing
``NotEnoughReplicas``. One controller is a single point of failure — fine for a demonstration whose
subject is the brokers' replication, not for production. It belongs in the service launcher's registry
as a second Kafka entry (``course services up kafka --brokers 3``); until then it lives here.
"""

from __future__ import annotations

import base64
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from reference.config import state_dir

HOST = "127.0.0.1"
JVM = ["java", "-Xms128m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


BROKERS = (1, 2, 3)
CONTROLLER = 9


class ThreeBrokerCluster:
    """``with ThreeBrokerCluster() as cluster:`` → ``cluster.bootstrap``; ``cluster.kill(node_id)``."""

    def __init__(self, lib: Path | None = None) -> None:
        self.lib = lib or state_dir() / "kafka" / "lib"
        if not any(self.lib.glob("kafka_*.jar")):
            raise FileNotFoundError(
                f"no Kafka jars in {self.lib}: run `course services up kafka` (native) first"
            )
        ports = _free_ports(4)
        self.client_ports = dict(zip(BROKERS, ports[:3], strict=True))
        self.controller_port = ports[3]
        self.root = Path(tempfile.mkdtemp(prefix="kafka3_"))
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def bootstrap(self) -> str:
        """The running brokers' addresses: a client handed a dead one may pick it for a request
        and fail with ECONNREFUSED instead of asking a live broker."""
        nodes = self.alive() if self.processes else BROKERS
        return ",".join(f"{HOST}:{self.client_ports[n]}" for n in nodes)

    def _config(self, node: int) -> Path:
        common = {
            "node.id": str(node),
            "controller.quorum.voters": f"{CONTROLLER}@{HOST}:{self.controller_port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.root / f"data{node}"),
            "num.network.threads": "1",
            "num.io.threads": "2",
            "background.threads": "2",
            # The controller fences a silent broker after 3 s (default 9 s), so a killed
            # broker leaves the ISR quickly.
            "broker.heartbeat.interval.ms": "500",
            "broker.session.timeout.ms": "3000",
        }
        if node == CONTROLLER:
            settings = {
                **common,
                "process.roles": "controller",
                "listeners": f"CONTROLLER://{HOST}:{self.controller_port}",
            }
        else:
            settings = {**common, **self._broker_settings(node)}
        path = self.root / f"server{node}.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        return path

    def _broker_settings(self, node: int) -> dict[str, str]:
        return {
            "process.roles": "broker",
            "listeners": f"PLAINTEXT://{HOST}:{self.client_ports[node]}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.client_ports[node]}",
            "inter.broker.listener.name": "PLAINTEXT",
            "default.replication.factor": "3",
            "min.insync.replicas": "2",
            "offsets.topic.replication.factor": "3",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "3",
            "transaction.state.log.min.isr": "2",
            "transaction.state.log.num.partitions": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.cleaner.enable": "false",
            # A dead follower leaves the ISR after 5 s instead of 30.
            "replica.lag.time.max.ms": "5000",
        }

    def start(self, timeout: float = 180.0) -> None:
        cluster_id = (
            base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=").replace("-", "A")
        )
        for node in (CONTROLLER, *BROKERS):
            config = self._config(node)
            subprocess.run(
                [
                    *JVM,
                    "-cp",
                    f"{self.lib}/*",
                    "kafka.tools.StorageTool",
                    "format",
                    f"--cluster-id={cluster_id}",
                    f"--config={config}",
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        for node in (CONTROLLER, *BROKERS):
            self._launch(node)
        self._wait_for_brokers(timeout)

    def _launch(self, node: int) -> None:
        log = (self.root / f"node{node}.log").open("ab")
        self.processes[node] = subprocess.Popen(
            [
                *JVM,
                "-cp",
                f"{self.lib}/*",
                "kafka.Kafka",
                str(self.root / f"server{node}.properties"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> list[int]:
        """The brokers whose process is running (the controller is not counted)."""
        return [n for n in BROKERS if n in self.processes and self.processes[n].poll() is None]

    def _wait_for_brokers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._brokers_up() == len(BROKERS):
                return
            time.sleep(1)
        raise TimeoutError(
            f"the three brokers did not all join within {timeout} s (logs in {self.root})"
        )

    def _brokers_up(self) -> int:
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
        except Exception:  # noqa: BLE001 — no broker answers yet
            return 0
        try:
            return len(admin.describe_cluster()["brokers"])
        except Exception:  # noqa: BLE001 — the cluster is still electing its controller
            return 0
        finally:
            admin.close()

    def _partition(self, topic: str) -> dict[str, Any] | None:
        """Partition 0 of ``topic`` as the brokers describe it, or None while they cannot say: a
        just-created topic's metadata has not reached them, or the client picked a broker that has
        just died (the cluster metadata lists it until the controller fences it)."""
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
        except KafkaError:
            return None
        try:
            topics = admin.describe_topics([topic])
        except KafkaError:
            return None
        finally:
            admin.close()
        if not topics or not topics[0]["partitions"]:
            return None
        partition: dict[str, Any] = topics[0]["partitions"][0]
        return partition

    def leader(self, topic: str) -> int:
        """The node leading partition 0 of ``topic`` (waits until one is elected)."""
        while True:
            partition = self._partition(topic)
            if partition is not None and partition["leader_id"] >= 0:
                return int(partition["leader_id"])
            time.sleep(0.2)

    def wait_for_partition(
        self, topic: str, leader: int, isr: set[int], timeout: float = 60.0
    ) -> None:
        """Wait until partition 0 of ``topic`` has this leader and exactly this in-sync set (the
        controller fences a killed broker and shrinks the ISR a few seconds after its death)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            partition = self._partition(topic)
            if (
                partition is not None
                and partition["leader_id"] == leader
                and set(partition["isr_nodes"]) == isr
            ):
                return
            time.sleep(0.2)
        raise TimeoutError(f"{topic}: leader {leader} with ISR {isr} not reached in {timeout} s")

    def kill(self, node: int) -> None:
        """SIGKILL one broker: no clean shutdown, no leadership handed over."""
        self.processes[node].send_signal(signal.SIGKILL)
        self.processes[node].wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThreeBrokerCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
