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


@pytest.mark.skipif(sandbox.unavailable() is not None, reason="no working bubblewrap here")
def test_a_job_reads_the_bytecode_of_what_it_may_see_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The sandbox reads the bytecode cache's mirrors of the environment and the course code (so a
    job does not compile pytest and the clients from source), read-only, and never the mirror of
    solutions/ (a solution's bytecode is its answer)."""
    from reference.config import REPO_ROOT

    cache = tmp_path / "pycache"
    visible = cache / Path(sys.prefix).relative_to("/") / "marker"
    hidden = cache / REPO_ROOT.relative_to("/") / "solutions" / "marker"
    for path in (visible, hidden):
        path.parent.mkdir(parents=True)
        path.write_text("here\n")
    for folder in [tmp_path, *(p for p in cache.rglob("*") if p.is_dir()), cache]:
        folder.chmod(0o755)
    visible.chmod(0o644)
    hidden.chmod(0o644)
    monkeypatch.setattr(sandbox, "PYCACHE", cache)
    submission = tmp_path / "hand-in"
    submission.mkdir()
    submission.chmod(0o755)
    script = f"cat {visible}; cat {hidden}; touch {visible.parent}/written"
    argv = sandbox.command(["sh", "-c", script], next(iter(catalogue().values())), submission)
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    assert result.stdout == "here\n"
    assert "No such file" in result.stderr
    assert "Read-only file system" in result.stderr
    assert not (visible.parent / "written").exists()
    assert sandbox.environment()["PYTHONPYCACHEPREFIX"] == str(cache)


def test_grading_runs_write_their_bytecode_cache_even_where_the_environment_says_not_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Container images (CI's among them) set PYTHONDONTWRITEBYTECODE: inherited, it left the cache
    empty and every grading run compiled pytest, the clients and the reference from source."""
    from course.harness import runner

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = runner._base_environment(Path("/nowhere"), "r0123456789")
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(sandbox.PYCACHE)
