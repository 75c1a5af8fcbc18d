"""The guide's Winston logger (로깅 및 모니터링 › 구조화된 로깅 (Winston)), ported faithfully to Python's
stdlib :mod:`logging` — defects included. The fixes are :mod:`reference.observability.logging`,
:mod:`reference.observability.redaction` and :mod:`reference.observability.request_id`; the notebook
``notebooks/08_observability_logs.ipynb`` runs both side by side.

What Winston does with the guide's configuration, and this port does the same way:

- ``level: process.env.LOG_LEVEL || 'info'`` with npm's levels (``error`` … ``silly``).
- The logger's format is ``timestamp()`` + ``json()``; the ``Console`` transport adds
  ``colorize()`` + ``simple()`` on top, so the console line is ``<ANSI>info<ANSI>: message {json of
  the rest}`` — the level coloured, the message bare, the rest (service, timestamp, meta) as JSON.
- Two ``DailyRotateFile`` transports write ``logs/app-YYYY-MM-DD.log`` (every level, kept 14 days) and
  ``logs/error-YYYY-MM-DD.log`` (errors, kept 30 days) relative to the working directory.
- ``log.error(msg, err, meta)`` spreads ``{...meta, error: err.message, stack: err.stack}``; a JS
  ``err.stack`` holds the error's own frames, not its ``cause``.
- ``log.audit(action, userId, resource)`` is ``logger.info('AUDIT: ' + action, …)``; the meta's
  ``timestamp: new Date()`` is overwritten by the ``timestamp()`` format.

The defects (guide-defects.md §8.1), each shown live by ``tests/observability/test_logger_guide.py``:

1. No redaction, despite the guide's own Rule 6: a nested ``password``, a ``Bearer …`` header and a
   ``refresh_token`` reach the console and the files verbatim.
2. The console — what a container runtime collects — gets coloured, non-JSON text.
3. The JSON goes to files inside the container: lost with it, invisible to ``docker logs``.
4. ``audit`` goes through ``info``: at ``LOG_LEVEL=warn`` every audit event is dropped.
5. ``log.error`` keeps only ``message`` and ``stack``: the error's ``code`` and its ``cause`` are lost.
6. No request id: the lines of concurrent requests cannot be told apart.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

# npm's levels, as Winston numbers them (lower is more severe), mapped onto stdlib numbers.
NPM_LEVELS = {
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "http": 15,
    "verbose": 12,
    "debug": logging.DEBUG,
    "silly": 5,
}
_NAMES = {number: name for name, number in NPM_LEVELS.items()}
# colorize()'s default colours (the `colors` package's ANSI codes).
_COLOURS = {
    "error": "\x1b[31m",
    "warn": "\x1b[33m",
    "info": "\x1b[32m",
    "http": "\x1b[32m",
    "verbose": "\x1b[36m",
    "debug": "\x1b[34m",
    "silly": "\x1b[35m",
}
_RESET = "\x1b[39m"


def _info(record: logging.LogRecord) -> dict[str, Any]:
    """Winston's ``info`` object after ``timestamp()``: level, message, meta, defaultMeta, timestamp."""
    info: dict[str, Any] = {"level": _NAMES.get(record.levelno, record.levelname.lower())}
    info["message"] = record.getMessage()
    info.update(getattr(record, "meta", {}))
    info["timestamp"] = (
        datetime.fromtimestamp(record.created, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
    return info


def _json(value: Any) -> str:
    # JSON.stringify turns a Date into its ISO string and drops undefined (None here) values.
    return json.dumps(
        {k: v for k, v in value.items() if v is not None},
        separators=(",", ":"),
        default=str,
        ensure_ascii=False,
    )


class _ColouredSimple(logging.Formatter):
    """``colorize()`` + ``simple()``: ``<colour>level<reset>: message {rest as JSON}``."""

    def format(self, record: logging.LogRecord) -> str:
        info = _info(record)
        level, message = info.pop("level"), info.pop("message")
        rest = f" {_json(info)}" if info else ""
        return f"{_COLOURS.get(level, '')}{level}{_RESET}: {message}{rest}"


class _Json(logging.Formatter):
    """``timestamp()`` + ``json()``: one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return _json(_info(record))


class DailyRotateFile(logging.Handler):
    """``winston-daily-rotate-file``: ``<directory>/<stem>-YYYY-MM-DD.log``, files older than
    ``max_days`` deleted when a new day's file is opened."""

    def __init__(self, directory: Path, stem: str, max_days: int, level: int = 0) -> None:
        super().__init__(level)
        self.directory, self.stem, self.max_days = directory, stem, max_days
        self._day: date | None = None
        self._file: TextIO | None = None
        self.setFormatter(_Json())

    def path_for(self, day: date) -> Path:
        return self.directory / f"{self.stem}-{day.isoformat()}.log"

    def emit(self, record: logging.LogRecord) -> None:
        day = datetime.fromtimestamp(record.created).date()
        if day != self._day or self._file is None:
            self._open(day)
        assert self._file is not None
        self._file.write(self.format(record) + "\n")
        self._file.flush()

    def _open(self, day: date) -> None:
        if self._file is not None:
            self._file.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._file = self.path_for(day).open("a", encoding="utf-8")
        self._day = day
        oldest = day - timedelta(days=self.max_days)
        for old in self.directory.glob(f"{self.stem}-*.log"):
            stamp = old.stem.removeprefix(f"{self.stem}-")
            if stamp < oldest.isoformat():
                old.unlink()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        super().close()


def create_logger(
    *, console: TextIO | None = None, directory: str | Path = "logs", name: str = "guide.winston"
) -> logging.Logger:
    """``winston.createLogger({...})`` as the guide configures it, reading the environment now (the
    guide reads it when the module is imported)."""
    logger = logging.getLogger(name)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    level_name = os.environ.get("LOG_LEVEL") or "info"
    logger.setLevel(NPM_LEVELS[level_name])
    logger.propagate = False
    service = os.environ.get("SERVICE_NAME")  # defaultMeta: { service: undefined } when unset
    console_handler = logging.StreamHandler(console if console is not None else sys.stdout)
    console_handler.setFormatter(_ColouredSimple())
    directory = Path(directory)
    handlers: list[logging.Handler] = [
        console_handler,
        DailyRotateFile(directory, "app", max_days=14),
        DailyRotateFile(directory, "error", max_days=30, level=logging.ERROR),
    ]
    for handler in handlers:
        handler.addFilter(_DefaultMeta(service))
        logger.addHandler(handler)
    return logger


class _DefaultMeta(logging.Filter):
    """``defaultMeta``: merged into every line's meta (the line's own meta wins, as in Winston)."""

    def __init__(self, service: str | None) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.meta = {"service": self.service, **getattr(record, "meta", {})}
        return True


def _js_stack(err: BaseException) -> str:
    """What ``err.stack`` holds in V8: ``Name: message`` and this error's frames — no source lines,
    no ``code``, no ``cause``."""
    frames = traceback.extract_tb(err.__traceback__)
    at = "".join(f"\n    at {f.name} ({f.filename}:{f.lineno})" for f in reversed(frames))
    return f"{type(err).__name__}: {err}{at}"


class Log:
    """The guide's ``log`` object: ``info``, ``error`` and ``audit``."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def info(self, msg: str, meta: dict[str, Any] | None = None) -> None:
        self.logger.info(msg, extra={"meta": dict(meta or {})})

    def error(
        self, msg: str, err: BaseException | None = None, meta: dict[str, Any] | None = None
    ) -> None:
        # {...meta, error: err?.message, stack: err?.stack}: a JS stack is the error's own frames only.
        stack = _js_stack(err) if err is not None else None
        fields = {**(meta or {}), "error": str(err) if err is not None else None, "stack": stack}
        self.logger.error(msg, extra={"meta": fields})

    def audit(self, action: str, user_id: str, resource: str) -> None:
        # Through info: below LOG_LEVEL=info the audit trail is silently gone.
        self.info(
            f"AUDIT: {action}",
            {"userId": user_id, "resource": resource, "timestamp": datetime.now(UTC)},
        )

    def close(self) -> None:
        for handler in list(self.logger.handlers):
            self.logger.removeHandler(handler)
            handler.close()
