"""CORS as an allow-list: PATCH included, credentials only for listed origins, preflights cached.

The pattern: the browser, not the server, enforces CORS, so the server's whole job is to answer
the right headers to the right origin. The guide's ``cors({origin, credentials, methods})`` lists
GET/POST/PUT/DELETE — its router uses PATCH, so every PATCH preflight from its own front end
fails. This module reuses chapter 01's policy (``reference.api_design.app``'s method, header and
exposed-header lists, and its ``ProblemCORSMiddleware`` that answers a refused preflight with a
problem document) and tightens two things Starlette leaves loose:

* Starlette adds ``Access-Control-Allow-Credentials: true`` to its answer to *any* origin's
  request; here an origin off the list gets no CORS header at all — nothing that could read as an
  invitation. (Its refused preflight is already a bare problem document, chapter 01's doing.)
* the configuration itself is checked: an origin is ``scheme://host[:port]`` exactly as a browser
  sends it (no path, no trailing slash, no wildcard — ``*`` with credentials is what the
  Fetch standard forbids), otherwise ``ValueError`` at start-up, not a silent never-match.

Preflights are cached by the browser for :data:`PREFLIGHT_MAX_AGE` seconds (``Access-Control-Max-Age``).

Taught in ``notebooks/07_security_headers.ipynb``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Send

from reference.api_design.app import CORS_EXPOSED, CORS_HEADERS, CORS_METHODS
from reference.api_design.problems import ProblemCORSMiddleware

PREFLIGHT_MAX_AGE = 600  # Chromium caps the cache at 2 hours, Firefox at 24; 10 minutes is plenty
# What Starlette adds to a simple (non-preflight) response for any origin, listed or not.
_GRANTS = ("access-control-allow-credentials", "access-control-expose-headers")


def check_origin(origin: str) -> str:
    """``origin`` if it is a serialised origin (``https://app.example.com[:port]``), else ValueError."""
    parts = urlsplit(origin)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "*" in origin
        or parts.username is not None
        or parts.path
        or parts.query
        or parts.fragment
        or origin != origin.strip()
        or origin != f"{parts.scheme}://{parts.netloc}".lower()
    ):
        raise ValueError(
            f"{origin!r} is not an origin: write scheme://host[:port] in lower case, "
            "no path, no trailing slash, no wildcard"
        )
    return origin


class AllowListCORSMiddleware(ProblemCORSMiddleware):
    """Chapter 01's CORS middleware that says nothing at all to an origin off the list."""

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        async def strip(message: Message) -> None:
            origin = request_headers.get("origin")
            if message["type"] == "http.response.start" and not (
                origin is not None and self.is_allowed_origin(origin)
            ):
                headers = MutableHeaders(scope=message)
                for name in _GRANTS:
                    del headers[name]
            await send(message)

        await super().send(message, strip, request_headers)


def allow_list_cors(app: ASGIApp, origins: Iterable[str]) -> AllowListCORSMiddleware:
    """``app`` behind a CORS policy for exactly ``origins`` (each checked by :func:`check_origin`)."""
    return AllowListCORSMiddleware(
        app,
        allow_origins=[check_origin(origin) for origin in origins],
        allow_methods=CORS_METHODS,
        allow_headers=CORS_HEADERS,
        expose_headers=CORS_EXPOSED,
        allow_credentials=True,
        max_age=PREFLIGHT_MAX_AGE,
    )
