"""The chapter's Prometheus rules are checked and unit-tested by Prometheus' own ``promtool``, here so
CI runs them through pytest: ``promtool check rules`` on every rule file, ``promtool test rules`` on
every ``*_test.yml`` beside them. And those unit tests can fail: each plausible mistake in
``alerts.yml`` (no ``for:``, 4xx counted as errors, a ratio per series instead of per service, a
threshold ten times too high, no resolution) is written into a copy and must make ``promtool test
rules`` fail, naming the test that caught it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "reference" / "observability" / "rules"
RULE_FILES = sorted(p for p in RULES.glob("*.yml") if not p.name.endswith("_test.yml"))
TEST_FILES = sorted(RULES.glob("*_test.yml"))


def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail(
            "promtool is missing: `course services up prometheus` installs it (Debian prometheus)"
        )
    return subprocess.run(
        [binary, *map(str, args)], capture_output=True, text=True, timeout=60, cwd=cwd, check=False
    )


def test_there_are_rules_and_tests_for_each() -> None:
    assert [p.name for p in RULE_FILES] == ["alerts.yml", "recording.yml"]
    assert [p.name for p in TEST_FILES] == ["alerts_test.yml", "recording_test.yml"]


def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout  # alerts.yml
    assert "SUCCESS: 7 rules found" in result.stdout  # recording.yml


def test_promtool_test_rules() -> None:
    result = promtool("test", "rules", *(p.name for p in TEST_FILES), cwd=RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(TEST_FILES)


def test_a_broken_expression_fails_check_rules(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "groups:\n- name: b\n  rules:\n  - alert: Broken\n    expr: sum(rate(x[5m])\n"
    )
    result = promtool("check", "rules", broken)
    assert result.returncode != 0
    assert "broken.yml" in result.stdout + result.stderr


def _mutated(tmp_path: Path, old: str, new: str) -> subprocess.CompletedProcess[str]:
    """``promtool test rules alerts_test.yml`` against a copy of the rules with ``old`` → ``new``."""
    for path in [*RULE_FILES, *TEST_FILES]:
        shutil.copy(path, tmp_path / path.name)
    alerts = (tmp_path / "alerts.yml").read_text()
    assert alerts.count(old) == 1, (
        f"the mutation's anchor is not in alerts.yml exactly once: {old!r}"
    )
    (tmp_path / "alerts.yml").write_text(alerts.replace(old, new))
    assert promtool("check", "rules", tmp_path / "alerts.yml").returncode == 0  # still valid rules
    return promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)


HIGH_ERROR_RATE = """          sum by (service) (rate(http_requests_total{status=~"5.."}[5m]))
            / sum by (service) (rate(http_requests_total[5m]))
          > 0.05
        for: 2m"""


@pytest.mark.parametrize(
    ("mistake", "new", "caught_by"),
    [
        (
            "no for: fires on the first bad evaluation",
            HIGH_ERROR_RATE.replace("        for: 2m", "        for: 0s"),
            "HighErrorRate fires after its for",
        ),
        (
            "4xx counted as errors",
            HIGH_ERROR_RATE.replace('status=~"5.."', 'status=~"[45].."'),
            "HighErrorRate ignores 4xx",
        ),
        (
            "a ratio per instance: one noisy instance pages for the whole service",
            HIGH_ERROR_RATE.replace("by (service)", "by (service, instance)"),
            "HighErrorRate is per service",
        ),
        (
            "per route and method: one alert per failing endpoint",
            HIGH_ERROR_RATE.replace("by (service)", "by (service, route, method)"),
            "HighErrorRate is one alert per service",
        ),
        (
            "a threshold ten times too high",
            HIGH_ERROR_RATE.replace("> 0.05", "> 0.5"),
            "HighErrorRate fires after its for",
        ),
        (
            "error counts, not a ratio: fires for any service with errors, traffic or none",
            HIGH_ERROR_RATE.replace(
                "            / sum by (service) (rate(http_requests_total[5m]))\n", ""
            ).replace("> 0.05", "> 0"),
            "HighErrorRate is per service",
        ),
        (
            "counted since start instead of a rate: never resolves",
            HIGH_ERROR_RATE.replace("rate(", "max_over_time(").replace("[5m]", "[1h]"),
            "HighErrorRate",
        ),
    ],
    ids=lambda value: value if len(value) < 40 else value[:40],
)
def test_each_mistake_in_high_error_rate_fails_the_unit_tests(
    tmp_path: Path, mistake: str, new: str, caught_by: str
) -> None:
    result = _mutated(tmp_path, HIGH_ERROR_RATE, new)
    assert result.returncode != 0, f"promtool's tests pass with {mistake}"
    assert caught_by in result.stdout + result.stderr


def test_an_instance_down_without_for_fails(tmp_path: Path) -> None:
    """One failed scrape (a deploy's restart) must not page: without ``for: 1m`` it would."""
    result = _mutated(tmp_path, "        expr: up == 0\n        for: 1m", "        expr: up == 0")
    assert result.returncode != 0
    assert "InstanceDown fires after a minute down" in result.stdout + result.stderr


def test_a_burn_rate_pair_without_its_short_window_fails(tmp_path: Path) -> None:
    """Without the 5-minute window the page lasts as long as the 1-hour window remembers the outage."""
    result = _mutated(
        tmp_path,
        "          service:http_errors:ratio_rate1h > (14.4 * 0.001)\n          and\n"
        "          service:http_errors:ratio_rate5m > (14.4 * 0.001)",
        "          service:http_errors:ratio_rate1h > (14.4 * 0.001)",
    )
    assert result.returncode != 0
    assert "resolves soon after the errors stop" in result.stdout + result.stderr
