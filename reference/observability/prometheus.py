"""Throwaway Prometheus and Alertmanager servers, and small clients of their HTTP APIs.

The course's registry Prometheus (``PROMETHEUS_URL``) scrapes fixed targets every few seconds with
the repository's rule files. Whatever must change that — other scrape targets, a rule a learner
wrote, a ``for:`` short enough for a notebook, a 1 s evaluation interval — runs on a
:class:`ScratchPrometheus` of its own instead: a temporary folder, a free loopback port, the given
jobs and rule files, 1 s scrape and evaluation intervals, ``--web.enable-lifecycle`` (so
:meth:`ScratchPrometheus.reload` re-reads rules without a restart). It starts in well under a
second, so one per test is fine. :class:`ScratchAlertmanager` is the same for Alertmanager, routing
every alert to one webhook (:mod:`reference.observability.alerting` records what arrives) with
group and repeat intervals short enough to watch an alert fire and resolve in a notebook.

Both run Debian's binaries (``prometheus``, ``prometheus-alertmanager``: ``course services up
prometheus alertmanager`` installs them). Taught in ``notebooks/08_observability_alerts.ipynb``;
exercise 08.4 is graded against a :class:`ScratchPrometheus`.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

import httpx
import yaml

from reference.setup.ports import free_port
from reference.setup.processes import DIE_WITH_PARENT, stop_process

HOST: Final = "127.0.0.1"
START_TIMEOUT_S: Final = 20.0
REQUEST_TIMEOUT_S: Final = 5.0

T = TypeVar("T")


class PrometheusError(RuntimeError):
    """The server answered an API call with ``status: error`` (a bad PromQL expression, say)."""


@dataclass(frozen=True)
class ScrapeJob:
    """One ``scrape_configs`` entry: a job name, its ``host:port`` targets, and how to scrape them."""

    name: str
    targets: Sequence[str]
    metrics_path: str = "/metrics"
    bearer_token: str | None = None
    labels: Mapping[str, str] | None = None

    def config(self, interval_s: float) -> dict[str, Any]:
        job: dict[str, Any] = {
            "job_name": self.name,
            "metrics_path": self.metrics_path,
            "scrape_interval": _duration(interval_s),
            # a scrape may take at most the interval: a hung target is "down", not a pile-up
            "scrape_timeout": _duration(interval_s),
            "static_configs": [
                {
                    "targets": list(self.targets),
                    **({"labels": dict(self.labels)} if self.labels else {}),
                }
            ],
        }
        if self.bearer_token is not None:
            job["authorization"] = {"type": "Bearer", "credentials": self.bearer_token}
        return job


def _duration(seconds: float) -> str:
    """Prometheus' duration syntax (``1s``, ``250ms``): it takes no bare numbers."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"an interval must be a positive number of seconds, not {seconds!r}")
    milliseconds = round(seconds * 1000)
    return f"{milliseconds // 1000}s" if milliseconds % 1000 == 0 else f"{milliseconds}ms"


def _jobs(targets: Mapping[str, Sequence[str]] | Sequence[ScrapeJob]) -> list[ScrapeJob]:
    if isinstance(targets, Mapping):
        return [ScrapeJob(name, tuple(addresses)) for name, addresses in targets.items()]
    return list(targets)


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if found is not None:
            return found
    raise RuntimeError(
        f"{names[0]} is not installed here: on Debian, `course services up prometheus alertmanager` installs it"
    )


class _Server:
    """What both servers share: a process on a free port in a temporary folder, readiness, stop."""

    kind: str = "server"

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix=f"scratch-{self.kind}-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=REQUEST_TIMEOUT_S)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def address(self) -> str:
        """``host:port``, as a scrape target or an ``alertmanagers`` entry names it."""
        return f"{HOST}:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def log(self) -> str:
        path = self.folder / f"{self.kind}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / f"{self.kind}.log").open("ab"),
            cwd=self.folder,
            preexec_fn=DIE_WITH_PARENT,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.http.get("/-/ready").status_code == 200:
                    return
            except httpx.HTTPError:  # not listening yet
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"scratch {self.kind} did not start:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None

    def close(self) -> None:
        self.stop()
        self.http.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def wait_for(self, predicate: Callable[[], T | None], timeout: float = 30.0) -> T:
        """:func:`wait_for`, failing at once (with the server's log) if the server died meanwhile."""

        def alive_and(predicate: Callable[[], T | None] = predicate) -> T | None:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"scratch {self.kind} is not running:\n{self.log()[-3000:]}")
            return predicate()

        return wait_for(alive_and, timeout)


