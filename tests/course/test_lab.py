"""``./dev lab`` (course/lab.py): JupyterLab starts as root and as a normal user, prints its URL with
the token, opens on the first notebook, lists only notebooks and never shows Jupyter's news pop-up.

Each test starts the very command ``./dev lab`` execs, headless on a free port, reads the token from
its output, asks the server's REST API and stops it.
"""

from __future__ import annotations

import json
import os
import pwd
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from course import lab
from reference.config import REPO_ROOT
from reference.setup.ports import free_port

pytestmark = pytest.mark.slow

# A cold JupyterLab on a loaded 2-core machine takes a few seconds; this only bounds a hang.
STARTUP_LIMIT_S = 180.0
UNPRIVILEGED_USER = "nobody"


@dataclass(frozen=True)
class RunningLab:
    url: str  # the URL JupyterLab printed, token included
    base: str  # http://127.0.0.1:PORT
    token: str

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", params={"token": self.token}, timeout=60)


@contextmanager
def running_lab(
    prefix: Sequence[str] = (), env: dict[str, str] | None = None
) -> Iterator[RunningLab]:
    """Start ``python -m course.lab`` headless (as ``./dev lab`` does), yield once it printed its URL."""
    port = free_port()
    command = [
        *prefix,
        sys.executable,
        "-m",
        "course.lab",
        "--no-browser",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
    ]
    process = subprocess.Popen(
        command,
        env=env,
        cwd=tempfile.gettempdir(),  # any directory: the lab finds the course by itself
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        # Keep reading until it exits, so a chatty server never blocks on a full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    pattern = re.compile(rf"(http://127\.0\.0\.1:{port}/\S*\?token=(\w+))")
    output: list[str] = []
    try:
        while True:
            try:
                line = lines.get(timeout=STARTUP_LIMIT_S)
            except queue.Empty:
                pytest.fail("JupyterLab printed no URL:\n" + "".join(output[-40:]))
            if line is None:
                pytest.fail(
                    f"JupyterLab exited ({process.wait()}) before printing its URL:\n"
                    + "".join(output[-40:])
                )
            output.append(line)
            if match := pattern.search(line):
                break
        wait_until_listening(process, port, output)
        yield RunningLab(match.group(1), f"http://127.0.0.1:{port}", match.group(2))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_listening(process: subprocess.Popen[str], port: int, output: list[str]) -> None:
    """Jupyter Server prints its URL in ``start_app`` but binds the port in a callback of the event
    loop that starts just after, so a request sent on the URL alone can be refused (it was, once, on
    a loaded CI machine). Wait for the port itself."""
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited ({process.returncode}):\n" + "".join(output[-40:]))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"JupyterLab printed its URL but never listened on {port}")


def assert_serves_the_course(running: RunningLab) -> None:
    # Opens on chapter 00, not an empty launcher.
    assert f"/lab/tree/{lab.FIRST_NOTEBOOK}?token=" in running.url

    listing = running.get("/api/contents/")
    assert listing.status_code == 200, listing.text
    names = {item["name"] for item in listing.json()["content"]}
    notebooks = {path.name for path in (REPO_ROOT / "notebooks").glob("*.ipynb")}
    assert lab.FIRST_NOTEBOOK in notebooks
    # Only the chapters: no sanitizer config or other tooling in the learner's file browser.
    assert names == notebooks

    first = running.get(f"/api/contents/{lab.FIRST_NOTEBOOK}")
    assert first.status_code == 200
    assert first.json()["type"] == "notebook"

    # The announcements plugin (the "official Jupyter news?" pop-up) is switched off.
    page = running.get("/lab").text
    config = json.loads(
        re.search(
            r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S
        ).group(1)  # type: ignore[union-attr]
    )
    assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]


def test_lab_starts_as_the_current_user_and_lists_the_notebooks() -> None:
    """As root (a fresh Debian 12 as root) JupyterLab used to exit 1: "Running as root is not
    recommended. Use --allow-root to bypass." It now starts for whoever runs ``./dev lab``."""
    with running_lab() as running:
        assert_serves_the_course(running)


def test_lab_starts_as_a_normal_user() -> None:
    """The same command run by an unprivileged user (``nobody``, from a root test run)."""
    if os.geteuid() != 0:
        pytest.skip("the current user is not root: the test above already runs the lab as one")
    account = pwd.getpwnam(UNPRIVILEGED_USER)
    prefix = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups"]
    reachable = subprocess.run([*prefix, sys.executable, "-c", "import jupyterlab"], check=False)
    if reachable.returncode != 0:
        pytest.skip(
            f"{UNPRIVILEGED_USER} cannot run this environment's interpreter ({sys.executable})"
        )
    home = tempfile.mkdtemp(prefix="lab-home-")
    os.chown(home, account.pw_uid, account.pw_gid)
    try:
        with running_lab(prefix, env={**os.environ, "HOME": home}) as running:
            assert_serves_the_course(running)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_the_project_config_comes_first_and_keeps_the_callers_paths() -> None:
    """The learner's own Jupyter config directories stay on the path, untouched."""
    assert lab.config_path("/opt/theirs").split(os.pathsep) == [str(lab.CONFIG_DIR), "/opt/theirs"]
    assert lab.config_path(None) == str(lab.CONFIG_DIR)


def test_arguments_allow_root_only_for_root_and_let_the_caller_override(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Root gets --allow-root; the caller's options come last, so they win (``./dev lab --port=N``)."""
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert "--ServerApp.allow_root=True" in lab.arguments()
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    arguments = lab.arguments(["--port=8899"])
    assert "--ServerApp.allow_root=True" not in arguments
    assert f"--ServerApp.root_dir={lab.NOTEBOOKS}" in arguments
    assert arguments[-1] == "--port=8899"


def test_no_browser_is_started_without_a_graphical_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a server or over SSH a text browser would take over the terminal: the URL is enough."""
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert "--no-browser" in lab.arguments()
    monkeypatch.setenv("DISPLAY", ":0")
    assert "--no-browser" not in lab.arguments()
