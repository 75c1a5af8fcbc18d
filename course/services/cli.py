"""``course services up|down|status|logs|reset [NAME…]``."""

from __future__ import annotations

import typer

services_app = typer.Typer(help="Start, stop and inspect the course's servers.", no_args_is_help=True)
