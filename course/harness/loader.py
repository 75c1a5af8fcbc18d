"""Load the learner's module for an exercise, from whichever folder is being graded.

The catalogue (``exercises/exercises.toml``) names each exercise by id, chapter and ``name``; every
path follows from those (the rustlings model), so adding an exercise is a stub, a solution, a test
file, decoys and one catalogue block:

- stub ``exercises/<chapter>/<name>.py``, solution ``solutions/<chapter>/<name>.py``;
- grading tests ``grading/<chapter>/test_<NN>_<K>_<name>.py`` for id ``NN.K``;
- decoys: every ``grading/<chapter>/decoys/<name>__*.py``, discovered, sorted by file name.

Grading tests never import ``exercises.…`` directly: the ``exercise`` fixture (``grading/conftest.py``)
calls :func:`load_exercise`, which resolves the exercise's path inside the folder named by
``COURSE_EXERCISES_ROOT`` (default ``exercises/``). The same tests therefore grade the stubs,
``solutions/``, a decoy, or a student's hand-in.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from reference.config import REPO_ROOT

CATALOGUE = REPO_ROOT / "exercises" / "exercises.toml"
ROOT_VARIABLE = "COURSE_EXERCISES_ROOT"
# Where the grading subprocess's report plugin writes its JSON lines. Defined here, not in the plugin,
# so the runner (and every learner command) can name it without importing pytest.
REPORT_VARIABLE = "COURSE_REPORT_FILE"
# Servers the caller probed just before starting the grading subprocess (comma-separated): the
# subprocess's fixtures trust them instead of importing every client again to probe a second time.
PROBED_VARIABLE = "COURSE_SERVERS_PROBED"

# What each key of an [[exercise]] block holds: the text the catalogue's error messages quote.
REQUIRED_KEYS = {
    "id": 'id = "NN.K" (NN = the chapter number, K = the exercise number in it)',
    "chapter": 'chapter = "NN_slug" (the folder under exercises/, solutions/ and grading/)',
    "name": 'name = "<file stem>" (the stub is exercises/<chapter>/<name>.py)',
    "title": 'title = "…" (one line the learner sees in check and progress)',
    "servers": 'servers = ["postgres", …] (the servers its tests need; [] for none)',
    "difficulty": "difficulty = 1, 2 or 3",
    "hints": 'hints = ["gentle", …, "nearly the answer"]',
}
OPTIONAL_KEYS = {
    "minutes": "minutes = <estimated minutes> (default: 15, 30 or 45 by difficulty)",
}
# Keys of the first catalogue format, whose paths now follow from chapter and name.
OLD_KEYS = ("stub", "solution", "test", "decoys")
DEFAULT_MINUTES = {1: 15, 2: 30, 3: 45}
TEST_FILE = re.compile(
    r"^test_(?P<chapter>[0-9]{2})_(?P<number>[0-9]+)_(?P<name>[a-z_][a-z0-9_]*)\.py$"
)


class CatalogueError(ValueError):
    """``exercises.toml`` has a block the tools cannot use; the message says which key and what to do."""


@dataclass(frozen=True)
class Exercise:
    id: str
    chapter: str
    name: str
    title: str
    servers: tuple[str, ...]
    difficulty: int
    hints: tuple[str, ...]
    minutes: int = 0
    # Discovered on disk when the catalogue is read (grading/<chapter>/decoys/<name>__*.py, sorted).
    decoys: tuple[str, ...] = field(default=())

    @property
    def stub(self) -> str:
        """``exercises/<chapter>/<name>.py``, relative to the repository root."""
        return f"exercises/{self.chapter}/{self.name}.py"

    @property
    def solution(self) -> str:
        """``solutions/<chapter>/<name>.py``: the stub's path under ``solutions/``."""
        return f"solutions/{self.chapter}/{self.name}.py"

    @property
    def test(self) -> str:
        """``grading/<chapter>/test_NN_K_<name>.py``."""
        return f"grading/{self.chapter}/{grading_file_name(self.id, self.name)}"

    @property
    def decoy_pattern(self) -> str:
        """Where decoys are looked for (a glob relative to the repository root)."""
        return f"grading/{self.chapter}/decoys/{self.name}__*.py"

    @property
    def relative_path(self) -> Path:
        """The exercise file's path inside any exercises folder (``00_setup/health_check.py``)."""
        return Path(self.chapter, f"{self.name}.py")


def grading_file_name(exercise_id: str, name: str) -> str:
    """``test_01_2_bounded_list.py`` for exercise ``01.2`` named ``bounded_list``."""
    return f"test_{exercise_id.replace('.', '_')}_{name}.py"


