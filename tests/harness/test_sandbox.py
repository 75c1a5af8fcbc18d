"""course/harness/sandbox.py: what a grading job can see inside its bubblewrap sandbox."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from course.harness import sandbox
from course.harness.loader import catalogue


@pytest.mark.skipif(sandbox.unavailable() is not None, reason="no working bubblewrap here")
def test_an_environment_under_tmp_is_visible_in_the_sandbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The sandbox mounts a /tmp of its own. A checkout under /tmp (CI runners clone there) has its
    .venv there too; bound before that tmpfs, it was hidden, and every job died with exit code 127
    (no interpreter)."""
    prefix = Path(tempfile.mkdtemp(prefix="venv-", dir="/tmp"))  # the case itself
    try:
        prefix.chmod(0o755)
        (prefix / "marker").write_text("here\n")
        (prefix / "marker").chmod(0o644)
        monkeypatch.setattr(sys, "prefix", str(prefix))
        exercise = next(iter(catalogue().values()))
        submission = tmp_path / "hand-in"
        submission.mkdir()
        submission.chmod(0o755)
        tmp_path.chmod(0o755)
        argv = sandbox.command(["cat", str(prefix / "marker")], exercise, submission)
        result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "here\n"
    finally:
        (prefix / "marker").unlink()
        prefix.rmdir()
