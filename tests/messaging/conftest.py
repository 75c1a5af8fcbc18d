"""Fixtures shared by the messaging tests: the bootstrap address, a producer, a fresh group id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import KafkaProducer

from course.testing.resources import unique_name
from reference.config import Settings
from reference.messaging.kafka import make_producer


@pytest.fixture
def bootstrap(settings: Settings) -> str:
    return settings.kafka_bootstrap_servers


@pytest.fixture
def producer(bootstrap: str) -> Iterator[KafkaProducer]:
    p = make_producer(bootstrap)
    yield p
    p.close()


@pytest.fixture
def group() -> str:
    return unique_name("g")
