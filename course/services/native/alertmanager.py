"""Alertmanager 0.25 from Debian's ``prometheus-alertmanager`` as the course's alert router (chapter 08).

The course Prometheus sends its alerts here (``ALERTMANAGER_URL``); they are grouped by
``alertname`` and ``service`` and held, visible in the web UI and at ``/api/v2/alerts``. The
configuration is ``course/services/native/alertmanager/alertmanager.yml`` (the compose
service mounts the same file): its receiver has no integration, so nothing leaves the machine —
the alerts notebook shows delivery to a webhook on a throwaway Alertmanager instead
(``reference/observability/prometheus.py``). Clustering is off (``--cluster.listen-address=``):
one instance needs no gossip port, which would otherwise listen on every interface. Silences and
the notification log live under ``.services/alertmanager/data``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from course.services.base import NativeServer, Progress, ServiceError, apt_install, spawn
from reference.config import Settings

CONFIG = Path(__file__).parent / "alertmanager" / "alertmanager.yml"
BINARY = "prometheus-alertmanager"  # Debian's name for the alertmanager binary


class AlertmanagerServer(NativeServer):
    name = "alertmanager"

    def __init__(self, settings: Settings) -> None:
        try:
            self.port = settings.endpoint("ALERTMANAGER_URL").port
        except ValueError as error:
            raise ServiceError(
                f"ALERTMANAGER_URL must be http://127.0.0.1:PORT ({error})"
            ) from None
        self.ports = (self.port,)

    def missing(self) -> list[str]:
        return [] if shutil.which(BINARY) else ["prometheus-alertmanager"]

    def install(self, progress: Progress) -> None:
        apt_install(["prometheus-alertmanager"], progress)

    def start(self, progress: Progress) -> int:
        paths = self.paths()
        paths.data.mkdir(parents=True, exist_ok=True)
        config = paths.root / "alertmanager.yml"
        shutil.copyfile(CONFIG, config)
        command = [
            shutil.which(BINARY) or BINARY,
            f"--config.file={config}",
            f"--storage.path={paths.data}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--web.external-url=http://127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        return spawn(self.name, command, paths)

    def ready_timeout(self) -> float:
        return 20.0