class ScratchPrometheus(_Server):
    """``with ScratchPrometheus({"app": ["127.0.0.1:8000"]}, rule_files=[...]) as prom:`` →
    ``prom.query("up")``; stopped and its folder removed on exit.

    ``targets`` maps job names to ``host:port`` lists, or is a list of :class:`ScrapeJob` (for
    another metrics path or a bearer token). ``rule_files`` are copied into the server's folder, so
    a caller may delete or rewrite its own afterwards; :meth:`write_rules` and :meth:`reload` change
    them while it runs. ``alertmanager_url`` (``http://host:port``) is where firing alerts go.

    Ready in about 0.3 s, but the first scrape and the first alert sent to Alertmanager come about
    5 s after start: Prometheus' discovery manager hands new targets over at most every 5 s (not
    configurable in 2.42). Rules over ``vector()`` or recorded series evaluate at once.
    """

    kind = "prometheus"

    def __init__(
        self,
        targets: Mapping[str, Sequence[str]] | Sequence[ScrapeJob] = (),
        *,
        rule_files: Sequence[str | Path] = (),
        alertmanager_url: str | None = None,
        interval_s: float = 1.0,
        scrape_self: bool = True,
    ) -> None:
        super().__init__()
        self.jobs = _jobs(targets)
        self.interval_s = interval_s
        self.alertmanager_url = alertmanager_url
        self.scrape_self = scrape_self
        (self.folder / "rules").mkdir()
        for index, source in enumerate(rule_files):
            source = Path(source)
            shutil.copyfile(source, self.folder / "rules" / f"{index:02d}-{source.name}")
        self.write_config()

    def __enter__(self) -> ScratchPrometheus:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def config(self) -> dict[str, Any]:
        interval = _duration(self.interval_s)
        jobs = list(self.jobs)
        if self.scrape_self:
            jobs.insert(0, ScrapeJob("prometheus", (self.address,)))
        config: dict[str, Any] = {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": [str(self.folder / "rules" / "*.yml")],
            "scrape_configs": [job.config(self.interval_s) for job in jobs],
        }
        if self.alertmanager_url is not None:
            address = self.alertmanager_url.split("://", 1)[-1].rstrip("/")
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [address]}]}]}
        return config

    def write_config(self) -> None:
        (self.folder / "prometheus.yml").write_text(yaml.safe_dump(self.config(), sort_keys=False))

    def write_rules(self, name: str, rules: str | Mapping[str, Any]) -> Path:
        """Write a rule file (YAML text or the parsed document) into the rules folder; call
        :meth:`reload` to load it into a running server."""
        if "/" in name or not name.endswith(".yml"):
            raise ValueError(f"a rule file name is a plain *.yml name, not {name!r}")
        path = self.folder / "rules" / name
        text = rules if isinstance(rules, str) else yaml.safe_dump(dict(rules), sort_keys=False)
        path.write_text(text)
        return path

    def reload(self) -> None:
        """Re-read configuration and rules (``POST /-/reload``). A rule file Prometheus refuses is a
        :class:`PrometheusError` carrying its message; the old rules then stay loaded."""
        response = self.http.post("/-/reload")
        if response.status_code != 200:
            raise PrometheusError(f"reload refused: {response.text.strip()}")

    def command(self) -> list[str]:
        return [
            _binary("prometheus"),
            f"--config.file={self.folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.folder / 'data'}",
            f"--web.listen-address={self.address}",
            "--web.enable-lifecycle",
            # Prometheus re-sends a firing alert to Alertmanager at most once a minute by default;
            # at one evaluation a second a demo would otherwise wait that minute for "resolved".
            f"--rules.alert.resend-delay={_duration(self.interval_s)}",
            "--log.level=warn",
        ]

    # --- the HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/) ---

    def _api(self, path: str, params: httpx.QueryParams | None = None) -> Any:
        response = self.http.get(f"/api/v1/{path}", params=params)
        body = response.json()
        if body.get("status") != "success":
            raise PrometheusError(f"{path}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's vector: ``[{"metric": {...}, "value": [ts, "1.5"]}, ...]``."""
        data = self._api("query", httpx.QueryParams(query=promql))
        if data["resultType"] != "vector":
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def value(self, promql: str) -> float | None:
        """The single value of a one-element query (``None`` for an empty result)."""
        result = self.query(promql)
        if not result:
            return None
        if len(result) > 1:
            raise PrometheusError(f"{promql!r} returned {len(result)} series, not one")
        return float(result[0]["value"][1])

    def query_range(
        self, promql: str, start: float, end: float, step_s: float = 1.0
    ) -> list[dict[str, Any]]:
        """A range query's matrix: ``[{"metric": {...}, "values": [[ts, "v"], ...]}, ...]``."""
        params = httpx.QueryParams(query=promql, start=start, end=end, step=step_s)
        data = self._api("query_range", params)
        return list(data["result"])

    def series_count(self, match: str) -> int:
        """How many series match a selector (``http_requests_total{service="users"}``)."""
        return len(self._api("series", httpx.QueryParams({"match[]": match})))

    def alerts(self, name: str | None = None) -> list[dict[str, Any]]:
        """Active alerts (pending or firing), optionally only those named ``name``."""
        alerts = list(self._api("alerts")["alerts"])
        return [a for a in alerts if name is None or a["labels"].get("alertname") == name]

    def alert_state(self, name: str) -> str:
        """``"firing"`` if any alert ``name`` fires, else ``"pending"`` if one is pending, else
        ``"inactive"``."""
        states = {alert["state"] for alert in self.alerts(name)}
        return "firing" if "firing" in states else "pending" if "pending" in states else "inactive"

    def rules(self) -> list[dict[str, Any]]:
        """Every loaded rule (recording and alerting) with its health and last error."""
        groups = self._api("rules")["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def targets_up(self) -> dict[str, bool]:
        """``{scrape_url: healthy}`` for every active target."""
        active = self._api("targets")["activeTargets"]
        return {target["scrapeUrl"]: target["health"] == "up" for target in active}


class ScratchAlertmanager(_Server):
    """``with ScratchAlertmanager(webhook_url) as am:`` → point a Prometheus at ``am.url``.

    Every alert goes to one webhook receiver with ``send_resolved``; alerts are grouped by
    ``alertname`` and the waits are short (``group_wait`` 1 s, ``group_interval`` 1 s,
    ``repeat_interval`` 1 h) so a notebook sees a notification a second after Prometheus fires,
    and exactly one per change rather than a repeat every second. Clustering is off (no gossip port).
    """

    kind = "alertmanager"

    def __init__(
        self,
        webhook_url: str,
        *,
        group_wait_s: float = 1.0,
        group_interval_s: float = 1.0,
        repeat_interval_s: float = 3600.0,
    ) -> None:
        super().__init__()
        self.webhook_url = webhook_url
        config = {
            "route": {
                "receiver": "webhook",
                "group_by": ["alertname"],
                "group_wait": _duration(group_wait_s),
                "group_interval": _duration(group_interval_s),
                "repeat_interval": _duration(repeat_interval_s),
            },
            "receivers": [
                {
                    "name": "webhook",
                    "webhook_configs": [{"url": webhook_url, "send_resolved": True}],
                }
            ],
        }
        (self.folder / "alertmanager.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    def __enter__(self) -> ScratchAlertmanager:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def command(self) -> list[str]:
        return [
            _binary("prometheus-alertmanager", "alertmanager"),
            f"--config.file={self.folder / 'alertmanager.yml'}",
            f"--storage.path={self.folder / 'data'}",
            f"--web.listen-address={self.address}",
            "--cluster.listen-address=",  # a single instance: no gossip port to collide on
            "--log.level=warn",
        ]

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds now (``GET /api/v2/alerts``)."""
        response = self.http.get("/api/v2/alerts")
        response.raise_for_status()
        return list(response.json())


def wait_for(predicate: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.2) -> T:
    """Poll ``predicate`` until it returns something truthy and return that; ``TimeoutError``
    (with the last value seen) after ``timeout`` seconds. Polling, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {timeout} s (last value: {result!r})")
        time.sleep(interval)
