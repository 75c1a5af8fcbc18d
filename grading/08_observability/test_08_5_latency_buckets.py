"""Grading for exercise 08.5: histogram buckets from measured latencies
(exercises/08_observability/latency_buckets.py).

Graded on latency distributions you have not seen: your function gets 5,000 measured latencies of
one, then a real prometheus-client ``Histogram`` with your bounds observes 50,000 *new* latencies
from the same distribution, and PromQL's ``histogram_quantile`` — computed on the scraped buckets,
and once by a real Prometheus — is compared with the true quantiles of those new latencies."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterator
from types import ModuleType
from wsgiref.simple_server import WSGIServer

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest, start_http_server

from reference.observability.metrics import histogram_quantile, samples
from reference.observability.prometheus import ScratchPrometheus
from reference.setup.ports import free_port

TRAIN, FRESH = 5_000, 50_000
MAX_BUCKETS = 10
SEEDS = (1, 2, 3, 4)
TOLERANCE = 0.10
Draw = Callable[[random.Random], float]


def _api(r: random.Random) -> float:  # one endpoint: a lognormal around 12 ms
    return r.lognormvariate(math.log(0.012), 0.5)


def _bimodal(r: random.Random) -> float:  # 4 % of requests miss a cache and take ~300 ms
    return (
        r.lognormvariate(math.log(0.004), 0.3)
        if r.random() < 0.96
        else r.lognormvariate(math.log(0.3), 0.2)
    )


def _batch(r: random.Random) -> float:  # a slow report endpoint: around 0.8 s
    return r.lognormvariate(math.log(0.8), 0.4)


def _timer_floor(r: random.Random) -> float:  # 35 % answered from memory, at the timer's 1 ms floor
    return 0.001 if r.random() < 0.35 else round(r.lognormvariate(math.log(0.02), 0.6), 4)


DISTRIBUTIONS: dict[str, Draw] = {
    "api": _api,
    "bimodal": _bimodal,
    "batch": _batch,
    "timer_floor": _timer_floor,
}


def draw(name: str, n: int, seed: int) -> list[float]:
    rng = random.Random(f"{name}-{seed}")
    return [DISTRIBUTIONS[name](rng) for _ in range(n)]


def bounds_for(exercise: ModuleType, name: str, max_buckets: int = MAX_BUCKETS) -> list[float]:
    return [float(b) for b in exercise.latency_buckets(draw(name, TRAIN, 1), max_buckets)]


def observe(bounds: list[float], latencies: list[float]) -> CollectorRegistry:
    registry = CollectorRegistry()
    histogram = Histogram("latency_seconds", "graded latencies", buckets=bounds, registry=registry)
    for latency in latencies:
        histogram.observe(latency)
    return registry


def scraped_buckets(registry: CollectorRegistry) -> list[tuple[float, float]]:
    text = generate_latest(registry).decode()
    return [
        (float(labels["le"]), value) for labels, value in samples(text, "latency_seconds_bucket")
    ]


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_quantiles_within_ten_percent(exercise: ModuleType, name: str) -> None:
    """p50, p90 and p99 estimated by histogram_quantile from your buckets are each within 10 % of the
    true quantile of 50,000 new latencies (at most 10 bounds) — for four different measurements of
    the same service: a bound placed exactly at the measured p99 is on the wrong side of the new
    p99 about half the time, and the estimate then comes from the wide bucket next to it."""
    for seed in SEEDS:
        bounds = [float(b) for b in exercise.latency_buckets(draw(name, TRAIN, seed), MAX_BUCKETS)]
        fresh = draw(name, FRESH, seed + 100)
        buckets = scraped_buckets(observe(bounds, fresh))
        for q in (0.5, 0.9, 0.99):
            truth = float(np.quantile(fresh, q))
            estimate = histogram_quantile(q, buckets)
            assert abs(estimate - truth) / truth <= TOLERANCE, (
                f"{name} (measurement {seed}): p{round(q * 100)} estimated {estimate:.4g}s from your "
                f"buckets, truly {truth:.4g}s (off by {abs(estimate - truth) / truth:.0%}); bounds {bounds}"
            )


def test_seven_buckets_are_enough(exercise: ModuleType) -> None:
    """With max_buckets=7 the same accuracy holds on the bimodal distribution."""
    bounds = bounds_for(exercise, "bimodal", 7)
    assert len(bounds) <= 7, f"{len(bounds)} bounds for max_buckets=7"
    fresh = draw("bimodal", FRESH, 3)
    buckets = scraped_buckets(observe(bounds, fresh))
    for q in (0.5, 0.9, 0.99):
        truth = float(np.quantile(fresh, q))
        assert abs(histogram_quantile(q, buckets) - truth) / truth <= TOLERANCE, (
            f"p{round(q * 100)} with {bounds}"
        )


@pytest.mark.parametrize("max_buckets", [7, 10, 16])
def test_at_most_max_buckets(exercise: ModuleType, max_buckets: int) -> None:
    """Every bucket is a series per label set: never more finite bounds than max_buckets."""
    for name in DISTRIBUTIONS:
        bounds = bounds_for(exercise, name, max_buckets)
        assert len(bounds) <= max_buckets, (
            f"{name}: {len(bounds)} bounds for max_buckets={max_buckets}"
        )


def test_bounds_are_finite_and_strictly_increasing(exercise: ModuleType) -> None:
    """Bounds are finite positive seconds in strictly increasing order, no duplicates (quantiles of
    timings at a timer's floor tie) and no +Inf: prometheus-client adds the +Inf bucket itself."""
    for name in DISTRIBUTIONS:
        bounds = bounds_for(exercise, name)
        assert all(math.isfinite(b) and b > 0 for b in bounds), (
            f"{name}: not finite positive: {bounds}"
        )
        assert all(a < b for a, b in itertools.pairwise(bounds)), (
            f"{name}: not strictly increasing: {bounds}"
        )


def test_the_tail_stays_out_of_inf(exercise: ModuleType) -> None:
    """At most 0.5 % of new latencies may land above your highest bound: in +Inf a quantile can only
    be answered with the highest finite bound."""
    for name in DISTRIBUTIONS:
        bounds = bounds_for(exercise, name)
        fresh = draw(name, FRESH, 4)
        above = sum(1 for x in fresh if x > bounds[-1]) / len(fresh)
        assert above <= 0.005, (
            f"{name}: {above:.2%} of new latencies above your top bound {bounds[-1]}"
        )


@pytest.fixture
def histogram_endpoint(exercise: ModuleType) -> Iterator[tuple[str, float]]:
    bounds = bounds_for(exercise, "bimodal")
    fresh = draw("bimodal", FRESH, 5)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=observe(bounds, fresh))
    assert isinstance(server, WSGIServer)
    yield f"127.0.0.1:{port}", float(np.quantile(fresh, 0.99))
    server.shutdown()
    thread.join(5)


