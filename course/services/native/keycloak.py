"""Keycloak 26, the course's OpenID Connect provider, run natively from the Maven Central distribution.

The same server the ``quay.io/keycloak/keycloak`` image runs, without Docker: Maven fetches
``org.keycloak:keycloak-quarkus-dist`` (a ~170 MB zip) once into the shared Maven cache, it is
unpacked once into ``.services/keycloak/dist-<version>-<build options>``, and an *optimized* build (``kc.sh build``:
Quarkus re-augmentation for the dev-file database and the health checks, ~40 s) is done once and
recorded, so every later start runs ``start --optimized`` and skips it. The JVM is started directly
(what ``kc.sh`` would run) with ``kc.home.dir`` set to this state folder, whose ``lib`` links to the
shared distribution: each state folder (the tests' isolated ones too) has its own ``data/`` — the
dev-file H2 database and the realm to import — while the 190 MB distribution and its build are
shared. A single node with a local cache (``--cache=local``): no JGroups cluster, nothing but
loopback listening. The first start records a CDS archive of the server's classes at exit, which
later starts map instead of loading them again (what dominated a warm start on two cores, with the
cluster's JGroups discovery and the realm import, both now gone from it).

On a new database the course realm (``keycloak/course-realm.json``, secrets substituted by Keycloak
from the environment: ``${KEYCLOAK_ALICE_PASSWORD}`` …) is imported; when the realm file or any of
those secrets changed since the last import, the database is wiped first so the change takes effect.
HTTP listens on 127.0.0.1 at ``KEYCLOAK_URL``'s port and the management interface (health) one
above it, off Keycloak's default 9000. Taught from chapter 03 (auth).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from course.services.base import (
    STATE_ROOT,
    NativeServer,
    Progress,
    ServiceError,
    apt_install,
    spawn,
)
from course.services.native.jvm import MAVEN_REPO, java_apt_package, java_major_version
from reference.config import DEFAULTS, Settings

KEYCLOAK_VERSION = "26.7.3"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip"
HOST = "127.0.0.1"
REALM_FILE = Path(__file__).resolve().parent / "keycloak" / "course-realm.json"

# Build-time options: baked into the optimized build, so `start --optimized` must not differ.
BUILD_OPTIONS = ("--db=dev-file", "--health-enabled=true")
# `--cache=local` (a runtime option): one node needs no cluster. The default (`ispn`) starts JGroups
# discovery over the database with mTLS certificates — ~10 s of every start — and listens on every
# interface, not only loopback.
RUNTIME_OPTIONS = ("--http-enabled=true", "--hostname-strict=false", "--cache=local")

# The realm's secrets, handed to Keycloak as environment variables for the import's placeholders.
REALM_VARIABLES = tuple(
    name for name in DEFAULTS if name.startswith("KEYCLOAK_") and name != "KEYCLOAK_URL"
)

# What kc.sh passes to the JVM (Keycloak 26.7's defaults for a non-container run), except two
# choices for a 2-core machine running six servers: the C1 compiler alone and the serial collector.
# Both take CPU away from startup (compiler and GC threads competing with class loading): a warm
# start took 21 s instead of 32 s, interleaved runs at load average 7.7 on 2 cores. The price,
# slower peak throughput, does not show at a course's request rates.
JVM_OPTIONS = (
    "-XX:MetaspaceSize=96M",
    "-XX:MaxMetaspaceSize=256m",
    "-Xms64m",
    "-Xmx512m",
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Dfile.encoding=UTF-8",
    "-Djava.security.egd=file:/dev/urandom",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.security=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "-Duser.language=en",
    "-Duser.country=US",
    "-Djava.util.concurrent.ForkJoinPool.common.threadFactory="
    "io.quarkus.bootstrap.forkjoin.QuarkusForkJoinWorkerThreadFactory",
    "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
    "-Dpicocli.disable.closures=true",
)


def build_stamp() -> str:
    return " ".join((KEYCLOAK_VERSION, *BUILD_OPTIONS))


def dist_dir() -> Path:
    """The unpacked and built distribution, shared by every state folder (like the JVM servers' jars).

    Named after its build options too: a build rewrites ``lib/quarkus`` in place, which must never
    happen under a running server, so changed options get a fresh copy instead.
    """
    tag = hashlib.sha256(build_stamp().encode()).hexdigest()[:8]
    return STATE_ROOT / "keycloak" / f"dist-{KEYCLOAK_VERSION}-{tag}"


def zip_path(repo: Path = MAVEN_REPO) -> Path:
    group, artifact, version, kind = ARTIFACT.split(":")
    return repo / group.replace(".", "/") / artifact / version / f"{artifact}-{version}.{kind}"


class KeycloakServer(NativeServer):
    """Keycloak (Quarkus distribution) in production mode on the dev-file database, one JVM."""

    name = "keycloak"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = settings.endpoint("KEYCLOAK_URL").port
        self.management_port = self.port + 1
        self.ports = (self.port, self.management_port)
        # Shared caches by default; the cold-start benchmark points them at empty folders.
        self.dist = dist_dir()
        self.maven_repo = MAVEN_REPO

    @property
    def built_marker(self) -> Path:
        return self.dist / ".course-build"

    def unpacked(self) -> bool:
        return (self.dist / "lib" / "quarkus-run.jar").exists()

    def built(self) -> bool:
        marker = self.built_marker
        return marker.exists() and marker.read_text() == build_stamp()

    def missing(self) -> list[str]:
        missing: list[str] = []
        java = java_major_version()
        if java is None or java < 17:
            missing.append("java")
        if not self.unpacked():
            if not zip_path(self.maven_repo).exists() and shutil.which("mvn") is None:
                missing.append("maven")
            missing.append(f"Keycloak {KEYCLOAK_VERSION} distribution")
        if not self.built():
            missing.append("Keycloak optimized build")
        return missing

    def install(self, progress: Progress) -> None:
        missing = self.missing()
        packages = [java_apt_package()] if "java" in missing else []
        if "maven" in missing:
            packages.append("maven")
        if packages:
            apt_install(packages, progress)
        if not self.unpacked():
            self.download(progress)
            self.unpack(progress)
        if not self.built():
            self.build(progress)

    def download(self, progress: Progress) -> None:
        """Fetch the distribution zip into the shared Maven cache (once per machine)."""
        if zip_path(self.maven_repo).exists():
            return
        if shutil.which("mvn") is None:
            raise ServiceError("Maven (mvn) is needed to download Keycloak: apt-get install maven")
        progress(f"downloading Keycloak {KEYCLOAK_VERSION} (~170 MB) from Maven Central")
        result = subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                f"-Dmaven.repo.local={self.maven_repo}",
                "dependency:get",
                f"-Dartifact={ARTIFACT}",
                # The zip is self-contained. Resolving its pom's dependencies would fetch hundreds
                # of poms, some from a repository it names beyond Maven Central.
                "-Dtransitive=false",
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
        target = self.dist
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        progress(f"unpacking Keycloak into {target}")
        with zipfile.ZipFile(zip_path(self.maven_repo)) as archive:
            archive.extractall(partial)
        (top,) = partial.iterdir()  # the zip holds one folder, keycloak-<version>/
        shutil.rmtree(target, ignore_errors=True)
        top.rename(target)
        partial.rmdir()

    @property
    def class_archive(self) -> Path:
        """A CDS archive of the server's classes, beside the build it belongs to."""
        return self.dist / "keycloak.jsa"

    def class_data_sharing(self) -> list[str]:
        """Map the classes an earlier run loaded instead of loading and verifying them again.

        The first start records the archive when the server exits (``down`` sends SIGTERM); later
        starts map it. A stale or broken archive is only a warning: the JVM starts without it.
        """
        quiet = ["-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
        if self.class_archive.exists():
            return [f"-XX:SharedArchiveFile={self.class_archive}", *quiet]
        return [f"-XX:ArchiveClassesAtExit={self.class_archive}", *quiet]

    def java_command(self, home: Path, *args: str) -> list[str]:
        return [
            "java",
            *JVM_OPTIONS,
            *(self.class_data_sharing() if args[:1] == ("start",) else []),
            f"-Dkc.home.dir={home}",
            f"-Djboss.server.config.dir={self.dist / 'conf'}",
            "-cp",
            str(self.dist / "lib" / "quarkus-run.jar"),
            "io.quarkus.bootstrap.runner.QuarkusEntryPoint",
            *args,
        ]

    def build(self, progress: Progress) -> None:
        """``kc.sh build``: re-augment the distribution for our build options, once."""
        progress(f"building Keycloak for {' '.join(BUILD_OPTIONS)} (once, ~40 s)")
        self.built_marker.unlink(missing_ok=True)
        command = self.java_command(self.dist, "build", *BUILD_OPTIONS)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServiceError(f"kc.sh build failed:\n{(result.stdout + result.stderr)[-3000:]}")
        self.built_marker.write_text(build_stamp())

    def realm_environment(self) -> dict[str, str]:
        values = {name: self.settings[name] for name in REALM_VARIABLES}
        return {
            **values,
            "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
            "KC_BOOTSTRAP_ADMIN_PASSWORD": values["KEYCLOAK_MASTER_PASSWORD"],
        }

    def realm_stamp(self) -> str:
        """What the imported realm was made of: the realm file and the secrets put into it."""
        digest = hashlib.sha256(REALM_FILE.read_bytes())
        for name, value in sorted(self.realm_environment().items()):
            digest.update(f"\0{name}={value}".encode())
        return digest.hexdigest()

    def prepare_home(self) -> bool:
        """Make this state folder Keycloak's home: its own data/, the shared build linked as lib/.

        Returns whether the realm must be imported: on an empty database, and after the realm file
        or a secret changed (the database is wiped first: Keycloak never re-imports an existing
        realm). Otherwise the import is skipped — parsing and comparing it costs seconds per start.
        """
        home = self.paths().root
        data = self.paths().data
        stamp = data / ".realm-stamp"
        if stamp.exists() and stamp.read_text() != self.realm_stamp():
            shutil.rmtree(data)
        must_import = not (stamp.exists() and (data / "h2").is_dir())
        (data / "import").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REALM_FILE, data / "import" / REALM_FILE.name)
        stamp.write_text(self.realm_stamp())
        lib, target = home / "lib", self.dist / "lib"
        if lib.is_symlink() and lib.readlink() != target:
            lib.unlink()  # a build of other options, or one since removed
        if not lib.is_symlink():
            lib.symlink_to(target)
        (home / "providers").mkdir(exist_ok=True)
        return must_import

    def start(self, progress: Progress) -> int:
        if self.missing():
            raise ServiceError(f"keycloak needs {', '.join(self.missing())}: run the install first")
        must_import = self.prepare_home()
        command = self.java_command(
            self.paths().root,
            "start",
            "--optimized",
            *RUNTIME_OPTIONS,
            f"--http-host={HOST}",
            f"--http-port={self.port}",
            f"--http-management-port={self.management_port}",
            *(["--import-realm"] if must_import else []),
        )
        progress(f"starting Keycloak {KEYCLOAK_VERSION} on {HOST}:{self.port}")
        return spawn(
            self.name, command, self.paths(), env={**os.environ, **self.realm_environment()}
        )

    def ready_timeout(self) -> float:
        # The first start creates the schema and imports two realms: ~25 s idle, minutes under load.
        return 600.0
