"""A MongoDB-compatible server for machines without Docker: mongo-java-server on 127.0.0.1:17017.

No registry we can reach ships MongoDB itself, so the native launcher runs ``de.bwaldvogel:
mongo-java-server`` (Maven Central), a Java implementation of the MongoDB wire protocol, through
``native/mongo/CourseMongoServer.java``, compiled once with ``javac``. That small main:

- stores everything in one H2 MVStore file under ``.services/mongo/data``, so data survives
  ``down``/``up`` (``reset`` wipes the file);
- enables the oplog, so change streams work;
- reports MongoDB 4.4 / wire version 9, the oldest server PyMongo 4.18+ accepts (the library's own
  version choices stop at wire version 8);
- adds ``compatibleServer`` to ``buildInfo`` so probes can tell it from genuine MongoDB.

It lacks text indexes, TTL expiry, sessions and transactions among others: tests that need them carry
the ``genuine_mongodb`` marker and run against ``docker compose`` only.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from course.services.base import (
    STATE_ROOT,
    Progress,
    ServiceError,
    spawn,
)
from course.services.native.jvm import MavenJarServer
from reference.config import Settings

HOST = "127.0.0.1"
MONGO_JAVA_SERVER_VERSION = "1.47.0"

_HERE = Path(__file__).resolve().parent / "mongo"
POM = _HERE / "pom.xml"
MAIN_SOURCE = _HERE / "CourseMongoServer.java"

# Small heap: course data sets are tiny. Serial GC keeps the idle footprint near 100 MB.
JVM_OPTIONS = (
    "-Xms32m",
    "-Xmx384m",
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


def source_stamp(lib: Path) -> str:
    """What the compiled class depends on: the source and the exact jars it was compiled against."""
    digest = hashlib.sha256(MAIN_SOURCE.read_bytes())
    marker = lib / ".complete"
    digest.update(marker.read_bytes() if marker.exists() else b"")
    return digest.hexdigest()


class MongoServer(MavenJarServer):
    """mongo-java-server 1.47.0 (H2 file backend, oplog on) posing as MongoDB 4.4 on port 17017."""

    name = "mongo"
    pom = POM
    jars = f"mongo-java-server {MONGO_JAVA_SERVER_VERSION} jars"

    def __init__(self, settings: Settings) -> None:
        self.port = settings.endpoint("MONGODB_URL").port
        self.ports = (self.port,)

    @property
    def classes(self) -> Path:
        return STATE_ROOT / self.name / "classes"

    @property
    def data_file(self) -> Path:
        return self.paths().data / "course.mv.db"

    def compiled(self) -> bool:
        stamp = self.classes / ".source-stamp"
        return stamp.exists() and stamp.read_text() == source_stamp(self.lib)

    def compile(self, progress: Progress) -> None:
        """Compile CourseMongoServer once: `java X.java` would recompile it on every start (2-4 s)."""
        progress("compiling CourseMongoServer.java")
        shutil.rmtree(self.classes, ignore_errors=True)
        self.classes.mkdir(parents=True)
        result = subprocess.run(
            ["javac", "-d", str(self.classes), "-cp", f"{self.lib}/*", str(MAIN_SOURCE)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceError(
                f"compiling {MAIN_SOURCE.name} failed:\n{result.stdout}{result.stderr}"
            )
        (self.classes / ".source-stamp").write_text(source_stamp(self.lib))

    def needs_compiler(self) -> bool:
        # CourseMongoServer.java is compiled once, on the first start after its jars change.
        return not self.compiled()

    def command(self) -> list[str]:
        return [
            "java",
            *JVM_OPTIONS,
            "-cp",
            f"{self.classes}:{self.lib}/*",
            "CourseMongoServer",
            HOST,
            str(self.port),
            str(self.data_file),
        ]

    def start(self, progress: Progress) -> int:
        if self.missing():
            raise ServiceError(f"mongo needs {', '.join(self.missing())}: run the install first")
        paths = self.paths()
        paths.data.mkdir(parents=True, exist_ok=True)
        if not self.compiled():
            self.compile(progress)
        progress(
            f"starting mongo-java-server {MONGO_JAVA_SERVER_VERSION} (MongoDB-compatible) "
            f"on {HOST}:{self.port}"
        )
        return spawn(self.name, self.command(), paths)

    def ready_timeout(self) -> float:
        # A JVM start and opening the store: 2-5 s on two cores, more while other servers start.
        return 45.0
