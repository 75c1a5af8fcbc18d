"""``course grade``: grade every student's hand-in, each job sandboxed, and write CSV, JUnit and feedback.

Pattern: untrusted code graded by trusted tests (the instructor's side of the course; no notebook
teaches it). Each subfolder of the submissions folder is one student: either their copy of
``exercises/`` or a clone of the course that contains one. Every student × exercise is one job:

- **Expected tests** come from a collection run per exercise with an empty exercises folder
  (:func:`~course.harness.runner.collect_expected`), so no hand-in's code can add, hide or rename a
  test; the maximum comes from that list, and records for any other test are ignored.
- **Sandbox**: each job runs in bubblewrap (:mod:`course.harness.sandbox`) on a read-only course
  without ``solutions/``, with a copy of the student's files, as ``nobody``, with a private ``/tmp``
  and a PID namespace. Without bubblewrap, :func:`grade` refuses (:class:`GradingRefused`) unless the
  instructor passes ``trust_submissions``.
- **Report integrity**: outcomes come over the runner's token-carrying channel; a forged line, or
  pytest's machinery changed by the graded code, scores that job 0 with a "review:" line
  (:mod:`course.harness.report_plugin`). Source reaching for the grader (``COURSE_*``, ``_pytest``,
  ``grading/``, ``solutions/``, ``/proc``, ``os._exit``, ``setsid``, server admin commands) is pointed
  out for review without costing points.
- **Servers**: the grading fixtures give every test its own database, key prefix, topics and vhost,
  named with the job's run tag. Redis: each job runs as a throwaway ACL user confined to keys and
  channels carrying its tag, with no ``@dangerous``/``@admin`` command (:class:`RedisGuard`); a canary
  key proves afterwards that nothing flushed the shared server. The parent removes whatever carries
  the tag after every sandboxed job. PostgreSQL: each job logs in as a role of its own
  (:func:`~course.testing.resources.create_postgres_role`: may create databases, so owns and may drop
  its own, but no superuser), dropped with everything it owns afterwards. RabbitMQ: each job connects
  as a user of its own (:func:`~course.testing.resources.create_rabbitmq_user`) permitted only on the
  vhosts the parent made for it, one per expected test, all deleted with the user afterwards. Kafka:
  each job connects to the broker's SCRAM listener as a user of its own
  (:func:`~course.testing.resources.create_kafka_user`) whose ACLs cover only names carrying its tag;
  the user, its ACLs, topics and groups are removed afterwards. MongoDB is *not* confined per job
  (mongo-java-server has no authentication; see the README).
- **Scale**: ``workers`` jobs at a time; ``shard=(i, N)`` grades every N-th student, and :func:`merge`
  combines N shards' outputs into the same files one run writes.
"""

from __future__ import annotations

import contextlib
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

from course.harness import sandbox
from course.harness.catalogue import ordered
from course.harness.loader import PROBED_VARIABLE, Exercise
from course.harness.runner import (
    CollectionError,
    ExpectedTest,
    RunResult,
    TestOutcome,
    collect_expected,
    run_grading,
)
from course.testing.resources import (
    create_kafka_user,
    create_postgres_role,
    create_rabbitmq_user,
    drop_kafka_user,
    drop_postgres_role,
    drop_rabbitmq_user,
    new_run_tag,
)
from reference.config import REPO_ROOT, get_settings

DEFAULT_TIMEOUT = 60.0
SUSPICIOUS_SOURCE = {
    r"COURSE_[A-Z_]+": "reads the grader's COURSE_* settings",
    r"\b_?pytest\b|\bpluggy\b": "imports pytest or its internals",
    r"\bgrading\b": "names the grading/ folder",
    r"\bsolutions\b": "names the solutions/ folder",
    r"/proc/|/dev/fd\b": "reads process internals (/proc, /dev/fd)",
    r"\bgc\.get_objects|\bsys\._getframe|\binspect\.(stack|currentframe)|report_(plugin|channel)": (
        "inspects the grader's own objects"
    ),
    r"\bos\._exit\b": "ends the process without clean-up (os._exit)",
    r"\bsetsid\b|\bos\.fork\b": "starts processes that outlive it (setsid, fork)",
    r"(?i)\bclient\W+(pause|kill)\b|\bconfig\W+set\b|\bmonitor\b|\bshutdown\b": (
        "sends server administration commands (CLIENT PAUSE/KILL, CONFIG SET, MONITOR, SHUTDOWN)"
    ),
}
"""Patterns no exercise needs: each is pointed out to the instructor, never costs points by itself."""
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
    expected: dict[str, list[ExpectedTest]] = field(default_factory=dict)


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


