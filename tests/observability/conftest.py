"""Chapter 08's fixtures: one definition each, in ``course.testing.<topic>``, shared with the grading
tests (``grading/08_observability/conftest.py`` imports the same names). Each helper's block imports
its own."""

# Logs: the course's OpenSearch, a per-test log index, a proxy to take OpenSearch away and back.
from course.testing.logs import log_index, opensearch, opensearch_url, outage_proxy

# Alerts (helper A): the course's Prometheus/Alertmanager, throwaway ones, a recording webhook.
from course.testing.observability import (
    alertmanager_url,
    alertmanager_webhook,
    course_rules,
    prometheus_url,
    scratch_prometheus,
)

__all__ = [
    "alertmanager_url",
    "alertmanager_webhook",
    "course_rules",
    "log_index",
    "opensearch",
    "opensearch_url",
    "outage_proxy",
    "prometheus_url",
    "scratch_prometheus",
]
