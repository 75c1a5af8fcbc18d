"""HTTP caching headers that cannot contradict themselves, decided after the handler has answered.

Pattern: a ``Cache-Control`` builder that refuses contradictions, and a response policy applied to
the *finished* response (RFC 9111 §5.2, §3.5; RFC 9110 §12.5.5). Taught in
notebooks/06_caching_http.ipynb §1–2; it fixes the guide's ``setCacheHeaders``
(``guide/caching/cache_headers.py``, guide-defects.md §6.4).

- :func:`cache_control` builds the header value: ``max-age=0`` is emitted (0 is a value, not
  "unset"); ``private`` with ``s-maxage`` (a shared-cache lifetime on a response no shared cache may
  store), ``public`` with ``private``, ``no-store`` with any lifetime, negative, non-integer
  (``True`` included) or over-a-year ages are ``ValueError``. Nothing is public unless asked.
- :class:`CachePolicy` is an ASGI middleware that looks at the status and the request *after* the
  handler, on the way out:

  * a request with ``Authorization`` → ``private, no-store`` unless the handler explicitly declared
    ``public`` (the one signal a shared cache may store an authorised response on, RFC 9111 §3.5);
  * 5xx and 4xx → ``no-store``. The exception is a 404 or 410 whose handler *declared* a
    ``Cache-Control`` itself: "this does not exist" is often worth a short negative-cache entry
    (``cache_control(public=True, max_age=30)``), but only when the handler says so — a 404 produced by
    routing or an exception never inherits the success path's lifetime;
  * a success without a declared header → ``no-cache`` (store, but revalidate — with an ETag that
    is a cheap 304);
  * ``Vary`` always carries ``Authorization`` and ``Accept-Encoding``, merged with whatever the
    handler declared (``Accept-Language``…), never overwritten.

ETags and 304 are chapter 01's (:mod:`reference.api_design.etag`); :func:`conditional_response`
answers ``If-None-Match`` with a 304 carrying the same ``ETag``, ``Cache-Control`` and ``Vary``.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference.api_design import etag

ONE_YEAR = 365 * 24 * 3600
"""The largest age accepted: RFC 9111 §1.2.2 advises caches to treat anything larger as a year."""

ALWAYS_VARY = ("Authorization", "Accept-Encoding")
"""What every response of ours may vary on: who asked, and how the body is compressed."""

NEGATIVE_CACHEABLE = frozenset({404, 410})
"""Error statuses a handler may mark cacheable explicitly; every other 4xx/5xx is ``no-store``."""


def _age(name: str, value: object) -> int | None:
    if value is None:
        return None
    # bool is an int subclass: max_age=True would silently mean 1 second.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer number of seconds, not {value!r}")
    if not 0 <= value <= ONE_YEAR:
        raise ValueError(f"{name} must be between 0 and {ONE_YEAR} seconds, not {value}")
    return value


def cache_control(
    *,
    public: bool = False,
    private: bool = False,
    no_store: bool = False,
    no_cache: bool = False,
    max_age: int | None = None,
    s_maxage: int | None = None,
    stale_while_revalidate: int | None = None,
    stale_if_error: int | None = None,
    must_revalidate: bool = False,
    immutable: bool = False,
) -> str:
    """The ``Cache-Control`` value for these directives; a contradiction is a ``ValueError``."""
    for flag_name, flag in (
        ("public", public),
        ("private", private),
        ("no_store", no_store),
        ("no_cache", no_cache),
        ("must_revalidate", must_revalidate),
        ("immutable", immutable),
    ):
        if not isinstance(flag, bool):
            raise ValueError(f"{flag_name} must be True or False, not {flag!r}")
    ages = {
        "max-age": _age("max_age", max_age),
        "s-maxage": _age("s_maxage", s_maxage),
        "stale-while-revalidate": _age("stale_while_revalidate", stale_while_revalidate),
        "stale-if-error": _age("stale_if_error", stale_if_error),
    }
    if public and private:
        raise ValueError("a response is either public or private, not both")
    if private and s_maxage is not None:
        raise ValueError("s-maxage is for shared caches, which may not store a private response")
    if no_store and (public or any(v is not None for v in ages.values()) or immutable):
        raise ValueError("no-store forbids storing: it cannot go with public or a lifetime")
    if not (public or private or no_store or no_cache or ages["max-age"] is not None):
        raise ValueError("say something: public/private with a max_age, no_cache or no_store")
    directives = [
        name
        for name, on in (
            ("public", public),
            ("private", private),
            ("no-store", no_store),
            ("no-cache", no_cache),
        )
        if on
    ]
    directives += [f"{name}={value}" for name, value in ages.items() if value is not None]
    directives += [name for name, on in (("must-revalidate", must_revalidate),) if on]
    directives += ["immutable"] if immutable else []
    return ", ".join(directives)


def directives(header: str) -> set[str]:
    """The directive names of a ``Cache-Control`` value, lower-cased (``max-age=60`` → ``max-age``)."""
    return {part.split("=", 1)[0].strip().lower() for part in header.split(",") if part.strip()}


def merge_vary(existing: str | None, extra: Iterable[str]) -> str:
    """``Vary`` with ``extra`` added to what is there, case-insensitively deduplicated, order kept."""
    names = [n.strip() for n in (existing or "").split(",") if n.strip()]
    if "*" in names:
        return "*"
    seen = {n.lower() for n in names}
    for name in extra:
        if name.lower() not in seen:
            names.append(name)
            seen.add(name.lower())
    return ", ".join(names)


def final_cache_control(status: int, authorized: bool, declared: str | None) -> str:
    """The ``Cache-Control`` a finished response leaves with (the policy in the module docstring)."""
    if status >= 400 and not (status in NEGATIVE_CACHEABLE and declared):
        return "no-store"
    if authorized and (declared is None or "public" not in directives(declared)):
        return "private, no-store"
    return declared if declared else "no-cache"


class CachePolicy:
    """ASGI middleware: applies :func:`final_cache_control` and ``Vary`` after the handler."""

    def __init__(self, app: ASGIApp, vary: Iterable[str] = ALWAYS_VARY) -> None:
        self.app = app
        self.vary = tuple(vary)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorized = any(name == b"authorization" for name, _ in scope["headers"])

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = final_cache_control(
                    message["status"], authorized, headers.get("cache-control")
                )
                headers["Vary"] = merge_vary(headers.get("vary"), self.vary)
            await send(message)

        await self.app(scope, receive, send_with_policy)


def conditional_response(
    request: Request,
    body: bytes,
    version: int,
    cache: str,
    media_type: str = "application/json",
    vary: Iterable[str] = (),
) -> Response:
    """200 with a strong ETag (chapter 01's), or 304 when ``If-None-Match`` already holds it.

    The 304 repeats ``ETag``, ``Cache-Control`` and ``Vary`` (RFC 9110 §15.4.5): a cache refreshes
    its stored headers from it.
    """
    tag = etag.make_etag(version, body)
    headers = {"ETag": tag, "Cache-Control": cache}
    if vary:
        headers["Vary"] = merge_vary(None, vary)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag.if_none_match_hits(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
