"""Refresh rotation with reuse detection, against the real Redis: per-session families, one Lua
compare-and-swap, family revocation on replay, logout, log out everywhere, suspension, token
version on demotion."""

from __future__ import annotations

import threading

import pytest
import redis

from reference.auth.authenticator import JwtAuthenticator
from reference.auth.refresh import RefreshRefused, SessionStore, TokenPair


def _refused(store: SessionStore, token: str) -> str:
    with pytest.raises(RefreshRefused) as refused:
        store.refresh(token)
    return refused.value.reason


def test_two_devices_refresh_independently(sessions: SessionStore, alice: str) -> None:
    phone, laptop = sessions.login(alice), sessions.login(alice)
    assert phone.session_id != laptop.session_id
    phone2 = sessions.refresh(phone.refresh_token)
    laptop2 = sessions.refresh(laptop.refresh_token)
    sessions.refresh(phone2.refresh_token)
    sessions.refresh(laptop2.refresh_token)


def test_ten_threads_one_token_exactly_one_wins(sessions: SessionStore, alice: str) -> None:
    token = sessions.login(alice).refresh_token
    barrier = threading.Barrier(10)
    wins: list[TokenPair] = []
    losses: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            wins.append(sessions.refresh(token))
        except RefreshRefused as refused:
            losses.append(refused.reason)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert len(losses) == 9
    # Strict reuse detection: the losers presented a rotated token, so the family is revoked.
    assert set(losses) <= {"reuse", "revoked"}


def test_replay_revokes_the_family_but_not_other_devices(
    sessions: SessionStore, alice: str
) -> None:
    phone, laptop = sessions.login(alice), sessions.login(alice)
    stolen = phone.refresh_token
    phone2 = sessions.refresh(stolen)  # the user rotates; the thief still holds the old token
    assert _refused(sessions, stolen) == "reuse"
    assert _refused(sessions, phone2.refresh_token) == "revoked"  # the newest token dies too
    sessions.refresh(laptop.refresh_token)  # the other device keeps working


def test_logout_revokes_one_session(sessions: SessionStore, alice: str) -> None:
    phone, laptop = sessions.login(alice), sessions.login(alice)
    sessions.logout(phone.refresh_token)
    sessions.logout("garbage")  # ignored, no error
    assert _refused(sessions, phone.refresh_token) == "revoked"
    sessions.refresh(laptop.refresh_token)


def test_logout_everywhere_kills_refresh_and_access_tokens(
    sessions: SessionStore, authenticator: JwtAuthenticator, alice: str
) -> None:
    phone, laptop = sessions.login(alice), sessions.login(alice)
    assert authenticator(phone.access_token) is not None
    sessions.logout_everywhere(alice)
    assert _refused(sessions, phone.refresh_token) == "revoked"
    assert _refused(sessions, laptop.refresh_token) == "revoked"
    assert authenticator(phone.access_token) is None
    assert authenticator(sessions.login(alice).access_token) is not None  # a new login works


def test_suspended_user_cannot_refresh_or_log_in(
    sessions: SessionStore, authenticator: JwtAuthenticator, alice: str
) -> None:
    pair = sessions.login(alice)
    sessions.suspend(alice)
    assert _refused(sessions, pair.refresh_token) in {"revoked", "suspended"}
    assert authenticator(pair.access_token) is None
    with pytest.raises(RefreshRefused):
        sessions.login(alice)
    sessions.reinstate(alice)
    assert authenticator(sessions.login(alice).access_token) is not None


def test_suspension_checked_inside_the_script(
    sessions: SessionStore, redis_client: redis.Redis, redis_prefix: str, alice: str
) -> None:
    """A suspension flag set without revoking families still stops the rotation."""
    pair = sessions.login(alice)
    redis_client.hset(f"{redis_prefix}user:{alice}", "suspended", "1")
    assert _refused(sessions, pair.refresh_token) == "suspended"


def test_demotion_refuses_the_old_access_token_at_once(
    sessions: SessionStore,
    authenticator: JwtAuthenticator,
    roles: dict[str, list[str]],
    bob: str,
) -> None:
    pair = sessions.login(bob)
    principal = authenticator(pair.access_token)
    assert principal is not None
    assert principal.is_admin
    roles[bob] = ["user"]
    sessions.bump_version(bob)
    assert authenticator(pair.access_token) is None
    refreshed = sessions.refresh(pair.refresh_token)
    principal = authenticator(refreshed.access_token)
    assert principal is not None
    assert not principal.is_admin


def test_garbage_and_access_tokens_are_not_refresh_tokens(
    sessions: SessionStore, alice: str
) -> None:
    pair = sessions.login(alice)
    assert _refused(sessions, "garbage") == "malformed token"
    assert "typ" in _refused(sessions, pair.access_token)


def test_forged_family_is_unknown(sessions: SessionStore, alice: str, bob: str) -> None:
    """A validly signed refresh token naming a family that does not exist, or another user's."""
    pair = sessions.login(alice)
    forged = sessions.issuer.refresh_token(alice, "no-such-family", "j")
    assert _refused(sessions, forged) == "unknown"
    other = sessions.issuer.refresh_token(bob, pair.session_id, "j")
    assert _refused(sessions, other) == "unknown"
    sessions.refresh(pair.refresh_token)  # alice's family was not touched
