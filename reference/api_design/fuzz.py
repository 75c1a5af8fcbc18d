"""Property-based API testing with schemathesis: generate requests from the spec, check responses.

The pattern: load the app's own OpenAPI document over ASGI, let Hypothesis generate valid (and, in
negative mode, invalid) requests for every operation, send each through the real app and database,
and run schemathesis's checks — no 5xx, status codes and bodies and headers as documented, invalid
input refused. :func:`fuzz_stateful` then runs schemathesis's stateful phase: it follows the
spec's OpenAPI links (create a user → read it → PUT/PATCH/DELETE it with the ``ETag`` it got) in
generated sequences, so a bug that needs a real id and a real precondition is reachable too.
Bounded (``max_examples`` per operation, derandomized), so it fits in a test suite and a
notebook. Run against the guide's port it finds 500s within a few examples; against the reference
it finds nothing, whoever calls (anonymous, a plain user, an admin). Taught in
``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err

# Schema-valid requests this API may still refuse: 401/403/404 by who calls, 409 for an e-mail
# already taken, 412 for an If-Match that is not the current ETag (a generated one never is), 429.
ACCEPTABLE = ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]


def _config(mode: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "generation": {"mode": mode},
            "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTABLE}},
        }
    )


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
    schema = schemathesis.openapi.from_asgi(spec_path, app, config=_config("all"))
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


def fuzz_stateful(
    app: Any,
    *,
    headers: dict[str, str] | None = None,
    max_examples: int = 10,
    steps: int = 6,
    reset: Callable[[], None] | None = None,
    spec_path: str = "/openapi.json",
) -> FuzzReport:
    """Run ``max_examples`` generated sequences of up to ``steps`` linked calls; collect failures.

    ``reset`` runs before each sequence and should put the data back as it was: Hypothesis
    checks that the same choices lead to the same draws, and a second ``POST`` of an e-mail the
    first sequence created answers 409 instead of 201 — a different path, reported as flaky.
    """
    schema = schemathesis.openapi.from_asgi(spec_path, app, config=_config("all"))
    report = FuzzReport()
    sent = dict(headers or {})

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            if reset is not None:
                reset()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": sent}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            # Record every failure and keep going: one run reports them all, unshrunk.
            report.requests += 1
            report.statuses[response.status_code] += 1
            try:
                super().validate_response(response, case, additional_checks, **kwargs)
            except FailureGroup as group:
                for failure in group.exceptions:
                    _record(report, failure, case.operation.label, str(group))
            except Failure as failure:
                _record(report, failure, case.operation.label, str(failure))

    Machine.run(
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.explicit, Phase.generate),
        )
    )
    return report


def _record(report: FuzzReport, failure: Failure, label: str, message: str) -> None:
    report.failures.setdefault(failure.title, set()).add(label)
    report.examples.setdefault(failure.title, message)