def uses_monitor(exercise: Exercise) -> bool:
    """Whether the exercise's grading tests watch Redis with MONITOR (their job's user needs it)."""
    return ".monitor(" in (REPO_ROOT / exercise.test).read_text(errors="replace")


def review_notes(source: str) -> list[str]:
    """Lines for the instructor about source that reaches for the grader rather than the exercise."""
    return [
        f"review: your code {what}; an exercise never needs to, so the instructor will look at it"
        for pattern, what in SUSPICIOUS_SOURCE.items()
        if re.search(pattern, source)
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
    if result.integrity:
        notes.append(
            "review: this run's results cannot be trusted, so it scores 0 until the instructor "
            f"has looked: {result.integrity[0]}"
            + (f" (and {len(result.integrity) - 1} more)" if len(result.integrity) > 1 else "")
        )
    exits = [t for t in result.tests if t.exc_type == "SystemExit"]
    if exits:
        at_import = next((t for t in exits if "at import" in t.message), None)
        notes.append(
            at_import.message.splitlines()[0]
            if at_import is not None
            else f"your code called sys.exit() during a test: {exits[0].message.splitlines()[0]}"
        )
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
    """A throwaway Redis ACL user per job, confined to the job's keys, plus a canary for flushes.

    Each job's user may touch only keys and channels carrying the job's run tag (``~*_<tag>_*``: the
    grading fixtures' key prefixes carry it) and no ``@dangerous`` or ``@admin`` command — no
    FLUSHALL, KEYS, CLIENT PAUSE/KILL, CONFIG, SAVE, DEBUG, SHUTDOWN — except ``INFO`` (a health
    check reads the version) and, for an exercise whose grading tests watch the wire with MONITOR,
    ``MONITOR`` (it shows other jobs' commands: a leak, not a way to change them).
    """

    def __init__(self) -> None:
        self.url = get_settings().redis_url
        self.admin = redis.Redis.from_url(self.url, socket_timeout=5, decode_responses=True)
        self.canary = f"course:grade:canary:{secrets.token_hex(6)}"
        self.available = True
        self.users: set[str] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> RedisGuard:
        try:
            self.admin.set(self.canary, "1", ex=3600)
        except redis.RedisError:
            self.available = False
        return self

    def url_for(self, student: str, tag: str, *, monitor: bool = False) -> tuple[str, str] | None:
        """``(url, user)`` for one job of ``student`` with run ``tag``; None without ACLs."""
        if not self.available:
            return None
        name = re.sub(r"[^a-z0-9]", "_", student.lower())[:40]
        user = f"course_grade_{name}_{tag}"
        password = secrets.token_hex(16)
        rules = [
            "on",
            f">{password}",
            f"~*_{tag}_*",
            f"&*_{tag}_*",
            "+@all",
            "-@dangerous",
            "-@admin",
            "+info",
            "+acl|whoami",
            *(["+monitor"] if monitor else []),
        ]
        try:
            self.admin.execute_command("ACL", "SETUSER", user, "reset", *rules)  # type: ignore[no-untyped-call]
        except redis.RedisError:
            return None
        with self._lock:
            self.users.add(user)
        parts = urlsplit(self.url)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}")), user

    def drop(self, user: str) -> None:
        """Delete a job's user (and close its connections) once the job is over."""
        with contextlib.suppress(redis.RedisError):
            self.admin.execute_command("ACL", "DELUSER", user)  # type: ignore[no-untyped-call]
        with self._lock:
            self.users.discard(user)

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


