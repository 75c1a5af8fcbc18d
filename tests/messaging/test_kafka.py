"""The reference Kafka consumer: retries with backoff, rewinding on a bug, DLQ replay, hostile input
dead-lettered with a reason, and effects that happen once although a killed consumer redelivers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaProducer
from pydantic import JsonValue
from sqlalchemy import Engine, text

from reference.config import REPO_ROOT
from reference.messaging import effects
from reference.messaging.events import MAX_EVENT_BYTES, Event
from reference.messaging.kafka import (
    DLQ_ERROR,
    PermanentError,
    Processor,
    TransientError,
    committed_offsets,
    header,
    make_consumer,
    publish_event,
    read_topic,
    replay_dead_letters,
)

WORKER = Path(__file__).with_name("killed_worker.py")


def event(key: str = "acc-1", **data: JsonValue) -> Event:
    return Event(type="account.credited", key=key, correlation_id="req-1", data=data)


def processor(
    bootstrap: str,
    group: str,
    topic: str,
    producer: KafkaProducer,
    dlq: str,
    handle: Callable[[Event], None],
    sleeps: list[float] | None = None,
) -> Processor:
    return Processor(
        make_consumer(bootstrap, group, topic),
        producer,
        dlq,
        handle,
        lambda key: None,
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
    )


def drain(p: Processor) -> None:
    p.run_until_caught_up()
    p.close()


def test_transient_errors_are_retried_with_exponential_backoff(
    bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer, group: str
) -> None:
    topic, dlq = kafka_topic(), kafka_topic()
    publish_event(producer, topic, event(n=1))
    attempts: list[Event] = []

    def flaky(e: Event) -> None:
        attempts.append(e)
        if len(attempts) < 3:
            raise TransientError("database busy")

    sleeps: list[float] = []
    drain(processor(bootstrap, group, topic, producer, dlq, flaky, sleeps))
    assert len(attempts) == 3
    assert sleeps == [0.05, 0.1]
    assert read_topic(bootstrap, dlq) == []


def test_transient_errors_that_never_end_go_to_the_dlq(
    bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer, group: str
) -> None:
    topic, dlq = kafka_topic(), kafka_topic()
    publish_event(producer, topic, event(n=1))

    def down(e: Event) -> None:
        raise TransientError("payment service down")

    drain(processor(bootstrap, group, topic, producer, dlq, down))
    (dead,) = read_topic(bootstrap, dlq)
    assert header(dead, DLQ_ERROR) == "transient, 4 attempts: payment service down"
    assert committed_offsets(bootstrap, group, topic) == {0: 1}


def test_a_bug_rewinds_instead_of_skipping(
    bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer, group: str
) -> None:
    """An unexpected exception commits what came before, and the failing record is read again."""
    topic, dlq = kafka_topic(), kafka_topic()
    for n in (1, 2, 3):
        publish_event(producer, topic, event(n=n))
    seen: list[int] = []
    broken = True

    def handle(e: Event) -> None:
        if e.data["n"] == 2 and broken:
            raise KeyError("bug")
        seen.append(int(str(e.data["n"])))

    p = processor(bootstrap, group, topic, producer, dlq, handle)
    with pytest.raises(KeyError):
        drain(p)
    assert committed_offsets(bootstrap, group, topic) == {0: 1}
    broken = False  # the fix is deployed
    drain(p)
    assert seen == [1, 2, 3]
    assert read_topic(bootstrap, dlq) == []


def test_dead_letters_are_replayed_once_the_handler_is_fixed(
    bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer, group: str
) -> None:
    topic, dlq = kafka_topic(), kafka_topic()
    for n in (1, 2):
        publish_event(producer, topic, event(n=n))

    def reject(e: Event) -> None:
        raise PermanentError("unknown account")

    drain(processor(bootstrap, group, topic, producer, dlq, reject))
    assert len(read_topic(bootstrap, dlq)) == 2
    replayer = make_consumer(bootstrap, group + "-replay", dlq)
    assert replay_dead_letters(replayer, producer) == 2
    replayer.close()
    handled: list[Event] = []
    drain(processor(bootstrap, group, topic, producer, dlq, handled.append))
    assert sorted(e.data["n"] for e in handled) == [1, 2]  # type: ignore[type-var]
    replayed = read_topic(bootstrap, topic)[2:]
    assert all(header(r, DLQ_ERROR) is None for r in replayed)


HOSTILE = {
    "not-json": (b"{oops", "Invalid JSON"),
    "oversized": (b'{"a": "' + b"x" * MAX_EVENT_BYTES + b'"}', "over the 65536-byte limit"),
    "nul-byte": (b'{"type": "a.b\x00"}', "NUL byte"),
    "escaped-nul": (event().model_dump_json().replace("req-1", "req\\u0000").encode(), "NUL byte"),
    "wrong-schema-version": (
        event().model_dump_json().replace('"schema_version":1', '"schema_version":2').encode(),
        "invalid event: schema_version",
    ),
    "missing-field": (b'{"type": "a.b"}', "invalid event: correlation_id: Field required"),
    "not-utf8": (b"\xff\xfe", "Invalid JSON"),
    "json-array": (b"[1, 2]", "invalid event"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_message_is_dead_lettered_with_its_reason(
    name: str, bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer, group: str
) -> None:
    raw, reason = HOSTILE[name]
    topic, dlq = kafka_topic(), kafka_topic()
    producer.send(topic, key=b"acc-1", value=raw)
    publish_event(producer, topic, event(n=2))  # and the partition is not blocked behind it
    handled: list[Event] = []
    drain(processor(bootstrap, group, topic, producer, dlq, handled.append))
    (dead,) = read_topic(bootstrap, dlq)
    assert dead.value == raw
    assert reason in (header(dead, DLQ_ERROR) or "")
    assert [e.data["n"] for e in handled] == [2]
    assert committed_offsets(bootstrap, group, topic) == {0: 2}


def test_consumer_killed_between_effect_and_commit_applies_the_effect_once(
    bootstrap: str,
    kafka_topic: Callable[..., str],
    producer: KafkaProducer,
    group: str,
    pg_url: str,
    pg_engine: Engine,
) -> None:
    topic, dlq = kafka_topic(), kafka_topic()
    with pg_engine.begin() as conn:
        effects.create_processed_events(conn)
        conn.execute(text("CREATE TABLE accounts (balance int NOT NULL)"))
        conn.execute(text("INSERT INTO accounts VALUES (0)"))
    publish_event(producer, topic, event(amount=25))
    run = subprocess.run(
        [sys.executable, str(WORKER), "consumer", pg_url, topic, dlq, group],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), **_env()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == -9, run.stderr  # SIGKILL: the effect committed, the offset did not
    assert committed_offsets(bootstrap, group, topic) == {}

    def credit(e: Event) -> None:
        effects.apply_once(
            pg_engine,
            e,
            lambda conn, ev: conn.execute(
                text("UPDATE accounts SET balance = balance + :a"), {"a": ev.data["amount"]}
            ),
        )

    redelivered: list[Event] = []

    def handle(e: Event) -> None:
        redelivered.append(e)
        credit(e)

    drain(processor(bootstrap, group, topic, producer, dlq, handle))
    assert len(redelivered) == 1  # Kafka delivered it again …
    with pg_engine.connect() as conn:  # … and the balance moved once
        assert conn.execute(text("SELECT balance FROM accounts")).scalar() == 25
        assert conn.execute(text("SELECT count(*) FROM processed_events")).scalar() == 1
    assert committed_offsets(bootstrap, group, topic) == {0: 1}


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_event_envelope_round_trips() -> None:
    e = event(n=1)
    assert Event.model_validate_json(e.to_bytes()) == e
    assert json.loads(e.to_bytes())["schema_version"] == 1


def test_member_killed_mid_stream_its_partitions_move_and_nothing_is_lost(
    bootstrap: str,
    kafka_topic: Callable[..., str],
    producer: KafkaProducer,
    group: str,
    pg_url: str,
    pg_engine: Engine,
) -> None:
    """Two members of one group over 3 partitions; member A (a subprocess) is SIGKILLed after its
    fifth event. Member B takes A's partitions once A's session expires: all 30 events handled, each
    once, some by A and the rest by B."""
    topic, dlq = kafka_topic(partitions=3), kafka_topic()
    with pg_engine.begin() as conn:
        effects.create_processed_events(conn)
        conn.execute(text("CREATE TABLE handled (event_id uuid NOT NULL, member text NOT NULL)"))
    for n in range(30):
        publish_event(producer, topic, event(key=f"acc-{n % 6}", n=n))
    member_a = subprocess.Popen(
        [sys.executable, str(WORKER), "member", pg_url, topic, dlq, group],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def count(sql: str) -> int:
        with pg_engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())

    def record_b(e: Event) -> None:
        effects.apply_once(
            pg_engine,
            e,
            lambda conn, ev: conn.execute(
                text("INSERT INTO handled (event_id, member) VALUES (:id, 'B')"),
                {"id": ev.event_id},
            ),
        )

    deadline = time.monotonic() + 60
    while count("SELECT count(*) FROM handled") == 0 and time.monotonic() < deadline:
        time.sleep(0.1)  # A holds every partition and has started; now B joins
    member_b = Processor(
        make_consumer(bootstrap, group, topic, session_timeout_ms=6000, max_poll_records=1),
        producer,
        dlq,
        record_b,
        lambda key: None,
    )
    deadline = time.monotonic() + 120
    while count("SELECT count(*) FROM handled") < 30 and time.monotonic() < deadline:
        member_b.process_batch(timeout_ms=500)
    member_b.close()
    assert member_a.wait(timeout=60) == -9, member_a.stderr.read() if member_a.stderr else ""
    assert count("SELECT count(*) FROM handled") == 30
    assert count("SELECT count(DISTINCT event_id) FROM handled") == 30
    assert count("SELECT count(*) FROM handled WHERE member = 'A'") == 5
