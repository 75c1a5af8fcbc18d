"""Which servers may be started on demand, without being asked: one rule for the test fixtures and
the ``course check`` / ``verify`` / ``grade`` preflight.

``COURSE_AUTOSTART`` unset or ``1``: any server. ``0`` (what ``./dev`` sets for CI, which wants a
failure, not a silent start, if a server it started dies): only the registry's *heavy* servers
(Keycloak), which ``./dev test`` never starts up front. ``never``: none.
"""

from __future__ import annotations

import os

from reference.setup import servers as registry


def may_start(name: str) -> bool:
    """Whether server ``name`` may be started without being asked."""
    autostart = os.environ.get("COURSE_AUTOSTART", "1")
    return autostart != "never" and (autostart != "0" or registry.server(name).heavy)
