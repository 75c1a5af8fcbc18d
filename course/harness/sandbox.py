"""One grading job in a bubblewrap sandbox: a read-only course without solutions, its own user and PIDs.

Pattern: least privilege for untrusted code (the instructor's side of ``course grade``; no notebook
teaches it). Debian's ``bubblewrap`` (``bwrap``) builds each job a fresh mount tree:

- the system (``/usr``, ``/etc``), the Python installation and the course's ``.venv``, read-only;
- the course at its usual path with only what grading needs, read-only: ``course/``, ``reference/``,
  the catalogue, ``pyproject.toml``, the root ``conftest.py``, ``grading/conftest.py`` and the one
  exercise's grading folder without its decoys — never ``solutions/``, other chapters' grading tests,
  ``.git``, the instructor's home or any other student's hand-in;
- the student's files, copied by the runner into a folder of the job's own, read-only;
- a private ``/tmp`` (also the job's ``$HOME``), ``/proc`` of its own PID namespace, a minimal ``/dev``.

The job runs in new PID, IPC and UTS namespaces (``--unshare-pid``): when its first process ends, the
kernel kills every process left in the namespace, double-forked ``setsid`` daemons included, and
``--die-with-parent`` ends it if the grader dies. The network is shared: the servers are on loopback.
When the grader runs as root the job drops to ``nobody`` (65534) with every capability gone
(``setpriv``); otherwise it runs as the grader's own user in a user namespace. Where bwrap is missing
or cannot create namespaces (some containers), :func:`unavailable` says why and ``course grade``
refuses untrusted hand-ins unless told ``--trust-submissions``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from course.harness.loader import Exercise
from reference.config import REPO_ROOT

NOBODY = 65534
SUBMISSION_MOUNT = Path("/submission")
# Paths inside the sandbox, whose /tmp is a tmpfs of its own: no other process shares it.
SANDBOX_TMP = "/tmp"  # noqa: S108
HOME = f"{SANDBOX_TMP}/home"
COURSE_PATHS = ("course", "reference", "pyproject.toml", "conftest.py", "exercises/exercises.toml")
PYCACHE = REPO_ROOT / ".course" / "pycache"
"""The bytecode cache (``PYTHONPYCACHEPREFIX``) every unsandboxed grading run writes. A sandboxed job
reads the parts of it that mirror what the sandbox shows anyway (the Python installation, the
``.venv``, ``course/``, ``reference/``; never ``solutions/`` or ``grading/``), so it does not compile
pytest and the clients from source each time: seconds per job."""


def _with_parents(args: list[str]) -> list[str]:
    """``args`` with ``--perms 0755 --dir`` for every folder above a bind's target first: bwrap
    creates missing parents 0700 (owned by root), which the sandbox's user could not traverse."""
    made: set[Path] = {Path("/")}
    out: list[str] = []
    index = 0
    while index < len(args):
        option = args[index]
        width = {"--ro-bind": 3, "--bind": 3, "--symlink": 3, "--perms": 2, "--dir": 2}.get(
            option, 1
        )
        if option in ("--ro-bind", "--bind"):
            for parent in reversed(Path(args[index + 2]).parents):
                if parent not in made:
                    made.add(parent)
                    out += ["--perms", "0755", "--dir", str(parent)]
        out += args[index : index + width]
        index += width
    return out


def _system_binds() -> list[str]:
    args: list[str] = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _python_binds() -> list[str]:
    """The interpreter and the course's environment, read-only. Bound after the sandbox's own /tmp:
    a checkout under /tmp (a CI runner's, say) has its .venv there, and a bind made before the tmpfs
    would be hidden by it (every job then died with exit code 127, no interpreter)."""
    args: list[str] = []
    prefixes = {Path(sys.base_prefix).resolve(), Path(sys.prefix)}
    for prefix in sorted(prefixes):
        if not prefix.is_relative_to("/usr"):
            args += ["--ro-bind", str(prefix), str(prefix)]
    return args


