"""``course grade``: grade every student's hand-in, each in isolation, and write CSV, JUnit and feedback.

Each subfolder of the submissions folder is one student: either their copy of ``exercises/`` or a clone
of the course that contains one. Every student × exercise runs in a subprocess of its own, with
``COURSE_EXERCISES_ROOT`` set to the student's folder, in its own process group, killed at the time
limit. A bad hand-in costs only its own points.

Server state. The grading fixtures already give every test its own PostgreSQL database, MongoDB
database, Redis key prefix, Kafka topics and RabbitMQ vhost, so one student's tables, keys or queues
are never another's. The one command those fixtures cannot contain is Redis ``FLUSHALL``/``FLUSHDB``,
which wipes the whole shared server (every database number). ``rename-command`` would need a restart
of the shared server and a config the learner's own Redis does not have, so instead each student runs
as a throwaway Redis ACL user that may do everything except flush, swap databases, reconfigure or stop
the server: their ``FLUSHALL`` fails with ``NOPERM`` inside their own test, and their feedback says so.
A canary key written before grading proves afterwards that nothing wiped the shared server. Where ACLs
are unavailable, grading still runs and the canary check reports any flush. Source that drops tables or
databases, truncates or flushes is also pointed out in the feedback.
"""

from __future__ import annotations

import csv
import re
import secrets
import shutil
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

from course.harness.catalogue import ordered
from course.harness.loader import Exercise
from course.harness.runner import RunResult, TestOutcome, run_grading
from reference.config import get_settings

DEFAULT_TIMEOUT = 60.0
DENIED_REDIS_COMMANDS = (
    "flushall",
    "flushdb",
    "swapdb",
    "config",
    "shutdown",
    "debug",
    "acl",
    "replicaof",
    "slaveof",
    "failover",
    "module",
    "function|flush",
    "script|flush",
)
DANGEROUS_SOURCE = {
    r"\bflushall\b": "flushes the whole Redis server (FLUSHALL)",
    r"\bflushdb\b": "flushes a whole Redis database (FLUSHDB)",
    r"\bdrop\s+(table|database|schema)\b": "drops tables, databases or schemas",
    r"\btruncate\b": "truncates tables",
    r"\bdrop_database\s*\(": "drops a MongoDB database",
}


@dataclass
class StudentGrade:
    name: str
    root: Path
    results: dict[str, RunResult] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def points(self, exercise_id: str) -> int:
        result = self.results.get(exercise_id)
        return result.passed if result is not None else 0

    @property
    def total(self) -> int:
        return sum(self.points(ex_id) for ex_id in self.results)


@dataclass
class GradeReport:
    students: list[StudentGrade]
    exercises: list[Exercise]
    maximum: dict[str, int]
    out: Path
    warnings: list[str] = field(default_factory=list)


