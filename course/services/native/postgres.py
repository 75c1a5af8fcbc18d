"""PostgreSQL 15 from Debian's ``postgresql-15``, run as our own process with its cluster under ``.services``.

PostgreSQL refuses to run as root, so as root the cluster directory is owned by the ``postgres`` user
and every server command runs through ``runuser``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from course.services.base import NativeServer, Paths, Progress, ServiceError, apt_install
from reference.config import Settings

BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresServer(NativeServer):
    name = "postgres"

    def __init__(self, settings: Settings) -> None:
        endpoint = settings.endpoint("DATABASE_URL")
        self.url = settings.database_url
        self.port = endpoint.port
        self.user = endpoint.username or "postgres"
        self.password = endpoint.password
        self.database = endpoint.path or self.user
        self.ports = (self.port,)

    def paths(self) -> Paths:
        """The cluster's folder: under the state folder when the ``postgres`` user can reach it.

        A checkout under a private home (``/root/…``, mode 700) is out of the postgres user's reach;
        the cluster then lives in a folder of its own under ``/var/lib/backend-skill-lab``.
        """
        default = super().paths()
        if os.geteuid() != 0 or self._owner_can_reach(default.root.parent):
            return default
        digest = hashlib.sha256(str(default.root).encode()).hexdigest()[:12]
        return Paths(Path("/var/lib/backend-skill-lab") / digest / "postgres")

    @staticmethod
    def _owner_can_reach(folder: Path) -> bool:
        folder.mkdir(parents=True, exist_ok=True)
        check = ["runuser", "-u", "postgres", "--", "test", "-x", str(folder)]
        return subprocess.run(check, capture_output=True, check=False).returncode == 0

    def missing(self) -> list[str]:
        return [] if (BIN / "postgres").exists() else ["postgresql-15"]

    def install(self, progress: Progress) -> None:
        apt_install(["postgresql-15"], progress)

    def _as_owner(self, command: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *command]
        return command

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, user="postgres", group="postgres")

    def start(self, progress: Progress) -> int:
        root, data = self.paths().root, self.paths().data
        root.mkdir(parents=True, exist_ok=True)
        self._chown(root)
        first_start = not (data / "PG_VERSION").exists()
        if first_start:
            progress("postgres: initdb (first start)")
            password_file = root / "initdb.pw"
            password_file.write_text(self.password + "\n")
            self._chown(password_file)
            try:
                self._run(
                    [
                        str(BIN / "initdb"),
                        "-D",
                        str(data),
                        "-U",
                        self.user,
                        f"--pwfile={password_file}",
                        "--auth-host=scram-sha-256",
                        "--auth-local=trust",
                        "--encoding=UTF8",
                        "--locale=C.UTF-8",
                    ]
                )
            finally:
                password_file.unlink(missing_ok=True)
        log = self.paths().log
        log.touch()
        self._chown(log)
        options = f"-p {self.port} -k {root} -c listen_addresses=127.0.0.1"
        self._run(
            [str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"]
        )
        pid = int((data / "postmaster.pid").read_text().split()[0])
        if first_start:
            self._create_database()
        return pid

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(
            self._as_owner(command), capture_output=True, text=True, cwd="/", check=False
        )
        if result.returncode != 0:
            raise ServiceError(
                f"postgres: `{' '.join(command[:1])}` failed:\n{result.stdout}{result.stderr}"
            )

    def _create_database(self) -> None:
        admin = f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                connection.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database))
                )

    def stop(self, pid: int) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown: disconnect clients, checkpoint, exit.
        os.kill(pid, signal.SIGINT)

    def ready_timeout(self) -> float:
        return 30.0
