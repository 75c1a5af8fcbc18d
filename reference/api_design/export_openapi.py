"""Export the users API's OpenAPI 3.1 document to ``reference/api_design/openapi.json``.

The pattern: the spec is generated from the code (FastAPI), committed, and a test fails when the
committed file is stale — so a client generator or a reviewer reading the diff sees every contract
change. The guide hand-wrote its YAML, which referenced an undefined schema, omitted ``minimum`` and
every error response. Run ``uv run python -m reference.api_design.export_openapi`` (``--check`` to
only compare). Taught in ``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from reference.api_design.app import create_app

SPEC_PATH = Path(__file__).resolve().parent / "openapi.json"


def current_spec() -> dict[str, Any]:
    """The spec as the code defines it now (building the app opens no connection)."""
    return create_app("postgresql://spec:spec@127.0.0.1:1/spec").openapi()


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render(current_spec())
    if "--check" in argv:
        if not SPEC_PATH.exists() or SPEC_PATH.read_text() != text:
            print(f"{SPEC_PATH} is stale: run python -m reference.api_design.export_openapi")
            return 1
        print(f"{SPEC_PATH} is up to date")
        return 0
    SPEC_PATH.write_text(text)
    print(f"wrote {SPEC_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
