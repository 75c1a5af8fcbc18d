"""Grading for exercise 08.4: the HighErrorRate alerting rule (exercises/08_observability/alert_rule.py).

Graded by Prometheus' own ``promtool test rules``: your rule is written into a rule file and
evaluated minute by minute over hidden series of ``http_requests_total`` (several services,
instances, routes, methods and statuses); each test says when the alert must be inactive, pending
or firing, and with which labels. Annotations are checked apart (promtool compares them verbatim,
and the wording is yours). promtool's own report is the feedback when a test fails.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

Series = Mapping[str, str]  # label set (without the name) → promtool values, one sample a minute
Check = tuple[str, Sequence[Mapping[str, str]]]  # (eval time, label sets of the firing alerts)

STEADY_OK = "0+100x40"


def requests(**labels: str) -> str:
    body = ",".join(f'{name}="{value}"' for name, value in labels.items())
    return f"http_requests_total{{{body}}}"


def promtool_test(
    tmp_path: Path, rule: Mapping[str, Any], series: Mapping[str, str], checks: Sequence[Check]
) -> subprocess.CompletedProcess[str]:
    """Run ``promtool test rules`` with ``rule`` (annotations removed) on ``series``."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: `course services up prometheus` installs it")
    behaviour = {key: value for key, value in rule.items() if key != "annotations"}
    (tmp_path / "rule.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "graded", "rules": [behaviour]}]}, sort_keys=False)
    )
    test = {
        "rule_files": ["rule.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": name, "values": values} for name, values in series.items()
                ],
                "alert_rule_test": [
                    {
                        "eval_time": at,
                        "alertname": "HighErrorRate",
                        "exp_alerts": [
                            {"exp_labels": {**labels, "severity": "page"}} for labels in firing
                        ],
                    }
                    for at, firing in checks
                ],
            }
        ],
    }
    (tmp_path / "rule_test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    return subprocess.run(
        [binary, "test", "rules", "rule_test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_passes(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == 0, (
        f"{what}\npromtool test rules says:\n{result.stdout}{result.stderr}"
    )


def rule(exercise: ModuleType, **arguments: Any) -> dict[str, Any]:
    made = exercise.high_error_rate_rule(**arguments)
    assert isinstance(made, dict), (
        f"high_error_rate_rule() returned {type(made).__name__}, not a dict"
    )
    return made


USERS_9_PERCENT = {
    requests(job="app", instance="a:80", service="users", method="GET", route="/api/users/{user_id}", status="200"): STEADY_OK,
    requests(job="app", instance="a:80", service="users", method="GET", route="/api/users/{user_id}", status="500"): "0+10x40",
}  # fmt: skip


def test_the_rule_is_valid_for_promtool(exercise: ModuleType, tmp_path: Path) -> None:
    made = rule(exercise)
    assert made.get("alert") == "HighErrorRate"
    assert isinstance(made.get("expr"), str)
    assert made.get("labels") == {"severity": "page"}
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "graded", "rules": [made]}]}))
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: `course services up prometheus` installs it")
    checked = subprocess.run(
        [binary, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, (
        f"promtool check rules refuses the rule:\n{checked.stdout}{checked.stderr}"
    )


def test_fires_after_its_for_and_not_before(exercise: ModuleType, tmp_path: Path) -> None:
    """9 % of requests answer 500 from the first minute: pending for 2m, firing from 3m."""
    result = promtool_test(
        tmp_path,
        rule(exercise),
        USERS_9_PERCENT,
        [("1m", []), ("2m", []), ("3m", [{"service": "users"}]), ("20m", [{"service": "users"}])],
    )
    assert_passes(
        result,
        "9 % of users' requests fail: HighErrorRate must be pending at 1m and 2m and fire from 3m",
    )


def test_client_errors_are_not_errors(exercise: ModuleType, tmp_path: Path) -> None:
    series = {
        requests(
            service="users", method="GET", route="/api/users/{user_id}", status="200"
        ): "0+50x40",
        requests(
            service="users", method="GET", route="/api/users/{user_id}", status="404"
        ): "0+30x40",
        requests(service="users", method="POST", route="/api/users", status="422"): "0+15x40",
        requests(
            service="users", method="GET", route="/api/users/{user_id}", status="429"
        ): "0+5x40",
    }
    result = promtool_test(tmp_path, rule(exercise), series, [("5m", []), ("20m", [])])
    assert_passes(result, "half the requests are 4xx and none 5xx: no alert")


def test_every_5xx_is_an_error(exercise: ModuleType, tmp_path: Path) -> None:
    """A gateway's 502, an overloaded 503, a timed-out 504: no 500 at all, 10 % failing."""
    series = {
        requests(service="orders", method="GET", route="/api/orders", status="200"): "0+90x40",
        requests(service="orders", method="GET", route="/api/orders", status="502"): "0+4x40",
        requests(service="orders", method="GET", route="/api/orders", status="503"): "0+3x40",
        requests(service="orders", method="GET", route="/api/orders", status="504"): "0+3x40",
    }
    result = promtool_test(tmp_path, rule(exercise), series, [("10m", [{"service": "orders"}])])
    assert_passes(result, "10 % of orders' requests answer 502, 503 or 504: HighErrorRate fires")


def test_the_share_is_of_all_requests(exercise: ModuleType, tmp_path: Path) -> None:
    """48 of every 1,000 requests fail: 4.8 % of all requests, under 5 % (though 5.04 % of the
    successful ones)."""
    series = {
        requests(service="users", method="GET", route="/", status="200"): "0+952x40",
        requests(service="users", method="GET", route="/", status="500"): "0+48x40",
    }
    result = promtool_test(tmp_path, rule(exercise), series, [("10m", []), ("30m", [])])
    assert_passes(
        result,
        "4.8 % of all requests fail (errors over all requests, not over the successful ones): no alert",
    )


def test_per_service_not_per_instance(exercise: ModuleType, tmp_path: Path) -> None:
    """Instance b fails 20 % of its few requests; the busy instance a none: 2 % for the service.
    And 20 errors a minute is many in absolute terms: only the share counts."""
    series = {
        requests(
            instance="a", service="orders", method="GET", route="/api/orders", status="200"
        ): "0+900x40",
        requests(
            instance="b", service="orders", method="GET", route="/api/orders", status="200"
        ): "0+80x40",
        requests(
            instance="b", service="orders", method="GET", route="/api/orders", status="503"
        ): "0+20x40",
    }
    result = promtool_test(tmp_path, rule(exercise), series, [("5m", []), ("20m", [])])
    assert_passes(result, "orders fails 2 % of its requests (all of it on instance b): no alert")


def test_one_alert_per_service(exercise: ModuleType, tmp_path: Path) -> None:
    """orders fails on two routes and two methods, on two instances; users is healthy."""
    series = {
        requests(
            instance="a", service="orders", method="GET", route="/api/orders", status="200"
        ): "0+60x40",
        requests(
            instance="a", service="orders", method="POST", route="/api/orders", status="500"
        ): "0+30x40",
        requests(
            instance="b",
            service="orders",
            method="GET",
            route="/api/orders/{order_id}",
            status="502",
        ): "0+30x40",
        requests(
            instance="a", service="users", method="GET", route="/api/users/{user_id}", status="200"
        ): STEADY_OK,
    }
    result = promtool_test(tmp_path, rule(exercise), series, [("5m", [{"service": "orders"}])])
    assert_passes(
        result, "orders fails 50 %: exactly one alert, labelled service=orders and severity=page"
    )


def test_quiet_without_traffic(exercise: ModuleType, tmp_path: Path) -> None:
    """Counters that stopped moving (a service nobody calls, with old errors in its totals)."""
    series = {
        requests(service="idle", method="GET", route="/", status="200"): "50x40",
        requests(service="idle", method="GET", route="/", status="500"): "50x40",
    }
    result = promtool_test(tmp_path, rule(exercise), series, [("10m", []), ("30m", [])])
    assert_passes(result, "no requests at all in the window: no alert")


def test_resolves_when_the_errors_stop(exercise: ModuleType, tmp_path: Path) -> None:
    """20 % errors for 10 minutes, then none: firing at 8m, resolved well after the window."""
    series = {
        requests(service="users", method="GET", route="/", status="200"): STEADY_OK,
        requests(service="users", method="GET", route="/", status="500"): "0+25x10 250x30",
    }
    result = promtool_test(
        tmp_path, rule(exercise), series, [("8m", [{"service": "users"}]), ("20m", []), ("35m", [])]
    )
    assert_passes(
        result,
        "the errors stopped at 10m: the alert must be gone by 20m (what happens now, not since start)",
    )


def test_threshold_is_the_argument(exercise: ModuleType, tmp_path: Path) -> None:
    """threshold=0.2: 9 % errors is fine, 30 % is not."""
    series = {
        **USERS_9_PERCENT,
        requests(service="orders", method="GET", route="/", status="200"): "0+70x40",
        requests(service="orders", method="GET", route="/", status="500"): "0+30x40",
    }
    result = promtool_test(
        tmp_path, rule(exercise, threshold=0.2), series, [("10m", [{"service": "orders"}])]
    )
    assert_passes(result, "with threshold=0.2 only orders (30 %) alerts, not users (9 %)")
    small = promtool_test(tmp_path, rule(exercise, threshold=0.01), {
        requests(service="users", method="GET", route="/", status="200"): "0+98x40",
        requests(service="users", method="GET", route="/", status="500"): "0+2x40",
    }, [("10m", [{"service": "users"}])])  # fmt: skip
    assert_passes(small, "with threshold=0.01, 2 % errors alert")
    exact = promtool_test(tmp_path, rule(exercise, threshold=0.125), {
        requests(service="users", method="GET", route="/", status="200"): "0+878x40",
        requests(service="users", method="GET", route="/", status="500"): "0+122x40",
    }, [("10m", [])])  # fmt: skip
    assert_passes(
        exact,
        "with threshold=0.125, 12.2 % errors do not alert (the threshold as given, not rounded)",
    )


def test_for_is_the_argument(exercise: ModuleType, tmp_path: Path) -> None:
    result = promtool_test(
        tmp_path,
        rule(exercise, for_="5m"),
        USERS_9_PERCENT,
        [("5m", []), ("6m", [{"service": "users"}])],
    )
    assert_passes(result, "with for_='5m' the alert is pending until 5m and fires at 6m")


def test_window_is_the_argument(exercise: ModuleType, tmp_path: Path) -> None:
    """window='2m': the errors that stopped at 10m leave the window by 12m; a 5m window keeps them."""
    series = {
        requests(service="users", method="GET", route="/", status="200"): STEADY_OK,
        requests(service="users", method="GET", route="/", status="500"): "0+25x10 250x30",
    }
    result = promtool_test(
        tmp_path,
        rule(exercise, window="2m", for_="1m"),
        series,
        [("8m", [{"service": "users"}]), ("13m", [])],
    )
    assert_passes(
        result, "with window='2m' the errors that stopped at 10m are out of the window at 13m"
    )
    long = promtool_test(
        tmp_path, rule(exercise, window="1h", for_="1m"), series, [("25m", [{"service": "users"}])]
    )
    assert_passes(
        long,
        "with window='1h', 250 errors among 2,750 requests (9 %) are still in the window at 25m",
    )
    # traffic falls from 1,000 to 100 a minute at 30m, 8 errors a minute throughout: 1 % of the
    # last hour's requests — both rates must be over the window
    quieter = {
        requests(service="users", method="GET", route="/", status="200"): "0+992x30 29760+92x20",
        requests(service="users", method="GET", route="/", status="500"): "0+8x50",
    }
    hour = promtool_test(tmp_path, rule(exercise, window="1h", for_="1m"), quieter, [("40m", [])])
    assert_passes(
        hour, "with window='1h', 320 errors among 31,320 requests (1 %) over the hour: no alert"
    )


def test_the_summary_names_the_service_and_the_share(exercise: ModuleType) -> None:
    annotations = rule(exercise).get("annotations")
    assert isinstance(annotations, dict), "the rule needs annotations with a summary"
    summary = annotations.get("summary")
    assert isinstance(summary, str), "annotations need a summary string"
    assert "$labels.service" in summary, "the summary must name the service: {{ $labels.service }}"
    assert "$value" in summary, (
        "the summary must show the measured share: {{ $value | humanizePercentage }}"
    )


@pytest.mark.parametrize(
    "arguments",
    [
        {"threshold": 0},
        {"threshold": 1},
        {"threshold": 5},
        {"threshold": -0.1},
        {"threshold": float("nan")},
        {"threshold": float("inf")},
        {"threshold": "0.05"},
        {"threshold": True},
        {"window": "5 minutes"},
        {"window": "5m]) or vector(1"},
        {"window": ""},
        {"window": "0m"},
        {"window": 300},
        {"for_": "2 m"},
        {"for_": "2m\n"},
        {"for_": "-2m"},
    ],
    ids=repr,
)
def test_bad_arguments_are_value_errors(exercise: ModuleType, arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any clear message will do
        exercise.high_error_rate_rule(**arguments)
