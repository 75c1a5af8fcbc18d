"""A broker under a resource alarm blocks publishers: the reference's publish raises
``ConnectionBlockedTimeout`` within its bound, the guide's client hangs (issue 11, guide-defects §5.3).

RabbitMQ stops reading from publishing connections while a memory or disk alarm is on
(notebooks/05_messaging_rabbitmq.ipynb §1 says why the reference bounds that wait). The alarm is
raised for real — ``rabbitmqctl set_vm_memory_high_watermark 0`` — on a RabbitMQ of the test's own
(``isolated_jvm_env``: own state folder, own ports), never on the shared one. The guide's ``publish``
returns as if all were well while nothing is stored, and its ``close`` then hangs until the alarm
clears; the reference's confirmed publish raises instead, and the caller republishes once the broker
recovers.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pika
import pika.exceptions
import pytest

from course.services.launcher import Launcher
from guide.messaging.rabbitmq_client import RabbitMQClient
from reference.config import get_settings
from reference.messaging import rabbitmq
from reference.messaging.events import Event

pytestmark = [pytest.mark.xdist_group("launcher"), pytest.mark.slow]

QUEUE = "orders"
# Generous bounds: each is how long a call may take before it counts as hanging, not a speed claim.
STILL_BLOCKED_AFTER_S = 5.0
RETURN_WITHIN_S = 60.0


@dataclass(frozen=True)
class AlarmedBroker:
    url: str
    ctl: Path

    def rabbitmqctl(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.ctl), *args], capture_output=True, text=True, check=True, timeout=60
        )
        return done.stdout

    def raise_alarm(self) -> None:
        """A watermark of 0: every byte the node uses is over it, so the memory alarm goes off."""
        self.rabbitmqctl("set_vm_memory_high_watermark", "0")
        # The setting returns before the alarm is registered; ask the node until it is.
        for _ in range(100):
            if "memory" in self.rabbitmqctl("eval", "rabbit_alarm:get_alarms()."):
                return
        pytest.fail("the memory alarm never went off")

    def clear_alarm(self) -> None:
        self.rabbitmqctl("set_vm_memory_high_watermark", "0.4")

    def depth(self) -> int:
        """Messages in the queue, read on a connection that does not publish (so is not blocked)."""
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            return int(connection.channel().queue_declare(QUEUE, passive=True).method.message_count)
        finally:
            connection.close()


@pytest.fixture
def broker(isolated_jvm_env: Path) -> Iterator[AlarmedBroker]:
    (started,) = Launcher(progress=lambda _line: None).up(["rabbitmq"])
    assert started.healthy, started.detail
    alarmed = AlarmedBroker(get_settings().amqp_url, isolated_jvm_env / "rabbitmq" / "ctl")
    connection = pika.BlockingConnection(pika.URLParameters(alarmed.url))
    connection.channel().queue_declare(QUEUE, durable=True)
    connection.close()
    yield alarmed
    # Release anything still blocked before isolated_jvm_env stops the broker.
    alarmed.clear_alarm()


def in_thread(call: Callable[[], None]) -> tuple[threading.Thread, list[BaseException | None]]:
    """Run ``call`` in a daemon thread; the list gets ``None`` (returned) or what it raised."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 — handed back to the test to assert on
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_guide_publish_on_a_blocked_broker_stores_nothing_and_close_hangs(
    broker: AlarmedBroker,
) -> None:
    client = RabbitMQClient()
    client.connect(broker.url)
    broker.raise_alarm()

    client.publish("", QUEUE, {"order": 1})  # returns: no confirm to wait for, no error
    assert broker.depth() == 0  # …yet nothing is stored, and the guide cannot know

    closing, outcome = in_thread(client.close)
    closing.join(STILL_BLOCKED_AFTER_S)
    assert closing.is_alive(), "close() returned although the broker blocks the connection"

    broker.clear_alarm()
    closing.join(RETURN_WITHIN_S)
    assert not closing.is_alive()
    assert outcome == [None]
    assert broker.depth() == 1  # the message was only ever waiting in the socket


def test_reference_publish_on_a_blocked_broker_raises_then_republishes(
    broker: AlarmedBroker,
) -> None:
    connection, channel = rabbitmq.open_channel(broker.url, blocked_timeout=2.0)
    broker.raise_alarm()
    event = Event(
        type="order.placed", key="order-1", data={"order": 1}, correlation_id=str(uuid4())
    )

    publishing, outcome = in_thread(lambda: rabbitmq.publish(channel, "", QUEUE, event))
    publishing.join(RETURN_WITHIN_S)
    assert not publishing.is_alive(), "publish() still blocked: no blocked_connection_timeout"
    (raised,) = outcome
    assert isinstance(raised, pika.exceptions.ConnectionBlockedTimeout)
    assert connection.is_closed

    # Unconfirmed is not "lost": once the broker recovers, the caller publishes again.
    broker.clear_alarm()
    connection, channel = rabbitmq.open_channel(broker.url)
    rabbitmq.publish(channel, "", QUEUE, event)
    taken = rabbitmq.take(channel, QUEUE, expect=2, attempts=20)
    connection.close()
    # At least once: the confirmed copy, plus the unconfirmed one if the broker read it after all.
    assert {properties.message_id for properties, _body in taken} == {str(event.event_id)}


def test_connection_parameters_bound_the_blocked_wait() -> None:
    url = "amqp://course:course@127.0.0.1:5672/%2F"
    default = rabbitmq.connection_parameters(url)
    assert default.blocked_connection_timeout == rabbitmq.BLOCKED_TIMEOUT_S
    from_url = rabbitmq.connection_parameters(url + "?blocked_connection_timeout=7")
    assert from_url.blocked_connection_timeout == 7
    explicit = rabbitmq.connection_parameters(url + "?blocked_connection_timeout=7", 2.0)
    assert explicit.blocked_connection_timeout == 2.0
