"""What the JVM servers share: a Java check, and jars resolved by Maven from a pom of ours.

Kafka and the MongoDB-compatible server both run on the JVM from Maven Central jars. Each names its
jars in a tiny pom; :class:`MavenJarServer` reports and installs what is missing (a JRE or JDK and
Maven from Debian, then the jars, with a progress line per download).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

from course.services.base import STATE_ROOT, NativeServer, Progress, ServiceError, apt_install

# Shared by every JVM server: a second install (or a reset of ``lib``) is then a local copy.
MAVEN_REPO = STATE_ROOT / "m2"


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


class MavenJarServer(NativeServer):
    """A server run on Java 17+ from the jars ``pom`` resolves to."""

    pom: Path
    jars: str  # what the jars are, for messages: "Apache Kafka 4.1.1 jars"

    @property
    def lib(self) -> Path:
        # Installed jars are a cache shared by every state folder (tests run isolated servers).
        return STATE_ROOT / self.name / "lib"

    def needs_compiler(self) -> bool:
        """Whether ``javac`` is needed before the next start (a JRE is enough by default)."""
        return False

    def missing(self) -> list[str]:
        missing: list[str] = []
        java = java_major_version()
        if java is None or java < 17:
            missing.append("java")
        elif self.needs_compiler() and shutil.which("javac") is None:
            missing.append("java compiler (JDK)")
        if not jars_complete(self.pom, self.lib):
            if shutil.which("mvn") is None:
                missing.append("maven")
            missing.append(self.jars)
        return missing

    def install(self, progress: Progress) -> None:
        missing = self.missing()
        packages = []
        if "java" in missing or "java compiler (JDK)" in missing:
            package = java_apt_package()
            packages.append(package.replace("-jre-", "-jdk-") if self.needs_compiler() else package)
        if "maven" in missing:
            packages.append("maven")
        if packages:
            apt_install(packages, progress)
        if self.jars in missing:
            copy_maven_dependencies(self.pom, self.lib, progress, self.jars)
