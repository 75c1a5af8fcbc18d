"""The flaky upstream does what the resilience tests rely on: faults change at run time, every request
that reaches it is counted (hung and slow ones too), and a bad fault config is refused."""

from __future__ import annotations

import math

import httpx
import pytest

from reference.microservices.flaky import FlakyUpstream


def test_status_sequence_then_default_and_hits_per_path(flaky: FlakyUpstream) -> None:
    flaky.set_faults(statuses=[503, 404], default_status=200)
    got = [httpx.get(f"{flaky.url}/users/{i}").status_code for i in range(3)]
    assert got == [503, 404, 200]
    assert flaky.hits() == 3
    assert flaky.hits("/users/1") == 1
    assert [hit.status for hit in flaky.log()] == [503, 404, 200]


def test_error_rate_is_seeded_and_reproducible(flaky: FlakyUpstream) -> None:
    def run() -> list[int]:
        flaky.set_faults(error_rate=0.5, seed=7)
        with httpx.Client(base_url=flaky.url) as client:
            return [client.get("/x").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 503}


def test_hang_is_counted_and_times_the_client_out_until_released(flaky: FlakyUpstream) -> None:
    flaky.set_faults(hang=True)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{flaky.url}/slow", timeout=0.3)
    assert flaky.hits("/slow") == 1
    flaky.set_faults(hang=False)
    assert httpx.get(f"{flaky.url}/slow").status_code == 200


def test_http_control_for_other_processes_is_not_counted(flaky: FlakyUpstream) -> None:
    r = httpx.post(f"{flaky.url}/_flaky/faults", json={"statuses": [500]})
    assert r.status_code == 200
    assert httpx.get(f"{flaky.url}/a").status_code == 500
    assert httpx.get(f"{flaky.url}/_flaky/hits").json() == {"total": 1, "by_path": {"/a": 1}}
    assert httpx.post(f"{flaky.url}/_flaky/reset").status_code == 200
    assert flaky.hits() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"error_rate": 1.5},
        {"latency": -1},
        {"statuses": [99]},
        {"nope": 1},
        [1, 2],
    ],
)
def test_bad_fault_config_is_a_422_not_a_500(flaky: FlakyUpstream, body: object) -> None:
    r = httpx.post(f"{flaky.url}/_flaky/faults", json=body)
    assert r.status_code == 422
    assert flaky.faults.default_status == 200


@pytest.mark.parametrize("latency", [math.nan, math.inf, 1e9])
def test_non_finite_latency_is_refused_in_python(flaky: FlakyUpstream, latency: float) -> None:
    with pytest.raises(ValueError, match="latency"):
        flaky.set_faults(latency=latency)


def test_a_fresh_upstream_served_directly_is_healthy_not_hung() -> None:
    from reference.api_design.graphql.background import serve_in_background

    upstream = FlakyUpstream()
    server = serve_in_background(upstream.app(), lifespan="off")
    try:
        assert httpx.get(f"{server.url}/x", timeout=5).status_code == 200
    finally:
        server.stop()


def test_a_request_left_over_from_before_a_reset_eats_no_new_status(flaky: FlakyUpstream) -> None:
    flaky.set_faults(hang=True)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{flaky.url}/old", timeout=0.2)
    flaky.reset()  # releases the old request, which now answers
    flaky.set_faults(statuses=[503])
    assert httpx.get(f"{flaky.url}/new").status_code == 503
    assert flaky.hits("/old") == 0
