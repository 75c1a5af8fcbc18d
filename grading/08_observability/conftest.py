"""Chapter 08's fixtures: one definition each, in ``course.testing.<topic>``, shared with the tests
(``tests/observability/`` imports the same names). Each helper's block imports its own."""

# Logs (08.1, 08.2): the course's OpenSearch and a client for it.
from course.testing.logs import opensearch, opensearch_url

__all__ = [
    "opensearch",
    "opensearch_url",
]
