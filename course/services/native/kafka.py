"""Genuine Apache Kafka 4.1.1, run natively from Maven Central jars as a single KRaft node.

The same broker the ``apache/kafka:4.1.1`` image runs, without Docker: a tiny pom
(``native/kafka/pom.xml``) names the jars, Maven copies them into ``.services/kafka/lib``, and
``java -cp 'lib/*' kafka.Kafka server.properties`` runs one process that is both broker and KRaft
controller. Storage is formatted once and kept across restarts; ``reset`` wipes ``paths().data`` and
the next start formats it again.

Four listeners, all on 127.0.0.1 (:func:`listener_settings`):

- ``PLAINTEXT`` (``KAFKA_BOOTSTRAP_SERVERS``, 19092): what notebooks, tests and learners use, as
  principal ``User:ANONYMOUS`` — open on every topic and group nobody has an ACL for.
- ``CONTROLLER`` (19093) and ``INTERNAL`` (``KAFKA_ADMIN_URL``, 19095): SASL/PLAIN as the one super
  user, for the KRaft controller, the broker's own requests (transaction markers) and the grader.
- ``GRADING`` (``KAFKA_GRADING_BOOTSTRAP_SERVERS``, 19094): SASL/SCRAM-SHA-256, one throwaway user
  per ``course grade`` job, allowed only on names carrying its run tag
  (:func:`course.testing.resources.create_kafka_user`).

The StandardAuthorizer with ``allow.everyone.if.no.acl.found`` keeps the course's untagged topics
open to everyone, while a job's prefixed ACLs close its topics and groups to every other principal,
anonymous included. Why a super user on the controller listener: once the grader puts ACLs on the
cluster resource, an anonymous controller connection could no longer do cluster actions.
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from course.services.base import Progress, ServiceError, spawn
from course.services.native.jvm import MavenJarServer
from reference.config import Endpoint, Settings

KAFKA_VERSION = "4.1.1"
HOST = "127.0.0.1"

_HERE = Path(__file__).resolve().parent / "kafka"
POM = _HERE / "pom.xml"
LOG4J_CONFIG = _HERE / "log4j2.properties"

# Heap and GC sized for a 2-core laptop running five servers: the broker idles at ~250 MB resident.
JVM_OPTIONS = (
    "-Xms128m",
    "-Xmx512m",
    "-XX:MaxDirectMemorySize=256m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


# Kafka's Uuid.RESERVED: the zero id and the metadata topic's id (0…01) are never handed out.
RESERVED_IDS = frozenset({0, 1})


def new_cluster_id() -> str:
    """A KRaft cluster id, drawn as Kafka's ``Uuid.randomUuid()`` draws one.

    16 random bytes, URL-safe base64 without padding (22 characters). Like Kafka, a draw that is
    reserved or whose text starts with ``-`` (one in 64) is drawn again: such an id reads as an
    option to command-line tools.
    """
    while True:
        drawn = uuid.uuid4()
        text = base64.urlsafe_b64encode(drawn.bytes).decode().rstrip("=")
        if drawn.int not in RESERVED_IDS and not text.startswith("-"):
            return text


# A JAAS value is one quoted string in server.properties: these characters would end it early.
_UNSAFE_IN_JAAS = frozenset('"\\;\n\r\0')


@dataclass(frozen=True)
class Listeners:
    """The broker's four ports and its super user's credentials."""

    client: int
    controller: int
    grading: int
    internal: int
    admin: Endpoint


def listener_settings(listeners: Listeners) -> dict[str, str]:
    """``server.properties`` entries for the four listeners and the authorizer (module docstring)."""
    admin = listeners.admin
    plain = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{admin.username}" password="{admin.password}" '
        f'user_{admin.username}="{admin.password}";'
    )
    return {
        "controller.quorum.bootstrap.servers": f"{HOST}:{listeners.controller}",
        "listeners": (
            f"PLAINTEXT://{HOST}:{listeners.client},CONTROLLER://{HOST}:{listeners.controller},"
            f"GRADING://{HOST}:{listeners.grading},INTERNAL://{HOST}:{listeners.internal}"
        ),
        "advertised.listeners": (
            f"PLAINTEXT://{HOST}:{listeners.client},GRADING://{HOST}:{listeners.grading},"
            f"INTERNAL://{HOST}:{listeners.internal}"
        ),
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "INTERNAL",
        "listener.security.protocol.map": (
            "PLAINTEXT:PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,"
            "GRADING:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT"
        ),
        "sasl.mechanism.controller.protocol": "PLAIN",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": plain,
        "listener.name.internal.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.internal.plain.sasl.jaas.config": plain,
        "listener.name.grading.sasl.enabled.mechanisms": "SCRAM-SHA-256",
        "listener.name.grading.scram-sha-256.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "true",
        "super.users": f"User:{admin.username}",
    }


def server_properties(data_dir: Path, listeners: Listeners) -> str:
    """The broker's configuration: one combined broker+controller node, tuned to start quickly."""
    settings = {
        # KRaft combined mode: this one process is the whole cluster and its own controller quorum.
        "process.roles": "broker,controller",
        "node.id": "1",
        **listener_settings(listeners),
        "log.dirs": str(data_dir),
        # One broker: every internal topic must make do with one replica, or it is never created.
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # One partition per internal topic: the first consumer group or transaction creates
        # __consumer_offsets / __transaction_state in well under a second instead of 50 partitions.
        "num.partitions": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.num.partitions": "1",
        # A consumer joining a group gets its assignment at once instead of after 3 s.
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        # Fewer threads on a 2-core machine; the defaults are sized for production brokers.
        "num.network.threads": "2",
        "num.io.threads": "4",
        "background.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
        "log.cleaner.threads": "1",
        # The log cleaner allocates its dedupe buffer on the heap at startup (128 MB by default).
        "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
    }
    header = (
        "# Generated by course/services/native/kafka.py on every start; edit that file, not this.\n"
    )
    return header + "".join(f"{key}={value}\n" for key, value in settings.items())


