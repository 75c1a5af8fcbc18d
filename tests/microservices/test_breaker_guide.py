"""The guide's opossum UserClient, live against the flaky upstream: each test shows one defect
(guide-defects.md §4.3). The same properties pass on the fix in ``test_breaker.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from course.testing.resilience import ManualClock
from guide.microservices.breaker import BREAKER_IS_OPEN, OpossumError, UserClient
from reference.microservices.flaky import FlakyUpstream


@pytest.fixture
def client(flaky: FlakyUpstream, manual_clock: ManualClock) -> Iterator[UserClient]:
    c = UserClient(
        flaky.url, cache={"1": {"id": "1", "cached": True}}, clock=manual_clock, timeout=0.3
    )
    yield c
    flaky.release()  # the abandoned calls finish before the next test
    c.breaker.shutdown()
    c.http.close()


def test_first_failure_opens_the_breaker(flaky: FlakyUpstream, client: UserClient) -> None:
    """volumeThreshold 0: one 503 after nine good answers is 10 %, but one 503 first is 100 %."""
    flaky.set_faults(statuses=[503])
    with pytest.raises(Exception, match="HTTP 503"):
        client.get_user("1")
    assert client.breaker.state == "open"
    for _ in range(100):
        client.get_user("1")
    assert flaky.hits() == 1  # one blip, then 100 calls served stale from the cache


def test_404s_open_the_breaker(flaky: FlakyUpstream, client: UserClient) -> None:
    flaky.set_faults(default_status=404)
    with pytest.raises(Exception, match="HTTP 404"):
        client.get_user("nobody")
    assert client.breaker.state == "open"
    # the service is healthy, yet a user who exists now gets the cache (or None)
    flaky.set_faults(default_status=200)
    assert client.get_user("1") == {"id": "1", "cached": True}
    assert client.get_user("2") is None


def test_fallback_matches_a_message_not_a_type(client: UserClient) -> None:
    """Any error whose text is 'Breaker is open' — here a downstream service's own breaker message
    coming back through the action — is served from the cache while this breaker is closed."""

    def downstream_breaker_open(user_id: str) -> object:
        raise RuntimeError(BREAKER_IS_OPEN)

    client.breaker.action = downstream_breaker_open
    assert client.get_user("1") == {"id": "1", "cached": True}
    assert client.breaker.state == "open"  # …and the failure still counted


def test_timeout_gets_no_fallback_and_the_call_is_not_aborted(
    flaky: FlakyUpstream, client: UserClient
) -> None:
    flaky.set_faults(hang=True)
    with pytest.raises(OpossumError) as caught:
        client.get_user("1")
    assert caught.value.code == "ETIMEDOUT"  # rethrown: the cached user is not served
    # The caller gave up, the HTTP request did not: it is still open on the upstream, unanswered.
    assert [hit.status for hit in flaky.log()] == [0]
    assert len(client.breaker.running) == 1
    flaky.release()
    client.breaker.shutdown()
    assert [hit.status for hit in flaky.log()] == [200]  # answered after the caller had moved on
