"""Run a command and, when it ends, kill every process it left behind — double-forked ones included.

Pattern: a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), the Linux way to keep hold of
descendants that leave their process group or session (``setsid``) and get orphaned. Used by
:mod:`course.harness.runner` for grading runs outside the bubblewrap sandbox (inside it, the PID
namespace does the same job): ``python -m course.harness.reaper CMD…``.

An orphan normally becomes init's child, out of reach of a process-group kill. Once this process is a
subreaper, every orphan among its descendants becomes *its* child instead, so after the command exits
it can list its children (``/proc/self/task/*/children``), SIGKILL them, reap them, and repeat until
none is left. SIGTERM (the runner's time limit) is passed on to the command, so pytest can still tear
its fixtures down; the exit status is the command's.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

PR_SET_CHILD_SUBREAPER = 36
SWEEP_SECONDS = 10.0
KILL_AFTER_TERM = 4.0
"""After a SIGTERM, seconds before the command is killed: less than the runner's grace period, so the
sweep runs before the runner's own SIGKILL would take this process down too."""


def become_subreaper() -> bool:
    """Make orphaned descendants this process's children; False where the kernel refuses."""
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def children() -> list[int]:
    """This process's current children (every thread's list)."""
    found: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(pid) for pid in (task / "children").read_text().split()]
    return found


def kill_descendants(spare: frozenset[int] = frozenset()) -> int:
    """SIGKILL every child until none is left (each kill orphans grandchildren onto us); how many.

    ``spare``: children this process had before the command started — not the command's leftovers
    (none when run as ``python -m course.harness.reaper``; a test running :func:`main` in-process
    must not kill, say, the Keycloak its pytest worker started for another test)."""
    killed = 0
    deadline = time.monotonic() + SWEEP_SECONDS
    while time.monotonic() < deadline:
        pids = [pid for pid in children() if pid not in spare]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        time.sleep(0.01)
    return killed


def main(argv: list[str]) -> int:
    become_subreaper()
    spare = frozenset(children())
    child = subprocess.Popen(argv, close_fds=False)  # the report descriptor goes through
    terminated: list[float] = []

    def note(signum: int, frame: FrameType | None) -> None:
        # The runner signals the whole process group, so the command has its SIGTERM already;
        # this process stays to sweep up after it.
        terminated.append(time.monotonic())

    signal.signal(signal.SIGTERM, note)
    while True:
        try:
            code = child.wait(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            if terminated and time.monotonic() - terminated[0] > KILL_AFTER_TERM:
                child.kill()
    kill_descendants(spare)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
