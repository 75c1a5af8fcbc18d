"""``course notebooks run|check``: execute notebooks in a fresh kernel and keep them clean.

``run`` re-executes notebooks in place with nbclient, in a kernel started from this checkout's virtual
environment (``sys.executable -m ipykernel_launcher``, whatever kernels the machine has installed), then
normalises them so a re-run changes nothing but outputs: notebook metadata keeps only ``kernelspec`` and
``language_info``, cell metadata keeps only ``tags``, cell ids are ``cell-00``, ``cell-01`` … by position.
``check`` fails on the stray metadata ``run`` would have removed, on error outputs, on code cells never
executed, and on execution counts that are not 1, 2, 3 … in order (nbformat's own validation rejects
missing or duplicate cell ids).
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from reference.config import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
NOTEBOOK_METADATA = ("kernelspec", "language_info")
CELL_METADATA = ("tags",)
CELL_TIMEOUT = 300


def find_notebooks(names: list[str] | None = None, folder: Path = NOTEBOOKS) -> list[Path]:
    """Notebooks by name (``00_setup``, ``00_setup.ipynb`` or a path), or all in ``notebooks/``."""
    if not names:
        return sorted(p for p in folder.glob("*.ipynb"))
    found = []
    for name in names:
        candidates = [Path(name), folder / name, folder / f"{name}.ipynb"]
        path = next((c for c in candidates if c.is_file() and c.suffix == ".ipynb"), None)
        if path is None:
            raise FileNotFoundError(f"no notebook {name!r} in {folder}")
        found.append(path.resolve())
    return found


def code_cells(path: Path) -> int:
    """How many non-empty code cells ``path`` has (what ``run`` is about to execute)."""
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return sum(cell.cell_type == "code" and bool(cell.source.strip()) for cell in nb.cells)


def normalise(nb: Any) -> Any:
    """Strip stray metadata and give cells deterministic ids (in place; also returned)."""
    nb.metadata = {k: nb.metadata[k] for k in NOTEBOOK_METADATA if k in nb.metadata}
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.nbformat, nb.nbformat_minor = 4, max(5, int(nb.get("nbformat_minor", 5)))
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:02d}"
        cell.metadata = {k: cell.metadata[k] for k in CELL_METADATA if k in cell.metadata}
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "execute_result":
                    output["metadata"] = {}
    return nb


def _kernel_manager(spec_dir: Path) -> Any:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = spec_dir / KERNEL_NAME
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({**KERNELSPEC, "argv": argv}))
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def execute(path: Path, *, timeout: int = CELL_TIMEOUT) -> None:
    """Execute ``path`` top to bottom in a fresh kernel of this environment and save it normalised."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    with tempfile.TemporaryDirectory(prefix="course-kernel-") as spec_dir:
        client = NotebookClient(
            nb,
            km=_kernel_manager(Path(spec_dir)),
            timeout=timeout,
            resources={"metadata": {"path": str(path.parent)}},
            record_timing=False,
        )
        client.execute()
    normalise(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Problem:
    notebook: Path
    cell: int | None
    text: str

    def __str__(self) -> str:
        where = f" cell {self.cell}" if self.cell is not None else ""
        return f"{self.notebook.name}{where}: {self.text}"


def check(path: Path) -> list[Problem]:
    """Everything that makes a committed notebook unclean."""
    problems: list[Problem] = []

    def add(cell: int | None, text: str) -> None:
        problems.append(Problem(path, cell, text))

    try:
        nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
        nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 - any failure to read is one problem
        return [Problem(path, None, f"not a valid notebook: {type(error).__name__}: {error}")]
    stray = sorted(set(nb.metadata) - set(NOTEBOOK_METADATA))
    if stray:
        add(None, f"stray notebook metadata {stray}; run `course notebooks run {path.stem}`")
    expected = 1
    code_cells = 0
    for index, cell in enumerate(nb.cells):
        extra = sorted(set(cell.metadata) - set(CELL_METADATA))
        if extra:
            add(index, f"stray cell metadata {extra}")
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        code_cells += 1
        count = cell.get("execution_count")
        if count is None:
            add(index, "never executed (no execution count, no outputs)")
        elif count != expected:
            add(
                index,
                f"execution count {count}, expected {expected}: run top to bottom in a fresh kernel",
            )
        expected = (count or expected - 1) + 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                add(index, f"error output committed: {output.get('ename')}: {output.get('evalue')}")
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = "".join(output.get("text", ""))
                if "Traceback" in text:
                    add(index, "a traceback was printed to stderr")
    if code_cells and not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
        add(None, "committed without outputs")
    return problems
