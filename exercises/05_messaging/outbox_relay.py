"""Taught in notebooks/05_messaging_outbox.ipynb §3.

Exercise 05.4: the outbox relay — publish what was committed, once per relay, never twice at once.

The order service writes each event into ``outbox`` in the same transaction as the order
(``reference.messaging.outbox.place_order``). The relay publishes the rows nobody published yet::

    outbox(id bigserial PRIMARY KEY, event_id uuid UNIQUE, topic text, event jsonb,
           created_at timestamptz, published_at timestamptz NULL)

``relay_batch(engine, producer, batch_size)`` takes up to ``batch_size`` unpublished rows, oldest
first, publishes each ``event`` (``Event.model_validate(row.event)``: key ``event.key``, value
``event.to_bytes()``, header ``correlation-id``) to its ``topic``, waits until the broker acked every
one, sets ``published_at``, and returns how many it published.

* Several relays run at once: none may publish a row another relay is publishing, and none may wait
  for another's rows either (it takes the next unpublished ones).
* A send the broker refuses raises, and the batch stays unpublished (to be retried).
Use only ``producer.send(...)`` (and the future's ``get``) or ``producer.flush()``.
"""

from __future__ import annotations

from kafka import KafkaProducer
from sqlalchemy import Engine, text  # noqa: F401, RUF100 - for your solution

from reference.messaging.events import Event  # noqa: F401, RUF100 - for your solution


def relay_batch(engine: Engine, producer: KafkaProducer, batch_size: int = 100) -> int:
    """Publish and mark up to ``batch_size`` unpublished outbox rows; return how many."""
    # TODO: lock a batch of unpublished rows so other relays skip them, publish them, wait for every
    # ack, and mark them in the same transaction that holds the lock.
    raise NotImplementedError
