"""Load the learner's module for an exercise, from whichever folder is being graded.

Grading tests never import ``exercises.…`` directly: they call :func:`load_exercise`, which resolves the
exercise's path inside the folder named by ``COURSE_EXERCISES_ROOT`` (default ``exercises/``). The same
tests therefore grade the stubs, ``solutions/``, a decoy, or a student's hand-in.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType

from reference.config import REPO_ROOT

CATALOGUE = REPO_ROOT / "exercises" / "exercises.toml"
ROOT_VARIABLE = "COURSE_EXERCISES_ROOT"
# Where the grading subprocess's report plugin writes its JSON lines. Defined here, not in the plugin,
# so the runner (and every learner command) can name it without importing pytest.
REPORT_VARIABLE = "COURSE_REPORT_FILE"
# Servers the caller probed just before starting the grading subprocess (comma-separated): the
# subprocess's fixtures trust them instead of importing every client again to probe a second time.
PROBED_VARIABLE = "COURSE_SERVERS_PROBED"


@dataclass(frozen=True)
class Exercise:
    id: str
    chapter: str
    title: str
    stub: str
    solution: str
    test: str
    servers: tuple[str, ...]
    difficulty: int
    hints: tuple[str, ...]
    decoys: tuple[str, ...] = field(default=())

    @property
    def relative_path(self) -> Path:
        """The exercise file's path inside any exercises folder (``00_setup/health_check.py``)."""
        return Path(self.stub).relative_to("exercises")


@cache
def _load_catalogue(path: Path) -> dict[str, Exercise]:
    data = tomllib.loads(path.read_text())
    return {
        raw["id"]: Exercise(
            id=raw["id"],
            chapter=raw["chapter"],
            title=raw["title"],
            stub=raw["stub"],
            solution=raw["solution"],
            test=raw["test"],
            servers=tuple(raw.get("servers", ())),
            difficulty=int(raw.get("difficulty", 1)),
            hints=tuple(raw.get("hints", ())),
            decoys=tuple(raw.get("decoys", ())),
        )
        for raw in data.get("exercise", [])
    }


def catalogue(path: Path = CATALOGUE) -> dict[str, Exercise]:
    """Every exercise by id, in file order."""
    return _load_catalogue(path)


def exercises_root() -> Path:
    """The folder being graded: ``$COURSE_EXERCISES_ROOT`` or the repository's ``exercises/``."""
    return Path(os.environ.get(ROOT_VARIABLE) or REPO_ROOT / "exercises").resolve()


def load_exercise(exercise_id: str) -> ModuleType:
    """Import the exercise's file from the graded folder as a fresh module.

    The module name is derived from the file's absolute path, so a stub, a solution and a decoy
    loaded in one process never shadow each other.
    """
    exercise = catalogue()[exercise_id]
    path = exercises_root() / exercise.relative_path
    if not path.exists():
        raise FileNotFoundError(f"exercise {exercise_id}: {path} does not exist")
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:10]
    name = f"course_exercise_{exercise_id.replace('.', '_')}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
