"""Fixtures chapter 08's alerting tests, notebooks' checks and grading share
(``tests/observability/conftest.py`` and ``grading/08_observability/conftest.py`` import them).

- ``prometheus_url`` / ``alertmanager_url``: the course's servers (``PROMETHEUS_URL``,
  ``ALERTMANAGER_URL``), started if needed. Read them; never change their rules or targets.
- ``scratch_prometheus``: a factory for throwaway Prometheus servers
  (:class:`reference.observability.prometheus.ScratchPrometheus`: own folder, free port, 1 s
  intervals) with the given targets and rule files; each is stopped and removed after the test.
- ``alertmanager_webhook``: a recording webhook receiver
  (:class:`reference.observability.alerting.WebhookReceiver`) and a throwaway Alertmanager
  delivering to it; ``pipeline.alertmanager.url`` is what a scratch Prometheus sends alerts to.
- ``course_rules``: the repository's rule files (``reference/observability/rules/*.yml`` without the
  promtool tests), for a scratch Prometheus that must evaluate exactly what the course server does.

The per-test OpenSearch index is ``log_index`` in :mod:`course.testing.logs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from course.testing.fixtures import ensure_server
from reference.config import REPO_ROOT, get_settings

if TYPE_CHECKING:
    from reference.observability.alerting import WebhookReceiver
    from reference.observability.prometheus import ScrapeJob, ScratchAlertmanager, ScratchPrometheus

RULES_DIR = REPO_ROOT / "reference" / "observability" / "rules"


@pytest.fixture
def prometheus_url() -> str:
    ensure_server("prometheus")
    return get_settings().url_for("prometheus")


@pytest.fixture
def alertmanager_url() -> str:
    ensure_server("alertmanager")
    return get_settings().url_for("alertmanager")


@pytest.fixture
def course_rules() -> list[Path]:
    rules = sorted(path for path in RULES_DIR.glob("*.yml") if not path.name.endswith("_test.yml"))
    assert rules, f"no rule files in {RULES_DIR}"
    return rules


ScratchPrometheusFactory = Callable[..., "ScratchPrometheus"]


@pytest.fixture
def scratch_prometheus() -> Iterator[ScratchPrometheusFactory]:
    """``scratch_prometheus({"app": ["127.0.0.1:8000"]}, rule_files=[...], alertmanager_url=...)``
    → a started :class:`ScratchPrometheus` (same arguments), closed after the test."""
    from reference.observability.prometheus import ScratchPrometheus

    started: list[ScratchPrometheus] = []

    def start(
        targets: Mapping[str, Sequence[str]] | Sequence[ScrapeJob] = (), **options: Any
    ) -> ScratchPrometheus:
        server = ScratchPrometheus(targets, **options)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.close()


@dataclass(frozen=True)
class AlertPipeline:
    """A webhook receiver and the throwaway Alertmanager that delivers to it."""

    webhook: WebhookReceiver
    alertmanager: ScratchAlertmanager


@pytest.fixture
def alertmanager_webhook() -> Iterator[AlertPipeline]:
    from reference.observability.alerting import WebhookReceiver
    from reference.observability.prometheus import ScratchAlertmanager

    with WebhookReceiver() as webhook, ScratchAlertmanager(webhook.url) as alertmanager:
        yield AlertPipeline(webhook, alertmanager)
