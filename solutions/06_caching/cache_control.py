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
    ages = {"max-age": max_age, "s-maxage": s_maxage}
    for name, age in ages.items():
        if age is None:
            continue
        if type(age) is not int:  # bool is an int subclass; `type(...) is int` refuses it
            raise ValueError(f"{name} must be an int of seconds, not {age!r}")
        if not 0 <= age <= ONE_YEAR:
            raise ValueError(f"{name} must be within 0..{ONE_YEAR}, not {age}")
    if public and private:
        raise ValueError("public and private contradict each other")
    if private and s_maxage is not None:
        raise ValueError("s-maxage targets shared caches, which must not store a private response")
    if no_store and (public or max_age is not None or s_maxage is not None):
        raise ValueError("no-store cannot carry public or a lifetime")
    parts = [
        flag
        for flag, on in (
            ("public", public),
            ("private", private),
            ("no-store", no_store),
            ("no-cache", no_cache),
        )
        if on
    ]
    parts += [f"{name}={age}" for name, age in ages.items() if age is not None]
    if not parts:
        raise ValueError("no directive given")
    return ", ".join(parts)


def final_headers(
    status: int, authorized: bool, declared: str | None, vary: str | None
) -> dict[str, str]:
    """``Cache-Control`` and ``Vary`` for a finished response (decided after the handler)."""
    declared_public = declared is not None and "public" in {
        part.split("=")[0].strip().lower() for part in declared.split(",")
    }
    if status >= 400:
        value = declared if status in (404, 410) and declared else "no-store"
    elif authorized and not declared_public:
        value = "private, no-store"
    else:
        value = declared or "no-cache"
    names = [name.strip() for name in (vary or "").split(",") if name.strip()]
    if "*" not in names:
        for extra in ("Authorization", "Accept-Encoding"):
            if extra.lower() not in {name.lower() for name in names}:
                names.append(extra)
    return {"Cache-Control": value, "Vary": "*" if "*" in names else ", ".join(names)}
