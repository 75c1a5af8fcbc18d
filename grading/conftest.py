"""The one way a grading test gets the learner's module: the ``exercise`` fixture.

A grading file is named ``test_NN_K_<name>.py`` (the catalogue's convention, see
``course/harness/loader.py``), so the fixture derives the exercise from the test module's file name
and never needs an id written in the file. It loads the module from the graded folder
(``$COURSE_EXERCISES_ROOT``: the stubs, ``solutions/``, a decoy or a student's hand-in) once per
grading module — as the learner's code is imported once in real use; a test that patches an attribute
does so with ``monkeypatch`` so the next test sees the module unchanged. A module that fails to import
fails every test that asks for it, each with the import's error.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from course.harness.loader import exercise_for_test, load_exercise


@pytest.fixture(scope="module")
def exercise(request: pytest.FixtureRequest) -> ModuleType:
    return load_exercise(exercise_for_test(request.path).id)
