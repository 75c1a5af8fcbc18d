"""Stopping a throwaway server the course started (a scratch Redis or Prometheus, a test nginx or Envoy).

One way for all of them: SIGTERM, so the server shuts down cleanly (nginx's master takes its workers
with it, Prometheus flushes its head block), then SIGKILL if it has not exited within ``grace``
seconds, so a hung server never hangs the test or notebook that started it.
"""

from __future__ import annotations

import subprocess


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
