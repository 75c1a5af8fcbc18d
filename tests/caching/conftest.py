"""Chapter 06's fixtures (``redis``, ``prefix``, ``dead_redis``, ``users``): one definition, in
:mod:`course.testing.caching`, shared with the grading tests."""

from course.testing.caching import dead_redis, prefix, redis, users

__all__ = ["dead_redis", "prefix", "redis", "users"]
