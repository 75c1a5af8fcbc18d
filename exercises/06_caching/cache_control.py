"""Taught in notebooks/06_caching_http.ipynb §1.

Exercise 06.4: Cache-Control headers that cannot lie.

The guide's ``setCacheHeaders`` middleware builds ``Cache-Control`` before the handler runs:
``if (maxAge)`` drops ``max-age=0``, ``public`` is the default (so a personalised response is
stored by every shared cache on the way), ``private`` + ``s-maxage`` is emitted as is, a 404 or 500
leaves with the same ``public, max-age=…``, and there is never a ``Vary`` or a ``no-store``.

Write two functions:

* ``cache_control(...)`` builds the header value from keyword arguments. Directives come out in the
  order ``public``/``private``, ``no-store``, ``no-cache``, ``max-age=N``, ``s-maxage=N``, joined by
  ``", "``. ``max_age=0`` is emitted. Nothing is ``public`` unless asked. Raise ``ValueError`` for:
  ``public`` with ``private``; ``private`` with ``s_maxage``; ``no_store`` with ``public`` or any age;
  an age that is negative, above one year (31,536,000 s), not an ``int`` — ``True`` included; and
  no directive at all.
* ``final_headers(status, authorized, declared, vary)`` is what a middleware applies to a response
  *after* the handler answered (the grader runs it in one): ``declared`` is the ``Cache-Control`` the
  handler set (or ``None``), ``vary`` its ``Vary`` (or ``None``), ``authorized`` whether the request
  carried ``Authorization``. Return ``{"Cache-Control": …, "Vary": …}``:

  - any 4xx/5xx → ``no-store``, except a 404 or 410 whose handler declared a header (kept);
  - otherwise, an authorised request → ``private, no-store`` unless ``declared`` has ``public``;
  - otherwise ``declared``, or ``no-cache`` when the handler declared nothing;
  - ``Vary`` is the handler's names followed by ``Authorization`` and ``Accept-Encoding`` where
    missing (compared case-insensitively), joined by ``", "``; a ``*`` stays ``*``.
"""

from __future__ import annotations

ONE_YEAR = 31_536_000


def cache_control(
    *,
    public: bool = False,
    private: bool = False,
    no_store: bool = False,
    no_cache: bool = False,
    max_age: int | None = None,
    s_maxage: int | None = None,
) -> str:
    """The ``Cache-Control`` value; ``ValueError`` for a contradiction or a hostile age."""
    # TODO: validate each age (int, not bool, 0..ONE_YEAR) and the combinations, then join the
    # directives that are on — `is not None` for ages, so 0 is emitted.
    raise NotImplementedError


def final_headers(
    status: int, authorized: bool, declared: str | None, vary: str | None
) -> dict[str, str]:
    """``Cache-Control`` and ``Vary`` for a finished response (decided after the handler)."""
    # TODO: errors first (no-store unless a declared 404/410), then Authorization (private,
    # no-store unless declared public), then the declared header or no-cache; merge Vary.
    raise NotImplementedError
