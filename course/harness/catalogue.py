"""Check the exercise catalogue (``exercises/exercises.toml``) and pick exercises from it.

The catalogue is the single source every tool reads. :func:`validate` checks it against
``exercises.schema.json`` plus the rules a JSON schema cannot express: unique ids, ids that match their
chapter, paths that exist and agree with each other, and stubs that differ from their solutions only
inside the marked bodies (see :mod:`course.harness.stubs`).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from course.harness.loader import CATALOGUE, Exercise, catalogue
from course.harness.stubs import compare_stub_and_solution
from reference.config import REPO_ROOT

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

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path)))
    ]


def rule_errors(data: dict[str, Any], root: Path = REPO_ROOT) -> list[str]:
    """Violations of the rules beyond the schema (ids, path agreement, files on disk, stub shape)."""
    problems: list[str] = []
    seen: set[str] = set()
    for raw in data.get("exercise", []):
        ex_id = str(raw.get("id", "?"))
        where = f"exercise {ex_id}"
        if ex_id in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(ex_id)
        chapter = str(raw.get("chapter", ""))
        if not chapter.startswith(ex_id.split(".")[0] + "_"):
            problems.append(f"{where}: id prefix does not match chapter {chapter!r}")
        stub, solution, test = str(raw.get("stub")), str(raw.get("solution")), str(raw.get("test"))
        if Path(stub).parent.name != chapter:
            problems.append(f"{where}: stub {stub} is not in exercises/{chapter}/")
        if solution != "solutions/" + stub.removeprefix("exercises/"):
            problems.append(f"{where}: solution must mirror the stub's path, got {solution}")
        expected_test_prefix = f"grading/{chapter}/test_{ex_id.replace('.', '_')}_"
        if not test.startswith(expected_test_prefix):
            problems.append(f"{where}: test must start with {expected_test_prefix}, got {test}")
        paths = [stub, solution, test, *raw.get("decoys", [])]
        for path in paths:
            if not (root / path).is_file():
                problems.append(f"{where}: {path} does not exist")
        for decoy in raw.get("decoys", []):
            if not Path(decoy).name.startswith(Path(stub).stem + "__"):
                problems.append(
                    f"{where}: decoy {decoy} must be named {Path(stub).stem}__<what>.py"
                )
        if (root / stub).is_file() and (root / solution).is_file():
            problems.extend(
                f"{where}: {p}"
                for p in compare_stub_and_solution(
                    (root / stub).read_text(), (root / solution).read_text()
                )
            )
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
                f"no exercise or chapter {target!r}. Known ids: {', '.join(known)}; "
                f"chapters: {', '.join(by_chapter)}"
            )
        chosen.extend(ex for ex in found if ex not in chosen)
    return chosen
