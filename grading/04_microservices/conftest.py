"""Chapter 04's fixtures: one definition each, in ``course.testing.<topic>``, shared with the grading
tests (``grading/04_microservices/conftest.py`` imports the same names)."""

from course.testing.discovery import (
    etcd_prefix,
    etcd_url,
    instance_processes,
    quiet_etcd_url,
    scratch_etcd,
    service_processes,
)
from course.testing.gateway import issuer
from course.testing.resilience import dead_url, flaky, flaky_server, manual_clock

__all__ = [
    "dead_url",
    "etcd_prefix",
    "etcd_url",
    "flaky",
    "flaky_server",
    "instance_processes",
    "issuer",
    "manual_clock",
    "quiet_etcd_url",
    "scratch_etcd",
    "service_processes",
]
