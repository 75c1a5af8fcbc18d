"""A worker the messaging tests start as a subprocess and that SIGKILLs itself at a chosen moment.

``consumer`` (Kafka): applies each event's effect through ``apply_once`` and dies right after the
effect's transaction commits, before the offset commit. ``relay``: the outbox relay dies after the
broker acked its batch, as its ``UPDATE outbox`` (the mark) starts. ``rabbit``: dies while handling
its first delivery, before the ack. Arguments: mode, then what that mode needs.
"""

from __future__ import annotations

import os
import signal
import sys
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
