"""Loaded into every grading subprocess (``-p course.harness.stop_plugin``): SIGTERM stops it cleanly.

Python's default SIGTERM ends the process at once, skipping pytest's fixture teardown, so a test
stopped at the time limit would leave its database, Redis keys, topics and vhost on the shared
servers. Here SIGTERM raises ``KeyboardInterrupt`` instead: pytest stops the test and still tears down
its fixtures before exiting. The runner sends SIGTERM first and SIGKILL only after a grace period (and
then removes the run's leftovers itself, see :mod:`course.testing.resources`).
"""

from __future__ import annotations

import signal
from types import FrameType

import pytest


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt("stopped at the time limit")


def pytest_configure(config: pytest.Config) -> None:
    signal.signal(signal.SIGTERM, _interrupt)
