"""Genuine Apache Kafka 4.1.1, run natively from Maven Central jars as a single KRaft node.

The same broker the ``apache/kafka:4.1.1`` image runs, without Docker: a tiny pom
(``native/kafka/pom.xml``) names the jars, Maven copies them into ``.services/kafka/lib``, and
``java -cp 'lib/*' kafka.Kafka server.properties`` runs one process that is both broker (PLAINTEXT on
127.0.0.1:19092) and KRaft controller (127.0.0.1:19093). Storage is formatted once and kept across
restarts; ``reset`` wipes ``paths().data`` and the next start formats it again.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from course.services.base import (
    STATE_ROOT,
    NativeServer,
    Progress,
    ServiceError,
    apt_install,
    spawn,
)

KAFKA_VERSION = "4.1.1"
CLIENT_PORT = 19092
CONTROLLER_PORT = 19093
HOST = "127.0.0.1"

_HERE = Path(__file__).resolve().parent / "kafka"
POM = _HERE / "pom.xml"
LOG4J_CONFIG = _HERE / "log4j2.properties"
# Shared with the mongo server: a second install (or a reset of ``lib``) is then a local copy.
MAVEN_REPO = STATE_ROOT / "m2"

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


def java_major_version(java: str = "java") -> int | None:
    """The major version of the ``java`` on PATH (17 for "17.0.15"), or None when there is none."""
    if shutil.which(java) is None:
        return None
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    # `java -version` writes to stderr: openjdk version "17.0.15" 2025-04-15
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    # Java 8 and older report "1.8.0_…".
    return int(match.group(2) or 0) if major == 1 else major


def java_apt_package() -> str:
    """The Debian JRE package to install: 17 where the release has it (bookworm), else 21 (trixie)."""
    for package in ("openjdk-17-jre-headless", "openjdk-21-jre-headless"):
        result = subprocess.run(
            ["apt-cache", "policy", package], capture_output=True, text=True, check=False
        )
        if "Candidate:" in result.stdout and "Candidate: (none)" not in result.stdout:
            return package
    return "openjdk-17-jre-headless"


def copy_maven_dependencies(
    pom: Path, lib: Path, progress: Progress, what: str, repo: Path = MAVEN_REPO
) -> None:
    """Resolve ``pom``'s runtime dependencies into ``lib``, reporting each download as progress.

    The jars are copied into a fresh directory and marked complete with the pom's hash, so an
    interrupted download is redone and a changed pom is picked up by :func:`jars_complete`.
    """
    if shutil.which("mvn") is None:
        raise ServiceError(f"Maven (mvn) is needed to download {what}: apt-get install maven")
    shutil.rmtree(lib, ignore_errors=True)
    lib.parent.mkdir(parents=True, exist_ok=True)
    command = [
        "mvn",
        "-B",
        "-f",
        str(pom),
        f"-Dmaven.repo.local={repo}",
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={lib}",
    ]
    progress(f"resolving {what} with Maven (cached in {repo})")
    # Not `-q`: its "Downloaded from central: …/x.jar (1.2 MB at …)" lines are the progress we report.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert process.stdout is not None
    tail: list[str] = []
    downloaded = 0
    for line in process.stdout:
        tail = [*tail[-40:], line.rstrip()]
        match = re.search(
            r"Downloaded from \S+: \S+/([^/\s]+\.jar) \(([^)]*?)(?: at [^)]*)?\)", line
        )
        if match:
            downloaded += 1
            progress(f"downloaded {match.group(1)} ({match.group(2)}) [{downloaded} jars]")
    if process.wait() != 0:
        shutil.rmtree(lib, ignore_errors=True)
        raise ServiceError(f"downloading {what} with Maven failed:\n" + "\n".join(tail))
    (lib / ".complete").write_text(pom_hash(pom))
    count = len(list(lib.glob("*.jar")))
    progress(f"{what}: {count} jars in {lib}")


def pom_hash(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def jars_complete(pom: Path, lib: Path) -> bool:
    """True when ``lib`` holds a finished copy of exactly this pom's dependencies."""
    marker = lib / ".complete"
    return marker.exists() and marker.read_text().strip() == pom_hash(pom)


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 characters)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def server_properties(
    data_dir: Path, client_port: int = CLIENT_PORT, controller_port: int = CONTROLLER_PORT
) -> str:
    """The broker's configuration: one combined broker+controller node, tuned to start quickly."""
    settings = {
        # KRaft combined mode: this one process is the whole cluster and its own controller quorum.
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{client_port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{client_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
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


class KafkaServer(NativeServer):
    """Apache Kafka 4.1.1 (KRaft, single combined node) from Maven Central jars."""

    name = "kafka"

    def __init__(self, bootstrap_servers: str = f"{HOST}:{CLIENT_PORT}") -> None:
        # The client port comes from KAFKA_BOOTSTRAP_SERVERS; the controller listens one above it.
        self.client_port = int(bootstrap_servers.split(",")[0].rsplit(":", 1)[1])
        self.controller_port = self.client_port + 1
        self.ports = (self.client_port, self.controller_port)

    @property
    def lib(self) -> Path:
        # Installed jars are a cache shared by every state folder (tests run isolated brokers).
        return STATE_ROOT / self.name / "lib"

    @property
    def config_file(self) -> Path:
        return self.paths().root / "server.properties"

    def missing(self) -> list[str]:
        missing: list[str] = []
        java = java_major_version()
        if java is None or java < 17:
            missing.append("java")
        if not jars_complete(POM, self.lib):
            if shutil.which("mvn") is None:
                missing.append("maven")
            missing.append("kafka jars")
        return missing

    def install(self, progress: Progress) -> None:
        missing = self.missing()
        packages = []
        if "java" in missing:
            packages.append(java_apt_package())
        if "maven" in missing:
            packages.append("maven")
        if packages:
            apt_install(packages, progress)
        if "kafka jars" in missing:
            copy_maven_dependencies(POM, self.lib, progress, f"Apache Kafka {KAFKA_VERSION} jars")

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

    def format_storage(self, progress: Progress) -> None:
        """Format the KRaft metadata log once; a formatted directory is kept across restarts."""
        cluster_id = new_cluster_id()
        progress(f"formatting Kafka storage (cluster id {cluster_id})")
        command = self.java_command(
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "--ignore-formatted",
            "--cluster-id",
            cluster_id,
            "--config",
            str(self.config_file),
        )
        # A run of a few seconds: the C1 compiler alone gets it done sooner.
        command.insert(1, "-XX:TieredStopAtLevel=1")
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
        self.config_file.write_text(
            server_properties(paths.data, self.client_port, self.controller_port)
        )
        if not self.formatted():
            self.format_storage(progress)
        progress(f"starting Apache Kafka {KAFKA_VERSION} on {HOST}:{self.client_port}")
        return spawn(self.name, self.java_command("kafka.Kafka", str(self.config_file)), paths)

    def ready_timeout(self) -> float:
        # A cold JVM on two cores loads ~90 jars and elects itself controller: 10-20 s is normal.
        return 90.0
