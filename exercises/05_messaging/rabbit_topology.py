"""Taught in notebooks/05_messaging_rabbitmq.ipynb §2.

Exercise 05.5: a RabbitMQ topology where a failed message is never lost and never loops forever.

The guide's consumer answers every error with ``nack(msg, false, false)`` on a queue declared with no
dead-letter exchange: the broker deletes the message. Requeueing instead (``requeue=True``) turns a
message that always fails into an endless loop.

``declare_topology(channel, name)`` declares, durable and safe to run on every start:

* exchange ``name`` (topic) and queue ``name.work`` bound to it with ``#``: a **quorum** queue with
  ``x-delivery-limit`` 3 whose dead-letter exchange is ``name.dlx``;
* exchange ``name.dlx`` (fanout) and queue ``name.dead`` (durable) bound to it.

``consume_one(channel, name, handle)`` takes one message from ``name.work`` (``basic_get``) and:

* handler returns → ack, ``"acked"``;
* the body is not a valid event (``decode_event`` raises ``PoisonMessage``) or the handler raises
  ``PermanentError`` → reject without requeue (the DLX adds ``x-death``), ``"dead-lettered"``;
* the handler raises anything else → requeue, ``"requeued"`` (the delivery limit ends the loop);
* the queue is empty → ``"empty"``.
"""

from __future__ import annotations

from collections.abc import Callable

from pika.adapters.blocking_connection import BlockingChannel

from reference.messaging.events import Event, PoisonMessage, decode_event  # noqa: F401, RUF100 - for your solution
from reference.messaging.kafka import PermanentError  # noqa: F401, RUF100 - for your solution

DELIVERY_LIMIT = 3


def declare_topology(channel: BlockingChannel, name: str) -> None:
    """Declare the exchanges and queues above; a second call with the same name changes nothing."""
    # TODO: two exchanges, two queues, two bindings; the work queue's arguments carry the queue type,
    # the delivery limit and the dead-letter exchange.
    raise NotImplementedError


def consume_one(channel: BlockingChannel, name: str, handle: Callable[[Event], None]) -> str:
    """Handle one message of ``name.work``; return what became of it (see the module docstring)."""
    # TODO: basic_get one message (no auto-ack); decode it, call the handler, then ack, reject or
    # requeue it as described above.
    raise NotImplementedError
