"""``course grade``: every student graded in isolation, bad hand-ins explained, others unaffected."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET  # parses only the JUnit files the harness wrote
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import psycopg
import pymongo
import pytest
import redis
from typer.testing import CliRunner

from course.cli import app
from course.harness import grading
from course.harness.loader import catalogue
from course.harness.runner import STOP_GRACE
from reference.config import REPO_ROOT, get_settings

SUBMISSIONS = REPO_ROOT / "tests" / "fixtures" / "submissions"


def collected(test_file: str) -> int:
    """How many tests pytest collects from a grading file (so the counts follow the exercise)."""
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", test_file],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COURSE_AUTOSTART": "0"},
    )
    return sum(1 for line in listing.stdout.splitlines() if "::" in line)


TESTS_IN_00_1 = collected(catalogue()["00.1"].test)


def junit(out: Path, student: str) -> ET.Element:
    """The root of a JUnit file the harness itself wrote (trusted input)."""
    return ET.parse(out / "junit" / f"{student}.xml").getroot()  # noqa: S314


def read_grades(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open() as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def write_student(root: Path, name: str, prelude: str) -> None:
    """A student whose answer is the solution, preceded by ``prelude`` at import time."""
    folder = root / name / "exercises" / "00_setup"  # a clone of the course, not just exercises/
    folder.mkdir(parents=True)
    solution = (REPO_ROOT / "solutions" / "00_setup" / "health_check.py").read_text()
    head, _, tail = solution.partition("SERVERS = ")
    (folder / "health_check.py").write_text(head + prelude + "\n\nSERVERS = " + tail)


def test_grade_refuses_to_run_while_a_server_is_down(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://course:course@127.0.0.1:{closed_port}/course")
    result = cli.invoke(app, ["grade", str(SUBMISSIONS), "--out", str(tmp_path), "-e", "00.1"])
    assert result.exit_code == 1
    assert "course services up postgres" in result.output
    assert "not grading" in result.output


def test_grade_needs_a_folder_and_known_exercises(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["grade", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "is not a folder" in result.output
    unknown = cli.invoke(app, ["grade", str(tmp_path), "-e", "77.7"])
    assert unknown.exit_code == 2
    assert "no exercise or chapter '77.7'" in unknown.output


def test_static_notes_point_out_destructive_statements() -> None:
    notes = grading.static_notes('cur.execute("DROP TABLE users")\nclient.drop_database("x")')
    assert any("drops tables" in n for n in notes)
    assert any("drops a MongoDB database" in n for n in notes)
    assert grading.static_notes("print('hello')") == []


def test_redis_guard_user_is_confined_to_its_jobs_keys() -> None:
    """The throwaway ACL user may read and write the job's own keys (they carry its run tag) and
    INFO, but not another job's key, FLUSHALL/FLUSHDB, KEYS, CLIENT PAUSE/KILL, CONFIG, SAVE."""
    from course.testing.resources import new_run_tag

    admin = redis.Redis.from_url(get_settings().redis_url, decode_responses=True)
    other = f"test_grade_witness:{time.time_ns()}"
    admin.set(other, "someone else's", ex=600)
    tag = new_run_tag()
    try:
        with grading.RedisGuard() as guard:
            made = guard.url_for("Some Student!", tag)
            assert made is not None
            url, user = made
            student = redis.Redis.from_url(url)
            own = f"t_{tag}_0123456789:key"
            assert student.set(own, "1", ex=60)
            assert student.info("server")["redis_version"]
            for command in (
                ("FLUSHALL",),
                ("FLUSHDB",),
                ("KEYS", "*"),
                ("CLIENT", "PAUSE", "1000"),
                ("CLIENT", "KILL", "TYPE", "normal"),
                ("CONFIG", "SET", "maxmemory", "1"),
                ("SAVE",),
                ("MONITOR",),
                ("GET", other),
                ("DEL", other),
            ):
                with pytest.raises(redis.exceptions.NoPermissionError):
                    student.execute_command(*command)  # type: ignore[no-untyped-call]
            student.delete(own)
            student.close()
            assert not guard.flushed()
            guard.drop(user)
            assert user not in admin.acl_users()
            watcher = guard.url_for("watcher", new_run_tag(), monitor=True)
            assert watcher is not None
            users = list(guard.users)
        assert not set(users) & set(admin.acl_users())
        assert admin.get(other) == "someone else's"
    finally:
        admin.delete(other)
        admin.close()


