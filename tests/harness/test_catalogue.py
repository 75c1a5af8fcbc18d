"""The exercise catalogue is sound: schema, ids, paths, stub/solution pairs, stubs that raise."""

from __future__ import annotations

import ast
import asyncio
import inspect
import shutil
from pathlib import Path
from typing import Any

import pytest

from course.harness import catalogue as cat
from course.harness.loader import (
    CATALOGUE,
    CatalogueError,
    Exercise,
    catalogue,
    exercise_for_test,
    load_exercise,
)
from course.harness.stubs import compare_stub_and_solution, functions, is_stub_body
from reference.config import REPO_ROOT

EXERCISES = list(catalogue().values())


def call(function: Any, arguments: list[None]) -> None:
    """Call a function (awaiting it if it is a coroutine function)."""
    result = function(*arguments)
    if inspect.isawaitable(result):
        asyncio.run(result)  # type: ignore[arg-type]


def test_catalogue_matches_schema() -> None:
    """exercises.toml validates against course/harness/exercises.schema.json."""
    assert cat.schema_errors(cat.load_raw()) == []


def test_servers_are_the_registrys_names() -> None:
    """A block may name any registry server (keycloak included) and nothing else."""
    raw = cat.load_raw()
    block = raw["exercise"][0]
    for names, valid in ((["redis", "keycloak"], True), (["redis", "memcached"], False)):
        errors = cat.schema_errors({**raw, "exercise": [{**block, "servers": names}]})
        assert (errors == []) is valid, errors


def test_catalogue_rules_hold() -> None:
    """Ids are unique and match their chapter, every path exists, stubs mirror solutions."""
    assert cat.rule_errors(cat.load_raw()) == []


