"""An etcd client for a URL: etcd3gw over etcd's JSON gateway, with a timeout on every request.

Chapter 04's registry is etcd standing in for the guide's Consul (Consul is not packaged where the
course runs; etcd is, and its leases, keep-alives and watches are the same ideas). The client is
``etcd3gw`` — OpenStack's, maintained, speaking the gRPC gateway's JSON over HTTP — rather than
``etcd3`` (gRPC, unmaintained since 2020). Taught in ``notebooks/04_microservices_discovery.ipynb``.
"""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from etcd3gw.client import Etcd3Client

DEFAULT_TIMEOUT = 3.0
"""Seconds any one request may take: etcd down or hung is an error after this, never a hang."""


def etcd_client(url: str, timeout: float = DEFAULT_TIMEOUT) -> Etcd3Client:
    """A client of the etcd at ``url`` (``http://127.0.0.1:12379``); every request times out.

    A URL that is not ``http(s)://host:port`` or a timeout that is not a positive finite number is a
    ``ValueError`` here, not a confusing failure on first use.
    """
    if not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        raise ValueError(f"not an etcd URL (http://host:port): {url!r}")
    return Etcd3Client(
        host=parts.hostname,
        port=port,
        protocol=parts.scheme,
        timeout=timeout,
        api_path="/v3/",  # etcd 3.4+: skips the /version discovery round trip
    )
