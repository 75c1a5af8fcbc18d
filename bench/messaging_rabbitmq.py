"""RabbitMQ publish throughput: a confirm awaited per message vs per window of 100 vs unconfirmed, and
consumer throughput vs prefetch.

Run: ``uv run python -m bench.messaging_rabbitmq`` (RabbitMQ up). Publishes ``--messages`` persistent
messages of 512 B to a durable quorum queue in a vhost of its own: once waiting for the broker's
confirm after every message (``reference.messaging.rabbitmq.publish``'s way: what makes a publish
mean *stored*), once awaiting the confirms of each window of 100 together, once without confirms (the
guide's way); interleaved for ``--rounds`` rounds, the
table reports medians and the ratio to the unconfirmed run of the same round. Then consumes the
queue with prefetch 1, 10 and 100 (acking each message). Writes ``bench/results/messaging_rabbitmq.md``.
Taught beside notebooks/05_messaging_rabbitmq.ipynb.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pika

from reference.messaging.sandbox import fresh_vhost

RESULTS = Path(__file__).parent / "results" / "messaging_rabbitmq.md"
QUEUE = "bench"
WINDOW = 100


def publish_rate(url: str, messages: int, confirm: bool) -> float:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    if confirm:
        channel.confirm_delivery()
    body = b"x" * 512
    props = pika.BasicProperties(delivery_mode=2)
    start = time.perf_counter()
    for _ in range(messages):
        channel.basic_publish("", QUEUE, body, props, mandatory=confirm)
    if not confirm:
        # Unconfirmed publishes are only in the socket buffer: a passive declare's round trip is the
        # earliest moment the broker has at least read them (not stored them).
        channel.queue_declare(QUEUE, passive=True)
    rate = messages / (time.perf_counter() - start)
    connection.close()
    return rate


@dataclass
class Progress:
    sent: int = 0
    nacked: int = 0
    start: float = 0.0
    end: float = 0.0


def windowed_confirm_rate(url: str, messages: int, window: int) -> float:
    """Publish ``window`` messages, then wait for the broker's acks of all of them before the next
    window: every message is still known stored (or nacked) before the run ends, but one wait covers
    a window instead of one message. pika's BlockingConnection waits after every publish once
    confirms are on, so this runs on its asynchronous SelectConnection."""
    body = b"x" * 512
    props = pika.BasicProperties(delivery_mode=2)
    outstanding: set[int] = set()
    state = Progress()

    def send_window(channel: Any) -> None:
        for _ in range(min(window, messages - state.sent)):
            channel.basic_publish("", QUEUE, body, props, mandatory=True)
            state.sent += 1
            outstanding.add(state.sent)  # delivery tags count publishes from 1

    def on_confirm(channel: Any, frame: Any) -> None:
        tag, multiple = frame.method.delivery_tag, frame.method.multiple
        done = {t for t in outstanding if t <= tag} if multiple else {tag}
        outstanding.difference_update(done)
        if isinstance(frame.method, pika.spec.Basic.Nack):
            state.nacked += len(done)
        if outstanding:
            return
        if state.sent < messages:
            send_window(channel)
        else:
            state.end = time.perf_counter()
            channel.connection.close()

    def on_channel(channel: Any) -> None:
        def declared(_frame: Any) -> None:
            channel.confirm_delivery(lambda frame: on_confirm(channel, frame))
            state.start = time.perf_counter()
            send_window(channel)

        channel.queue_declare(
            QUEUE, durable=True, arguments={"x-queue-type": "quorum"}, callback=declared
        )

    connection = pika.SelectConnection(
        pika.URLParameters(url),
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_open_error_callback=lambda conn, error: conn.ioloop.stop(),
        on_close_callback=lambda conn, reason: conn.ioloop.stop(),
    )
    connection.ioloop.start()
    if not state.end or state.nacked:
        raise RuntimeError(f"windowed publish did not complete: {state}")
    return messages / (state.end - state.start)


def consume_rate(url: str, messages: int, prefetch: int) -> float:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=prefetch)
    start = time.perf_counter()
    seen = 0
    for method, _props, _body in channel.consume(QUEUE, inactivity_timeout=5):
        if method is None:
            break
        channel.basic_ack(method.delivery_tag)
        seen += 1
        if seen == messages:
            break
    rate = seen / (time.perf_counter() - start)
    channel.cancel()
    connection.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = fresh_vhost("bench_messaging_rabbitmq")
    publish: dict[str, list[float]] = {
        "no confirms (the guide; baseline)": [],
        "confirm per message": [],
        f"confirms awaited per window of {WINDOW}": [],
    }
    consume: dict[int, list[float]] = {1: [], 10: [], 100: []}
    for _ in range(args.rounds):
        publish["no confirms (the guide; baseline)"].append(
            publish_rate(url, args.messages, confirm=False)
        )
        publish["confirm per message"].append(publish_rate(url, args.messages, confirm=True))
        publish[f"confirms awaited per window of {WINDOW}"].append(
            windowed_confirm_rate(url, args.messages, WINDOW)
        )
        consume_rate(url, 3 * args.messages, 100)  # drain the publish runs, outside the numbers
        for prefetch in consume:
            publish_rate(
                url, args.messages, confirm=False
            )  # the consumer's work, outside the numbers
            consume[prefetch].append(consume_rate(url, args.messages, prefetch))
    base = publish["no confirms (the guide; baseline)"]
    lines = [
        "# RabbitMQ: confirmed vs unconfirmed publishes, consumer throughput vs prefetch",
        "",
        f"`uv run python -m bench.messaging_rabbitmq --messages {args.messages} --rounds {args.rounds}` —"
        f" persistent 512 B messages, durable quorum queue, pika (BlockingConnection; SelectConnection for the windows); medians of {args.rounds} rounds.",
        "",
        "| publish | messages/s | × no confirms |",
        "|---|---|---|",
    ]
    for name, rates in publish.items():
        ratio = statistics.median(r / b for r, b in zip(rates, base, strict=True))
        lines.append(f"| {name} | {statistics.median(rates):,.0f} | {ratio:.2f} |")
    lines += ["", "| consume (ack each) | messages/s | × prefetch 1 |", "|---|---|---|"]
    for prefetch, rates in consume.items():
        ratio = statistics.median(r / b for r, b in zip(rates, consume[1], strict=True))
        lines.append(f"| prefetch {prefetch} | {statistics.median(rates):,.0f} | {ratio:.2f} |")
    lines += [
        "",
        f"Windowed confirms publish {WINDOW} messages, then wait until the broker has confirmed all of",
        "them (pika's asynchronous SelectConnection: the blocking client waits after every publish once",
        "confirms are on). Each message is still known stored before the run ends.",
        "Numbers from the 2-core development machine, shared with other work: read the ratios.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
