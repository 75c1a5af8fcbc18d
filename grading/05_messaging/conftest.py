"""Fixtures the chapter 05 grading tests share: the broker's bootstrap address and a producer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import KafkaProducer

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