class GradingRefused(RuntimeError):
    """Grading would not be safe here (no sandbox for untrusted hand-ins); the message says why."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` → ``(2, 3)``: the second of three slices. ValueError for anything else."""
    index_text, _, count_text = text.partition("/")
    index, count = int(index_text), int(count_text)
    if not 1 <= index <= count:
        raise ValueError(f"a shard is i/N with 1 <= i <= N, got {text!r}")
    return index, count


def shard_of(students: list[tuple[str, Path]], shard: tuple[int, int]) -> list[tuple[str, Path]]:
    """The students shard ``i/N`` grades: every N-th by name, starting at the i-th, so N runners
    with the same submissions folder grade disjoint slices that together cover the class."""
    index, count = shard
    return [s for position, s in enumerate(students) if position % count == index - 1]


def _maximum(expected: list[ExpectedTest], results: list[RunResult]) -> int:
    """The expected tests, less those skipped in every run that reported them (a feature the
    server lacks counts for no one)."""
    ran = [r for r in results if r.tests]
    skipped_everywhere = {
        t.nodeid
        for t in expected
        if ran
        and all(any(o.nodeid == t.nodeid and o.outcome == "skipped" for o in r.tests) for r in ran)
    }
    return len(expected) - len(skipped_everywhere)


def grade(
    submissions: Path,
    out: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int = 2,
    exercises: list[Exercise] | None = None,
    on_result: Callable[[str, RunResult, int, int], None] | None = None,
    trust_submissions: bool = False,
    shard: tuple[int, int] = (1, 1),
) -> GradeReport:
    """Grade every student in ``submissions`` (or shard ``i/N`` of them); write grades.csv, junit/
    and feedback/ under ``out``.

    Each job runs in a bubblewrap sandbox (:mod:`course.harness.sandbox`); where none can be made,
    :class:`GradingRefused` is raised unless ``trust_submissions`` (then jobs run unsandboxed). The
    tests each exercise expects come from a collection run that imports no hand-in
    (:func:`~course.harness.runner.collect_expected`), and so does the maximum.
    ``on_result(student, result, done, total)`` hears of each student × exercise as it ends (one call
    at a time, ``done`` counting up to ``total`` runs), so a long grading run is never silent.
    """
    sandboxed = not trust_submissions
    if sandboxed:
        reason = sandbox.unavailable()
        if reason is not None:
            raise GradingRefused(
                f"cannot sandbox the hand-ins: {reason}. Untrusted code would run with your user's "
                "rights, read solutions/ and change grading/; install bubblewrap, or pass "
                "--trust-submissions if you trust every hand-in"
            )
    chosen = exercises if exercises is not None else ordered()
    students = [
        StudentGrade(name, root) for name, root in shard_of(find_students(submissions), shard)
    ]
    report = GradeReport(students, chosen, {}, out)
    expected: dict[str, list[ExpectedTest]] = {}
    for exercise in chosen:
        try:
            expected[exercise.id] = collect_expected(exercise)
        except CollectionError as error:
            report.warnings.append(f"{exercise.id}: not graded: {error}")
    needs_redis = any("redis" in ex.servers for ex in chosen)
    probed = ",".join(sorted({server for ex in chosen for server in ex.servers}))
    with RedisGuard() as guard:
        if needs_redis and not guard.available:
            report.warnings.append("Redis is not reachable: flush protection is off")

        jobs: list[tuple[StudentGrade, Exercise]] = []
        for student in students:
            for exercise in chosen:
                path = student.root / exercise.relative_path
                notes = student.notes.setdefault(exercise.id, [])
                if exercise.id not in expected:
                    notes.append("not graded: the grading tests could not be collected")
                    continue
                if path.is_file():
                    source = path.read_text(errors="replace")
                    notes.extend(static_notes(source))
                    notes.extend(review_notes(source))
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
            tag = new_run_tag()
            env = {PROBED_VARIABLE: probed}
            redis_user = (
                guard.url_for(student.name, tag, monitor=uses_monitor(exercise))
                if "redis" in exercise.servers
                else None
            )
            if redis_user is not None:
                env["REDIS_URL"] = redis_user[0]
            if "postgres" in exercise.servers:
                env["DATABASE_URL"] = create_postgres_role(tag)
            if "rabbitmq" in exercise.servers:
                env.update(create_rabbitmq_user(tag, len(expected[exercise.id])))
            if "kafka" in exercise.servers:
                env.update(create_kafka_user(tag))
            try:
                result = run_grading(
                    exercise,
                    student.root,
                    timeout=timeout,
                    env=env,
                    expected=expected[exercise.id],
                    sandboxed=sandboxed,
                    tag=tag,
                )
            finally:
                if redis_user is not None:
                    guard.drop(redis_user[1])
                if "postgres" in exercise.servers:
                    try:
                        drop_postgres_role(tag)
                    except Exception as error:  # noqa: BLE001 — reported, never fatal to grading
                        with reporting:
                            report.warnings.append(f"could not drop {tag}'s role: {error}")
                if "rabbitmq" in exercise.servers:
                    try:
                        drop_rabbitmq_user(tag)
                    except Exception as error:  # noqa: BLE001 — reported, never fatal to grading
                        with reporting:
                            report.warnings.append(f"could not drop {tag}'s RabbitMQ user: {error}")
                if "kafka" in exercise.servers:
                    try:
                        drop_kafka_user(tag)
                    except Exception as error:  # noqa: BLE001 — reported, never fatal to grading
                        with reporting:
                            report.warnings.append(f"could not drop {tag}'s Kafka user: {error}")
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
        report.maximum[exercise.id] = _maximum(
            expected.get(exercise.id, []),
            [s.results[exercise.id] for s in students if exercise.id in s.results],
        )
        report.expected[exercise.id] = expected.get(exercise.id, [])
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
    """The student's test outcomes, or (when nothing ran) the expected tests marked as not run."""
    result = student.results.get(exercise.id)
    if result is not None and result.tests:
        return result.tests
    reason = (student.notes.get(exercise.id) or ["not run"])[0]
    return [
        TestOutcome(t.nodeid, t.name, t.doc, "error", "NotRun", (), reason)
        for t in report.expected.get(exercise.id, [])
    ]


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


