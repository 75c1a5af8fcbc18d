"""The ``course`` command line: servers, exercises and notebooks."""

from __future__ import annotations

import typer

from course.harness.cli import notebooks_app, register
from course.services.cli import services_app

app = typer.Typer(
    help="Backend Skill Lab: run the servers, check your exercises, grade, verify the course.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(services_app, name="services")
app.add_typer(notebooks_app, name="notebooks")
register(app)