def find_students(submissions: Path) -> list[tuple[str, Path]]:
    """(name, exercises folder) per student subfolder, sorted by name; hidden folders are skipped."""
    students = []
    for folder in sorted(
        p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        nested = folder / "exercises"
        students.append((folder.name, (nested if nested.is_dir() else folder).resolve()))
    return students


def static_notes(source: str) -> list[str]:
    """Warnings about what the source does to shared servers (never points lost by themselves)."""
    return [
        f"warning: your code {what}; on a shared server that would destroy other people's data"
        for pattern, what in DANGEROUS_SOURCE.items()
        if re.search(pattern, source, flags=re.IGNORECASE)
    ]


def syntax_problem(path: Path) -> str | None:
    try:
        compile(path.read_bytes(), str(path), "exec")
    except SyntaxError as error:
        return f"{type(error).__name__} at line {error.lineno}: {error.msg}"
    except ValueError as error:  # pragma: no cover - e.g. null bytes in the file
        return f"the file cannot be compiled: {error}"
    return None


def result_notes(result: RunResult, limit: float) -> list[str]:
    """One clear line per thing that went wrong around the tests, for the student's feedback."""
    notes = []
    if result.timed_out:
        notes.append(
            f"stopped after {limit:g} s (the time limit): look for an infinite loop or a call "
            "that waits forever"
        )
    if result.collect_error is not None:
        notes.append(
            "the grading tests could not run: " + result.collect_error.strip().splitlines()[-1]
        )
    kinds = {t.exc_type for t in result.tests if t.outcome == "error"}
    for kind in sorted(k for k in kinds if k in ("ModuleNotFoundError", "ImportError")):
        example = next(t for t in result.tests if t.exc_type == kind)
        notes.append(
            f"your module could not be imported: {kind}: {example.message.splitlines()[0]}"
        )
    if any(
        t.exc_type == "FileNotFoundError" and "does not exist" in t.message for t in result.tests
    ):
        notes.append("the exercise file is missing from your hand-in")
    if any(
        "flush" in t.message.lower()
        and (t.exc_type == "NoPermissionError" or "NOPERM" in t.message)
        for t in result.tests
    ):
        notes.append(
            "your code tried to flush Redis (FLUSHALL/FLUSHDB): refused during grading, because on a "
            "shared server it deletes everyone's keys — delete only your own keys"
        )
    return notes


class RedisGuard:
    """A throwaway Redis ACL user per student that cannot flush, plus a canary that detects flushes."""

    def __init__(self) -> None:
        self.url = get_settings().redis_url
        self.admin = redis.Redis.from_url(self.url, socket_timeout=5, decode_responses=True)
        self.users: list[str] = []
        self.canary = f"course:grade:canary:{secrets.token_hex(6)}"
        self.available = True

    def __enter__(self) -> RedisGuard:
        try:
            self.admin.set(self.canary, "1", ex=3600)
        except redis.RedisError:
            self.available = False
        return self

    def url_for(self, student: str) -> str | None:
        """A Redis URL for ``student`` as a user that cannot flush; None when ACLs are unavailable."""
        if not self.available:
            return None
        user = (
            f"course_grade_{re.sub(r'[^a-z0-9]', '_', student.lower())[:40]}_{secrets.token_hex(3)}"
        )
        password = secrets.token_hex(16)
        rules = [
            "on",
            f">{password}",
            "~*",
            "&*",
            "+@all",
            *(f"-{c}" for c in DENIED_REDIS_COMMANDS),
            "+acl|whoami",
        ]
        try:
            self.admin.execute_command("ACL", "SETUSER", user, "reset", *rules)  # type: ignore[no-untyped-call]
        except redis.RedisError:
            return None
        self.users.append(user)
        parts = urlsplit(self.url)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))

    def flushed(self) -> bool:
        """True when the canary vanished: something wiped the shared Redis during grading."""
        try:
            return bool(self.available and not self.admin.exists(self.canary))
        except redis.RedisError:  # pragma: no cover - the server died during grading
            return True

    def __exit__(self, *_: object) -> None:
        try:
            if self.users:
                self.admin.execute_command("ACL", "DELUSER", *self.users)  # type: ignore[no-untyped-call]
            self.admin.delete(self.canary)
        except redis.RedisError:  # pragma: no cover - best effort clean-up
            pass
        self.admin.close()


def grade(
    submissions: Path,
    out: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int = 2,
    exercises: list[Exercise] | None = None,
    on_result: Callable[[str, RunResult, int, int], None] | None = None,
) -> GradeReport:
    """Grade every student in ``submissions``; write grades.csv, junit/ and feedback/ under ``out``.

    ``on_result(student, result, done, total)`` hears of each student × exercise as it ends (one call
    at a time, ``done`` counting up to ``total`` runs), so a long grading run is never silent.
    """
    chosen = exercises if exercises is not None else ordered()
    students = [StudentGrade(name, root) for name, root in find_students(submissions)]
    report = GradeReport(students, chosen, {}, out)
    needs_redis = any("redis" in ex.servers for ex in chosen)
    with RedisGuard() as guard:
        environments: dict[str, dict[str, str]] = {}
        for student in students:
            url = guard.url_for(student.name) if needs_redis else None
            environments[student.name] = {"REDIS_URL": url} if url else {}
        if needs_redis and not guard.available:
            report.warnings.append("Redis is not reachable: flush protection is off")

        jobs: list[tuple[StudentGrade, Exercise]] = []
        for student in students:
            for exercise in chosen:
                path = student.root / exercise.relative_path
                notes = student.notes.setdefault(exercise.id, [])
                if path.is_file():
                    notes.extend(static_notes(path.read_text(errors="replace")))
                    problem = syntax_problem(path)
                    if problem is not None:
                        notes.insert(0, f"your file does not compile: {problem}")
                        continue
                jobs.append((student, exercise))

        finished = 0
        reporting = threading.Lock()

        def run(job: tuple[StudentGrade, Exercise]) -> None:
            nonlocal finished
            student, exercise = job
            result = run_grading(
                exercise, student.root, timeout=timeout, env=environments[student.name]
            )
            student.results[exercise.id] = result
            student.notes[exercise.id].extend(result_notes(result, timeout))
            with reporting:  # workers finish concurrently; report them one at a time, in order
                finished += 1
                if on_result is not None:
                    on_result(student.name, result, finished, len(jobs))

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(run, jobs))
        if guard.flushed():
            report.warnings.append(
                "the shared Redis was flushed during grading: results of Redis exercises may be wrong"
            )
    for exercise in chosen:
        report.maximum[exercise.id] = max(
            (s.results[exercise.id].total for s in students if exercise.id in s.results), default=0
        )
    write_outputs(report)
    return report


