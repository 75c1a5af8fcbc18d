"""RabbitMQ 3.10 from Debian's ``rabbitmq-server``, run as our own node with every path under ``.services``.

``/usr/sbin/rabbitmq-server`` switches to the ``rabbitmq`` user and ignores our paths, so we run the
script behind it (``/usr/lib/rabbitmq/bin/rabbitmq-server``) in the foreground with environment
variables that move the cookie, Mnesia, logs and config into our folder, bind everything to
127.0.0.1, and give Erlang's port mapper (epmd) and distribution ports of their own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from course.services.base import NativeServer, Progress, ServiceError, apt_install, spawn
from reference.config import Settings

BIN = Path("/usr/lib/rabbitmq/bin")
NODE = "course@localhost"
EPMD_TIMEOUT_S = 15.0


class RabbitMQServer(NativeServer):
    name = "rabbitmq"

    def __init__(self, settings: Settings) -> None:
        endpoint = settings.endpoint("AMQP_URL")
        self.port = endpoint.port
        self.user = endpoint.username or "guest"
        self.password = endpoint.password or "guest"
        self.management_port = settings.endpoint("RABBITMQ_MANAGEMENT_URL").port
        # Distribution and epmd ports follow the client port so two checkouts can coexist.
        self.dist_port = self.port + 2
        self.epmd_port = self.port + 3
        # The epmd port is not checked: an epmd left behind by our own node (killed rather than
        # stopped) is simply reused by the next one.
        self.ports = (self.port, self.management_port, self.dist_port)

    def missing(self) -> list[str]:
        return [] if (BIN / "rabbitmq-server").exists() else ["rabbitmq-server"]

    def install(self, progress: Progress) -> None:
        apt_install(["rabbitmq-server"], progress)

    def environment(self) -> dict[str, str]:
        """The variables every ``rabbitmq*`` command needs to find our node."""
        root = self.paths().root
        return {
            **os.environ,
            "HOME": str(root),  # holds the Erlang cookie
            "RABBITMQ_NODENAME": NODE,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": str(self.paths().data),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_PID_FILE": str(root / "beam.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
            # The distribution listener binds to loopback only.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def start(self, progress: Progress) -> int:
        root = self.paths().root
        self.paths().data.mkdir(parents=True, exist_ok=True)
        (root / "log").mkdir(exist_ok=True)
        (root / "rabbitmq-env.conf").write_text("")
        (root / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (root / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            f"management.tcp.ip = 127.0.0.1\n"
            f"management.tcp.port = {self.management_port}\n"
            # The course user is created on first boot; guest would only work from loopback.
            f"default_user = {self.user}\n"
            f"default_pass = {self.password}\n"
            "default_user_tags.administrator = true\n"
            "loopback_users = none\n"
        )
        self._write_ctl_wrapper(root)
        self._start_epmd()
        progress("rabbitmq: booting the Erlang node (about 10 s)")
        return spawn(self.name, [str(BIN / "rabbitmq-server")], self.paths(), self.environment())

    def _start_epmd(self, timeout: float = EPMD_TIMEOUT_S) -> None:
        """Start our port mapper and wait until it answers. A node left to start epmd itself gives
        up at once ("nodistribution") when epmd is not listening yet — seen on a loaded machine, and
        right after a killed node's epmd went away. One already running is reused."""
        environment = self.environment()
        subprocess.run(
            ["epmd", "-daemon"], env=environment, capture_output=True, check=False, timeout=10
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                names = subprocess.run(
                    ["epmd", "-names"], env=environment, capture_output=True, check=False, timeout=5
                )
                answer = names.stderr.decode(errors="replace").strip() or names.stdout.decode()
                if names.returncode == 0:
                    return
            except subprocess.TimeoutExpired:
                answer = "no reply within 5 s"
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"rabbitmq: Erlang's port mapper (epmd) does not answer on 127.0.0.1:"
                    f"{self.epmd_port} ({answer.strip()[:200]}); is another program on that port?"
                )
            time.sleep(0.1)

    def _write_ctl_wrapper(self, root: Path) -> None:
        """``.services/rabbitmq/ctl ARGS`` runs rabbitmqctl against our node (it needs our cookie)."""
        keys = ("HOME", "RABBITMQ_NODENAME", "ERL_EPMD_PORT", "RABBITMQ_CONF_ENV_FILE")
        environment = self.environment()
        exports = "".join(f"export {key}='{environment[key]}'\n" for key in keys)
        wrapper = root / "ctl"
        wrapper.write_text(f'#!/bin/sh\n{exports}exec {BIN / "rabbitmqctl"} "$@"\n')
        wrapper.chmod(0o755)

    def stop(self, pid: int) -> None:
        # The wrapper script traps SIGTERM and stops the Erlang VM cleanly.
        os.kill(pid, signal.SIGTERM)

    def after_stop(self) -> None:
        """Stop the port mapper our node started; it outlives the VM otherwise."""
        subprocess.run(
            ["epmd", "-kill"],
            env=self.environment(),
            capture_output=True,
            check=False,
            timeout=10,
        )

    def ready_timeout(self) -> float:
        return 90.0
