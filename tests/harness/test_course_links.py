"""The course and its guide point at each other (issue 9 §4), in both directions.

Conventions (README, "Chapter map"):

* A notebook section is a markdown heading ``## k · English title`` — ``k`` a number, ``·`` (U+00B7)
  — and runs until the next ``## `` heading (``###`` sub-headings stay inside it). A heading that
  teaches a guide subsection ends with the guide's Korean heading in parentheses, spelled as in
  ``guide/sections.toml`` (parts joined by `` › `` or ``: ``).
* Every stub's module docstring opens with ``Taught in notebooks/NN_….ipynb §k.``, and section ``k``
  of that notebook says how to grade it: ``course check <id>``.
* Every ``course check <id>`` in any notebook names an exercise of ``exercises/exercises.toml``.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat  # ships no annotations: each call below carries type: ignore[no-untyped-call]
import pytest

from course.harness.loader import Exercise, catalogue
from reference.config import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
SECTIONS_FILE = REPO_ROOT / "guide" / "sections.toml"
EXERCISES = list(catalogue().values())

SECTION = re.compile(r"^## (\d+) · \S")
NUMBERED_OTHERWISE = re.compile(r"^## \d")  # a numbered section not written "## k · "
TAUGHT = re.compile(r"^Taught in notebooks/(?P<notebook>[\w.-]+\.ipynb) §(?P<section>\d+)\.$")
CHECK = re.compile(r"course check (\d{2}\.\d+)\b")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@dataclass
class Notebook:
    """One notebook read as lines: its numbered sections' headings and text."""

    headings: dict[int, str] = field(default_factory=dict)
    text: dict[int, str] = field(default_factory=dict)
    all_text: str = ""
    malformed: list[str] = field(default_factory=list)


def read_notebook(path: Path) -> Notebook:
    notebook = Notebook()
    current: int | None = None
    lines: list[str] = []
    for cell in nbformat.read(path, as_version=4).cells:  # type: ignore[no-untyped-call]
        for line in cell.source.splitlines():
            lines.append(line)
            if cell.cell_type == "markdown" and line.startswith("## "):
                match = SECTION.match(line)
                current = int(match.group(1)) if match else None
                if current is not None:
                    notebook.headings[current] = line
                elif NUMBERED_OTHERWISE.match(line):
                    notebook.malformed.append(line)
            if current is not None:
                notebook.text[current] = notebook.text.get(current, "") + line + "\n"
    notebook.all_text = "\n".join(lines)
    return notebook


NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
READ = {path.name: read_notebook(path) for path in NOTEBOOK_PATHS}


def guide_names() -> set[str]:
    chapters = tomllib.loads(SECTIONS_FILE.read_text())["chapter"]
    return {name for c in chapters for name in (c["section"], *c["subsections"])}


def korean_part(heading: str) -> str | None:
    """The trailing parenthesised group of a heading, when it holds Hangul; '' when Hangul is elsewhere."""
    if not HANGUL.search(heading):
        return None
    if not heading.endswith(")"):
        return ""
    depth = 0
    for index in range(len(heading) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(heading[index], 0)
        if depth == 0:
            inside = heading[index + 1 : -1]
            return inside if not HANGUL.search(heading[:index]) else ""
    return ""


def known(part: str, names: set[str]) -> bool:
    """A guide name, or 'subsection: sub-subsection' of two guide names."""
    if part in names:
        return True
    head, sep, tail = part.partition(": ")
    return bool(sep) and head in names and tail in names


def taught_in(exercise: Exercise) -> re.Match[str] | None:
    source = (REPO_ROOT / "exercises" / exercise.relative_path).read_text()
    docstring = ast.get_docstring(ast.parse(source), clean=True) or ""
    return TAUGHT.match(docstring.splitlines()[0] if docstring else "")


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_stub_names_the_notebook_section_that_teaches_it_and_that_section_names_it(
    exercise: Exercise,
) -> None:
    """The stub opens with 'Taught in notebooks/X.ipynb §k.'; X exists, has §k, and §k says `course check ID`."""
    match = taught_in(exercise)
    assert match, (
        f"{exercise.relative_path}: the module docstring must open with "
        "'Taught in notebooks/NN_slug….ipynb §k.' (k = the '## k · ' section teaching its pattern)"
    )
    name, section = match["notebook"], int(match["section"])
    assert name in READ, f"{exercise.id}: no notebook notebooks/{name}"
    notebook = READ[name]
    assert section in notebook.headings, (
        f"{exercise.id}: notebooks/{name} has no section '## {section} · …' "
        f"(it has {sorted(notebook.headings)})"
    )
    assert f"course check {exercise.id}" in notebook.text[section], (
        f"{exercise.id}: section {section} of notebooks/{name} ({notebook.headings[section]!r}) "
        f"does not name its exercise: add 'Try it: `course check {exercise.id}`'"
    )


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[p.name for p in NOTEBOOK_PATHS])
def test_every_course_check_in_a_notebook_names_a_real_exercise(path: Path) -> None:
    ids = set(catalogue())
    unknown = sorted(set(CHECK.findall(READ[path.name].all_text)) - ids)
    assert not unknown, f"{path.name} names exercises the catalogue does not have: {unknown}"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[p.name for p in NOTEBOOK_PATHS])
def test_korean_heading_parts_are_the_guides_section_names(path: Path) -> None:
    """A heading's Korean part is its trailing (…) and names guide sections exactly."""
    names = guide_names()
    notebook = READ[path.name]
    assert not notebook.malformed, (
        f"{path.name}: number sections as '## k · Title': {notebook.malformed}"
    )
    for heading in notebook.headings.values():
        part = korean_part(heading)
        if part is None:
            continue
        assert part, f"{path.name}: put the guide's heading last, in parentheses: {heading!r}"
        wrong = [piece for piece in part.split(" › ") if not known(piece, names)]
        assert not wrong, (
            f"{path.name}: {heading!r} names {wrong}, which guide/sections.toml does not have"
        )


def test_readme_chapter_map_lists_each_chapters_guide_section() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for chapter in tomllib.loads(SECTIONS_FILE.read_text())["chapter"]:
        row = next((line for line in readme.splitlines() if f"| `{chapter['slug']}` |" in line), "")
        assert f"| {chapter['section']} |" in row, (
            f"README chapter map: the {chapter['slug']} row should name {chapter['section']!r}"
        )


def test_the_parsers_read_the_conventions_they_document() -> None:
    """korean_part and known accept the documented forms and refuse the others."""
    names = guide_names()
    assert korean_part("## 1 · Levels (REST API 설계 (Richardson Maturity Model))") == (
        "REST API 설계 (Richardson Maturity Model)"
    )
    assert korean_part("## 2 · Plain English") is None
    assert korean_part("## 3 · 설계 first (Redis)") == ""
    assert known("SQL (PostgreSQL): 쿼리 최적화", names)
    assert not known("설계", names)
    assert SECTION.match("## 4 · Keyset")
    assert not SECTION.match("## 4. Keyset")
    assert NUMBERED_OTHERWISE.match("## 4. Keyset")
    assert not NUMBERED_OTHERWISE.match("### 4.1 · Ties")


def test_sections_file_lists_each_chapter_once_in_order() -> None:
    """One block per chapter slug, in chapter order: a repeated block would silently shadow."""
    slugs = [c["slug"] for c in tomllib.loads(SECTIONS_FILE.read_text())["chapter"]]
    assert len(slugs) == len(set(slugs)), slugs
    assert slugs == sorted(slugs), slugs
