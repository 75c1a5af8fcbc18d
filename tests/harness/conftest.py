"""Shared helpers for the harness tests: a CLI runner, a private progress file, exercise folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reference.config import REPO_ROOT
from reference.setup.ports import free_port


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def progress_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every harness test keeps its progress in its own file, never the learner's."""
    path = tmp_path / "progress.json"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    return path


@pytest.fixture
def stub_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A learner's untouched copy of exercises/, selected with COURSE_EXERCISES_ROOT."""
    root = tmp_path / "exercises"
    shutil.copytree(REPO_ROOT / "exercises", root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("COURSE_EXERCISES_ROOT", str(root))
    return root


@pytest.fixture
def solved_root(stub_root: Path) -> Path:
    """The same copy with exercise 00.1 solved."""
    target = stub_root / "00_setup" / "health_check.py"
    shutil.copyfile(REPO_ROOT / "solutions" / "00_setup" / "health_check.py", target)
    return stub_root


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    return free_port()
