"""The learner's progress: which exercises pass and how many hints were shown, in ``.course/progress.json``.

The file is git-ignored and belongs to the learner's checkout; ``$COURSE_PROGRESS_FILE`` points elsewhere
(tests use that). A missing or unreadable file is an empty progress, never an error.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reference.config import REPO_ROOT

PROGRESS_VARIABLE = "COURSE_PROGRESS_FILE"
FORMAT_VERSION = 1


def progress_path() -> Path:
    return Path(os.environ.get(PROGRESS_VARIABLE) or REPO_ROOT / ".course" / "progress.json")


@dataclass
class Progress:
    """Per-exercise status (``passed``/``failed`` with test counts) and hints shown."""

    exercises: dict[str, dict[str, Any]] = field(default_factory=dict)
    hints: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Progress:
        try:
            data = json.loads(progress_path().read_text())
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            return cls()
        return cls(exercises=dict(data.get("exercises", {})), hints=dict(data.get("hints", {})))

    def save(self) -> None:
        path = progress_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": FORMAT_VERSION, "exercises": self.exercises, "hints": self.hints}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        temporary.replace(path)

    def record(self, exercise_id: str, *, passed: int, total: int, ok: bool) -> None:
        self.exercises[exercise_id] = {
            "status": "passed" if ok else "failed",
            "passed": passed,
            "total": total,
            "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def forget(self, exercise_id: str) -> None:
        """Back to untouched: no status, and the next hint is the first again."""
        self.exercises.pop(exercise_id, None)
        self.hints.pop(exercise_id, None)

    def is_done(self, exercise_id: str) -> bool:
        return self.exercises.get(exercise_id, {}).get("status") == "passed"

    def status(self, exercise_id: str) -> str:
        """``passed``, ``failed`` or ``not checked``."""
        return str(self.exercises.get(exercise_id, {}).get("status", "not checked"))

    def next_hint(self, exercise_id: str, available: int) -> int:
        """Index of the hint to show now (advancing the counter; the last hint repeats)."""
        shown = self.hints.get(exercise_id, 0)
        index = min(shown, available - 1)
        self.hints[exercise_id] = min(shown + 1, available)
        return index
