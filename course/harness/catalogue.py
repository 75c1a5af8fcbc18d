"""Check the exercise catalogue (``exercises/exercises.toml``) and pick exercises from it.

The catalogue is the single source every tool reads. :func:`validate` checks it against
``exercises.schema.json`` plus the rules a JSON schema cannot express: readable blocks (an old-format or
incomplete block is named with the key to change), unique ids, ids that match their chapter, the files
each exercise's paths lead to (see :mod:`course.harness.loader` for the convention), and stubs that
differ from their solutions only inside the marked bodies (see :mod:`course.harness.stubs`).
:func:`orphans` is the other direction: no file under exercises/, solutions/ or grading/ without its
exercise.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from course.harness.loader import (
    CATALOGUE,
    TEST_FILE,
    Exercise,
    block_errors,
    catalogue,
    discover_decoys,
    grading_file_name,
)
from course.harness.stubs import compare_stub_and_solution
from reference.config import REPO_ROOT
from reference.setup.servers import SERVERS

SCHEMA = Path(__file__).with_name("exercises.schema.json")


class SelectionError(ValueError):
    """The learner named an exercise or chapter the catalogue does not have."""


def load_raw(path: Path = CATALOGUE) -> dict[str, Any]:
    """The catalogue as parsed TOML, before any interpretation."""
    return tomllib.loads(path.read_text())


def schema_errors(data: dict[str, Any]) -> list[str]:
    """Every JSON-schema violation, as ``where: what`` lines."""
    # Imported here: jsonschema loads its format checkers (over a second on a busy machine), and
    # only `course verify` and the tests validate the catalogue.
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    # The valid server names are the registry's (a new server is one registry row, not a schema edit).
    schema["$defs"]["exercise"]["properties"]["servers"]["items"]["enum"] = list(SERVERS)
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path)))
    ]


def named_catchers(exercise: Exercise, decoy: str, root: Path = REPO_ROOT) -> tuple[str, ...]:
    """The grading file's test functions that the decoy's docstring names, in file order.

    ``course verify`` runs these first (``Caught by test_x`` in the docstring); the catalogue rules
    require at least one, so every decoy says what catches it."""
    doc = ast.get_docstring(ast.parse((root / decoy).read_text())) or ""
    named = set(re.findall(r"\btest_\w+", doc))
    tree = ast.parse((root / exercise.test).read_text())
    tests = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    ]
    return tuple(name for name in tests if name in named)


def rule_errors(data: dict[str, Any], root: Path = REPO_ROOT) -> list[str]:
    """Violations of the rules beyond the schema: block keys, ids, files on disk, stub shape."""
    problems: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(data.get("exercise", []), start=1):
        keys = block_errors(raw, position)
        if keys:
            problems.extend(keys)
            continue
        exercise = Exercise(
            id=str(raw["id"]),
            chapter=str(raw["chapter"]),
            name=str(raw["name"]),
            title=str(raw["title"]),
            servers=tuple(raw["servers"]),
            difficulty=int(raw["difficulty"]),
            hints=tuple(raw["hints"]),
            decoys=discover_decoys(root, str(raw["chapter"]), str(raw["name"])),
        )
        where = f"exercise {exercise.id}"
        if exercise.id in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(exercise.id)
        if not exercise.chapter.startswith(exercise.id.split(".")[0] + "_"):
            problems.append(f"{where}: id prefix does not match chapter {exercise.chapter!r}")
        for role, path in (
            ("stub", exercise.stub),
            ("solution", exercise.solution),
            ("grading tests", exercise.test),
        ):
            if not (root / path).is_file():
                problems.append(f"{where}: its {role} {path} does not exist")
        if not exercise.decoys:
            problems.append(
                f"{where}: no decoys — add at least one {exercise.decoy_pattern} "
                "(a wrong answer a grading test must catch)"
            )
        if (root / exercise.test).is_file():
            problems.extend(
                f"{where}: decoy {decoy} names no test of {exercise.test} that catches it — "
                "end its docstring with 'Caught by test_<name>.'"
                for decoy in exercise.decoys
                if not named_catchers(exercise, decoy, root)
            )
        stub, solution = root / exercise.stub, root / exercise.solution
        if stub.is_file() and solution.is_file():
            problems.extend(
                f"{where}: {p}"
                for p in compare_stub_and_solution(stub.read_text(), solution.read_text())
            )
    return problems


def owner(path: str, exercises: dict[tuple[str, str], Exercise]) -> Exercise | None:
    """The catalogued exercise a course file belongs to, from its path alone (None: an orphan)."""
    parts = path.split("/")
    if len(parts) == 3 and parts[0] in ("exercises", "solutions") and parts[2].endswith(".py"):
        return exercises.get((parts[1], parts[2].removesuffix(".py")))
    if len(parts) == 3 and parts[0] == "grading":
        match = TEST_FILE.match(parts[2])
        found = match and exercises.get((parts[1], match["name"]))
        return found if found and grading_file_name(found.id, found.name) == parts[2] else None
    if len(parts) == 4 and parts[0] == "grading" and parts[2] == "decoys":
        return exercises.get((parts[1], parts[3].split("__")[0])) if "__" in parts[3] else None
    return None


def course_files(root: Path = REPO_ROOT) -> list[str]:
    """The exercise files that must belong to an exercise: everything under exercises/ and
    solutions/, grading/*/test_*.py and grading/*/decoys/*, as paths relative to ``root``.

    Files git tracks when ``root`` is a checkout (what ships; a helper's untracked work in progress
    is not the catalogue's business yet), else every file on disk.
    """
    listed = subprocess.run(
        ["git", "ls-files", "--", "exercises", "solutions", "grading"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0:
        paths = listed.stdout.splitlines()
    else:
        paths = [
            p.relative_to(root).as_posix()
            for top in ("exercises", "solutions", "grading")
            for p in sorted((root / top).rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        ]
    return [
        path
        for path in paths
        if path != "exercises/exercises.toml"
        and (
            not path.startswith("grading/")
            or path.split("/")[-1].startswith("test_")
            or "/decoys/" in path
        )
    ]


def orphans(exercises: list[Exercise], files: list[str], root: Path = REPO_ROOT) -> list[str]:
    """Course files (``files``, see :func:`course_files`) no catalogued exercise owns, and catalogued
    exercises missing one of their files under ``root``."""
    by_name = {(exercise.chapter, exercise.name): exercise for exercise in exercises}
    problems = [
        f"{path}: belongs to no exercise in exercises.toml (add its block, or delete the file)"
        for path in files
        if owner(path, by_name) is None
    ]
    for exercise in exercises:
        for path in (exercise.stub, exercise.solution, exercise.test):
            if not (root / path).is_file():
                problems.append(f"exercise {exercise.id}: {path} is missing")
        if not discover_decoys(root, exercise.chapter, exercise.name):
            problems.append(f"exercise {exercise.id}: no {exercise.decoy_pattern}")
    return problems


def validate(path: Path = CATALOGUE, root: Path = REPO_ROOT) -> list[str]:
    """All problems with the catalogue; empty when it is sound."""
    try:
        data = load_raw(path)
    except tomllib.TOMLDecodeError as error:
        return [f"{path}: not valid TOML: {error}"]
    return schema_errors(data) + rule_errors(data, root)


def course_order(exercise: Exercise) -> tuple[int, int]:
    """Sort key: chapter number, then exercise number (``01.10`` after ``01.9``)."""
    chapter, number = exercise.id.split(".")
    return int(chapter), int(number)


def ordered() -> list[Exercise]:
    """Every exercise in course order, whatever order the blocks were appended in."""
    return sorted(catalogue().values(), key=course_order)


def chapters(exercises: list[Exercise] | None = None) -> dict[str, list[Exercise]]:
    """Exercises grouped by chapter slug, chapters and exercises in course order."""
    grouped: dict[str, list[Exercise]] = {}
    for exercise in sorted(exercises if exercises is not None else ordered(), key=course_order):
        grouped.setdefault(exercise.chapter, []).append(exercise)
    return grouped


def nearest_ids(target: str, limit: int = 4) -> list[str]:
    """The catalogued ids closest to a mistyped one (difflib), in course order.

    ``2.9`` is read as ``02.9`` first: a dropped leading zero is the commonest slip.
    """
    ids = [exercise.id for exercise in ordered()]
    chapter, dot, number = target.strip().partition(".")
    padded = f"{chapter.zfill(2)}.{number}" if dot and chapter.isdigit() else target
    if padded in ids:
        return [padded]
    close = set(difflib.get_close_matches(padded, ids, n=limit, cutoff=0.7))
    return [exercise_id for exercise_id in ids if exercise_id in close]


def did_you_mean(target: str) -> str:
    """``Did you mean 01.2, 02.1? `` — or the full list of ids when nothing is close."""
    near = nearest_ids(target)
    if near:
        return f"Did you mean {', '.join(near)}? "
    return f"Known ids: {', '.join(exercise.id for exercise in ordered())}. "


def select(targets: list[str], *, everything: bool = False) -> list[Exercise]:
    """Resolve ids (``00.1``), chapter slugs (``00_setup``) or chapter numbers (``00``)."""
    known = catalogue()
    if everything or not targets:
        return ordered()
    by_chapter = chapters()
    chosen: list[Exercise] = []
    for target in targets:
        if target in known:
            found = [known[target]]
        elif target in by_chapter:
            found = by_chapter[target]
        else:
            found = [
                ex for slug, exs in by_chapter.items() if slug.split("_")[0] == target for ex in exs
            ]
        if not found:
            raise SelectionError(
                f"no exercise or chapter {target!r}. {did_you_mean(target)}"
                f"Chapters: {', '.join(by_chapter)}"
            )
        chosen.extend(ex for ex in found if ex not in chosen)
    return chosen
