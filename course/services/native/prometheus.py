"""Prometheus 2.42 from Debian's ``prometheus`` package as the course's metrics server (chapter 08).

The configuration is the repository's ``course/services/native/prometheus/prometheus.yml.template``
(the compose service mounts the same file), filled in with the ports of ``PROMETHEUS_URL`` and
``ALERTMANAGER_URL``: it scrapes itself, the course Alertmanager and the chapter's demo app
(``python -m reference.observability.demo`` on 127.0.0.1:18120; its target is down unless the demo
runs, which the ``InstanceDown`` alert shows), evaluates ``reference/observability/rules/*.yml``
(read in place: edit a rule, then ``curl -X POST $PROMETHEUS_URL/-/reload``) and sends alerts to
the course Alertmanager. The time series database is under ``.services/prometheus/data``.

Debian's package recommends ``prometheus-node-exporter`` (and with it smartmontools);
``apt_install`` installs without recommends, so only Prometheus and ``promtool`` arrive. The
package's systemd unit is never started: the launcher runs the binary itself, on 127.0.0.1 only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from course.services.base import NativeServer, Progress, ServiceError, apt_install, spawn
from reference.config import REPO_ROOT, Settings

TEMPLATE = Path(__file__).parent / "prometheus" / "prometheus.yml.template"
RULES_DIR = REPO_ROOT / "reference" / "observability" / "rules"
DEMO_ADDRESS = "127.0.0.1:18120"
"""Where ``python -m reference.observability.demo`` serves its ``/metrics``."""


def render(template: str, values: dict[str, str]) -> str:
    """Fill in ``${NAME}`` placeholders; one left over is an error, not a broken configuration."""
    for name, value in values.items():
        template = template.replace(f"${{{name}}}", value)
    left = re.search(r"\$\{[A-Z_]+\}", template)
    if left is not None:
        raise ServiceError(f"prometheus: no value for the template's {left.group()}")
    return template


class PrometheusServer(NativeServer):
    name = "prometheus"

    def __init__(self, settings: Settings) -> None:
        try:
            self.port = settings.endpoint("PROMETHEUS_URL").port
            self.alertmanager_port = settings.endpoint("ALERTMANAGER_URL").port
        except ValueError as error:
            raise ServiceError(
                f"PROMETHEUS_URL and ALERTMANAGER_URL must be http://127.0.0.1:PORT ({error})"
            ) from None
        self.ports = (self.port,)

    def missing(self) -> list[str]:
        return [] if shutil.which("prometheus") and shutil.which("promtool") else ["prometheus"]

    def install(self, progress: Progress) -> None:
        apt_install(["prometheus"], progress)

    def config_text(self) -> str:
        return render(
            TEMPLATE.read_text(),
            {
                "PROMETHEUS_ADDRESS": f"127.0.0.1:{self.port}",
                "ALERTMANAGER_ADDRESS": f"127.0.0.1:{self.alertmanager_port}",
                "DEMO_ADDRESS": DEMO_ADDRESS,
                "RULES_DIR": str(RULES_DIR),
            },
        )

    def start(self, progress: Progress) -> int:
        paths = self.paths()
        paths.data.mkdir(parents=True, exist_ok=True)
        config = paths.root / "prometheus.yml"
        config.write_text(self.config_text())
        # promtool names a broken rule file and line; Prometheus itself would only exit, and the
        # launcher would report a readiness timeout.
        check = subprocess.run(
            ["promtool", "check", "config", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            raise ServiceError(
                f"prometheus: the configuration is invalid:\n{check.stdout}{check.stderr}"
            )
        command = [
            shutil.which("prometheus") or "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={paths.data}",
            "--storage.tsdb.retention.time=7d",
            f"--web.listen-address=127.0.0.1:{self.port}",
            # POST /-/reload re-reads edited rules; loopback only, like every course server.
            "--web.enable-lifecycle",
            "--log.level=warn",
        ]
        return spawn(self.name, command, paths)

    def ready_timeout(self) -> float:
        return 30.0
