"""Fixtures chapter 05's unit tests and its grading share (``tests/messaging/conftest.py`` and
``grading/05_messaging/conftest.py`` import them; grading runs in a sandbox that carries ``course/``
but not ``tests/``, so this is their one common place).

- ``bootstrap``: the course Kafka's bootstrap address.
- ``producer``: a :func:`reference.messaging.kafka.make_producer` producer on it, closed afterwards.
- ``group``: a consumer group id of the test's own (carries a grading run's tag).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from course.testing.resources import unique_name

if TYPE_CHECKING:
    from kafka import KafkaProducer

    from reference.config import Settings


@pytest.fixture
def bootstrap(settings: Settings) -> str:
    return settings.kafka_bootstrap_servers


@pytest.fixture
def producer(bootstrap: str) -> Iterator[KafkaProducer]:
    from reference.messaging.kafka import make_producer

    p = make_producer(bootstrap)
    yield p
    p.close()


@pytest.fixture
def group() -> str:
    return unique_name("g")