class MergeError(ValueError):
    """Shard outputs that do not belong together (other exercises or maxima, a student twice)."""


def merge(parts: list[Path], out: Path) -> list[str]:
    """Combine the outputs of ``course grade --shard i/N`` runs into one grades.csv, junit/ and
    feedback/ under ``out``; returns the students, sorted. Raises :class:`MergeError`."""
    header: list[str] | None = None
    maximum: list[str] | None = None
    rows: dict[str, list[str]] = {}
    for part in parts:
        with (part / "grades.csv").open(newline="") as handle:
            lines = list(csv.reader(handle))
        if len(lines) < 2 or lines[1][:1] != ["(max)"]:
            raise MergeError(f"{part / 'grades.csv'} is not a grades file")
        if header is None:
            header, maximum = lines[0], lines[1]
        elif lines[0] != header or lines[1] != maximum:
            raise MergeError(f"{part} graded other exercises (or another maximum) than {parts[0]}")
        for row in lines[2:]:
            if row[0] in rows:
                raise MergeError(f"{row[0]} is in two shards")
            rows[row[0]] = row
    if header is None or maximum is None:
        raise MergeError("nothing to merge")
    for folder in ("junit", "feedback"):
        if (out / folder).exists():
            shutil.rmtree(out / folder)
        (out / folder).mkdir(parents=True)
        for part in parts:
            for path in sorted((part / folder).iterdir()):
                shutil.copyfile(path, out / folder / path.name)
    with (out / "grades.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow(maximum)
        for name in sorted(rows):
            writer.writerow(rows[name])
    return sorted(rows)
