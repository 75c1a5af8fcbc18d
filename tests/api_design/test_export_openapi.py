"""The export command behind the committed openapi.json: writes it, and ``--check`` tells stale from
current (CI runs the check; a contributor runs the export)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference.api_design import export_openapi


def test_export_writes_the_spec_and_check_tells_stale_from_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "openapi.json"
    monkeypatch.setattr(export_openapi, "SPEC_PATH", target)

    assert export_openapi.main(["--check"]) == 1  # missing
    assert "is stale: run python -m reference.api_design.export_openapi" in capsys.readouterr().out

    assert export_openapi.main([]) == 0
    assert f"wrote {target}" in capsys.readouterr().out
    assert target.read_text() == export_openapi.render(export_openapi.current_spec())

    assert export_openapi.main(["--check"]) == 0
    assert "is up to date" in capsys.readouterr().out

    target.write_text(target.read_text().replace('"3.1', '"3.0', 1))
    assert export_openapi.main(["--check"]) == 1


def test_the_committed_spec_passes_the_check() -> None:
    assert export_openapi.main(["--check"]) == 0
