"""A hand-in that re-exports the course's own implementation as its answer fails every test, saying
which name and whose it is (``course.harness.loader.BorrowedAnswer``): the sandbox must carry
``reference/`` (the stubs import helpers from it), and behaviour alone cannot tell a re-export from an
answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.harness import sandbox
from course.harness.loader import catalogue
from course.harness.runner import run_grading
from course.harness.verify import _decoy_root

RE_EXPORT = '''"""A hand-in that takes the reference's RetryBudget and send."""
from reference.microservices.retry import RetryBudget as RetryBudget


def send(*args, **kwargs):  # a wrapper of its own: not the course's object, so not flagged
    raise NotImplementedError
'''


@pytest.mark.parametrize("sandboxed", [False, True], ids=["course check", "course grade"])
def test_a_re_exported_reference_class_fails_every_test_with_one_clear_line(
    tmp_path: Path, sandboxed: bool
) -> None:
    """In the grading sandbox too, which carries the pristine stub for the answer names."""
    if sandboxed and (why := sandbox.unavailable()) is not None:
        pytest.skip(why)
    exercise = catalogue()["04.4"]
    hand_in = tmp_path / "retry_budget.py"
    hand_in.write_text(RE_EXPORT)
    root = _decoy_root(exercise, str(hand_in), tmp_path / "root")
    result = run_grading(exercise, root, sandboxed=sandboxed)
    assert result.total > 0
    assert result.passed == 0
    for test in result.counted:
        assert test.exc_type == "BorrowedAnswer", (test.name, test.exc_type, test.message)
        assert "RetryBudget (reference.microservices.retry.RetryBudget)" in test.message
        assert "Write your own" in test.message


def test_no_solution_or_stub_is_mistaken_for_a_borrowed_answer() -> None:
    """Solutions import helpers from reference/ too; only the names the stub asks for count."""
    import importlib.util
    import sys

    from course.harness.loader import borrowed_answers
    from reference.config import REPO_ROOT

    for exercise in catalogue().values():
        for path in (exercise.solution, exercise.stub):
            name = "borrow_check_" + path.replace("/", "_").removesuffix(".py")
            spec = importlib.util.spec_from_file_location(name, REPO_ROOT / path)
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            assert borrowed_answers(exercise, module) == [], path
