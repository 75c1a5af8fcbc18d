"""A throwaway three-broker KRaft cluster on loopback, for the replication demonstration
(issue 11 "Replication, shown"; tests/messaging/test_replication.py).

Self-contained on purpose: it runs the jars the course's native Kafka already installed
(``.services/kafka/lib``, read only) as three combined broker+controller JVMs on free ports, with
their data in a temporary directory removed on exit. It belongs in the service launcher's registry
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

from kafka.admin import KafkaAdminClient

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


class ThreeBrokerCluster:
    """``with ThreeBrokerCluster() as cluster:`` → ``cluster.bootstrap``; ``cluster.kill(node_id)``."""

    def __init__(self, lib: Path | None = None) -> None:
        self.lib = lib or state_dir() / "kafka" / "lib"
        if not any(self.lib.glob("kafka_*.jar")):
            raise FileNotFoundError(
                f"no Kafka jars in {self.lib}: run `course services up kafka` (native) first"
            )
        ports = _free_ports(6)
        self.client_ports = dict(zip((1, 2, 3), ports[:3], strict=True))
        self.controller_ports = dict(zip((1, 2, 3), ports[3:], strict=True))
        self.root = Path(tempfile.mkdtemp(prefix="kafka3_"))
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def bootstrap(self) -> str:
        return ",".join(f"{HOST}:{p}" for p in self.client_ports.values())

    def _config(self, node: int) -> Path:
        voters = ",".join(f"{n}@{HOST}:{p}" for n, p in self.controller_ports.items())
        settings = {
            "process.roles": "broker,controller",
            "node.id": str(node),
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://{HOST}:{self.client_ports[node]},CONTROLLER://{HOST}:{self.controller_ports[node]}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.client_ports[node]}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.root / f"data{node}"),
            "default.replication.factor": "3",
            "min.insync.replicas": "2",
            "offsets.topic.replication.factor": "3",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "3",
            "transaction.state.log.min.isr": "2",
            "transaction.state.log.num.partitions": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.network.threads": "1",
            "num.io.threads": "2",
            "background.threads": "2",
            "log.cleaner.enable": "false",
            # A dead follower leaves the ISR after 5 s instead of 30.
            "replica.lag.time.max.ms": "5000",
        }
        path = self.root / f"server{node}.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        return path

    def start(self, timeout: float = 180.0) -> None:
        cluster_id = (
            base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=").replace("-", "A")
        )
        for node in (1, 2, 3):
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
        for node in (1, 2, 3):
            log = (self.root / f"node{node}.log").open("wb")
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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._brokers_up() == 3:
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

    def leader(self, topic: str) -> int:
        """The node leading partition 0 of ``topic`` (waits until one is elected)."""
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            while True:
                partition = admin.describe_topics([topic])[0]["partitions"][0]
                if partition["leader_id"] >= 0:
                    return int(partition["leader_id"])
                time.sleep(0.2)
        finally:
            admin.close()

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
