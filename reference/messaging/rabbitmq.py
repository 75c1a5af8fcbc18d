"""RabbitMQ that loses nothing (notebooks/05_messaging_rabbitmq.ipynb): a durable topology declared
idempotently, publisher confirms with ``mandatory``, and a consumer that tells transient failures
(retried through a TTL queue, then parked) from permanent ones (dead-lettered with ``x-death``).

pika's BlockingConnection is not thread-safe: one connection (and its channels) per thread.

Topology for a name ``n``::

    n (topic exchange) ──#──▶ n.work (quorum, x-delivery-limit, DLX n.dlx) ──reject──▶ n.dlx ──▶ n.dead
                                  ▲                    │ transient failure
                                  └── TTL expires ── n.retry ◀┘    (after 3 retries: n.parking)

A handler that raises something unexpected (a bug) gets its message requeued; the quorum queue's
delivery limit then dead-letters it instead of redelivering it forever. A broker that blocks
publishers (memory or disk alarm) makes a publish raise after a bounded wait instead of hanging.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from reference.messaging.events import Event, PoisonMessage, decode_event
from reference.messaging.kafka import PermanentError, TransientError

log = logging.getLogger(__name__)

RETRIES_HEADER: Final = "x-retries"
MAX_RETRIES: Final = 3
# How long a resource alarm may block a publishing connection before publish() raises instead of
# hanging (see connection_parameters).
BLOCKED_TIMEOUT_S: Final = 30.0


@dataclass(frozen=True)
class Topology:
    name: str
    retry_ttl_ms: int = 200
    delivery_limit: int = 5

    @property
    def exchange(self) -> str:
        return self.name

    @property
    def queue(self) -> str:
        return f"{self.name}.work"

    @property
    def dlx(self) -> str:
        return f"{self.name}.dlx"

    @property
    def dead(self) -> str:
        return f"{self.name}.dead"

    @property
    def retry(self) -> str:
        return f"{self.name}.retry"

    @property
    def parking(self) -> str:
        return f"{self.name}.parking"


def declare_topology(channel: BlockingChannel, topology: Topology) -> None:
    """Declare everything, durable; safe to run on every start (same arguments → no-op)."""
    t = topology
    channel.exchange_declare(t.exchange, "topic", durable=True)
    channel.exchange_declare(t.dlx, "fanout", durable=True)
    channel.queue_declare(
        t.queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": t.delivery_limit,
            "x-dead-letter-exchange": t.dlx,
        },
    )
    channel.queue_bind(t.queue, t.exchange, routing_key="#")
    channel.queue_declare(t.dead, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(t.dead, t.dlx)
    # Expired retries dead-letter through the default exchange straight back into the work queue.
    channel.queue_declare(
        t.retry,
        durable=True,
        arguments={
            "x-message-ttl": t.retry_ttl_ms,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": t.queue,
        },
    )
    channel.queue_declare(t.parking, durable=True, arguments={"x-queue-type": "quorum"})


def connection_parameters(url: str, blocked_timeout: float | None = None) -> pika.URLParameters:
    """Parameters for ``url`` with a bound on how long the broker may block this connection.

    A broker under a memory or disk alarm stops reading from publishing connections
    (``connection.blocked``); without a bound, a publish waiting for its confirm hangs until the
    alarm clears, which may be never. With one, pika drops the connection after ``blocked_timeout``
    seconds and the publish raises ``pika.exceptions.ConnectionBlockedTimeout``. Precedence: the
    argument, then the URL's ``?blocked_connection_timeout=``, then :data:`BLOCKED_TIMEOUT_S`.
    """
    parameters = pika.URLParameters(url)
    if blocked_timeout is not None:
        parameters.blocked_connection_timeout = blocked_timeout
    elif parameters.blocked_connection_timeout is None:
        parameters.blocked_connection_timeout = BLOCKED_TIMEOUT_S
    return parameters


def open_channel(
    url: str, prefetch: int = 10, blocked_timeout: float | None = None
) -> tuple[pika.BlockingConnection, BlockingChannel]:
    """A connection and a confirming channel with a bounded number of unacked deliveries, on a
    connection the broker may block for at most ``blocked_timeout`` s (:func:`connection_parameters`)."""
    connection = pika.BlockingConnection(connection_parameters(url, blocked_timeout))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_qos(prefetch_count=prefetch)
    return connection, channel


def publish(channel: BlockingChannel, exchange: str, routing_key: str, event: Event) -> None:
    """Publish persistently and wait for the broker's confirm. ``mandatory``: a message no queue
    takes raises ``pika.exceptions.UnroutableError``; a missing exchange raises
    ``ChannelClosedByBroker`` (404); a nack raises ``NackError``. Needs ``confirm_delivery()``.

    A broker blocking publishers (resource alarm) for longer than the connection's blocked timeout
    raises ``pika.exceptions.ConnectionBlockedTimeout`` and the connection is gone: the message is
    *unconfirmed* — maybe stored, maybe not — so the caller republishes on a new connection once the
    broker recovers (at-least-once; consumers deduplicate by ``message_id``)."""
    channel.basic_publish(
        exchange,
        routing_key,
        event.to_bytes(),
        BasicProperties(
            delivery_mode=2,
            content_type="application/json",
            message_id=str(event.event_id),
            correlation_id=event.correlation_id,
        ),
        mandatory=True,
    )


@dataclass
class ConsumeResult:
    acked: int = 0
    retried: int = 0
    parked: int = 0
    dead_lettered: int = 0
    requeued: int = 0


def _copy_to(
    channel: BlockingChannel,
    queue: str,
    properties: BasicProperties,
    body: bytes,
    extra: dict[str, Any],
) -> None:
    headers = dict(properties.headers or {})
    headers.update(extra)
    channel.basic_publish(
        "",
        queue,
        body,
        BasicProperties(
            delivery_mode=2,
            content_type=properties.content_type,
            message_id=properties.message_id,
            correlation_id=properties.correlation_id,
            headers=headers,
        ),
        mandatory=True,
    )


def consume(
    channel: BlockingChannel,
    topology: Topology,
    handle: Callable[[Event], None],
    max_messages: int | None = None,
    inactivity_timeout: float = 1.0,
) -> ConsumeResult:
    """Consume until ``max_messages`` or ``inactivity_timeout`` seconds without one.

    Unreadable messages and :class:`PermanentError` → rejected into the dead-letter queue (with
    ``x-death``); :class:`TransientError` → a copy to the retry queue (confirmed before the ack), after
    ``MAX_RETRIES`` to the parking queue; anything else → requeued, bounded by the delivery limit.
    """
    result = ConsumeResult()
    deliveries = channel.consume(topology.queue, inactivity_timeout=inactivity_timeout)
    for seen, (method, properties, body) in enumerate(deliveries, start=1):
        if method is None:
            break
        _one(channel, topology, handle, method, properties, body, result)
        if max_messages is not None and seen >= max_messages:
            break
    channel.cancel()  # unacked prefetched deliveries go back to the queue
    return result


def _one(
    channel: BlockingChannel,
    topology: Topology,
    handle: Callable[[Event], None],
    method: Basic.Deliver,
    properties: BasicProperties,
    body: bytes,
    result: ConsumeResult,
) -> None:
    tag = method.delivery_tag
    try:
        event = decode_event(body)
        handle(event)
    except (PoisonMessage, PermanentError) as error:
        log.warning("dead-lettering %s: %s", properties.message_id, error)
        channel.basic_reject(tag, requeue=False)
        result.dead_lettered += 1
        return
    except TransientError as error:
        retries = int((properties.headers or {}).get(RETRIES_HEADER, 0))
        target = topology.retry if retries < MAX_RETRIES else topology.parking
        log.info(
            "transient failure %d of %s: %s → %s", retries + 1, properties.message_id, error, target
        )
        _copy_to(
            channel,
            target,
            properties,
            body,
            {RETRIES_HEADER: retries + 1, "x-last-error": str(error)},
        )
        channel.basic_ack(tag)
        if target == topology.parking:
            result.parked += 1
        else:
            result.retried += 1
        return
    except Exception:
        log.exception("handler failed on %s; requeued", properties.message_id)
        channel.basic_nack(tag, requeue=True)
        result.requeued += 1
        return
    channel.basic_ack(tag)
    result.acked += 1


def queue_depth(channel: BlockingChannel, queue: str) -> int:
    """Ready messages in ``queue`` (a passive declare: fails if it does not exist)."""
    return int(channel.queue_declare(queue, passive=True).method.message_count)


def take(
    channel: BlockingChannel, queue: str, expect: int, attempts: int = 100
) -> list[tuple[BasicProperties, bytes]]:
    """Take (and ack) messages from ``queue`` until ``expect`` arrived or the queue stays empty for
    ``attempts`` polls 50 ms apart. Dead-lettering is asynchronous: a rejected message reaches the
    dead-letter queue a moment after the reject returns."""
    taken: list[tuple[BasicProperties, bytes]] = []
    misses = 0
    while len(taken) < expect and misses < attempts:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            misses += 1
            time.sleep(0.05)
            continue
        taken.append((properties, body))
    return taken


def dead_letter_reason(properties: BasicProperties) -> str | None:
    """The ``reason`` of the newest ``x-death`` entry (``rejected``, ``expired``, ``delivery_limit``)."""
    deaths = (properties.headers or {}).get("x-death") or []
    if not deaths:
        return None
    reason = deaths[0]["reason"]
    return reason.decode() if isinstance(reason, bytes) else str(reason)