class KafkaServer(MavenJarServer):
    """Apache Kafka 4.1.1 (KRaft, single combined node) from Maven Central jars."""

    name = "kafka"
    pom = POM
    jars = f"Apache Kafka {KAFKA_VERSION} jars"

    def __init__(self, settings: Settings) -> None:
        # The client port comes from KAFKA_BOOTSTRAP_SERVERS; the controller listens one above it.
        client = settings.endpoint("KAFKA_BOOTSTRAP_SERVERS").port
        admin = settings.endpoint("KAFKA_ADMIN_URL")
        if not admin.username or not admin.password:
            raise ServiceError(
                "KAFKA_ADMIN_URL needs a user and a password (sasl://USER:PASSWORD@…)"
            )
        if _UNSAFE_IN_JAAS & set(admin.username + admin.password):
            raise ServiceError(
                "KAFKA_ADMIN_URL's user and password may not contain \", \\, ; or control characters"
            )
        self.listeners = Listeners(
            client=client,
            controller=client + 1,
            grading=settings.endpoint("KAFKA_GRADING_BOOTSTRAP_SERVERS").port,
            internal=admin.port,
            admin=admin,
        )
        self.client_port = client
        self.ports = (client, client + 1, self.listeners.grading, self.listeners.internal)

    @property
    def config_file(self) -> Path:
        return self.paths().root / "server.properties"

    @property
    def class_archive(self) -> Path:
        """A CDS archive of the broker's classes; in ``lib`` so a reinstall discards it with the jars."""
        return self.lib / "kafka.jsa"

    def class_data_sharing(self) -> list[str]:
        """Reuse the loaded classes of an earlier run, as the apache/kafka image does (kafka.jsa).

        The first start records the archive when the broker exits (SIGTERM included); later starts
        map it instead of loading and verifying ~90 jars of classes again. A stale or broken
        archive is only a warning: the JVM then starts without it.
        """
        # Dumping logs a warning per class it skips (hundreds of lines) into server.log.
        quiet = ["-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
        if self.class_archive.exists():
            return [f"-XX:SharedArchiveFile={self.class_archive}", *quiet]
        return [f"-XX:ArchiveClassesAtExit={self.class_archive}", *quiet]

    def java_command(self, main_class: str, *args: str) -> list[str]:
        return [
            "java",
            *JVM_OPTIONS,
            *(self.class_data_sharing() if main_class == "kafka.Kafka" else []),
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            # Kafka's scripts set this: the broker writes its own GC/state logs under it otherwise.
            f"-Dkafka.logs.dir={self.paths().root / 'logs'}",
            "-cp",
            f"{self.lib}/*",
            main_class,
            *args,
        ]

    def formatted(self) -> bool:
        return (self.paths().data / "meta.properties").exists()

    def format_command(self, cluster_id: str) -> list[str]:
        """``kafka-storage format`` for this node. Values go in ``--option=value`` form, so none can be
        read as an option of its own (an id or a path that starts with ``-``)."""
        command = self.java_command(
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "--ignore-formatted",
            f"--cluster-id={cluster_id}",
            f"--config={self.config_file}",
        )
        # A run of a few seconds: the C1 compiler alone gets it done sooner.
        command.insert(1, "-XX:TieredStopAtLevel=1")
        return command

    def format_storage(self, progress: Progress, cluster_id: str | None = None) -> None:
        """Format the KRaft metadata log once; a formatted directory is kept across restarts."""
        cluster_id = cluster_id or new_cluster_id()
        progress(f"formatting Kafka storage (cluster id {cluster_id})")
        command = self.format_command(cluster_id)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not self.formatted():
            raise ServiceError(
                "formatting Kafka storage failed:\n" + (result.stdout + result.stderr)[-3000:]
            )

    def start(self, progress: Progress) -> int:
        if self.missing():
            raise ServiceError(f"kafka needs {', '.join(self.missing())}: run the install first")
        paths = self.paths()
        paths.data.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(server_properties(paths.data, self.listeners))
        if not self.formatted():
            self.format_storage(progress)
        progress(f"starting Apache Kafka {KAFKA_VERSION} on {HOST}:{self.client_port}")
        return spawn(self.name, self.java_command("kafka.Kafka", str(self.config_file)), paths)

    def ready_timeout(self) -> float:
        # A cold JVM on two cores loads ~90 jars and elects itself controller: 10-20 s is normal.
        return 90.0
