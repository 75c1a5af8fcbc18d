"""Bring the course's servers up, down, back to empty, and report on them.

For each server the backend is chosen for the user: a server already answering at the configured URL
is used as is; otherwise a Docker engine means ``docker compose``; otherwise the server runs natively as
a process of ours (installed on demand). Native servers are recorded by PID in
``.services/<name>/server.pid`` so ``down`` stops only what ``up`` started; data survives ``down`` and
only ``reset`` wipes it. A file lock makes concurrent launchers (parallel test workers) safe.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import math
import os
import re
import shutil
import signal
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psutil

from course.services import compose
from course.services.base import NativeServer, Progress, ServiceError
from reference.config import REPO_ROOT, Settings, get_settings, state_dir
from reference.setup import servers as registry

SERVERS: tuple[str, ...] = tuple(registry.SERVERS)
Backend = Literal["native", "compose"]


@dataclass(frozen=True)
class ServerStatus:
    """One row of ``course services status``."""

    name: str
    backend: str  # native | compose | external | stopped
    url: str
    healthy: bool
    flavour: str = ""
    version: str = ""
    rtt_ms: float | None = None
    detail: str = ""
    pid: int | None = None


def validate_names(names: Sequence[str]) -> list[str]:
    """The requested servers in canonical order; all of them when none are named."""
    unknown = [name for name in names if name not in SERVERS]
    if unknown:
        raise ServiceError(
            f"unknown server {', '.join(repr(n) for n in unknown)}; "
            f"valid names are: {', '.join(SERVERS)}"
        )
    wanted = set(names) or set(SERVERS)
    return [name for name in SERVERS if name in wanted]


def chapters_so_far(root: Path = REPO_ROOT) -> list[str]:
    """The chapters ("00", "01" …) that have a notebook or an exercise folder in this checkout."""
    found = {
        path.name[:2]
        for pattern in ("notebooks/[0-9][0-9]_*.ipynb", "exercises/[0-9][0-9]_*")
        for path in root.glob(pattern)
    }
    return sorted(found)


def servers_for(chapters: Sequence[str] = ()) -> list[str]:
    """What ``course services up`` starts: the servers the given chapters need, or by default the
    servers every chapter so far needs. An unknown chapter is an error naming the known ones."""
    known = chapters_so_far()
    chosen = [chapter.zfill(2) for chapter in chapters]
    unknown = [c for c in chosen if c not in known and not registry.needed_by([c])]
    if unknown:
        raise ServiceError(
            f"no chapter {', '.join(unknown)} in this checkout; chapters so far: {', '.join(known)}"
        )
    return registry.needed_by(chosen or known)


def native_server(name: str, settings: Settings) -> NativeServer:
    """The native runner for one server (the registry's ``native``), built from the parsed settings."""
    try:
        entry = registry.server(name)
    except ValueError as error:
        raise ServiceError(str(error)) from None
    module, _, cls = entry.native.partition(":")
    server: NativeServer = getattr(importlib.import_module(module), cls)(settings)
    return server


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _listeners(port: int) -> Iterator[int | None]:
    """The PIDs listening on ``port`` (``None`` for a socket whose owner we may not see)."""
    for connection in psutil.net_connections(kind="inet"):
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
        ):
            yield connection.pid


def port_holder(port: int) -> str | None:
    """Who listens on 127.0.0.1:``port`` — "name (pid N)" — or None when the port is free."""
    if _port_is_free(port):
        return None
    for pid in _listeners(port):
        if pid is None:
            return "an unknown program"
        try:
            return f"{psutil.Process(pid).name()} (pid {pid})"
        except psutil.Error:
            return f"pid {pid}"
    return "an unknown program"


def works_in(process: psutil.Process, root: Path) -> bool:
    """Whether ``process`` runs in ``root`` (its working directory, or a path in its command line).

    Every native server is spawned with its state folder as working directory and names that folder
    (or its ``data``) in its arguments, so this tells a server of ours from any other program.
    """
    root = root.resolve()
    with contextlib.suppress(psutil.Error, OSError):
        if Path(process.cwd()).resolve().is_relative_to(root):
            return True
    with contextlib.suppress(psutil.Error):
        for argument in process.cmdline():
            for token in re.split(r"[=:,\s]", argument):
                if token.startswith("/") and Path(token).is_relative_to(root):
                    return True
    return False


