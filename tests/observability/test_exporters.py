"""Throwaway postgres/redis exporters against the course's servers, and the USE queries over them:
every metric a query names is really exported by these versions, and every query evaluates to a
number on a scratch Prometheus scraping them."""

from __future__ import annotations

import math
from collections.abc import Iterator

import psycopg
import pytest
import redis

from course.testing.fixtures import ensure_server
from reference.config import get_settings
from reference.observability.exporters import (
    USE_QUERIES,
    Exporter,
    postgres_exporter,
    redis_exporter,
)
from reference.observability.metrics import samples
from reference.observability.prometheus import ScratchPrometheus
from reference.setup.ports import free_port


@pytest.fixture(scope="module")
def exporters() -> Iterator[dict[str, Exporter]]:
    ensure_server("postgres")
    ensure_server("redis")
    with postgres_exporter() as pg, redis_exporter() as rd:
        yield {"postgres": pg, "redis": rd}


def exported_names(text: str) -> set[str]:
    return {
        line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and line[0] != "#"
    }


def test_both_exporters_reach_their_server(exporters: dict[str, Exporter]) -> None:
    assert samples(exporters["postgres"].scrape(), "pg_up") == [({}, 1.0)]
    assert samples(exporters["redis"].scrape(), "redis_up") == [({}, 1.0)]


def test_every_use_query_names_metrics_that_exist(exporters: dict[str, Exporter]) -> None:
    names = {kind: exported_names(e.scrape()) for kind, e in exporters.items()}
    for query in USE_QUERIES:
        assert query.metric_names(), query.name
        missing = query.metric_names() - names[query.resource]
        assert not missing, (
            f"{query.name} reads {missing}, which the {query.resource} exporter lacks"
        )


def test_credentials_stay_off_the_command_line(exporters: dict[str, Exporter]) -> None:
    password = get_settings().endpoint("REDIS_URL").password
    for exporter in exporters.values():
        assert exporter.process is not None
        with open(f"/proc/{exporter.process.pid}/cmdline", "rb") as cmdline:
            arguments = cmdline.read().decode()
        assert password not in arguments
        assert "course:course" not in arguments


def test_a_wrong_password_shows_as_down() -> None:
    settings = get_settings()
    endpoint = settings.endpoint("REDIS_URL")
    with redis_exporter(
        f"redis://:wrong-{endpoint.password}@{endpoint.host}:{endpoint.port}/0"
    ) as rd:
        assert samples(rd.scrape(), "redis_up") == [({}, 0.0)]
    with postgres_exporter(f"postgresql://127.0.0.1:{free_port()}/course") as pg:
        assert samples(pg.scrape(), "pg_up") == [({}, 0.0)]


def test_use_queries_evaluate_on_prometheus(
    exporters: dict[str, Exporter], redis_client: redis.Redis, redis_prefix: str
) -> None:
    jobs = {kind: [e.address] for kind, e in exporters.items()}
    with ScratchPrometheus(jobs, scrape_self=False, interval_s=0.5) as prom:
        r, key = redis_client, redis_prefix + "use"
        with psycopg.connect(get_settings().database_url) as pg:

            def load() -> None:  # traffic between scrapes, so the rates have something to show
                r.set(key, "1")
                r.get(key)
                r.get(redis_prefix + "missing")
                pg.execute("select count(*) from pg_class").fetchall()

            def all_evaluate() -> dict[str, float] | None:
                load()
                values = {q.name: prom.value(q.promql) for q in USE_QUERIES}
                if any(v is None or math.isnan(v) for v in values.values()):
                    return None
                return {k: v for k, v in values.items() if v is not None}

            values = prom.wait_for(all_evaluate, timeout=30)
    assert 0 < values["pg_connections_used"] <= 1
    assert 0 < values["pg_cache_hit_ratio"] <= 1
    assert 0 < values["redis_memory_used"] < 1
    assert values["redis_commands_per_second"] > 0
    assert 0 < values["redis_keyspace_hit_ratio"] < 1
    assert values["redis_rejected_connections"] >= 0
