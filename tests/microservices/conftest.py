"""Chapter 04's fixtures: one definition each, in ``course.testing.<topic>``, shared with the grading
tests (``grading/04_microservices/conftest.py`` imports the same names)."""

from course.testing.gateway import issuer
from course.testing.resilience import dead_url, flaky, flaky_server, manual_clock

__all__ = ["dead_url", "flaky", "flaky_server", "issuer", "manual_clock"]
