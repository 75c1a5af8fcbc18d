"""A ``course grade`` job's Kafka user (``course.testing.resources.create_kafka_user``): confined to
names carrying its tag, and gone with everything it made when the job is dropped (issue 13)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    NewTopic,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from kafka.errors import KafkaError

from course.harness import grading
from course.harness.loader import catalogue
from course.testing import resources
from reference.config import REPO_ROOT, get_settings, kafka_auth

pytestmark = pytest.mark.xdist_group("kafka_job_users")


def as_job(env: dict[str, str]) -> dict[str, str]:
    """Client options for the job whose environment ``create_kafka_user`` returned."""
    return {
        "bootstrap_servers": env["KAFKA_BOOTSTRAP_SERVERS"],
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": env["KAFKA_SASL_USERNAME"],
        "sasl_plain_password": env["KAFKA_SASL_PASSWORD"],
    }


def test_a_jobs_kafka_user_reaches_its_own_names_and_nothing_of_another_job() -> None:
    """Job A produces and consumes on its own topic and group; it can neither create, write, read
    nor delete job B's, and the anonymous listener (the one the course uses) cannot touch either
    job's topics, grant itself ACLs or create SCRAM users — while untagged topics stay open to it.
    Dropping a job removes its topics, groups, ACLs and user, and its password stops working."""
    settings = get_settings()
    tag_a, tag_b = resources.new_run_tag(), resources.new_run_tag()
    env_a, env_b = resources.create_kafka_user(tag_a), resources.create_kafka_user(tag_b)
    mine, theirs = f"t_{tag_a}_own", f"t_{tag_b}_own"
    open_topic = resources.unique_name("open")  # an untagged topic: the course's normal kind
    anonymous = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    job_a = KafkaAdminClient(**as_job(env_a))
    job_b = KafkaAdminClient(**as_job(env_b))
    try:
        job_a.create_topics([NewTopic(mine, 1, 1)])
        job_b.create_topics([NewTopic(theirs, 1, 1)])
        with pytest.raises(KafkaError, match="Authorization"):
            job_a.create_topics([NewTopic(f"t_{tag_b}_squat", 1, 1)])

        producer = KafkaProducer(enable_idempotence=True, acks="all", **as_job(env_a))
        producer.send(mine, b"a's record").get(timeout=15)
        with pytest.raises(KafkaError, match="Authorization"):
            producer.send(theirs, b"into b's topic").get(timeout=15)
        producer.close()
        consumer = KafkaConsumer(
            mine,
            group_id=f"g_{tag_a}_reader",
            auto_offset_reset="earliest",
            consumer_timeout_ms=15_000,
            **as_job(env_a),
        )
        assert next(iter(consumer)).value == b"a's record"
        consumer.commit()
        consumer.close()
        with pytest.raises(KafkaError, match="Authorization"):
            job_a.delete_topics([theirs])

        assert mine not in anonymous.list_topics()  # not even visible to the open listener
        with pytest.raises(KafkaError, match="Authorization"):
            anonymous.delete_topics([mine])
        grant = ACL(
            "User:ANONYMOUS",
            "*",
            ACLOperation.ALL,
            ACLPermissionType.ALLOW,
            ResourcePattern(ResourceType.TOPIC, "t_", ACLResourcePatternType.PREFIXED),
        )
        assert anonymous.create_acls([grant])["failed"]
        assert job_a.create_acls([grant])["failed"]
        takeover = UserScramCredentialUpsertion(
            env_b["KAFKA_SASL_USERNAME"], ScramMechanism.SCRAM_SHA_256, "mine now", 4096
        )
        assert anonymous.alter_user_scram_credentials([takeover])[env_b["KAFKA_SASL_USERNAME"]]

        anonymous.create_topics([NewTopic(open_topic, 1, 1)])
        opened = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
        opened.send(open_topic, b"still open").get(timeout=15)
        opened.close()
    finally:
        for client in (job_a, job_b):
            client.close()
        removed_a = resources.drop_kafka_user(tag_a)
        resources.drop_kafka_user(tag_b)
        anonymous.delete_topics([open_topic])
        anonymous.close()
    assert f"kafka topic {mine}" in removed_a
    assert f"kafka group g_{tag_a}_reader" in removed_a
    assert f"kafka user {resources.job_role(tag_a)}" in removed_a
    admin = resources.kafka_admin(settings)
    left = admin.list_topics()
    admin.close()
    assert mine not in left
    assert theirs not in left
    with pytest.raises(KafkaError):  # a SCRAM login the broker refuses never bootstraps
        KafkaAdminClient(**as_job(env_a), bootstrap_timeout_ms=2000).list_topics()


def test_kafka_auth_adds_the_jobs_credentials_only_inside_a_grading_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KAFKA_SASL_USERNAME", raising=False)
    assert kafka_auth() == {}  # outside a grading job: the open listener
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "course_grade_r0123456789")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "secret")
    assert kafka_auth() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "course_grade_r0123456789",
        "sasl_plain_password": "secret",
    }


def test_a_hostile_kafka_hand_in_graded_beside_a_correct_one_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mallory's 05.1 spends 8 s deleting and flooding every tagged topic it can list, through its
    job's credentials and through the open listener, after trying to grant itself and the open
    listener every topic and to take over the super user. Graded at the same time as alice's
    correct answer, alice keeps full marks, nobody got an ACL, and both jobs' users are gone."""
    submissions = tmp_path / "class"
    shutil.copytree(REPO_ROOT / "tests" / "fixtures" / "submissions_kafka", submissions)
    (submissions / "ruff.toml").unlink()
    alice = submissions / "alice" / "05_messaging"
    alice.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "solutions" / "05_messaging" / "publish_event.py", alice)
    tags: list[str] = []

    def recorded_tag() -> str:
        tags.append(resources.new_run_tag())
        return tags[-1]

    monkeypatch.setattr(grading, "new_run_tag", recorded_tag)
    report = grading.grade(
        submissions, tmp_path / "out", exercises=[catalogue()["05.1"]], workers=2
    )
    scores = {student.name: student.results["05.1"] for student in report.students}
    assert scores["alice"].passed == len(scores["alice"].tests) > 0, scores["alice"].output
    assert scores["mallory"].passed == 0
    assert len(tags) == 2

    admin = resources.kafka_admin(get_settings())  # the super user's password still works
    try:
        anyone = ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)
        acls, _error = admin.describe_acls(
            ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY, anyone)
        )
        users = set(admin.describe_user_scram_credentials())
    finally:
        admin.close()
    granted = {acl.principal for acl in acls if acl.principal != "User:*"}
    assert "User:ANONYMOUS" not in granted
    jobs = {resources.job_role(tag) for tag in tags}
    assert not jobs & {principal.removeprefix("User:") for principal in granted}
    assert not jobs & users
