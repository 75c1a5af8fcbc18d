"""Harness commands (check, watch, hint, reset, progress, grade, verify) and ``course notebooks``."""

from __future__ import annotations

import typer

notebooks_app = typer.Typer(help="Run and check the course notebooks.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the harness commands to the top-level ``course`` app."""
