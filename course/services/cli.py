"""``course services up|down|status|logs|reset [NAME…]`` — the launcher's command line.

Every failure is a ``ServiceError`` printed as one clear message with exit code 1, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from course.services.base import ServiceError
from course.services.launcher import SERVERS, Launcher, ServerStatus, servers_for
from reference.setup import servers as registry

services_app = typer.Typer(
    help="Start, stop and inspect the course's servers.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)
# Piped output (CI logs, tests) gets a wide table instead of 80 columns of wrapped cells.
out = Console(width=None if sys.stdout.isatty() else 200)

Names = Annotated[
    list[str] | None,
    typer.Argument(help=f"Servers to act on ({', '.join(SERVERS)}); all when omitted."),
]
Wanted = Annotated[
    list[str] | None,
    typer.Argument(
        help=f"Servers to act on ({', '.join(SERVERS)}); "
        "when omitted, those the chapters so far need (or --chapter's)."
    ),
]
Chapters = Annotated[
    list[str] | None,
    typer.Option("--chapter", "-c", help="Only what this chapter needs (03, …); repeatable."),
]


@contextmanager
def _clear_errors() -> Iterator[None]:
    try:
        yield
    except ServiceError as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(1) from None


def _launcher() -> Launcher:
    return Launcher(progress=lambda line: console.print(f"[dim]…[/dim] {line}", highlight=False))


def status_table(rows: list[ServerStatus]) -> Table:
    table = Table(title="course services")
    for column in ("server", "flavour", "version", "backend", "url", "healthy", "round trip"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.name,
            row.flavour or "-",
            row.version or "-",
            row.backend,
            row.url,
            "[green]yes[/green]" if row.healthy else f"[red]no[/red] {row.detail}",
            f"{row.rtt_ms:.1f} ms" if row.rtt_ms is not None else "-",
        )
    return table


def _report(rows: list[ServerStatus]) -> None:
    out.print(status_table(rows))
    unhealthy = [row.name for row in rows if not row.healthy]
    if unhealthy:
        console.print(
            f"[red]unhealthy:[/red] {', '.join(unhealthy)} — start with "
            f"`course services up {' '.join(unhealthy)}`",
            highlight=False,
        )
        raise typer.Exit(1)


def _command(action: Callable[[Launcher], None]) -> None:
    with _clear_errors():
        action(_launcher())


def _wanted(names: list[str] | None, chapters: list[str] | None) -> list[str]:
    """Named servers as given; none named means what the chapters (so far, or --chapter) need."""
    return list(names or []) + ([] if names and not chapters else servers_for(chapters or []))


@services_app.command()
def up(
    names: Wanted = None,
    chapter: Chapters = None,
    heavy: Annotated[
        bool,
        typer.Option(
            help="Also start heavy servers (Keycloak). `./dev test` says --no-heavy: there the "
            "first test that needs one starts it."
        ),
    ] = True,
) -> None:
    """Start the servers (those already answering are left alone) and wait until healthy."""

    def action(launcher: Launcher) -> None:
        wanted = [n for n in _wanted(names, chapter) if heavy or not registry.server(n).heavy]
        if not wanted:  # Launcher.up([]) would mean every server
            out.print("nothing to start")
            return
        _report(launcher.up(wanted))

    _command(action)


@services_app.command()
def down(names: Names = None) -> None:
    """Stop the servers this launcher started. Data is kept."""

    def action(launcher: Launcher) -> None:
        stopped = launcher.down(names or [])
        out.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing of ours was running")

    _command(action)


@services_app.command()
def status(names: Wanted = None, chapter: Chapters = None) -> None:
    """One row per server; exits non-zero when any requested server is unhealthy."""
    _command(lambda launcher: _report(launcher.status(_wanted(names, chapter))))


@services_app.command()
def logs(
    name: Annotated[str, typer.Argument(help=f"One of {', '.join(SERVERS)}.")],
    lines: Annotated[int, typer.Option("--lines", "-n", help="How many lines.")] = 50,
) -> None:
    """Show the last lines of a server's log."""
    _command(lambda launcher: out.print(launcher.logs(name, lines), highlight=False, markup=False))


@services_app.command()
def reset(
    names: Names = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Wipe the servers' data (running ones come back up empty)."""
    targets = ", ".join(names or SERVERS)
    if not yes and not typer.confirm(f"Wipe all data of {targets}?"):
        raise typer.Exit(1)

    def action(launcher: Launcher) -> None:
        out.print(f"reset: {', '.join(launcher.reset(names or []))}")

    _command(action)