def test_prometheus_agrees(histogram_endpoint: tuple[str, float]) -> None:
    """A real Prometheus scraping the histogram answers histogram_quantile(0.99, …) within 10 % of
    the true p99."""
    target, truth = histogram_endpoint
    with ScratchPrometheus({"graded": [target]}, scrape_self=False, interval_s=0.5) as prom:
        estimate = prom.wait_for(
            lambda: prom.value("histogram_quantile(0.99, latency_seconds_bucket)")
        )
    assert abs(estimate - truth) / truth <= TOLERANCE, (
        f"Prometheus says p99 = {estimate:.4g}s, truly {truth:.4g}s"
    )


@pytest.mark.parametrize(
    ("latencies", "max_buckets"),
    [([], 10), ([0.01], 10), ([0.01, math.nan, 0.02], 10), ([0.01, -0.5, 0.02], 10), ([0.01, math.inf], 10),
     ([0.01, 0.02, 0.03], 3)],
    ids=["empty", "one", "nan", "negative", "inf", "max_buckets_3"],
)  # fmt: skip
def test_unusable_input_is_refused(
    exercise: ModuleType, latencies: list[float], max_buckets: int
) -> None:
    """No samples to speak of, a NaN/negative/infinite latency (a clock bug), or fewer than 7 buckets
    allowed: ValueError, not buckets made up from it."""
    with pytest.raises(ValueError):  # noqa: PT011 - the spec says ValueError, message free
        exercise.latency_buckets(latencies, max_buckets)
