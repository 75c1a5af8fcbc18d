"""``reference.setup.processes``: a throwaway server dies with whoever started it, and stops even
when it ignores SIGTERM."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from reference.setup.processes import stop_process

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")

STARTER = """
import subprocess, sys
from reference.setup.processes import DIE_WITH_PARENT
child = subprocess.Popen(["sleep", "300"], preexec_fn=DIE_WITH_PARENT)
print(child.pid, flush=True)
"""


def test_a_server_started_with_die_with_parent_ends_with_its_starter() -> None:
    """The starter exits without stopping its child (a killed kernel, a crashed test): the child
    gets SIGTERM from the kernel instead of living on as an orphan."""
    starter = subprocess.run(
        [sys.executable, "-c", STARTER], capture_output=True, text=True, check=True, timeout=30
    )
    pid = int(starter.stdout)
    deadline = time.monotonic() + 5
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, f"sleep {pid} outlived the process that started it"
        time.sleep(0.05)


def test_stop_process_kills_a_server_that_ignores_sigterm() -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(300)",
        ],
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None
    stubborn.stdout.readline()  # its SIGTERM handler is in place
    stop_process(stubborn, grace=0.5)
    assert stubborn.returncode == -9
    stop_process(stubborn)  # an ended process: nothing to do
