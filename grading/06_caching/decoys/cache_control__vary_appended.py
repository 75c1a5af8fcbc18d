"""Decoy for 06.4: Vary built as the handler's value + ', Authorization, Accept-Encoding' — names doubled, '*' extended. Caught by test_vary_names_are_not_duplicated."""

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
    extra = "Authorization, Accept-Encoding"
    return {"Cache-Control": value, "Vary": f"{vary}, {extra}" if vary else extra}
