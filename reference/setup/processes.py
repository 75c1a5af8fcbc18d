"""Starting and stopping a throwaway server the course runs (a scratch Redis or Prometheus, a test nginx or Envoy).

They start with :data:`DIE_WITH_PARENT`, so none outlives the process that started it. One way
to stop them: SIGTERM, so the server shuts down cleanly (nginx's master takes its workers
with it, Prometheus flushes its head block), then SIGKILL if it has not exited within ``grace``
seconds, so a hung server never hangs the test or notebook that started it.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Final


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM ``process``, SIGKILL it after ``grace`` seconds, and reap it (a no-op if it ended)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


PR_SET_PDEATHSIG: Final = 1  # <linux/prctl.h>


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


DIE_WITH_PARENT: Final[Callable[[], None] | None] = (
    _die_with_parent if sys.platform == "linux" else None
)
"""``preexec_fn`` for a throwaway server: Linux sends it SIGTERM when the process (strictly, the
thread) that started it dies, so a crashed test or a killed notebook kernel leaves no server
behind — one left scraping or posting to a port it once knew hits whatever takes that port next."""
