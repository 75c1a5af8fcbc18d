"""Every command the README prints works, copied verbatim, in a new shell after ``./dev setup``.

The shell is ``env -i`` with only HOME and the PATH a new login shell has, so nothing this test
process inherited (``uv run``'s PATH, a virtualenv, COURSE_* variables) can make a command work that
would fail for a reader. ``./dev setup`` (run by ``./dev lab`` and ``./dev test``) installs the
``course`` launcher and puts ``uv`` where that PATH finds them.

Commands are read from the README itself: fenced and indented code blocks, and the inline
``course …`` / ``uv run …`` commands of the prose and the benchmark table. A command that runs until
stopped, or changes state, is listed below with the check that stands in for it.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from course.testing.fixtures import ensure_server
from reference.config import REPO_ROOT

README = REPO_ROOT / "README.md"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LAUNCHER_TARGET = REPO_ROOT / ".venv" / "bin" / "course"

# Run until stopped, or are CI itself: only that the command can be found is checked here.
LONG_RUNNING = {
    "./dev lab": "serves JupyterLab until stopped (tests/course/test_lab.py runs its command)",
    "./dev test": "is CI itself",
}
# Read-only `course` commands run verbatim. Any other verb (check, hint, reset, watch, grade, verify,
# notebooks run, services up) grades, records progress, rewrites files or runs until stopped, so its
# verb is checked with --help in the same shell instead.
COURSE_RUN_VERBATIM = {"course progress", "course services status", "course notebooks check"}
# Sample output the README shows in a code block.
SAMPLE_OUTPUT = re.compile(r"^\d\d\.\d+\s+stub fails")
# The server each real client talks to, so a server that is down is named rather than a client error.
CLIENT_SERVERS = {"psql": "postgres", "redis-cli": "redis", "kcat": "kafka"}


def readme_commands(text: str) -> list[str]:
    """Commands in the README: lines of fenced bash/sh blocks and indented blocks, then inline
    ``course …`` and ``uv run …`` spans of the prose (comments after ``#`` dropped)."""
    commands: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    previous_blank = True
    for line in text.splitlines():
        if fence is None and line.startswith("```"):
            fence = line[3:].strip()
            continue
        if fence is not None:
            if line.startswith("```"):
                fence = None
            elif fence in ("bash", "sh", "shell", "") and line.strip():
                commands.append(line)
            continue
        if line.startswith("    ") and line.strip() and previous_blank:
            commands.append(line)
            continue  # the next indented line continues the block
        previous_blank = not line.strip()
        prose.append(line)
    commands = [strip_comment(line) for line in commands]
    inline = re.findall(r"`((?:course|uv run) [^`]+)`", "\n".join(prose))
    unique = dict.fromkeys(command for command in [*commands, *inline] if command)
    return [command for command in unique if not SAMPLE_OUTPUT.match(command)]


def strip_comment(line: str) -> str:
    """The command part of a README line (``cmd   # explanation`` → ``cmd``)."""
    return re.sub(r"\s+#\s.*$", "", line).strip()


def fresh_shell(command: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as a reader's new shell would: no inherited environment but HOME and PATH."""
    home = str(Path.home())
    # A normal user's login PATH also has ~/.local/bin (Debian's ~/.profile adds it when it exists).
    path = SYSTEM_PATH if os.geteuid() == 0 else f"{home}/.local/bin:{SYSTEM_PATH}"
    return subprocess.run(
        ["env", "-i", f"HOME={home}", f"PATH={path}", "bash", "-c", command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def stand_in(command: str) -> str:
    """What the test runs for ``command``: itself, or the check that stands in for it."""
    if command in LONG_RUNNING:
        program = command.split()[0]
        return f"test -x {program}"
    words = command.split()
    if words[0] == "course" and command not in COURSE_RUN_VERBATIM:
        # The verb path: the leading plain words (`notebooks run`, `services up redis`); arguments,
        # placeholders and alternatives (00.1, SUBMISSIONS_DIR, [ID…], up|down) end it.
        verbs = list(itertools.takewhile(re.compile(r"[a-z][a-z-]*").fullmatch, words[1:]))
        return shlex.join(["course", *verbs, "--help"])
    if words[:4] == ["uv", "run", "python", "-m"] and len(words) >= 5:
        # A benchmark runs for minutes (and rewrites its committed results file): uv resolves, runs
        # this checkout's Python, finds the module. Arguments too (`bench.services_up keycloak`).
        module = words[4]
        probe = (
            f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
        )
        return shlex.join(["uv", "run", "python", "-c", probe])
    return command


COMMANDS = readme_commands(README.read_text())


def test_the_readme_shows_the_commands_this_test_knows() -> None:
    """The extraction finds the README's sections (a rewrite that hides them fails here)."""
    for expected in [*LONG_RUNNING, "course progress", ".services/rabbitmq/ctl status"]:
        assert expected in COMMANDS
    assert any(command.startswith("uv run python -m bench.") for command in COMMANDS)
    assert any(command.startswith("PGPASSWORD=course psql") for command in COMMANDS)
    assert not [command for command in COMMANDS if command.startswith("uv run course")]


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_works_in_a_new_shell(command: str) -> None:
    program = command.split()[1] if command.startswith("PGPASSWORD=") else command.split()[0]
    if program in CLIENT_SERVERS:
        ensure_server(CLIENT_SERVERS[program])
        if fresh_shell(f"command -v {program}").returncode != 0:
            pytest.skip(f"{program} is not installed (apt-get install {program})")
    if program == ".services/rabbitmq/ctl":
        ensure_server("rabbitmq")
        if not (REPO_ROOT / program).exists():
            pytest.skip("rabbitmq is not run natively here (the README says so of this command)")
    if program == "course":
        assert_launcher_installed()

    result = fresh_shell(stand_in(command))

    assert result.returncode == 0, (
        f"`{command}` (run as `{stand_in(command)}`) failed in a new shell "
        f"(exit {result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
    )


def assert_launcher_installed() -> None:
    found = fresh_shell("command -v course")
    assert found.returncode == 0, "no `course` on a new shell's PATH: run ./dev setup"
    launcher = Path(found.stdout.strip())
    assert str(LAUNCHER_TARGET) in launcher.read_text(errors="replace"), (
        f"{launcher} runs another checkout's course: run ./dev setup here"
    )


@pytest.mark.parametrize("where", ["notebooks", "/"])
def test_the_course_launcher_works_from_any_directory(where: str) -> None:
    """A JupyterLab terminal opens in notebooks/; a reader's shell may be anywhere."""
    assert_launcher_installed()
    result = fresh_shell("course progress", cwd=REPO_ROOT / where)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "00.1" in result.stdout


def test_no_message_or_page_says_uv_run_course() -> None:
    """One way, used everywhere: learners read `course …` in the README, notebooks, CLI messages
    and the catalogue. (`uv run course …` needs uv on PATH and the checkout as working directory.)"""
    places = [
        README,
        *REPO_ROOT.glob("notebooks/*.ipynb"),
        *REPO_ROOT.glob("course/**/*.py"),
        *REPO_ROOT.glob("exercises/**/*.*"),
        *REPO_ROOT.glob("grading/**/*.py"),
    ]
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in places
        if path.is_file() and "uv run course" in path.read_text(errors="replace")
    ]
    assert not offenders


def test_setup_writes_a_launcher_and_says_how_to_put_its_folder_on_path(tmp_path: Path) -> None:
    """``./dev setup`` into a folder a new shell does not search: the launcher and uv land there,
    (uv only when a new shell would not find it), and the warning prints the line that fixes PATH."""
    bin_dir = tmp_path / "it's bin"  # a quote and a space: the launcher must quote the path
    env = {**os.environ, "COURSE_BIN_DIR": str(bin_dir)}
    result = subprocess.run(
        [str(REPO_ROOT / "dev"), "setup"], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert f"warning: {bin_dir} is not on your PATH" in result.stderr
    assert f'export PATH="{bin_dir}:$PATH"' in result.stderr

    fix = f'export PATH="{bin_dir}:$PATH"'
    progress = fresh_shell(f"{fix}; cd /tmp && course progress && uv --version")
    assert progress.returncode == 0, progress.stdout + progress.stderr
    assert "00.1" in progress.stdout

    # Another clone: from inside it, the launcher runs that clone's environment, not the one set up last.
    other = tmp_path / "other clone"
    (other / "exercises").mkdir(parents=True)
    (other / "exercises" / "exercises.toml").write_text("")
    (other / "notebooks").mkdir()
    fake = other / ".venv" / "bin" / "course"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\necho this is the other clone\n")
    fake.chmod(0o755)
    inside = fresh_shell(f"{fix}; course progress", cwd=other / "notebooks")
    assert inside.stdout.strip() == "this is the other clone", inside.stdout + inside.stderr