def _bytecode_binds() -> list[str]:
    """The cache's mirrors of the installation, the environment and the course code, read-only."""
    sources = {Path(sys.base_prefix).resolve(), Path(sys.prefix)}
    sources |= {REPO_ROOT / relative for relative in COURSE_PATHS}
    args: list[str] = []
    for source in sorted(sources):
        cached = PYCACHE / source.relative_to("/")
        if cached.is_dir():
            args += ["--ro-bind", str(cached), str(cached)]
    return args


def grading_files(exercise: Exercise) -> list[Path]:
    """The grading sources one exercise's run needs: its test file, the conftest files above it and
    the non-test helpers beside it (not the other exercises' tests, not the decoys), and the pristine
    stub, which names the answers a hand-in must write itself (``loader.borrowed_answers``)."""
    test = REPO_ROOT / exercise.test
    files = [p for p in (REPO_ROOT / "grading" / "conftest.py",) if p.is_file()]
    files += [p for p in (REPO_ROOT / exercise.stub,) if p.is_file()]
    for path in sorted(test.parent.iterdir()):
        if path == test or (
            path.suffix == ".py" and path.is_file() and not path.name.startswith("test_")
        ):
            files.append(path)
    return files


def command(inner: list[str], exercise: Exercise, submission: Path) -> list[str]:
    """``bwrap … inner``: run ``inner`` (from the course's root) in the job's sandbox, with the
    student's copied files at :data:`SUBMISSION_MOUNT`."""
    args = [
        "bwrap",
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname",
        "grading",
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--tmpfs",
        SANDBOX_TMP,
        "--perms",
        "0777",
        "--dir",
        HOME,
        *_python_binds(),
    ]
    for relative in COURSE_PATHS:
        source = REPO_ROOT / relative
        if source.exists():
            args += ["--ro-bind", str(source), str(source)]
    for path in grading_files(exercise):
        args += ["--ro-bind", str(path), str(path)]
    args += _bytecode_binds()
    args += ["--ro-bind", str(submission), str(SUBMISSION_MOUNT), "--chdir", str(REPO_ROOT)]
    args = _with_parents(args)
    if os.geteuid() == 0:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", *drop_root()]
    else:
        args += ["--unshare-user", "--"]
    return args + inner


def drop_root() -> list[str]:
    """``setpriv`` to nobody with no capability left (bwrap run by root keeps root's)."""
    return [
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
    ]


def environment() -> dict[str, str]:
    """Variables that must differ inside the sandbox (home and caches private, no bytecode written:
    the read-only mirrors of :data:`PYCACHE` are still read)."""
    return {
        "HOME": HOME,
        "TMPDIR": SANDBOX_TMP,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPYCACHEPREFIX": str(PYCACHE),
    }


def copy_submission(root: Path, target: Path) -> Path:
    """Copy a student's exercises folder to ``target`` (symlinks copied as links, caches left out),
    readable by the sandbox's user; returns ``target``."""
    shutil.copytree(root, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    # Readable (never writable) by the sandbox's user, who is not the grader's.
    for folder, _dirs, files in os.walk(target):
        os.chmod(folder, 0o755)  # noqa: S103
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                os.chmod(path, 0o644)
    os.chmod(target.parent, 0o755)  # noqa: S103
    return target


@functools.cache
def unavailable() -> str | None:
    """Why jobs cannot be sandboxed here, or None when bwrap works (tried once per process)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed, so a job could not drop root"
    probe = [
        "bwrap",
        "--die-with-parent",
        "--unshare-pid",
        *_with_parents(_system_binds()),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    if os.geteuid() == 0:
        probe += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", *drop_root()]
    else:
        probe += ["--unshare-user", "--"]
    result = subprocess.run(
        [*probe, "true"], capture_output=True, text=True, check=False, timeout=30
    )
    if result.returncode != 0:
        return f"bwrap cannot create a sandbox here: {result.stderr.strip()[-300:]}"
    return None
