"""JupyterLab on the course: what ``./dev lab`` runs (``python -m course.lab [JUPYTER OPTIONS…]``).

Opens on chapter 00's notebook with ``notebooks/`` as the file browser's root, as root (Debian 12 as
root is a supported machine; JupyterLab refuses root unless told) and as a normal user alike. The
project's own Jupyter configuration (``course/jupyter``: the news pop-up switched off) is added to the
config search path, so the learner's ``~/.jupyter`` is neither needed nor changed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from reference.config import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
FIRST_NOTEBOOK = "00_setup.ipynb"
CONFIG_DIR = REPO_ROOT / "course" / "jupyter"


def arguments(extra: Sequence[str] = ()) -> list[str]:
    """``jupyter lab``'s arguments; ``extra`` options (``--no-browser``, ``--port=N``) come last."""
    options = [
        f"--ServerApp.root_dir={NOTEBOOKS}",
        # The printed URL and the browser both land on the first chapter, not an empty launcher.
        f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}",
    ]
    if os.geteuid() == 0:
        options.append("--ServerApp.allow_root=True")
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        # No graphical session (a server, SSH): Python's webbrowser would take over this terminal
        # with a text browser such as lynx. The URL is printed either way.
        options.append("--no-browser")
    return [*options, *extra]


def config_path(existing: str | None) -> str:
    """JUPYTER_CONFIG_PATH with the project's config first and the caller's directories kept."""
    return os.pathsep.join([str(CONFIG_DIR), *filter(None, [existing])])


def main(argv: Sequence[str] = ()) -> None:
    """Run JupyterLab in this process until it is stopped (Ctrl-C twice, or SIGTERM)."""
    # Before JupyterLab is imported and reads its config: in-process, so no second interpreter start.
    os.environ["JUPYTER_CONFIG_PATH"] = config_path(os.environ.get("JUPYTER_CONFIG_PATH"))
    from jupyterlab.labapp import LabApp  # type: ignore[import-untyped]

    LabApp.launch_instance(argv=arguments(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
