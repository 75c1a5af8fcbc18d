"""Deadline propagation: the caller's remaining time travels in a header, and every hop spends from it.

Pattern: deadline propagation (gRPC's ``grpc-timeout``, Envoy's ``x-envoy-expected-rq-timeout-ms``).
A fixed 3 s timeout at every hop of A → B → C lets C keep working for a caller who gave up long ago.
Instead the first hop sets a budget; each hop reads what remains, gives its downstream *the remaining
budget minus a margin* (its own work after the call, the network), as the HTTP timeout **and** as the
header, and refuses at once — without calling anyone — a request whose budget is already spent.
The header carries a *relative* budget in milliseconds, not an absolute time: hosts' clocks differ.
Taught in ``notebooks/04_microservices_resilience.ipynb`` §5.

``hop_app`` builds one service of the demonstration chain; hostile headers (not a number, negative,
NaN, absurdly large) get a 400 problem-details answer, a spent budget a 504, a downstream that does not
answer in time a 504 — never a hang or a 500.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HEADER = "X-Request-Budget-Ms"
MAX_BUDGET_MS = 5 * 60 * 1000  # a client asking for more than 5 minutes sent a unit mistake


class BadDeadline(ValueError):
    """The deadline header is not a budget this service accepts."""


def parse_budget(value: str | None, *, default_ms: int) -> float:
    """Seconds of budget from the header (``default_ms`` when absent); ``BadDeadline`` if hostile."""
    if value is None:
        return default_ms / 1000
    text = value.strip()
    # Digits only: float() would accept "nan", "inf", "1e309" and "١٢" (Arabic-Indic digits).
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise BadDeadline(
            f"{HEADER} must be whole milliseconds (0..{MAX_BUDGET_MS}), got {value!r}"
        )
    budget = int(text)
    if budget > MAX_BUDGET_MS:
        raise BadDeadline(f"{HEADER} must be at most {MAX_BUDGET_MS} ms, got {budget}")
    return budget / 1000


@dataclass(frozen=True)
class Deadline:
    """An absolute point on this host's monotonic clock, made from a relative budget on arrival."""

    expires_at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        if not math.isfinite(seconds):
            raise BadDeadline(f"a budget must be finite, got {seconds!r}")
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        return self.expires_at - self.clock()

    def for_downstream(self, margin: float) -> float | None:
        """Seconds to give the next hop (timeout and header), or ``None``: not worth calling."""
        budget = self.remaining() - margin
        return budget if budget > 0 else None


def problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def hop_app(
    name: str,
    downstream: str | None,
    *,
    work: float = 0.0,
    margin: float = 0.05,
    default_ms: int = 2000,
) -> Starlette:
    """One service of the chain: ``GET /chain`` does ``work`` seconds of its own, then calls
    ``downstream + "/chain"`` with what remains of the budget minus ``margin``. It answers what it
    received (``budget_ms``) and the downstream's answer, so a test sees the budget shrink."""

    async def chain(request: Request) -> Response:
        try:
            deadline = Deadline.after(
                parse_budget(request.headers.get(HEADER), default_ms=default_ms)
            )
        except BadDeadline as exc:
            return problem(400, "Bad deadline", str(exc))
        received_ms = round(deadline.remaining() * 1000)
        if deadline.remaining() <= 0:
            return problem(
                504, "Deadline exceeded", f"{name}: the caller's budget was already spent"
            )
        await asyncio.sleep(work)
        answer: dict[str, object] = {"service": name, "budget_ms": received_ms}
        if downstream is None:
            return JSONResponse(answer)
        budget = deadline.for_downstream(margin)
        if budget is None:
            # Calling would only start work nobody waits for.
            return problem(504, "Deadline exceeded", f"{name}: no budget left to call downstream")
        headers = {HEADER: str(int(budget * 1000))}
        try:
            async with httpx.AsyncClient(timeout=budget) as client:
                response = await client.get(f"{downstream}/chain", headers=headers)
        except httpx.TimeoutException:
            return problem(504, "Deadline exceeded", f"{name}: downstream did not answer in time")
        except httpx.TransportError as exc:
            return problem(
                502, "Bad gateway", f"{name}: downstream unreachable ({type(exc).__name__})"
            )
        answer["downstream"] = response.json() if response.content else None
        answer["downstream_status"] = response.status_code
        return JSONResponse(
            answer, status_code=200 if response.is_success else response.status_code
        )

    return Starlette(routes=[Route("/chain", chain)])
