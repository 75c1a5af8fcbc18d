"""nbval compares stored outputs: a hand-edited output fails, the untouched notebook passes, and the
shared sanitizer (course/harness/nbval_sanitize.cfg) is what makes a random id compare equal."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reference.config import REPO_ROOT

TINY = REPO_ROOT / "tests" / "fixtures" / "notebooks" / "tiny-pass.ipynb"
SANITIZER = REPO_ROOT / "course" / "harness" / "nbval_sanitize.cfg"


def nbval(notebook: Path, *, sanitize: bool = True) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "--nbval", str(notebook), "--nbval-current-env"]
    command += ["-p", "nbval.plugin", "-p", "no:cacheprovider", "-q"]
    if sanitize:
        command += ["--nbval-sanitize-with", str(SANITIZER)]
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        command, cwd=notebook.parent, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "tiny.ipynb"
    shutil.copyfile(TINY, target)
    return target


def test_unedited_notebook_passes(copy: Path) -> None:
    result = nbval(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_hand_edited_output_fails(copy: Path) -> None:
    """Change "total 10" to "total 11" in the stored output: nbval must notice."""
    nb = json.loads(copy.read_text())
    nb["cells"][1]["outputs"][0]["text"] = ["total 11\n"]
    copy.write_text(json.dumps(nb))
    result = nbval(copy)
    assert result.returncode == 1
    assert "1 failed" in result.stdout
    assert "total 11" in result.stdout


def test_random_ids_fail_without_the_sanitizer(copy: Path) -> None:
    result = nbval(copy, sanitize=False)
    assert result.returncode == 1
    assert "request id" in result.stdout


def sanitize(text: str) -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(SANITIZER)
    for section in parser.sections():
        text = re.sub(parser[section]["regex"], parser[section]["replace"], text)
    return text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("id 21fe9685-971f-44bd-916a-6c3c0427d790", "id UUID"),
        ("_id 65f0c0ffee0123456789abcd", "_id OBJECTID"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "token JWT"),
        ("at 2024-05-01T12:30:45.123456+00:00 ok", "at TIMESTAMP ok"),
        ("took 12.3 ms, then 4s", "took DURATION, then DURATION"),
        ("partition 0 offset=42", "partition 0 offset=N"),
        ("listening on 127.0.0.1:16379", "listening on 127.0.0.1:PORT"),
        ("<Obj at 0x7f3a2b>", "<Obj at 0xADDRESS>"),
        ("total 10", "total 10"),
    ],
)
def test_sanitizer_patterns(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean
