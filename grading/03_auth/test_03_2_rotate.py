"""Grading for exercise 03.2: refresh rotation with reuse detection (exercises/03_auth/rotate.py)."""

from __future__ import annotations

import threading
from types import ModuleType

import redis


def _family(client: redis.Redis, key: str, jti: str = "t1") -> str:
    client.hset(key, mapping={"jti": jti, "state": "active"})
    return key


def test_rotation_moves_the_family_forward(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """The current token rotates: ``ok``, and the family now holds the new id (then the next)."""
    family = _family(redis_client, redis_prefix + "fam")
    assert exercise.rotate(redis_client, family, "t1", "t2") == "ok"
    assert redis_client.hget(family, "jti") == "t2"
    assert exercise.rotate(redis_client, family, "t2", "t3") == "ok"
    assert redis_client.hgetall(family) == {"jti": "t3", "state": "active"}


def test_a_replay_revokes_the_whole_family(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """Presenting a token the family already rotated past is ``reuse`` and revokes the family: the
    newest token (the legitimate user's, or the thief's) is ``revoked`` from then on."""
    family = _family(redis_client, redis_prefix + "fam")
    assert exercise.rotate(redis_client, family, "t1", "t2") == "ok"
    assert exercise.rotate(redis_client, family, "t1", "evil") == "reuse"
    assert redis_client.hget(family, "state") == "revoked"
    assert exercise.rotate(redis_client, family, "t2", "t3") == "revoked"
    assert redis_client.hget(family, "jti") == "t2", "a revoked family must not rotate"


def test_other_families_are_untouched(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """A replay on the phone's family leaves the laptop's family working."""
    phone = _family(redis_client, redis_prefix + "phone")
    laptop = _family(redis_client, redis_prefix + "laptop")
    exercise.rotate(redis_client, phone, "t1", "t2")
    exercise.rotate(redis_client, phone, "t1", "x")
    assert exercise.rotate(redis_client, laptop, "t1", "l2") == "ok"


def test_an_unknown_family_is_unknown_and_not_created(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """A family that does not exist (expired, or made up): ``unknown``, and no key appears."""
    family = redis_prefix + "nope"
    assert exercise.rotate(redis_client, family, "t1", "t2") == "unknown"
    assert redis_client.exists(family) == 0


def _refresh(
    exercise: ModuleType,
    client: redis.Redis,
    family: str,
    barrier: threading.Barrier,
    n: int,
    outcomes: list[str],
) -> None:
    barrier.wait()
    outcomes.append(exercise.rotate(client, family, "t1", f"n{n}"))


def test_ten_concurrent_refreshes_exactly_one_wins(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """Ten threads present the same token at once (released together by a barrier), 20 rounds:
    exactly one ``ok`` each time — never two."""
    for round_ in range(20):
        family = _family(redis_client, f"{redis_prefix}race{round_}")
        barrier, outcomes = threading.Barrier(10), list[str]()
        threads = [
            threading.Thread(
                target=_refresh, args=(exercise, redis_client, family, barrier, n, outcomes)
            )
            for n in range(10)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count("ok") == 1, f"round {round_}: {outcomes}"


def test_the_family_is_read_and_written_only_inside_one_script(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """MONITOR during a rotation: every command touching the family key runs inside a script
    (EVAL/EVALSHA), none from the application — a GET in Python, then a SET, can interleave with
    another refresh however rarely the race shows."""
    family = _family(redis_client, redis_prefix + "watched")
    marker = redis_prefix + "end-of-rotate"
    seen: list[dict[str, str]] = []
    with redis_client.monitor() as monitor:  # type: ignore[no-untyped-call]
        exercise.rotate(redis_client, family, "t1", "t2")
        exercise.rotate(redis_client, family, "t1", "t3")
        redis_client.echo(marker)
        while True:
            entry = monitor.next_command()
            if marker in entry["command"]:
                break
            seen.append(entry)
    outside = [
        e["command"]
        for e in seen
        if e["client_type"] != "lua"
        and family in e["command"].split(" ")
        and e["command"].split(" ", 1)[0].upper() not in ("EVAL", "EVALSHA", "SCRIPT")
    ]
    scripts = [e for e in seen if e["command"].split(" ", 1)[0].upper() in ("EVAL", "EVALSHA")]
    assert not outside, f"the family key is read or written outside a script: {outside}"
    assert any(family in e["command"] for e in scripts), "rotate() ran no script on the family"