def block_errors(raw: dict[str, Any], position: int) -> list[str]:
    """Why one ``[[exercise]]`` block cannot be read, as messages that say what to write instead."""
    where = f"exercises.toml, [[exercise]] block {position}" + (
        f' (id = "{raw["id"]}")' if "id" in raw else ""
    )
    problems: list[str] = []
    old = [key for key in OLD_KEYS if key in raw]
    if old:
        stem = Path(str(raw.get("stub", "<file stem>"))).stem
        suggestion = "" if "name" in raw else f'; write name = "{stem}" instead'
        problems.append(
            f"{where}: {', '.join(old)} {'is' if len(old) == 1 else 'are'} from the old format "
            f"— delete {'it' if len(old) == 1 else 'them'}{suggestion}. Paths follow from chapter "
            "and name: exercises/<chapter>/<name>.py, solutions/<chapter>/<name>.py, "
            "grading/<chapter>/test_NN_K_<name>.py, and every grading/<chapter>/decoys/<name>__*.py"
        )
    for key, meaning in REQUIRED_KEYS.items():
        if key not in raw and not (key == "name" and old):
            problems.append(f"{where}: missing key {key!r} — add {meaning}")
    for key in raw:
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS and key not in OLD_KEYS:
            allowed = ", ".join([*REQUIRED_KEYS, *OPTIONAL_KEYS])
            problems.append(f"{where}: unknown key {key!r} — the keys are {allowed}")
    return problems


def discover_decoys(root: Path, chapter: str, name: str) -> tuple[str, ...]:
    """Every ``grading/<chapter>/decoys/<name>__*.py`` under ``root``, sorted, as relative paths."""
    folder = root / "grading" / chapter / "decoys"
    return tuple(path.relative_to(root).as_posix() for path in sorted(folder.glob(f"{name}__*.py")))


@cache
def _load_catalogue(path: Path) -> dict[str, Exercise]:
    data = tomllib.loads(path.read_text())
    blocks = data.get("exercise", [])
    problems = [p for n, raw in enumerate(blocks, start=1) for p in block_errors(raw, n)]
    if problems:
        raise CatalogueError("\n".join(problems))
    root = path.parent.parent  # <root>/exercises/exercises.toml
    exercises: dict[str, Exercise] = {}
    for raw in blocks:
        difficulty = int(raw["difficulty"])
        exercises[raw["id"]] = Exercise(
            id=raw["id"],
            chapter=raw["chapter"],
            name=raw["name"],
            title=raw["title"],
            servers=tuple(raw["servers"]),
            difficulty=difficulty,
            hints=tuple(raw["hints"]),
            minutes=int(raw.get("minutes", DEFAULT_MINUTES.get(difficulty, 30))),
            decoys=discover_decoys(root, raw["chapter"], raw["name"]),
        )
    return exercises


def catalogue(path: Path = CATALOGUE) -> dict[str, Exercise]:
    """Every exercise by id, in file order. Raises :class:`CatalogueError` for an unusable block."""
    return _load_catalogue(path)


def exercise_for_test(test_path: Path) -> Exercise:
    """The exercise a grading file grades, from its name: ``test_01_2_bounded_list.py`` → ``01.2``."""
    match = TEST_FILE.match(test_path.name)
    if match is None:
        raise CatalogueError(
            f"{test_path.name}: a grading file is named test_NN_K_<name>.py (exercise NN.K)"
        )
    exercise_id = f"{match['chapter']}.{match['number']}"
    exercise = catalogue().get(exercise_id)
    if exercise is None or exercise.name != match["name"]:
        raise CatalogueError(
            f"{test_path.name}: exercises.toml has no exercise {exercise_id} named "
            f"{match['name']!r}; add its [[exercise]] block"
        )
    return exercise


def exercises_root() -> Path:
    """The folder being graded: ``$COURSE_EXERCISES_ROOT`` or the repository's ``exercises/``."""
    return Path(os.environ.get(ROOT_VARIABLE) or REPO_ROOT / "exercises").resolve()


class BorrowedAnswer(ImportError):
    """A name the learner must write is the course's own implementation, imported (``from
    reference… import answer``): every test fails with this, saying which name and whose it is."""


# The course's own code: an answer taken from here is not the learner's, whatever its behaviour.
COURSE_PACKAGES = ("reference", "guide", "solutions", "course")


def answer_names(exercise: Exercise) -> list[str]:
    """The top-level functions and classes the stub asks for (what the learner writes)."""
    import ast

    stub = REPO_ROOT / exercise.stub
    if not stub.is_file():
        return []
    return [
        node.name
        for node in ast.parse(stub.read_text()).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and not node.name.startswith("_")
    ]


def borrowed_answers(exercise: Exercise, module: ModuleType) -> list[str]:
    """``name (module.qualname)`` for each answer name bound to one of the course's own objects."""
    found = []
    for name in answer_names(exercise):
        value = getattr(module, name, None)
        origin = getattr(value, "__module__", None)
        if isinstance(origin, str) and origin.split(".")[0] in COURSE_PACKAGES:
            found.append(f"{name} ({origin}.{getattr(value, '__qualname__', name)})")
    return found


def load_exercise(exercise_id: str) -> ModuleType:
    """Import the exercise's file from the graded folder as a fresh module.

    The module name is derived from the file's absolute path, so a stub, a solution and a decoy
    loaded in one process never shadow each other. An answer name bound to the course's own
    implementation (re-exported from ``reference`` — the sandbox must carry it, the stubs import
    helpers from it) raises :class:`BorrowedAnswer`: behaviour alone cannot tell it from an answer.
    A wrapper around it still passes; ``course grade`` flags such imports for review.
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
    borrowed = borrowed_answers(exercise, module)
    if borrowed:
        raise BorrowedAnswer(
            f"{exercise.relative_path} imports the course's implementation instead of writing it: "
            f"{', '.join(borrowed)}. Write your own (the stub says which helpers you may import)."
        )
    return module
