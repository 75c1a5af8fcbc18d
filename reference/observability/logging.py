"""Structured logging with structlog: one JSON line per event, the fix for the guide's Winston logger
(guide-defects.md §8.1). Taught in ``notebooks/08_observability_logs.ipynb``.

:func:`make_logger` builds a logger for one app with its own processor chain (``structlog.wrap_logger``,
not ``structlog.configure``): two services in one process — tests, the notebook, the chapter's demo —
each keep their own service name, level and sinks, and nothing global changes under an import.

Every line carries (the chapter's log fields, ch08-common.md):

- ``timestamp`` — ISO 8601 in UTC with microseconds; ``level``; ``event`` (the message); ``service``;
- ``request_id`` / ``correlation_id`` — bound per request through :mod:`contextvars` by
  :mod:`reference.observability.request_id` (so every line of a request has them, even from code that
  never saw the request); ``trace_id`` / ``span_id`` when the tracing module binds them the same way;
- ``audit: true`` on audit events (:func:`audit`), which the level filter never drops: a
  ``LOG_LEVEL=error`` that silences the audit trail is a compliance hole, not a quieter log;
- ``exception`` — ``{type, message, code, stack, cause: {…}}``, following ``__cause__`` (or the implicit
  ``__context__``) so the reason behind the error survives, bounded for cyclic chains.

Then :class:`reference.observability.redaction.Redactor` masks secrets and bounds hostile values, an
optional sink (the OpenSearch shipper) gets the finished event, and the line is rendered as JSON.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, Final, TextIO

import structlog
from structlog.typing import FilteringBoundLogger, Processor

from reference.observability.redaction import DEFAULT_LIMITS, Limits, Redactor

LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,  # Winston's spelling, so a guide-era LOG_LEVEL still works
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
_METHOD_LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "msg": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}
MAX_CAUSES: Final = 5

Sink = Callable[[dict[str, Any]], None]


def parse_level(name: str) -> int:
    try:
        return LEVELS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown log level {name!r}; use one of {', '.join(LEVELS)}") from None


class LevelFilter:
    """Drops events below the level — except audit events, which are always kept. First in the
    chain, so a dropped debug line costs one dict lookup."""

    def __init__(self, level: int) -> None:
        self.level = level

    def __call__(
        self, logger: object, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if event_dict.get("audit") is True:
            return event_dict
        if _METHOD_LEVELS.get(method_name, logging.INFO) < self.level:
            raise structlog.DropEvent
        return event_dict


def _add_service(service: str) -> Processor:
    def add_service(
        logger: object, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    return add_service


def describe_exception(error: BaseException) -> dict[str, Any]:
    """``{type, message, code, stack, cause}`` for an exception and (nested) what caused it."""
    described: dict[str, Any] = {}
    current: dict[str, Any] = described
    seen: set[int] = set()
    link: BaseException | None = error
    for depth in range(MAX_CAUSES + 1):
        if link is None or id(link) in seen:
            break
        seen.add(id(link))
        if depth == MAX_CAUSES:
            current["cause"] = {"type": "[TRUNCATED]", "message": "cause chain too long"}
            break
        node: dict[str, Any] = {
            "type": f"{type(link).__module__}.{type(link).__qualname__}".removeprefix("builtins."),
            "message": str(link),
            "stack": "".join(traceback.format_tb(link.__traceback__)),
        }
        code = getattr(link, "code", None)
        if code is not None:
            node["code"] = code
        if depth == 0:
            described.update(node)
        else:
            current["cause"] = node
            current = node
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    return described


def render_exception(
    logger: object, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """``log.exception(…)`` / ``exc_info=…`` → an ``exception`` field (a dict, not a text blob, so the
    log store can search on ``exception.type`` and ``exception.code``)."""
    exc_info = event_dict.pop("exc_info", None)
    error: BaseException | None = None
    if isinstance(exc_info, BaseException):
        error = exc_info
    elif isinstance(exc_info, tuple) and len(exc_info) == 3:
        error = exc_info[1]
    elif exc_info:
        error = sys.exc_info()[1]
    if error is not None:
        event_dict["exception"] = describe_exception(error)
    return event_dict


def _ship_to(sink: Sink) -> Processor:
    def ship(
        logger: object, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        sink(dict(event_dict))
        return event_dict

    return ship


FIRST_FIELDS: Final = ("timestamp", "level", "service", "event", "request_id", "correlation_id")


def _dumps(value: dict[str, Any], **kwargs: Any) -> str:
    # The common fields first, for the human reading a raw line; the rest in the order logged.
    ordered = {key: value[key] for key in FIRST_FIELDS if key in value} | value
    # The redactor has already made every value JSON-safe; default=str is the last line of defence.
    return json.dumps(ordered, ensure_ascii=False, default=str, separators=(",", ":"))


def make_logger(
    service: str,
    *,
    level: str | None = None,
    stream: TextIO | None = None,
    sink: Sink | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> FilteringBoundLogger:
    """A logger for one app. ``level`` defaults to ``LOG_LEVEL`` (else ``info``); ``stream`` to
    stdout (the container's log, not a file inside it); ``sink`` receives each finished event."""
    threshold = parse_level(level if level is not None else os.environ.get("LOG_LEVEL") or "info")
    processors: list[Processor] = [
        LevelFilter(threshold),
        structlog.contextvars.merge_contextvars,
        _add_service(service),
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        render_exception,
        Redactor(limits),
    ]
    if sink is not None:
        processors.append(_ship_to(sink))
    processors.append(structlog.processors.JSONRenderer(serializer=_dumps))
    logger: FilteringBoundLogger = structlog.wrap_logger(
        structlog.WriteLogger(stream if stream is not None else sys.stdout),
        processors=processors,
        # Every level reaches the chain; LevelFilter decides, so audit events can pass any level.
        wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
    )
    return logger


def audit(
    log: FilteringBoundLogger, action: str, *, actor: str, resource: str, **fields: Any
) -> None:
    """An audit event: who did what to which resource. Kept at every ``LOG_LEVEL``."""
    log.info(action, audit=True, actor=actor, resource=resource, **fields)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Bind fields (``request_id``, ``trace_id`` …) to every line logged inside the block — and unbind
    them after, so an in-process call to a second service does not leak its ids back."""
    with structlog.contextvars.bound_contextvars(**fields):
        yield


def current(name: str) -> Any:
    """A bound field's current value (``None`` outside a request)."""
    values: Mapping[str, Any] = structlog.contextvars.get_contextvars()
    return values.get(name)