def test_redis_guard_degrades_without_redis(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://:course@127.0.0.1:{closed_port}/0")
    with grading.RedisGuard() as guard:
        assert not guard.available
        assert guard.url_for("x", "r0123456789") is None
        assert not guard.flushed()


def _hand_in(root: Path, stem: str, function: str, body: str) -> None:
    """A student whose ``function`` in ``02_databases/<stem>.py`` records what it sees, then sleeps
    past the time limit; the rest of the file is the solution."""
    solution = (REPO_ROOT / "solutions" / "02_databases" / f"{stem}.py").read_text()
    head, _, _ = solution.partition(f"def {function}(")
    folder = root / "exercises" / "02_databases"
    folder.mkdir(parents=True)
    (folder / f"{stem}.py").write_text(head + body)


SLEEPER_02_6 = """def get_many_json(client, keys):
    import pathlib, time
    pathlib.Path(__file__).with_name("seen.txt").write_text(keys[0])
    time.sleep(3600)
"""

IGNORES_SIGTERM_02_7 = """def fenced_set_balance(conn, account_id, balance, fence):
    import signal, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL stops this one: no teardown
    time.sleep(3600)
"""


def test_a_test_stopped_at_the_time_limit_still_tears_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM first: pytest stops the sleeping test and its fixtures delete its Redis keys (no
    TTL) before the process exits — here without the parent's clean-up, which is switched off."""
    from course.harness import runner
    from course.harness.catalogue import select

    _hand_in(tmp_path, "json_many", "get_many_json", SLEEPER_02_6)
    monkeypatch.setattr(runner, "remove_run_resources", lambda *_args: ([], []))
    (exercise,) = select(["02.6"])
    result = runner.run_grading(exercise, tmp_path / "exercises", timeout=30)
    assert result.timed_out
    key = (tmp_path / "exercises" / "02_databases" / "seen.txt").read_text()
    prefix = key.split(":", 1)[0] + ":"
    assert re.fullmatch(r"t_r[0-9a-f]{10}_[0-9a-f]{10}:", prefix), prefix  # the run's tag
    client = redis.Redis.from_url(get_settings().redis_url)
    assert list(client.scan_iter(match=prefix + "*")) == []


def test_a_run_killed_before_teardown_leaves_nothing_on_the_servers(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand-in that ignores SIGTERM is SIGKILLed, so its fixtures never tear down: the grader
    then removes the run's own leftovers — the test's database and its Redis keys (the lock's
    fencing counter has no TTL) — by the run's tag, and nobody else's."""
    from course.testing.resources import new_run_tag

    tag = new_run_tag()
    monkeypatch.setattr(grading, "new_run_tag", lambda: tag)  # the one job's tag, known here
    submissions = tmp_path / "submissions"
    _hand_in(submissions / "hank", "fenced_balance", "fenced_set_balance", IGNORES_SIGTERM_02_7)
    witness = redis.Redis.from_url(get_settings().redis_url)
    other = f"test_grade_witness:{time.time_ns()}"
    witness.set(other, "still here", ex=600)
    out = tmp_path / "out"
    try:
        result = cli.invoke(
            app, ["grade", str(submissions), "--out", str(out), "--timeout", "30", "-e", "02.7"]
        )
        assert witness.get(other) == b"still here"
    finally:
        witness.delete(other)
    assert result.exit_code == 0, result.output
    assert "stopped after 30 s" in (out / "feedback" / "hank.md").read_text()
    assert list(witness.scan_iter(match=f"*_{tag}_*")) == []
    with psycopg.connect(get_settings().database_url) as admin:
        left = admin.execute(
            "SELECT datname FROM pg_database WHERE strpos(datname, %s) > 0", (f"_{tag}_",)
        ).fetchall()
    assert left == []


def test_a_runs_leftovers_are_found_by_its_tag_on_every_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Names made under a run tag carry it; remove_run_resources deletes, on all six servers,
    exactly what carries it: another run's key survives."""
    from kafka.admin import KafkaAdminClient, NewTopic

    from course.testing import resources
    from reference.microservices.etcd import etcd_client

    settings = get_settings()
    tag, other_tag = resources.new_run_tag(), resources.new_run_tag()
    monkeypatch.setenv(resources.RUN_TAG_VARIABLE, other_tag)
    survivor = resources.unique_name("t") + ":kept"
    monkeypatch.setenv(resources.RUN_TAG_VARIABLE, tag)
    name = resources.unique_name("t")
    assert name.startswith(f"t_{tag}_")

    client = redis.Redis.from_url(settings.redis_url)
    client.set(name + ":key", "left behind")
    client.set(survivor, "another run's", ex=600)
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    mongo: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(settings.mongodb_url)
    mongo[name].things.insert_one({"left": "behind"})
    kafka = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    kafka.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    parts = urlsplit(settings.rabbitmq_management_url)
    api = httpx.Client(
        base_url=f"{parts.scheme}://{parts.hostname}:{parts.port}",
        auth=(parts.username or "", parts.password or ""),
        timeout=10,
    )
    api.put(f"/api/vhosts/{name}").raise_for_status()
    etcd = etcd_client(settings.url_for("etcd"))
    etcd.put(f"/{name}/services/users/u1", "left behind")
    etcd.put(f"/{survivor}/services/users/u1", "another run's")
    try:
        # OpenSearch's remover has a test of its own (tests/observability/test_opensearch_launcher.py):
        # a heavy server is not started for this one
        servers = [s for s in resources.SERVERS if s != "opensearch"]
        removed, problems = resources.remove_run_resources(tag, servers, settings)
        assert problems == []
        assert len(removed) == 6, removed
        assert etcd.get_prefix(f"/{name}/") == []
        assert etcd.get(f"/{survivor}/services/users/u1") == [b"another run's"]
        assert client.exists(name + ":key") == 0
        assert client.get(survivor) == b"another run's"
        with psycopg.connect(settings.database_url) as admin:
            row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        assert row is None
        assert name not in mongo.list_database_names()
        assert name not in kafka.list_topics()
        assert api.get(f"/api/vhosts/{name}").status_code == 404
    finally:
        client.delete(survivor)
        etcd.delete_prefix(f"/{survivor}/")
        etcd.session.close()
        mongo.close()
        kafka.close()
        api.close()


# The class: alice (right), bob (does not compile), carol (loops forever), one hostile student per
# cheat of issue 13 (tests/fixtures/README.md says what each does), and three written here: erin (a
# missing import), frank (FLUSHALL through the grader's guard) and gina (os._exit at import). The
# class is graded once, sandboxed, by the module's `graded_class` fixture: every test below reads that
# one run (a grading of 00.1 costs carol's whole time limit, a CPU-bound loop), so they share one
# xdist group and the run happens once per session.
EXPECTED_CLASS = {
    "alice": TESTS_IN_00_1,
    "bob": 0,
    "carol": 0,
    "erin": 0,
    "frank": 0,
    "gina": 0,
    "hostile_1_report_garbage": 0,
    "hostile_2_forged_records": 0,
    "hostile_3_pytest_patch": 0,
    "hostile_4_solutions_by_path": 0,
    "hostile_5_sabotage_files": 0,
    "hostile_6_server_abuse": 0,
    "hostile_7_daemon": 0,
    "hostile_8_sys_exit": 0,
}
CLASS_TIMEOUT = 45
GRADED_CLASS = pytest.mark.xdist_group("graded_class")
DAEMON = b"sleep\x003607"  # hostile_7's double-forked daemon, as /proc/<pid>/cmdline spells it


def running(cmdline: bytes) -> list[int]:
    """Processes whose command line contains ``cmdline`` (NUL-separated arguments)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if cmdline in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile
                continue
    return found


def grade_roles() -> list[str]:
    """PostgreSQL roles of grading jobs still on the server."""
    with psycopg.connect(get_settings().database_url) as admin:
        rows = admin.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'course_grade_%'")
        return [str(row[0]) for row in rows]


def grade_acl_users() -> list[str]:
    admin = redis.Redis.from_url(get_settings().redis_url, decode_responses=True)
    try:
        return [str(u) for u in admin.acl_users() if str(u).startswith("course_grade_")]
    finally:
        admin.close()


@dataclass(frozen=True)
class GradedClass:
    """One `course grade` of the whole class, and what was true around it."""

    submissions: Path
    out: Path
    output: str
    exit_code: int
    elapsed: float
    witness_kept: bool
    protected: dict[Path, bytes]  # the files a cheat tries to change, before grading
    daemons_after: list[int]
    users_before: set[str]
    users_after: set[str]
    roles_before: set[str]
    roles_after: set[str]

    def grades(self) -> dict[str, dict[str, str]]:
        return read_grades(self.out)

    def feedback(self) -> dict[str, str]:
        return {p.stem: p.read_text() for p in (self.out / "feedback").glob("*.md")}

    def job_seconds(self) -> dict[str, int]:
        """Each job's time as its progress line shows it (``  carol  00.1  timeout  45 s  [4/11]``)."""
        lines = re.findall(r"^\s+(\S+)\s+00\.1\s+\S+\s+(\d+) s  \[", self.output, re.MULTILINE)
        return {name: int(seconds) for name, seconds in lines}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> GradedClass:
    if running(DAEMON):
        pytest.fail(f"a `sleep 3607` is already running (pids {running(DAEMON)}): kill it first")
    submissions = tmp_path_factory.mktemp("class") / "submissions"
    shutil.copytree(SUBMISSIONS, submissions)
    write_student(submissions, "erin", "import course_helpers_that_do_not_exist  # noqa")
    write_student(
        submissions,
        "frank",
        "import os\nimport redis as _r\n_c = _r.Redis.from_url(os.environ['REDIS_URL'])\n"
        "if _c.acl_whoami() != 'default':  # flush only through the grader's guard\n"
        "    _c.flushall()",
    )
    write_student(submissions, "gina", "import os\nos._exit(3)")
    (submissions / ".hidden").mkdir()  # no student: skipped
    protected_paths = (
        REPO_ROOT / catalogue()["00.1"].test,
        submissions / "alice" / "00_setup" / "health_check.py",  # hostile_5 aims at it
        SUBMISSIONS / "alice" / "00_setup" / "health_check.py",
    )
    protected = {p: p.read_bytes() for p in protected_paths}
    witness = redis.Redis.from_url(get_settings().redis_url)
    key = f"test_grade_witness:{time.time_ns()}"
    witness.set(key, "still here", ex=900)
    users_before, roles_before = set(grade_acl_users()), set(grade_roles())
    out = tmp_path_factory.mktemp("whole")
    started = time.monotonic()
    try:
        result = CliRunner().invoke(
            app,
            [
                *("grade", str(submissions), "--out", str(out)),
                *("--timeout", str(CLASS_TIMEOUT), "-e", "00.1"),
            ],
        )
        elapsed = time.monotonic() - started
        witness_kept = witness.get(key) == b"still here"
    finally:
        witness.delete(key)
        witness.close()
    assert result.exit_code == 0, result.output
    return GradedClass(
        submissions=submissions,
        out=out,
        output=result.output,
        exit_code=result.exit_code,
        elapsed=elapsed,
        witness_kept=witness_kept,
        protected=protected,
        daemons_after=running(DAEMON),
        users_before=users_before,
        users_after=set(grade_acl_users()),
        roles_before=roles_before,
        roles_after=set(grade_roles()),
    )


@GRADED_CLASS
def test_grade_three_students(graded_class: GradedClass) -> None:
    """alice is right, bob's file does not compile, carol loops forever: each gets the right points
    and a feedback file saying what happened, and the whole run respects the time limit."""
    # carol's job is stopped at the limit (SIGTERM, then SIGKILL after the grace), and the jobs run
    # side by side: the run takes less than its jobs one after another.
    seconds = graded_class.job_seconds()
    assert "bob" not in seconds  # never runs
    assert seconds["carol"] <= CLASS_TIMEOUT + STOP_GRACE + 1, graded_class.output
    assert graded_class.elapsed < sum(seconds.values()), (graded_class.elapsed, seconds)

    out = graded_class.out
    grades = graded_class.grades()
    assert grades["(max)"]["00.1"] == str(TESTS_IN_00_1)
    assert grades["alice"]["00.1"] == grades["alice"]["total"] == str(TESTS_IN_00_1)
    assert grades["bob"]["total"] == "0"
    assert grades["carol"]["total"] == "0"

    feedback = graded_class.feedback()
    assert {"alice", "bob", "carol"} <= set(feedback)
    assert f"**{TESTS_IN_00_1}/{TESTS_IN_00_1}**" in feedback["alice"]
    assert "must raise ValueError" in feedback["alice"]  # each test's docstring is listed
    assert "❌" not in feedback["alice"]
    assert "your file does not compile: SyntaxError at line 36" in feedback["bob"]
    assert f"stopped after {CLASS_TIMEOUT} s (the time limit)" in feedback["carol"]
    assert "timeout" in feedback["carol"]

    suites = junit(out, "carol")
    cases = suites.findall("testsuite/testcase")
    assert len(cases) == TESTS_IN_00_1
    assert all(case.find("error") is not None for case in cases)
    bob_cases = junit(out, "bob").findall("testsuite/testcase")
    assert len(bob_cases) == TESTS_IN_00_1
    alice_suite = junit(out, "alice").find("testsuite")
    assert alice_suite is not None
    assert alice_suite.get("failures") == "0"
    assert "alice" in graded_class.output
    assert f"{TESTS_IN_00_1}/{TESTS_IN_00_1}" in graded_class.output


@GRADED_CLASS
def test_grade_contains_flushall_missing_imports_and_crashes(graded_class: GradedClass) -> None:
    """A FLUSHALL is refused (the shared Redis keeps its keys), a missing import and a crashing
    process each get a clear line, and none of them costs the correct student a point."""
    assert graded_class.witness_kept
    assert "flushed during grading" not in graded_class.output

    grades = graded_class.grades()
    assert sorted(grades) == ["(max)", *sorted(EXPECTED_CLASS)]  # .hidden is no student
    assert grades["alice"]["total"] == str(TESTS_IN_00_1)
    for student in ("erin", "frank", "gina"):
        assert grades[student]["total"] == "0"
    feedback = graded_class.feedback()
    assert "could not be imported: ModuleNotFoundError" in feedback["erin"]
    assert "your code tried to flush Redis" in feedback["frank"]
    assert "warning: your code flushes the whole Redis server" in feedback["frank"]
    assert "the test process ended (exit code 3)" in feedback["gina"]


@GRADED_CLASS
def test_hostile_class_each_cheat_scores_zero_and_nobody_else_changes(
    graded_class: GradedClass,
) -> None:
    """The whole class, sandboxed: every cheat scores 0 on 00.1 with a line in its feedback, alice
    keeps full points, the maximum stays the collected count, the witness key, the grading tests
    and alice's hand-in are untouched, and no daemon or ACL user is left."""
    assert graded_class.witness_kept
    grades = graded_class.grades()
    assert {name: int(row["00.1"]) for name, row in grades.items() if name != "(max)"} == (
        EXPECTED_CLASS
    )
    assert grades["(max)"]["00.1"] == str(TESTS_IN_00_1)  # not 100 more for the forged tests
    protected = graded_class.protected
    assert {p: p.read_bytes() for p in protected} == protected
    assert graded_class.daemons_after == []
    assert graded_class.users_after <= graded_class.users_before
    assert graded_class.roles_after <= graded_class.roles_before

    feedback = graded_class.feedback()
    assert "report channel: line" in feedback["hostile_1_report_garbage"]
    assert "scores 0 until the instructor has looked" in feedback["hostile_2_forged_records"]
    assert "Function.runtest" in feedback["hostile_3_pytest_patch"]
    assert "names the solutions/ folder" in feedback["hostile_4_solutions_by_path"]
    assert "names the grading/ folder" in feedback["hostile_5_sabotage_files"]
    assert "server administration commands" in feedback["hostile_6_server_abuse"]
    assert "starts processes that outlive it" in feedback["hostile_7_daemon"]
    sys_exit = feedback["hostile_8_sys_exit"]
    assert sys_exit.count("> **your module called sys.exit() at import (exit code 0)**") == 1
    assert "AssertionError" not in sys_exit
    assert "review:" not in feedback["alice"]


@GRADED_CLASS
def test_the_class_graded_in_three_shards_and_merged_gets_the_identical_grades(
    graded_class: GradedClass, tmp_path: Path
) -> None:
    """Graded again in three shards (every third student each) and merged, the class gets the
    identical grades.csv, a JUnit file and a feedback file per student, and no daemon is left.
    Shard 3 (carol's: her whole time limit) goes through the command line while shards 1 and 2,
    mostly waiting on 00.1's own timeouts, run beside it."""
    shards = [tmp_path / f"shard{i}" for i in (1, 2, 3)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        beside = [
            pool.submit(
                grading.grade,
                graded_class.submissions,
                shards[number - 1],
                timeout=CLASS_TIMEOUT,
                exercises=[catalogue()["00.1"]],
                shard=(number, 3),
            )
            for number in (1, 2)
        ]
        part = CliRunner().invoke(
            app,
            [
                *("grade", str(graded_class.submissions), "--out", str(shards[2])),
                *("--timeout", str(CLASS_TIMEOUT), "-e", "00.1", "--shard", "3/3"),
            ],
        )
        reports = [future.result() for future in beside]
    assert part.exit_code == 0, part.output
    assert ", shard 3/3" in part.output
    assert [len(report.students) for report in reports] == [5, 5]
    assert sum(len(read_grades(s)) - 1 for s in shards) == len(EXPECTED_CLASS)
    merged = tmp_path / "merged"
    joined = CliRunner().invoke(app, ["grade", "merge", *map(str, shards), "--out", str(merged)])
    assert joined.exit_code == 0, joined.output
    out = graded_class.out
    assert (merged / "grades.csv").read_text() == (out / "grades.csv").read_text()
    assert sorted(p.name for p in (merged / "junit").iterdir()) == sorted(
        p.name for p in (out / "junit").iterdir()
    )
    assert sorted(p.name for p in (merged / "feedback").iterdir()) == sorted(
        feedback_name + ".md" for feedback_name in EXPECTED_CLASS
    )
    assert running(DAEMON) == []


def test_an_unsandboxed_run_still_reaps_a_double_forked_daemon() -> None:
    """Without bubblewrap (--trust-submissions) the subreaper around pytest kills the setsid
    daemon the hand-in started, though it left the process group; the run itself just fails."""
    from course.harness import runner

    if running(DAEMON):
        pytest.fail(f"a `sleep 3607` is already running (pids {running(DAEMON)}): kill it first")
    result = runner.run_grading(catalogue()["00.1"], SUBMISSIONS / "hostile_7_daemon", timeout=60)
    assert result.total == TESTS_IN_00_1
    assert result.passed == 0
    assert running(DAEMON) == []


def test_grade_refuses_untrusted_hand_ins_without_a_sandbox(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No bubblewrap: grading refuses and says why, unless --trust-submissions (then it runs)."""
    from course.harness import sandbox

    monkeypatch.setattr(sandbox, "unavailable", lambda: "bubblewrap (bwrap) is not installed")
    shutil.copytree(
        SUBMISSIONS / "bob", tmp_path / "class" / "bob"
    )  # no job runs: it won't compile
    refused = cli.invoke(
        app, ["grade", str(tmp_path / "class"), "--out", str(tmp_path / "o"), "-e", "00.1"]
    )
    assert refused.exit_code == 1
    assert "bubblewrap (bwrap) is not installed" in refused.output
    assert "--trust-submissions" in refused.output
    assert not (tmp_path / "o").exists()
    trusted = cli.invoke(
        app,
        [
            "grade",
            str(tmp_path / "class"),
            "--out",
            str(tmp_path / "o"),
            "-e",
            "00.1",
            "--trust-submissions",
        ],
    )
    assert trusted.exit_code == 0, trusted.output
    assert "unsandboxed" in trusted.output
    assert read_grades(tmp_path / "o")["bob"]["total"] == "0"


def test_merge_refuses_shards_that_do_not_belong_together(tmp_path: Path) -> None:
    for name, maximum, student in (("a", "23", "x"), ("b", "22", "y"), ("c", "23", "x")):
        (tmp_path / name / "junit").mkdir(parents=True)
        (tmp_path / name / "feedback").mkdir()
        (tmp_path / name / "grades.csv").write_text(
            f"student,00.1,total\n(max),{maximum},{maximum}\n{student},1,1\n"
        )
    with pytest.raises(grading.MergeError, match="another maximum"):
        grading.merge([tmp_path / "a", tmp_path / "b"], tmp_path / "out")
    with pytest.raises(grading.MergeError, match="x is in two shards"):
        grading.merge([tmp_path / "a", tmp_path / "c"], tmp_path / "out")
    assert grading.parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1/0"):
        with pytest.raises(ValueError, match=r"shard|invalid literal"):
            grading.parse_shard(bad)


def test_a_jobs_postgres_role_is_no_superuser_and_owns_only_its_databases() -> None:
    """The role a grading job logs in as creates and drops its own databases, but cannot drop
    another's, create roles or run programs on the server; dropping it removes every database it
    made, tagged or not."""
    from course.testing import resources

    tag = resources.new_run_tag()
    witness, untagged = f"witness_{tag}", f"untagged_{tag}"
    settings = get_settings()
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{witness}"')
    try:
        url = resources.create_postgres_role(tag)
        with psycopg.connect(url, autocommit=True) as job:
            row = job.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            assert row.fetchone() == (False,)
            job.execute(f'CREATE DATABASE "{untagged}"')
            for statement in (
                f'DROP DATABASE "{witness}"',
                "CREATE ROLE someone_else",
                "COPY (SELECT 1) TO PROGRAM 'true'",
                "ALTER ROLE course NOSUPERUSER",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    job.execute(statement)
        removed = resources.drop_postgres_role(tag)
        assert f"postgres database {untagged}" in removed
        with psycopg.connect(settings.database_url) as admin:
            assert admin.execute(
                "SELECT datname FROM pg_database WHERE datname IN (%s, %s)", (witness, untagged)
            ).fetchall() == [(witness,)]
            assert (
                admin.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (resources.job_role(tag),)
                ).fetchone()
                is None
            )
    finally:
        with psycopg.connect(settings.database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{witness}" WITH (FORCE)')
            admin.execute(f'DROP DATABASE IF EXISTS "{untagged}" WITH (FORCE)')
        resources.drop_postgres_role(tag)


def test_a_jobs_rabbitmq_user_is_confined_to_its_own_vhosts() -> None:
    """The user a grading job connects as opens the vhosts the parent made for it, but not another
    vhost; through the management API it sees only its own vhosts and can neither delete another
    nor create one nor list users; dropping it removes the user and its vhosts, nobody else's."""
    import pika
    import pika.exceptions

    from course.testing import resources
    from course.testing.resources import JOB_VHOSTS_VARIABLE

    settings = get_settings()
    tag = resources.new_run_tag()
    witness = f"witness_{time.time_ns()}"
    admin_parts = urlsplit(settings.rabbitmq_management_url)
    base = f"{admin_parts.scheme}://{admin_parts.hostname}:{admin_parts.port}"
    with httpx.Client(
        base_url=base, auth=(admin_parts.username or "", admin_parts.password or ""), timeout=10
    ) as admin:
        admin.put(f"/api/vhosts/{witness}").raise_for_status()
        try:
            env = resources.create_rabbitmq_user(tag, 2)
            own = env[JOB_VHOSTS_VARIABLE].split(",")
            assert len(own) == 2
            assert all(f"_{tag}_" in vhost for vhost in own)
            job_url = urlsplit(env["AMQP_URL"])
            assert job_url.username == resources.job_role(tag)
            for vhost in [unquote(job_url.path[1:]), *own]:
                connection = pika.BlockingConnection(
                    pika.URLParameters(job_url._replace(path="/" + vhost).geturl())
                )
                connection.channel().queue_declare("mine")
                connection.close()
            for vhost in (witness, "%2F"):
                with pytest.raises(pika.exceptions.AMQPConnectionError):
                    pika.BlockingConnection(
                        pika.URLParameters(job_url._replace(path="/" + vhost).geturl())
                    )
            job_parts = urlsplit(env["RABBITMQ_MANAGEMENT_URL"])
            with httpx.Client(
                base_url=base, auth=(job_parts.username or "", job_parts.password or ""), timeout=10
            ) as job:
                seen = {v["name"] for v in job.get("/api/vhosts").raise_for_status().json()}
                assert seen == {unquote(job_url.path[1:]), *own}
                assert job.delete(f"/api/vhosts/{witness}").status_code in (401, 403)
                assert job.put(f"/api/vhosts/t_{tag}_extra").status_code in (401, 403)
                assert job.get("/api/users").status_code in (401, 403)
                assert job.get(f"/api/queues/{witness}").status_code in (401, 403)
            removed = resources.drop_rabbitmq_user(tag)
            assert f"rabbitmq user {resources.job_role(tag)}" in removed
            names = {v["name"] for v in admin.get("/api/vhosts").raise_for_status().json()}
            assert witness in names
            assert not {n for n in names if f"_{tag}_" in n}
            assert admin.get(f"/api/users/{resources.job_role(tag)}").status_code == 404
        finally:
            admin.delete(f"/api/vhosts/{witness}")
            resources.drop_rabbitmq_user(tag)


def test_the_reaper_kills_what_left_the_session_and_keeps_the_exit_status() -> None:
    """In-process (so coverage sees it): the command double-forks a setsid sleep and exits 3; the
    reaper returns 3 and the sleep is gone — and a child the process already had (the pytest
    worker's Keycloak, once: CI's verify stage then found it dead) is left alone."""
    import ctypes
    import signal
    import subprocess

    from course.harness import reaper

    marker = b"sleep\x003611"
    already = set(reaper.children())  # e.g. the Keycloak this worker started: not the command's
    bystander = subprocess.Popen(["sleep", "3612"])
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code = reaper.main(["sh", "-c", "setsid sh -c 'sleep 3611 & exit 0' & sleep 0.5; exit 3"])
        assert bystander.poll() is None, "the reaper killed a child it had before the command"
    finally:
        signal.signal(signal.SIGTERM, previous)
        ctypes.CDLL(None).prctl(reaper.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        bystander.kill()
        bystander.wait()
    assert code == 3
    assert running(marker) == []
    assert set(reaper.children()) <= already