def write_outputs(report: GradeReport) -> None:
    out = report.out
    if (out / "feedback").exists():
        shutil.rmtree(out / "feedback")
    if (out / "junit").exists():
        shutil.rmtree(out / "junit")
    (out / "feedback").mkdir(parents=True)
    (out / "junit").mkdir()
    ids = [ex.id for ex in report.exercises]
    with (out / "grades.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *ids, "total"])
        writer.writerow(["(max)", *(report.maximum[i] for i in ids), sum(report.maximum.values())])
        for student in report.students:
            writer.writerow([student.name, *(student.points(i) for i in ids), student.total])
    for student in report.students:
        (out / "junit" / f"{student.name}.xml").write_text(junit_xml(student, report))
        (out / "feedback" / f"{student.name}.md").write_text(feedback_markdown(student, report))


def _expected_tests(
    student: StudentGrade, exercise: Exercise, report: GradeReport
) -> list[TestOutcome]:
    """The student's test outcomes, or (when nothing ran) the others' tests marked as not run."""
    result = student.results.get(exercise.id)
    if result is not None and result.tests:
        return result.tests
    template = next(
        (
            s.results[exercise.id].tests
            for s in report.students
            if s.results.get(exercise.id) and s.results[exercise.id].tests
        ),
        [],
    )
    reason = (student.notes.get(exercise.id) or ["not run"])[0]
    return [TestOutcome(t.nodeid, t.name, t.doc, "error", "NotRun", (), reason) for t in template]


def junit_xml(student: StudentGrade, report: GradeReport) -> str:
    suites = ET.Element("testsuites", name=student.name)
    for exercise in report.exercises:
        tests = _expected_tests(student, exercise, report)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{exercise.id} {exercise.title}",
            tests=str(len(tests)),
            failures=str(sum(t.outcome == "failed" for t in tests)),
            errors=str(sum(t.outcome not in ("passed", "failed", "skipped") for t in tests)),
            skipped=str(sum(t.outcome == "skipped" for t in tests)),
        )
        for note in student.notes.get(exercise.id, []):
            ET.SubElement(suite, "system-out").text = note
        for test in tests:
            case = ET.SubElement(suite, "testcase", classname=exercise.test, name=test.name)
            if test.outcome == "failed":
                ET.SubElement(case, "failure", message=test.message[:500], type=test.exc_type or "")
            elif test.outcome == "skipped":
                ET.SubElement(case, "skipped", message=test.message[:500])
            elif test.outcome != "passed":
                ET.SubElement(
                    case, "error", message=test.message[:500], type=test.exc_type or test.outcome
                )
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


def feedback_markdown(student: StudentGrade, report: GradeReport) -> str:
    maximum = sum(report.maximum.values())
    lines = [
        f"# Feedback for {student.name}",
        "",
        f"Total: **{student.total}/{maximum}** points",
        "",
    ]
    marks = {"passed": "✅", "skipped": "⏭️"}
    for exercise in report.exercises:
        points = student.points(exercise.id)
        lines += [f"## {exercise.id} {exercise.title} — {points}/{report.maximum[exercise.id]}", ""]
        for note in student.notes.get(exercise.id, []):
            lines.append(f"> **{note}**")
        if student.notes.get(exercise.id):
            lines.append("")
        for test in _expected_tests(student, exercise, report):
            doc = " ".join(test.doc.split()) or test.name
            lines.append(f"- {marks.get(test.outcome, '❌')} `{test.name}` — {doc}")
            if test.outcome != "passed":
                first = (test.message or test.outcome).strip().splitlines()[0][:300]
                kind = (
                    f"{test.exc_type}: "
                    if test.exc_type
                    and test.outcome in ("failed", "error")
                    and not first.startswith(test.exc_type)
                    else ""
                )
                lines.append(f"  - {test.outcome}: {kind}{first}")
        lines.append("")
    return "\n".join(lines)
