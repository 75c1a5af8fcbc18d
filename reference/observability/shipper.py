"""Shipping log events into OpenSearch — the piece the guide's ELK compose file lacks (no Logstash, no
Beats: nothing ships, guide-defects.md §8.3). Taught in ``notebooks/08_observability_logs.ipynb``.

:class:`Shipper` is a logger sink (``make_logger(…, sink=shipper.submit)``):

- ``submit`` never blocks the request path and never does I/O: it appends to a bounded in-memory
  buffer under a lock. When the buffer is full the event is *counted* in :attr:`Shipper.dropped` and a
  warning goes to the stdlib logger (once per overflow episode, with the running count) — a visible
  loss, never a silent one, and never memory growing without bound while OpenSearch is away.
- A background thread sends batches with ``opensearchpy.helpers.bulk`` when ``batch_size`` events are
  waiting or ``flush_interval`` has passed.
- While OpenSearch is down or restarting (connection refused/reset, 429, 5xx) the batch stays at the
  head of the buffer and is retried with exponential backoff (capped, jittered); events queue behind
  it up to the bound. One warning when an outage starts, one when OpenSearch is back. Each event gets its document ``_id`` (:attr:`event_id`, time-ordered) when
  submitted, so a batch re-sent after a lost response overwrites instead of duplicating: N events in,
  N documents out.
- A document OpenSearch refuses for good (a 400 mapping error), or one the client cannot serialise,
  is counted in :attr:`Shipper.rejected` and logged, not retried forever; its batch-mates go on.
- ``flush()`` waits until everything submitted so far is stored (or the timeout passes, returning
  ``False``); ``close()`` flushes and stops the thread.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections import deque
from typing import Any, Final

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import ConnectionTimeout, SerializationError, TransportError

log = logging.getLogger(__name__)
RETRYABLE_STATUS: Final = frozenset({429, 502, 503, 504})


class Shipper:
    def __init__(
        self,
        client: OpenSearch,
        index: str,
        *,
        max_buffer: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 0.5,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        self.client, self.index = client, index
        self.max_buffer, self.batch_size, self.flush_interval = (
            max_buffer,
            batch_size,
            flush_interval,
        )
        self.initial_backoff, self.max_backoff = initial_backoff, max_backoff
        self.shipped = 0
        self.dropped = 0
        self.rejected = 0
        self.retries = 0
        self._buffer: deque[dict[str, Any]] = deque()
        self._submitted = 0
        self._done = 0  # shipped + rejected: what flush() waits for
        self._overflowing = False
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self._closing = threading.Event()  # cuts a backoff sleep short
        self._thread = threading.Thread(target=self._run, name=f"shipper-{index}", daemon=True)
        self._thread.start()

    def event_id(self) -> str:
        """Time-ordered and unique within the process: a tiebreak for equal timestamps."""
        return f"{time.time_ns():020d}-{next(self._ids):010d}-{id(self):x}"

    def submit(self, event: dict[str, Any]) -> None:
        with self._lock:
            if self._closed or len(self._buffer) >= self.max_buffer:
                self.dropped += 1
                if not self._overflowing:
                    self._overflowing = True
                    log.warning(
                        "log shipper buffer full (%d events): dropping, %d dropped so far",
                        self.max_buffer,
                        self.dropped,
                    )
                return
            self._overflowing = False
            event.setdefault("event_id", self.event_id())
            self._buffer.append(event)
            self._submitted += 1
            if len(self._buffer) >= self.batch_size:
                self._wake.notify_all()

    def __call__(self, event: dict[str, Any]) -> None:
        self.submit(event)

    def flush(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            target = self._submitted
            self._wake.notify_all()  # the worker sends a partial batch now
            while self._done < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(left)
        return True

    def close(self, timeout: float = 30.0) -> bool:
        """Flush, then stop; what could not be sent within ``timeout`` is counted as dropped."""
        flushed = self.flush(timeout)
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        self._closing.set()
        # The thread ends after its current bulk call: sent, or given up (then counted as dropped).
        self._thread.join()
        return flushed

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._buffer)

    def _run(self) -> None:
        backoff = self.initial_backoff
        while True:
            with self._lock:
                if not self._buffer:
                    if self._closed:
                        return
                    self._wake.wait(self.flush_interval)
                elif len(self._buffer) < self.batch_size and not self._closed:
                    self._wake.wait(self.flush_interval)  # let a batch fill, or time run out
                batch = list(itertools.islice(self._buffer, self.batch_size))
            if not batch:
                continue
            try:
                retry, refused = self._send(batch)
            except SerializationError:
                self._drop_unserialisable(batch)
                continue
            except (OSConnectionError, ConnectionTimeout, TransportError) as error:
                status = error.status_code if isinstance(error.status_code, int) else None
                if status is None or status in RETRYABLE_STATUS or status >= 500:
                    if self._give_up():
                        return
                    if backoff == self.initial_backoff:  # the first failure of an outage
                        log.warning(
                            "log shipper: OpenSearch unreachable (%s), retrying; %d events waiting",
                            type(error).__name__,
                            self.pending,
                        )
                    self.retries += 1
                    self._closing.wait(backoff * random.uniform(0.5, 1.0))  # jitter: no herd
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                log.error("log shipper: bulk refused with %s, %d events lost", status, len(batch))
                retry, refused = [], len(batch)
            with self._lock:
                for _ in batch:
                    self._buffer.popleft()  # only this thread takes from the left
                self._buffer.extendleft(reversed(retry))  # 429'd items first, in order
                self.rejected += refused
                self.shipped += len(batch) - len(retry) - refused
                self._done += len(batch) - len(retry)
                self._wake.notify_all()
            if retry:
                self.retries += 1
                self._closing.wait(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, self.max_backoff)
            else:
                if backoff != self.initial_backoff:
                    log.warning("log shipper: OpenSearch back, %d events waiting", self.pending)
                backoff = self.initial_backoff

    def _drop_unserialisable(self, batch: list[dict[str, Any]]) -> None:
        """An event the client cannot turn into JSON (a sink fed without the redactor, which makes
        every value JSON-safe) is refused on its own; the rest of its batch goes out next round."""
        good: list[dict[str, Any]] = []
        for event in batch:
            try:
                self.client.transport.serializer.dumps(event)
            except SerializationError as error:
                log.error("log shipper: event not serialisable, refused: %s", error)
            else:
                good.append(event)
        with self._lock:
            for _ in batch:
                self._buffer.popleft()
            self._buffer.extendleft(reversed(good))
            self.rejected += len(batch) - len(good)
            self._done += len(batch) - len(good)
            self._wake.notify_all()

    def _give_up(self) -> bool:
        """After ``close()`` has waited its timeout, what is still unsent is counted as dropped."""
        with self._lock:
            if not self._closed:
                return False
            lost = len(self._buffer)
            self.dropped += lost
            self._done += lost
            self._buffer.clear()
            self._wake.notify_all()
        log.error("log shipper closed with OpenSearch unreachable: %d events dropped", lost)
        return True

    def _send(self, batch: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """Bulk-index the batch: (events to retry, number refused for good)."""
        actions = [
            {"_op_type": "index", "_index": self.index, "_id": event["event_id"], "_source": event}
            for event in batch
        ]
        _, errors = helpers.bulk(
            self.client, actions, chunk_size=len(actions), raise_on_error=False, max_retries=0
        )
        retry_ids: set[str] = set()
        refused = 0
        for item in errors if isinstance(errors, list) else []:
            result = item.get("index", {})
            if result.get("status") in RETRYABLE_STATUS:
                retry_ids.add(result.get("_id"))
            else:
                refused += 1
                log.error("log shipper: document refused: %s", result.get("error"))
        return [event for event in batch if event["event_id"] in retry_ids], refused