def test_catalogue_is_not_empty_and_ids_are_unique() -> None:
    raw = cat.load_raw()
    ids = [e["id"] for e in raw["exercise"]]
    assert ids
    assert len(ids) == len(set(ids)) == len(catalogue())


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_stub_functions_raise_not_implemented(
    exercise: Exercise, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing the stub works, and calling each marked top-level function raises NotImplementedError."""
    monkeypatch.setenv("COURSE_EXERCISES_ROOT", str(REPO_ROOT / "exercises"))
    path = REPO_ROOT / exercise.stub
    module = load_exercise(exercise.id)
    marked = [
        name
        for name, node in functions(ast.parse(path.read_text())).items()
        if is_stub_body(node) and "." not in name
    ]
    assert marked, f"{exercise.stub} has no marked top-level function"
    for name in marked:
        function = getattr(module, name)
        arguments = [
            None
            for p in inspect.signature(function).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        with pytest.raises(NotImplementedError):
            call(function, arguments)


def test_validate_reports_every_kind_of_problem(tmp_path: Path) -> None:
    """A broken catalogue yields one readable problem per defect."""
    (tmp_path / "exercises" / "00_setup").mkdir(parents=True)
    shutil.copytree(REPO_ROOT / "solutions" / "00_setup", tmp_path / "solutions" / "00_setup")
    (tmp_path / "exercises" / "00_setup" / "health_check.py").write_text("def f():\n    return 1\n")
    bad = tmp_path / "exercises.toml"
    bad.write_text(
        """format_version = 2
[[exercise]]
id = "00.1"
chapter = "01_api_design"
name = "health_check"
title = "Twice"
servers = ["postgres"]
difficulty = 2
hints = ["a hint"]

[[exercise]]
id = "00.1"
chapter = "00_setup"
name = "health_check"
title = "Second"
servers = ["mysql"]
difficulty = 7
hints = []
"""
    )
    problems = "\n".join(cat.validate(bad, tmp_path))
    for expected in (
        "duplicate id",
        "id prefix does not match chapter",
        "its stub exercises/01_api_design/health_check.py does not exist",
        "its grading tests grading/00_setup/test_00_1_health_check.py does not exist",
        "no decoys — add at least one grading/00_setup/decoys/health_check__*.py",
        "stub has no marked body",
        "'mysql' is not one of",
        "7 is greater than the maximum of 3",
        "[] should be non-empty",
    ):
        assert expected in problems
    not_toml = tmp_path / "broken.toml"
    not_toml.write_text("format_version = \n")
    assert "not valid TOML" in cat.validate(not_toml, tmp_path)[0]


OLD_STYLE = """format_version = 2
[[exercise]]
id = "03.1"
chapter = "03_messaging"
title = "Outbox relay"
stub = "exercises/03_messaging/outbox_relay.py"
solution = "solutions/03_messaging/outbox_relay.py"
test = "grading/03_messaging/test_03_1_outbox_relay.py"
decoys = ["grading/03_messaging/decoys/outbox_relay__commit_first.py"]
servers = ["kafka"]
difficulty = 2
hints = ["a hint"]

[[exercise]]
id = "03.2"
chapter = "03_messaging"
name = "idempotent_consumer"
servers = ["kafka"]
hint = ["typo'd key"]
"""


def test_an_old_style_or_incomplete_block_says_which_key_and_what_to_do(tmp_path: Path) -> None:
    """Blocks appended in the first format, or missing keys, fail loudly with the fix spelled out."""
    (tmp_path / "exercises").mkdir()
    path = tmp_path / "exercises" / "exercises.toml"
    path.write_text(OLD_STYLE)
    with pytest.raises(CatalogueError) as raised:
        catalogue(path)
    message = str(raised.value)
    assert (
        '[[exercise]] block 1 (id = "03.1"): stub, solution, test, decoys are from the old format '
        '— delete them; write name = "outbox_relay" instead'
    ) in message
    assert "grading/<chapter>/test_NN_K_<name>.py" in message
    assert "[[exercise]] block 2 (id = \"03.2\"): missing key 'title' — add title = " in message
    assert "missing key 'difficulty' — add difficulty = 1, 2 or 3" in message
    assert "missing key 'hints'" in message
    assert "unknown key 'hint' — the keys are id, chapter, name, title" in message
    assert "block 1 (id = \"03.1\"): missing key 'name'" not in message  # one fix, said once
    assert message in "\n".join(cat.validate(path, tmp_path))


def test_paths_follow_from_chapter_and_name() -> None:
    """The rustlings model: no path is written in the catalogue; decoys are found on disk, sorted."""
    exercise = catalogue()["01.2"]
    assert exercise.stub == "exercises/01_api_design/bounded_list.py"
    assert exercise.solution == "solutions/01_api_design/bounded_list.py"
    assert exercise.test == "grading/01_api_design/test_01_2_bounded_list.py"
    found = sorted(
        p.relative_to(REPO_ROOT).as_posix()
        for p in (REPO_ROOT / "grading" / "01_api_design" / "decoys").glob("bounded_list__*.py")
    )
    assert list(exercise.decoys) == found
    assert found
    for block in cat.load_raw()["exercise"]:
        assert not {"stub", "solution", "test", "decoys"} & set(block)


def test_every_exercise_file_belongs_to_a_catalogued_exercise_and_none_is_missing() -> None:
    """No orphan under exercises/, solutions/, grading/*/test_*.py or grading/*/decoys/, and every
    catalogued exercise has its stub, solution, grading file and at least one decoy."""
    assert cat.orphans(EXERCISES, cat.course_files()) == []


def test_the_orphan_check_catches_strays_and_gaps(tmp_path: Path) -> None:
    """A file whose name fits no exercise is named; so is an exercise that lacks one of its files."""
    health = catalogue()["00.1"]
    for path in (health.stub, health.test, *health.decoys):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / path, tmp_path / path)
    files = [
        health.stub,
        health.test,
        *health.decoys,
        "exercises/00_setup/health_chek.py",
        "solutions/00_setup/old_answer.py",
        "grading/00_setup/test_00_2_health_check.py",
        "grading/00_setup/decoys/gone__wrong.py",
        "grading/00_setup/decoys/no_separator.py",
    ]
    problems = cat.orphans([health], files, tmp_path)
    for stray in files[-5:]:
        assert f"{stray}: belongs to no exercise in exercises.toml" in "\n".join(problems)
    assert problems[-1] == f"exercise 00.1: {health.solution} is missing"
    assert len(problems) == 6
    shutil.rmtree(tmp_path / "grading" / "00_setup" / "decoys")
    assert cat.orphans([health], [], tmp_path) == [
        f"exercise 00.1: {health.solution} is missing",
        "exercise 00.1: no grading/00_setup/decoys/health_check__*.py",
    ]


def test_a_grading_file_names_its_exercise_by_its_file_name() -> None:
    """grading/conftest.py's `exercise` fixture derives the id from the test module's name."""
    for exercise in EXERCISES:
        assert exercise_for_test(REPO_ROOT / exercise.test) == exercise
    with pytest.raises(CatalogueError, match=r"named test_NN_K_<name>\.py"):
        exercise_for_test(Path("grading/00_setup/test_health.py"))
    with pytest.raises(CatalogueError, match=r"no exercise 00\.1 named 'health'; add its"):
        exercise_for_test(Path("grading/00_setup/test_00_1_health.py"))
    for path in (REPO_ROOT / "grading").glob("*/test_*.py"):
        assert 'load_exercise("' not in path.read_text(), f"{path} names its exercise"


def test_select_by_id_chapter_and_number() -> None:
    first = EXERCISES[0]
    assert cat.select([first.id]) == [first]
    assert first in cat.select([first.chapter])
    assert first in cat.select([first.chapter.split("_")[0]])
    assert cat.select([], everything=True) == cat.ordered()
    assert [e.id for e in cat.ordered()][:1] == [
        min(catalogue(), key=lambda i: tuple(map(int, i.split("."))))
    ]
    assert cat.select([first.id, first.chapter]).count(first) == 1
    with pytest.raises(cat.SelectionError, match="no exercise or chapter 'nope'"):
        cat.select(["nope"])


def test_load_exercise_reports_a_missing_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COURSE_EXERCISES_ROOT", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_exercise(EXERCISES[0].id)


def test_catalogue_path_is_the_repository_file() -> None:
    assert REPO_ROOT / "exercises" / "exercises.toml" == CATALOGUE


STUB = '''"""Module."""

import json

LIMIT = 3


def add(a: int, b: int) -> int:
    """Add."""
    # TODO: add the numbers
    raise NotImplementedError


class Box:
    def size(self) -> int:
        # TODO: count
        raise NotImplementedError("write me")
'''


def test_stub_rule_accepts_a_pair_that_differs_only_in_marked_bodies() -> None:
    """Solutions may fill marked bodies and add imports; comments and formatting never matter."""
    solution = STUB.replace(
        "    # TODO: add the numbers\n    raise NotImplementedError", "    return a + b  # done"
    ).replace(
        '        # TODO: count\n        raise NotImplementedError("write me")', "        return 1"
    )
    solution = solution.replace("import json\n", "import json\nimport math\n")
    assert compare_stub_and_solution(STUB, solution) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("LIMIT = 3", "LIMIT = 4"), "differ outside the marked bodies"),
        (("def add(a: int, b: int)", "def add(a: int, b: float)"), "signature"),
        (('    """Add."""', '    """Sum."""'), "signature, decorators or docstring"),
        (("class Box:", "class Crate:"), "solution has no Box.size"),
        (("import json\n", ""), "differ outside the marked bodies"),
    ],
)
def test_stub_rule_rejects_changes_outside_marked_bodies(
    change: tuple[str, str], expected: str
) -> None:
    solution = STUB.replace(
        "    # TODO: add the numbers\n    raise NotImplementedError", "    return a + b"
    )
    assert expected in "\n".join(compare_stub_and_solution(STUB, solution.replace(*change)))


def test_stub_rule_needs_todo_comments_and_real_solutions() -> None:
    no_todo = STUB.replace("    # TODO: add the numbers\n", "")
    problems = compare_stub_and_solution(no_todo, STUB)
    assert any("add has no `# TODO:` comment" in p for p in problems)
    assert any("solution's add still raises NotImplementedError" in p for p in problems)
    assert "stub does not parse" in compare_stub_and_solution("def (", STUB)[0]
    assert "solution does not parse" in compare_stub_and_solution(STUB, "def (")[0]


def test_a_decoy_must_name_the_test_that_catches_it(tmp_path: Path) -> None:
    """``course verify`` runs a decoy's named catchers first, so the rules require one: a decoy whose
    docstring names no test of its grading file is a catalogue problem saying what to write."""
    for folder in ("exercises", "solutions"):
        shutil.copytree(REPO_ROOT / folder / "00_setup", tmp_path / folder / "00_setup")
    shutil.copytree(REPO_ROOT / "grading" / "00_setup", tmp_path / "grading" / "00_setup")
    decoys = tmp_path / "grading" / "00_setup" / "decoys"
    (decoys / "health_check__vague.py").write_text('"""Decoy: wrong somehow."""\n')
    (decoys / "health_check__not_a_test.py").write_text('"""Caught by test_nothing_here."""\n')
    block = cat.load_raw()["exercise"][0]
    assert block["id"] == "00.1"
    problems = cat.rule_errors({"exercise": [block]}, tmp_path)
    assert [p.split(" names no test")[0] for p in problems] == [
        "exercise 00.1: decoy grading/00_setup/decoys/health_check__not_a_test.py",
        "exercise 00.1: decoy grading/00_setup/decoys/health_check__vague.py",
    ]
    assert all(p.endswith("end its docstring with 'Caught by test_<name>.'") for p in problems)
