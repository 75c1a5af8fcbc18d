"""Chapter 08's fixtures: one definition each, in ``course.testing.<topic>``, shared with the grading
tests (``grading/08_observability/conftest.py`` imports the same names). Each helper's block imports
its own."""

# Logs: the course's OpenSearch, a per-test log index, a proxy to take OpenSearch away and back.
from course.testing.logs import log_index, opensearch, opensearch_url, outage_proxy

__all__ = [
    "log_index",
    "opensearch",
    "opensearch_url",
    "outage_proxy",
]
