"""Chapter 05's fixtures (``bootstrap``, ``producer``, ``group``): one definition, in
:mod:`course.testing.messaging`, shared with the grading tests."""

from course.testing.messaging import bootstrap, group, producer

__all__ = ["bootstrap", "group", "producer"]
