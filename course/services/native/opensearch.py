"""OpenSearch 2.19 from Maven Central's integ-test distribution as the course's log store (chapter 08).

The guide's ELK stack stores logs in Elasticsearch; the course runs OpenSearch, its Apache-2.0 fork
with the same REST API for what chapter 08 does (index templates, bulk indexing, search, date
histograms), reached with ``opensearch-py``. Maven fetches
``org.opensearch.distribution.integ-test-zip:opensearch:<version>:zip`` (~55 MB) once into the
shared Maven cache; it is unpacked into the state folder and started with ``bin/opensearch -d``:
one node (``discovery.type: single-node``), HTTP on ``OPENSEARCH_URL``'s port and transport on
``OPENSEARCH_TRANSPORT_PORT``, both on 127.0.0.1, a 512 MB heap, data under
``.services/opensearch/data``. The disk-usage watermarks are off: on a nearly full laptop disk
OpenSearch would otherwise make every index read-only and refuse writes.

**No security plugin.** The integ-test zip is OpenSearch's minimal distribution: core and the
netty transport, with no plugins and none of the optional modules — no TLS, users or roles (the
compose image's security plugin is disabled to match: ``DISABLE_SECURITY_PLUGIN=true``), and also
no Painless scripts, ``_delete_by_query``/``_reindex`` (module ``reindex``) or ingest pipelines.
Indices, templates, bulk, search and aggregations are core and work. Anyone who can reach the port
can read and delete every index, which is why it listens on loopback only.

OpenSearch refuses to run as root, so as root it runs as a system user of its own, ``opensearch``
(created on first start, no login shell, no home), which owns the state folder; like PostgreSQL, a
checkout that user cannot reach (under a private home) keeps the folder under
``/var/lib/backend-skill-lab`` instead. Not as root, it runs as the invoking user.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

from course.services.base import NativeServer, Paths, Progress, ServiceError, apt_install
from course.services.native.jvm import MAVEN_REPO, java_apt_package, java_major_version
from reference.config import Settings

OPENSEARCH_VERSION = "2.19.6"  # the newest 2.19 that runs on Java 17; 3.x needs Java 21
ARTIFACT = f"org.opensearch.distribution.integ-test-zip:opensearch:{OPENSEARCH_VERSION}:zip"
USER = "opensearch"
HEAP = "512m"


def zip_path(repo: Path = MAVEN_REPO) -> Path:
    group, artifact, version, kind = ARTIFACT.split(":")
    return repo / group.replace(".", "/") / artifact / version / f"{artifact}-{version}.{kind}"


class OpenSearchServer(NativeServer):
    """One OpenSearch node from the integ-test zip, as its own unprivileged user when we are root."""

    name = "opensearch"

    def __init__(self, settings: Settings) -> None:
        try:
            self.port = settings.endpoint("OPENSEARCH_URL").port
            self.transport_port = int(settings["OPENSEARCH_TRANSPORT_PORT"])
        except ValueError as error:
            raise ServiceError(
                "OPENSEARCH_URL must be http://127.0.0.1:PORT and OPENSEARCH_TRANSPORT_PORT a port "
                f"({error})"
            ) from None
        if self.port == self.transport_port:
            raise ServiceError("OPENSEARCH_URL and OPENSEARCH_TRANSPORT_PORT must differ")
        self.ports = (self.port, self.transport_port)
        self.maven_repo = MAVEN_REPO

    # --- where: like PostgreSQL, a folder the server's own user can reach ---

    def paths(self) -> Paths:
        default = super().paths()
        if os.geteuid() != 0 or self._user_can_reach(default.root.parent):
            return default
        digest = hashlib.sha256(str(default.root).encode()).hexdigest()[:12]
        return Paths(Path("/var/lib/backend-skill-lab") / digest / "opensearch")

    @staticmethod
    def _user_can_reach(folder: Path) -> bool:
        folder.mkdir(parents=True, exist_ok=True)
        if not _user_exists():
            _create_user()
        check = ["runuser", "-u", USER, "--", "test", "-x", str(folder)]
        return subprocess.run(check, capture_output=True, check=False).returncode == 0

    @property
    def home(self) -> Path:
        """The unpacked distribution (per state folder: it must be readable by the server's user)."""
        return self.paths().root / f"opensearch-{OPENSEARCH_VERSION}"

    # --- install ---

    def missing(self) -> list[str]:
        missing: list[str] = []
        java = java_major_version()
        if java is None or java < 17:
            missing.append("java")
        if not zip_path(self.maven_repo).exists():
            if shutil.which("mvn") is None:
                missing.append("maven")
            missing.append(f"OpenSearch {OPENSEARCH_VERSION} distribution")
        return missing

    def install(self, progress: Progress) -> None:
        missing = self.missing()
        packages = [java_apt_package()] if "java" in missing else []
        if "maven" in missing:
            packages.append("maven")
        if packages:
            apt_install(packages, progress)
        if not zip_path(self.maven_repo).exists():
            self.download(progress)

    def download(self, progress: Progress) -> None:
        """Fetch the zip into the shared Maven cache (once per machine; Maven checks its checksum)."""
        if shutil.which("mvn") is None:
            raise ServiceError(
                "Maven (mvn) is needed to download OpenSearch: apt-get install maven"
            )
        progress(f"downloading OpenSearch {OPENSEARCH_VERSION} (~55 MB) from Maven Central")
        result = subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                f"-Dmaven.repo.local={self.maven_repo}",
                "dependency:get",
                f"-Dartifact={ARTIFACT}",
                "-Dtransitive=false",  # the zip is self-contained
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not zip_path(self.maven_repo).exists():
            raise ServiceError(
                f"downloading {ARTIFACT} failed:\n{(result.stdout + result.stderr)[-3000:]}"
            )

    def unpack(self, progress: Progress) -> None:
        """Unzip into a fresh folder, then rename: an interrupted unpack is redone from scratch."""
        target = self.home
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        progress(f"unpacking OpenSearch into {target}")
        with zipfile.ZipFile(zip_path(self.maven_repo)) as archive:
            archive.extractall(partial)
        (top,) = partial.iterdir()  # the zip holds one folder, opensearch-<version>/
        for script in (top / "bin").iterdir():
            script.chmod(0o755)  # zipfile drops the mode bits
        shutil.rmtree(target, ignore_errors=True)
        top.rename(target)
        partial.rmdir()

    # --- run ---

    def write_config(self, config: Path) -> None:
        root = self.paths().root
        shutil.rmtree(config, ignore_errors=True)
        shutil.copytree(self.home / "config", config)
        (config / "opensearch.yml").write_text(
            "\n".join(
                [
                    "cluster.name: course",
                    "node.name: course",
                    f"path.data: {self.paths().data}",
                    f"path.logs: {root / 'logs'}",
                    "network.host: 127.0.0.1",
                    f"http.port: {self.port}",
                    f"transport.port: {self.transport_port}",
                    "discovery.type: single-node",
                    # A development disk is often over 90 % full: without this, OpenSearch turns
                    # every index read-only at the flood-stage watermark and writes fail.
                    "cluster.routing.allocation.disk.threshold_enabled: false",
                    "",
                ]
            )
        )
        options = (self.home / "config" / "jvm.options").read_text()
        options = options.replace("-Xms1g", f"-Xms{HEAP}").replace("-Xmx1g", f"-Xmx{HEAP}")
        # relative paths in the stock file resolve against the working directory: pin them
        options = options.replace("-XX:HeapDumpPath=data", f"-XX:HeapDumpPath={root / 'logs'}")
        options = options.replace("file=logs/gc.log", f"file={root / 'logs' / 'gc.log'}")
        options = options.replace("-XX:ErrorFile=logs/", f"-XX:ErrorFile={root / 'logs'}/")
        (config / "jvm.options").write_text(options)

    def start(self, progress: Progress) -> int:
        paths = self.paths()
        root = paths.root
        root.mkdir(parents=True, exist_ok=True)
        if not (self.home / "bin" / "opensearch").exists():
            self.unpack(progress)
        config = root / "config"
        self.write_config(config)
        for folder in (paths.data, root / "logs", root / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
        pid_file = root / "opensearch.pid"
        pid_file.unlink(missing_ok=True)
        if os.geteuid() == 0:
            if not _user_exists():
                _create_user()
            subprocess.run(["chown", "-R", f"{USER}:{USER}", str(root)], check=True)
        java_home = Path(os.path.realpath(shutil.which("java") or "java")).parent.parent
        env = [
            f"OPENSEARCH_PATH_CONF={config}",
            f"OPENSEARCH_JAVA_HOME={java_home}",
            f"OPENSEARCH_TMPDIR={root / 'tmp'}",
            "PATH=/usr/bin:/bin",
        ]
        command = [
            "env",
            "-i",
            *env,
            str(self.home / "bin" / "opensearch"),
            "-d",
            "-p",
            str(pid_file),
        ]
        if os.geteuid() == 0:
            command = ["runuser", "-u", USER, "--", *command]
        progress("opensearch: starting the node (about 20 s)")
        with paths.log.open("ab") as log:
            # This file gets only what the JVM prints before it daemonizes: say where the rest goes.
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(
                f"\n--- opensearch start {stamp}; the node logs to {root / 'logs'}/course.log\n".encode()
            )
            log.flush()
            # -d: the script starts the JVM in the background and returns; the JVM writes its pid
            # to the file early in its bootstrap
            result = subprocess.run(
                command,
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        deadline = time.monotonic() + 30
        while result.returncode == 0 and not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        if result.returncode != 0 or not pid_file.exists():
            tail = _tail(root / "logs" / "course.log") or _tail(paths.log)
            raise ServiceError(f"opensearch did not start (exit {result.returncode}):\n{tail}")
        return int(pid_file.read_text().strip())

    def ready_timeout(self) -> float:
        return 90.0


def _tail(path: Path, size: int = 3000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else ""


def _user_exists() -> bool:
    return subprocess.run(["id", "-u", USER], capture_output=True, check=False).returncode == 0


def _create_user() -> None:
    """A system user with no login and no home: it only owns the server's folder."""
    subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            USER,
        ],
        check=True,
        capture_output=True,
    )