class Launcher:
    """``course services`` as an API: used by the CLI, the test fixtures and the benchmark."""

    def __init__(self, progress: Progress | None = None, backend: Backend | None = None) -> None:
        self.settings = get_settings()
        self.progress: Progress = progress or (lambda line: print(line, file=sys.stderr))
        forced = backend or os.environ.get("COURSE_BACKEND") or None
        if forced not in (None, "native", "compose"):
            raise ServiceError(f"COURSE_BACKEND must be 'native' or 'compose', not {forced!r}")
        self._backend: Backend | None = forced  # type: ignore[assignment]

    # --- backend and bookkeeping ---------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = "compose" if compose.engine_available() else "native"
        return self._backend

    @contextmanager
    def _locked(self) -> Iterator[None]:
        state_dir().mkdir(parents=True, exist_ok=True)
        with (state_dir() / "launcher.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def write_env_file(self) -> None:
        """Record the URLs in ``.services/env`` so every later shell, kernel and test agrees."""
        state_dir().mkdir(parents=True, exist_ok=True)
        lines = ["# Written by `course services up`; read by reference.config.get_settings()."]
        lines += [f"{key}={value}" for key, value in self.settings.values.items()]
        (state_dir() / "env").write_text("\n".join(lines) + "\n")

    def recorded_pid(self, name: str) -> int | None:
        """The PID of the native server ``up`` started, if it is still running.

        Read from ``.services/<name>/server.pid``; when that file is missing, unreadable or names a
        process that is gone or was recycled, the server may still be running (a garbage pid file,
        a crash of ``up`` before writing it), so it is recovered from the port — see
        :meth:`_recover_pid`. Otherwise ``status`` would call our own server "external" and
        ``down`` would leave it running with nothing left to find it by.
        """
        return self._pid_from_file(name) or self._recover_pid(name)

    def _pid_from_file(self, name: str) -> int | None:
        pid_file = state_dir() / name / "server.pid"
        if not pid_file.exists():
            return None
        try:
            record = json.loads(pid_file.read_text())
            pid, created = record["pid"], float(record["created"])
            # Only what _record_pid writes: an int pid (json reads Infinity, which int() cannot
            # take) and a finite start time (NaN compares as "not recycled" with every process,
            # so `down` would stop whatever runs under that pid).
            if isinstance(pid, bool) or not isinstance(pid, int) or not math.isfinite(created):
                return None
            process = psutil.Process(pid)
            # A recycled PID belongs to another program: compare start times.
            if abs(process.create_time() - created) > 1.0:
                return None
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            return pid
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, psutil.Error):
            return None

    def _recover_pid(self, name: str) -> int | None:
        """Our server found by its port: the process listening there, if its session leader (the
        process ``spawn`` started, in a session of its own) works in this server's state folder.
        The pid file is rewritten. A program of anyone else's on the port is never claimed."""
        if not (state_dir() / name).exists():
            return None
        server = native_server(name, self.settings)
        for port in server.ports:
            if _port_is_free(port):
                continue
            for pid in _listeners(port):
                if pid is None:
                    continue
                try:
                    leader = psutil.Process(os.getsid(pid))
                    if not works_in(leader, server.paths().root):
                        continue
                    self._record_pid(name, leader.pid)
                except (OSError, psutil.Error):
                    continue
                self.progress(
                    f"{name}: found our server (pid {leader.pid}) on port {port}; "
                    "its pid file was missing or invalid and is rewritten"
                )
                return leader.pid
        return None

    def _record_pid(self, name: str, pid: int) -> None:
        created = psutil.Process(pid).create_time()
        pid_file = state_dir() / name / "server.pid"
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(json.dumps({"pid": pid, "created": created}))

    def probe(self, name: str) -> ServerStatus:
        """Probe one server with a real client; never raises."""
        url = self.settings.url_for(name)
        pid = self.recorded_pid(name)
        try:
            result = registry.probe(name, url, 3.0)
        except Exception as error:  # noqa: BLE001 — any failure is reported as unhealthy
            backend = "native" if pid else "stopped"
            return ServerStatus(name, backend, url, False, detail=_one_line(error), pid=pid)
        backend = "native" if pid else self._answering_backend(name)
        return ServerStatus(
            name, backend, url, True, result.flavour, result.version, result.rtt_ms, pid=pid
        )

    def _answering_backend(self, name: str) -> str:
        if self._backend == "compose" or (self._backend is None and compose.engine_available()):
            try:
                if name in compose.running_services():
                    return "compose"
            except ServiceError:
                pass
        return "external"

    # --- commands ----------------------------------------------------------------------------

    def status(self, names: Sequence[str] = ()) -> list[ServerStatus]:
        return [self.probe(name) for name in validate_names(names)]

    def up(self, names: Sequence[str] = ()) -> list[ServerStatus]:
        """Make every requested server healthy; starts nothing that already answers."""
        wanted = validate_names(names)
        with self._locked():
            self.write_env_file()
            pending = [name for name in wanted if not self.probe(name).healthy]
            if pending and self.backend == "compose":
                self.progress(f"docker compose up {' '.join(pending)} (waiting for healthchecks)")
                compose.compose("up", "-d", "--wait", *pending)
            else:
                for name in pending:
                    self._up_native(name)
        return self.status(wanted)

    def _up_native(self, name: str) -> None:
        server = native_server(name, self.settings)
        pid = self.recorded_pid(name)
        if pid is None:
            for port in server.ports:
                holder = port_holder(port)
                if holder is not None:
                    raise ServiceError(
                        f"{name} cannot start: port {port} is held by {holder}. Stop that program, "
                        f"or point {registry.server(name).variable} at another port."
                    )
            missing = server.missing()
            if missing:
                self.progress(f"{name}: installing {', '.join(missing)}")
                server.install(self.progress)
            self.progress(f"{name}: starting")
            server.paths().root.mkdir(parents=True, exist_ok=True)
            pid = server.start(self.progress)
            self._record_pid(name, pid)
        self._wait_healthy(server, pid)

    def _wait_healthy(self, server: NativeServer, pid: int) -> None:
        url = self.settings.url_for(server.name)
        started = time.monotonic()
        deadline = started + server.ready_timeout()
        last_report = started
        error: BaseException | None = None
        while time.monotonic() < deadline:
            if not psutil.pid_exists(pid) or self.recorded_pid(server.name) is None:
                raise ServiceError(
                    f"{server.name} exited during startup; last log lines:\n{self._tail(server)}"
                )
            try:
                registry.probe(server.name, url, 2.0)
                self.progress(f"{server.name}: healthy after {time.monotonic() - started:.1f} s")
                return
            except Exception as probe_error:  # noqa: BLE001 — not ready yet
                error = probe_error
            if time.monotonic() - last_report >= 5:
                self.progress(f"{server.name}: waiting ({time.monotonic() - started:.0f} s)")
                last_report = time.monotonic()
            time.sleep(0.25)
        raise ServiceError(
            f"{server.name} did not become healthy within {server.ready_timeout():.0f} s "
            f"({_one_line(error)}); last log lines:\n{self._tail(server)}"
        )

    def _tail(self, server: NativeServer, lines: int = 15) -> str:
        """The last lines of a native server's log, for error messages and ``logs``."""
        log = server.paths().log
        if not log.exists():
            return "(no log)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def down(self, names: Sequence[str] = ()) -> list[str]:
        """Stop the servers this launcher started; keep their data. Returns the names stopped."""
        wanted = validate_names(names)
        stopped: list[str] = []
        with self._locked():
            for name in wanted:
                pid = self.recorded_pid(name)
                if pid is not None:
                    self._stop_native(name, pid)
                    stopped.append(name)
                elif (state_dir() / name).exists():
                    # A server of ours that died unstopped may have left helpers behind (epmd).
                    native_server(name, self.settings).after_stop()
                (state_dir() / name / "server.pid").unlink(missing_ok=True)
            if self.backend == "compose":
                running = compose.running_services() & set(wanted)
                if running:
                    compose.compose("stop", *sorted(running))
                    stopped += sorted(running)
        return stopped

    def _stop_native(self, name: str, pid: int) -> None:
        server = native_server(name, self.settings)
        self.progress(f"{name}: stopping pid {pid}")
        try:
            server.stop(pid)
            process = psutil.Process(pid)
            try:
                process.wait(timeout=30)
            except psutil.TimeoutExpired:
                self.progress(f"{name}: still running after 30 s, killing it")
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
        server.after_stop()

    def reset(self, names: Sequence[str] = ()) -> list[str]:
        """Wipe the servers' data; those that were running come back up empty."""
        wanted = validate_names(names)
        was_running = [name for name in wanted if self.probe(name).healthy]
        if self.backend == "compose":
            with self._locked():
                compose.wipe(wanted)
        else:
            self.down(wanted)
            for name in wanted:
                data = native_server(name, self.settings).paths().data
                if data.exists():
                    self.progress(f"{name}: wiping {data}")
                    shutil.rmtree(data)
        if was_running:
            self.up(was_running)
        return wanted

    def logs(self, name: str, lines: int = 50) -> str:
        (name,) = validate_names([name])
        if self.recorded_pid(name) is None and self.backend == "compose":
            return compose.compose("logs", "--no-color", "--tail", str(lines), name)
        return self._tail(native_server(name, self.settings), lines)


def _one_line(error: BaseException | None) -> str:
    if error is None:
        return "no answer"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".strip().rstrip(":")
