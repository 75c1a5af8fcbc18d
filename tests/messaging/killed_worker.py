"""A worker the messaging tests start as a subprocess and that SIGKILLs itself at a chosen moment.

``member`` (Kafka): a group member that records each event in ``handled`` (once, by event id)
slowly, so a second member can join meanwhile, and dies after its fifth. ``consumer`` (Kafka): applies each event's effect through ``apply_once`` and dies right after the
effect's transaction commits, before the offset commit. ``relay``: the outbox relay dies after the
broker acked its batch, as its ``UPDATE outbox`` (the mark) starts. ``rabbit``: dies while handling
its first delivery, before the ack. Arguments: mode, then what that mode needs.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from sqlalchemy import Connection, create_engine, event, text

from reference.config import get_settings, to_sqlalchemy_url
from reference.messaging import effects, outbox, rabbitmq
from reference.messaging.events import Event
from reference.messaging.kafka import Processor, make_consumer, make_producer


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def credit(conn: Connection, e: Event) -> None:
    conn.execute(text("UPDATE accounts SET balance = balance + :a"), {"a": e.data["amount"]})


def main(mode: str, *args: str) -> None:
    bootstrap = get_settings().kafka_bootstrap_servers
    if mode == "consumer":
        pg_url, topic, dlq, group = args
        engine = create_engine(to_sqlalchemy_url(pg_url))

        def handle(e: Event) -> None:
            effects.apply_once(engine, e, credit)
            die()  # the effect is committed; the offset is not

        # The broker's minimum session timeout: the dead member's partition moves on after 6 s, not 45.
        consumer = make_consumer(bootstrap, group, topic, session_timeout_ms=6000)
        Processor(consumer, make_producer(bootstrap), dlq, handle, print).run_until_caught_up()
    elif mode == "member":
        pg_url, topic, dlq, group = args
        engine = create_engine(to_sqlalchemy_url(pg_url))
        count = 0

        def record(e: Event) -> None:
            nonlocal count
            effects.apply_once(
                engine,
                e,
                lambda conn, ev: conn.execute(
                    text("INSERT INTO handled (event_id, member) VALUES (:id, 'A')"),
                    {"id": ev.event_id},
                ),
            )
            count += 1
            if count == 5:
                die()
            time.sleep(0.3)  # slow enough for the other member to join and take partitions

        consumer = make_consumer(
            bootstrap, group, topic, session_timeout_ms=6000, max_poll_records=1
        )
        member = Processor(consumer, make_producer(bootstrap), dlq, record, print)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until its fifth event, whichever partitions it holds
            member.process_batch(timeout_ms=500)
    elif mode == "relay":
        (pg_url,) = args
        engine = create_engine(to_sqlalchemy_url(pg_url))

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            if statement.startswith("UPDATE outbox"):
                die()  # published and acked, not marked

        outbox.relay_once(engine, make_producer(bootstrap))
    elif mode == "rabbit":
        (amqp_url, name) = args
        _connection, channel = rabbitmq.open_channel(amqp_url)
        rabbitmq.consume(channel, rabbitmq.Topology(name), lambda e: die(), inactivity_timeout=10)
    raise SystemExit(f"{mode}: the worker was meant to die before this line")


if __name__ == "__main__":
    main(*sys.argv[1:])
