"""Property-based API testing with schemathesis: generate requests from the spec, check responses.

The pattern: load the app's own OpenAPI document over ASGI, let Hypothesis generate valid (and, in
negative mode, invalid) requests for every operation, send each through the real app and database,
and run schemathesis's checks — no 5xx, status codes and bodies and headers as documented, invalid
input refused. Bounded (``max_examples`` per operation, derandomized), so it fits in a test suite
and a notebook. Run against the guide's port it finds 500s within a few examples; against the
reference it finds nothing. Taught in ``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err


@dataclass
class FuzzReport:
    """What a bounded run saw: requests per operation, statuses, and failures by check title."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, set[str]] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)  # first message per title, to debug

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def failed_checks(self) -> list[str]:
        """The distinct failure titles, sorted (deterministic, printable)."""
        return sorted(self.failures)


def fuzz_asgi(
    app: Any,
    *,
    headers: dict[str, str] | None = None,
    max_examples: int = 20,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    spec_path: str = "/openapi.json",
) -> FuzzReport:
    """Run every operation of ``app``'s spec for ``max_examples`` cases per mode; collect failures."""
    schema = schemathesis.openapi.from_asgi(spec_path, app)
    report = FuzzReport()
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        for mode in modes:
            strategy = operation.as_strategy(generation_mode=mode)
            _run(strategy, operation.label, headers or {}, max_examples, report)
    return report


def _run(
    strategy: st.SearchStrategy[Any],
    label: str,
    headers: dict[str, str],
    max_examples: int,
    report: FuzzReport,
) -> None:
    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),
    )
    @given(case=strategy)
    def one(case: Any) -> None:
        report.requests += 1
        try:
            response = case.call(headers=headers)
        except Exception as error:  # noqa: BLE001 - the app raised instead of answering: a 5xx
            report.statuses[500] += 1
            report.failures.setdefault("Server error (unhandled exception)", set()).add(label)
            report.examples.setdefault("Server error (unhandled exception)", repr(error))
            return
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                _record(report, failure, label, str(group))
        except Failure as failure:
            _record(report, failure, label, str(failure))

    # Unsatisfiable: nothing to generate in this mode (negative data for a parameterless operation).
    with contextlib.suppress(Unsatisfiable):
        one()


def _record(report: FuzzReport, failure: Failure, label: str, message: str) -> None:
    report.failures.setdefault(failure.title, set()).add(label)
    report.examples.setdefault(failure.title, message)
