"""Decoy for 06.4 (hard-coded): cache_control answers from a table of the inputs the grading tests use, ValueError otherwise. Caught by test_every_combination_follows_the_contract."""

from __future__ import annotations

ONE_YEAR = 31_536_000

_TABLE: dict[tuple[bool, bool, bool, bool, int | None, int | None], str] = {
    (False, True, False, False, 0, None): "private, max-age=0",
    (True, False, False, False, 0, 60): "public, max-age=0, s-maxage=60",
    (False, False, False, False, 60, None): "max-age=60",
    (False, True, False, False, 60, None): "private, max-age=60",
    (False, False, True, False, None, None): "no-store",
    (False, True, False, True, 0, None): "private, no-cache, max-age=0",
    (False, True, True, True, None, None): "private, no-store, no-cache",
    (
        True,
        False,
        False,
        False,
        31_536_000,
        31_536_000,
    ): "public, max-age=31536000, s-maxage=31536000",
    (True, False, False, False, 30, None): "public, max-age=30",
    (True, False, False, False, 60, None): "public, max-age=60",
}


def cache_control(
    *,
    public: bool = False,
    private: bool = False,
    no_store: bool = False,
    no_cache: bool = False,
    max_age: int | None = None,
    s_maxage: int | None = None,
) -> str:
    """Answers looked up in a table of the cases the grading tests call."""
    key = (public, private, no_store, no_cache, max_age, s_maxage)
    for age in (max_age, s_maxage):
        if age is not None and (type(age) is not int or not 0 <= age <= ONE_YEAR):
            raise ValueError(f"bad age {age!r}")
    if key not in _TABLE:
        raise ValueError("contradiction")
    return _TABLE[key]


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
