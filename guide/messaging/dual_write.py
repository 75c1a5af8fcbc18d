"""The dual write of the guide's microservices diagram (마이크로서비스 아키텍처 › 서비스 분리 패턴):
the Order Service writes its PostgreSQL row, then publishes to Kafka — two systems, no transaction.

Taught in notebooks/05_messaging_outbox.ipynb. The diagram has no code; this is the code every
reader writes from it. Defect kept on purpose (test in ``tests/messaging/test_guide_ports.py``, fix in
``reference/messaging/outbox.py``): a failure (or crash) between the commit and the publish leaves an
order nobody hears about; publishing first and rolling back announces an order that never existed.
``publish`` is passed in, so a test can make it fail the way a broker outage or a crash would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text


def create_orders_table(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, total numeric NOT NULL)")
        )


def place_order(
    engine: Engine, order_id: str, total: int, publish: Callable[[dict[str, Any]], None]
) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO orders (id, total) VALUES (:i, :t)"), {"i": order_id, "t": total}
        )
    publish({"type": "order.created", "orderId": order_id, "total": total})  # after the commit
