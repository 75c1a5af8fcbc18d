"""Taught in notebooks/06_caching_stampede.ipynb §2.

Exercise 06.3: single flight — a cold key costs one database query, whoever asks and however many.

When a popular entry expires, every reader misses at the same moment and every one of them queries
the database (a cache stampede). The guide's ``StampedeProtectedCache`` puts a Redis lock in front
of the fetch, but its waiters retry by recursion with no deadline, a missing row is never cached (N
readers, N queries), and its 5 s lock expires under a slower fetch (two fetchers).

``get_or_compute(client, key, fetch, deadline)`` returns the value cached under ``key``; on a miss
exactly ONE caller — across threads, processes and machines, so the coordination lives in Redis —
calls ``fetch()`` and stores its result; everyone else waits for it:

* store the result as JSON under ``key`` for ``TTL_SECONDS``; ``0``, ``""`` and ``[]`` are values;
* ``fetch()`` returning ``None`` means "no such row": cache that too (JSON ``null``) for
  ``NEGATIVE_TTL_SECONDS``, so a missing key costs one query, not one per caller;
* the lock's lease is ``LOCK_TTL_MS`` — read it when called (the grader lowers it) — and the fetch
  may take longer: keep the lease alive while the fetch runs (a fetch outliving its lock lets a
  second fetcher in);
* a waiter waits at most ``deadline`` seconds (its own, not a constant), then raises
  ``ComputeTimeout`` (a ``TimeoutError``); no recursion;
* ``deadline`` that is not a positive, finite number of seconds → ``ValueError``;
* a ``fetch()`` that raises: let it propagate, cache nothing, free the lock.

``client`` is a ``redis.Redis`` with ``decode_responses=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

TTL_SECONDS = 300
NEGATIVE_TTL_SECONDS = 30
LOCK_TTL_MS = 2000


class ComputeTimeout(TimeoutError):
    """The value did not appear before this caller's deadline."""


__all__ = ["LOCK_TTL_MS", "NEGATIVE_TTL_SECONDS", "TTL_SECONDS", "ComputeTimeout", "get_or_compute"]


def get_or_compute(client: redis.Redis, key: str, fetch: Callable[[], Any], deadline: float) -> Any:
    """The value under ``key``, computed by ``fetch()`` at most once across all concurrent callers."""
    # TODO: GET (a hit, null included, returns at once); else loop until the deadline: take a lock
    # (SET NX PX LOCK_TTL_MS with a token), fetch while a thread extends the lease, store, release;
    # or, when the lock is taken, wait a little and look again. Past the deadline: ComputeTimeout.
    raise NotImplementedError
