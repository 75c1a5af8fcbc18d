"""Chapter 08's fixtures: one definition each, in ``course.testing.<topic>``, shared with the tests
(``tests/observability/`` imports the same names). Each helper's block imports its own."""

# Logs (08.1, 08.2): the course's OpenSearch and a client for it.
from course.testing.logs import opensearch, opensearch_url

# Alerts (helper A): the course's Prometheus/Alertmanager, throwaway ones, a recording webhook.
from course.testing.observability import (
    alertmanager_webhook,
    course_rules,
    scratch_prometheus,
)

# Traces (08.6, helper D): front → middle → back with the learner's parser and hook, spans in OpenSearch.
from course.testing.tracing import traced

__all__ = [
    "alertmanager_webhook",
    "course_rules",
    "opensearch",
    "opensearch_url",
    "scratch_prometheus",
    "traced",
]
