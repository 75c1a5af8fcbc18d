"""Installing what a native server lacks: clear instructions when it cannot be done here."""

from __future__ import annotations

import os

import pytest

from course.services.base import ServiceError, apt_install


def test_not_root_says_exactly_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ServiceError) as caught:
        apt_install(["postgresql-15", "redis-server"], lambda _line: None)
    message = str(caught.value)
    assert "sudo apt-get install -y postgresql-15 redis-server" in message
    assert "Docker" in message


def test_no_apt_get_names_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr("course.services.base.shutil.which", lambda _name: None)
    with pytest.raises(ServiceError, match="no apt-get here: install rabbitmq-server"):
        apt_install(["rabbitmq-server"], lambda _line: None)


def test_a_package_that_does_not_exist_fails_clearly() -> None:
    if os.geteuid() != 0:
        pytest.skip("installing packages needs root")
    lines: list[str] = []
    with pytest.raises(ServiceError, match="apt-get install no-such-package-xyz failed"):
        apt_install(["no-such-package-xyz"], lines.append)
    assert any("apt-get install" in line for line in lines)
