"""``course notebooks run`` executes in a fresh kernel and normalises; ``check`` rejects unclean notebooks."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat  # ships no annotations: each call below carries type: ignore[no-untyped-call]
import pytest
from typer.testing import CliRunner

from course.cli import app
from course.harness import notebooks
from reference.config import REPO_ROOT

TINY = REPO_ROOT / "tests" / "fixtures" / "notebooks" / "tiny-pass.ipynb"


def test_chapter_00_notebook_is_clean() -> None:
    """notebooks/00_setup.ipynb is committed executed, in order, without errors or stray metadata."""
    problems = [str(p) for p in notebooks.check(REPO_ROOT / "notebooks" / "00_setup.ipynb")]
    assert problems == []


def test_run_executes_in_a_fresh_kernel_and_normalises(cli: CliRunner, tmp_path: Path) -> None:
    """Outputs are recomputed, stray metadata removed, ids made positional; a failing notebook is reported
    and the command fails, after running the others."""
    good = tmp_path / "good.ipynb"
    nb = nbformat.read(TINY, as_version=4)  # type: ignore[no-untyped-call]
    nb.metadata["widgets"] = {"state": {}}
    nb.cells[1].metadata["collapsed"] = True
    nb.cells[1].outputs = []
    nb.cells[1].execution_count = None
    nb.cells[2]["id"] = "random-id"
    nbformat.write(nb, good)  # type: ignore[no-untyped-call]
    bad = tmp_path / "bad.ipynb"
    broken = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    broken.cells = [nbformat.v4.new_code_cell("raise RuntimeError('on purpose')")]  # type: ignore[no-untyped-call]
    nbformat.write(broken, bad)  # type: ignore[no-untyped-call]

    result = cli.invoke(app, ["notebooks", "run", str(good), str(bad), "--timeout", "120"])
    assert result.exit_code == 1, result.output
    assert "✔ good.ipynb" in result.output
    assert "✘ bad.ipynb: CellExecutionError" in result.output
    assert "on purpose" in result.output

    ran = nbformat.read(good, as_version=4)  # type: ignore[no-untyped-call]
    assert set(ran.metadata) == {"kernelspec", "language_info"}
    assert ran.cells[1].metadata == {}
    assert [c["id"] for c in ran.cells] == ["cell-00", "cell-01", "cell-02", "cell-03"]
    assert ran.cells[1].outputs[0]["text"] == "total 10\n"
    assert [c.execution_count for c in ran.cells if c.cell_type == "code"] == [1, 2, 3]
    assert notebooks.check(good) == []
    assert cli.invoke(app, ["notebooks", "check", str(good)]).exit_code == 0


def write(path: Path, nb: nbformat.NotebookNode) -> Path:
    nbformat.write(nb, path)  # type: ignore[no-untyped-call]
    return path


@pytest.fixture
def clean(tmp_path: Path) -> nbformat.NotebookNode:
    shutil.copyfile(TINY, tmp_path / "clean.ipynb")
    nb: nbformat.NotebookNode = nbformat.read(tmp_path / "clean.ipynb", as_version=4)  # type: ignore[no-untyped-call]
    return nb


def test_check_accepts_the_clean_fixture(tmp_path: Path, clean: nbformat.NotebookNode) -> None:
    assert notebooks.check(write(tmp_path / "ok.ipynb", clean)) == []


def test_check_rejects_stray_metadata(tmp_path: Path, clean: nbformat.NotebookNode) -> None:
    clean.metadata["celltoolbar"] = "Tags"
    clean.cells[1].metadata["ExecuteTime"] = {"end_time": "2024-01-01"}
    text = "\n".join(map(str, notebooks.check(write(tmp_path / "x.ipynb", clean))))
    assert "stray notebook metadata ['celltoolbar']" in text
    assert "cell 1: stray cell metadata ['ExecuteTime']" in text


def test_check_rejects_errors_missing_outputs_and_disorder(
    tmp_path: Path, clean: nbformat.NotebookNode
) -> None:
    clean.cells[1].outputs.append(
        nbformat.v4.new_output("error", ename="KeyError", evalue="'x'", traceback=[])  # type: ignore[no-untyped-call]
    )
    clean.cells[1].outputs.append(
        nbformat.v4.new_output("stream", name="stderr", text="Traceback (most recent call last):\n")  # type: ignore[no-untyped-call]
    )
    clean.cells[2].execution_count = 7
    clean.cells[3].execution_count = None
    clean.cells[3].outputs = []
    text = "\n".join(map(str, notebooks.check(write(tmp_path / "x.ipynb", clean))))
    assert "cell 1: error output committed: KeyError: 'x'" in text
    assert "cell 1: a traceback was printed to stderr" in text
    assert "cell 2: execution count 7, expected 2" in text
    assert "cell 3: never executed" in text


def test_check_rejects_a_notebook_without_outputs(
    tmp_path: Path, clean: nbformat.NotebookNode
) -> None:
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    text = "\n".join(map(str, notebooks.check(write(tmp_path / "x.ipynb", clean))))
    assert "committed without outputs" in text


def test_check_rejects_an_invalid_file(cli: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    result = cli.invoke(app, ["notebooks", "check", str(broken)])
    assert result.exit_code == 1
    assert "not a valid notebook" in result.output


def test_notebook_names_resolve_or_fail_clearly(cli: CliRunner) -> None:
    assert notebooks.find_notebooks(["00_setup"]) == [REPO_ROOT / "notebooks" / "00_setup.ipynb"]
    for command in ("run", "check"):
        result = cli.invoke(app, ["notebooks", command, "no_such_notebook"])
        assert result.exit_code == 2
        assert "no notebook 'no_such_notebook'" in result.output
