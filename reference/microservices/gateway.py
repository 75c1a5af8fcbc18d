"""The API gateway's configuration: Envoy routes, JWT at the edge, a per-consumer rate limit.

Pattern: an API gateway (the guide's Kong) — one edge that routes by path prefix to the services and
enforces what every service would otherwise re-implement. Envoy stands in for Kong (Kong is not
packaged where this course runs; Envoy is a pip install), and each property the guide's ``kong.yml``
meant is written down here and proved live in ``tests/microservices/test_gateway.py``:

- **routes by path prefix, as declared**: ``path_separated_prefix`` matches ``/api/v1/users`` and
  ``/api/v1/users/…`` but not ``/api/v1/usersX``, and the path reaches the service unchanged (Kong's
  ``strip_path`` defaults to true: its upstream saw ``/``);
- **JWT verified at the edge** (``jwt_authn``) against the issuer's JWKS (chapter 03's
  :class:`~reference.auth.keys.KeyRing`): issuer, audience, expiry and signature — a bad token never
  reaches the service;
- **a per-consumer rate limit**: Envoy's ``local_ratelimit`` with a *dynamic descriptor* keyed on the
  verified token's ``sub`` (the ``metadata`` action reads ``jwt_authn``'s ``payload_in_metadata``;
  a descriptor entry without a value makes one token bucket per distinct subject, at most
  ``max_dynamic_descriptors``). It is a token bucket refilled continuously (100 tokens, 100 a
  minute): a burst gets 100, then one every 0.6 s — not Kong's fixed "100 per calendar minute". And
  it is per Envoy instance: two replicas allow twice the rate. A fleet-wide, fixed-window limit needs
  Envoy's global rate limit service (``envoy.filters.http.ratelimit`` + a Redis-backed ratelimit
  server) — the guide's ``policy: redis``;
- **client-supplied ``X-Forwarded-For`` is not trusted**: ``use_remote_address`` with
  ``xff_num_trusted_hops: 0``, and the header the service gets is overwritten with the peer address
  the gateway saw;
- **an upstream timeout is a 504**, **retries only for idempotent methods** (``retriable_request_headers``
  on ``:method`` GET/HEAD: a retried POST could charge twice);
- **request ids generated at the edge** (an incoming ``x-request-id`` is replaced, then propagated to
  the service, the access log and the response);
- optionally Envoy's **fault filter** (delay/abort injected at the gateway) and **outlier detection**
  (a host answering 5xx is ejected from the pool).

The configuration is plain data (dicts in Envoy's v3 API); :func:`bootstrap` assembles a complete
one. The launcher's Envoy runs :func:`registry_template` (``course/services/native/envoy/gateway.yaml.template``).
Taught in ``notebooks/04_microservices_gateway.ipynb``; exercise 04.3 writes :func:`user_routes` and
:func:`jwt_authn`.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import yaml

from reference.microservices.envoy import ACCESS_LOG

Config = dict[str, Any]

JWT_FILTER = "envoy.filters.http.jwt_authn"
RATELIMIT_FILTER = "envoy.filters.http.local_ratelimit"
FAULT_FILTER = "envoy.filters.http.fault"
HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
JWT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication"
JWT_ROUTE_TYPE = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig"
RATELIMIT_TYPE = (
    "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
)
FAULT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"

PROVIDER = "course"  # the jwt_authn provider name
REQUIREMENT = "course_user"  # the requirement a protected route names
MARKER_PATH = "/__course_gateway__"
MARKER_BODY = "course gateway"
USERS_PREFIX = "/api/v1/users"
PER_MINUTE = 100  # the guide's rate-limiting plugin: minute: 100


def _seconds(value: float, what: str) -> str:
    """An Envoy duration from a number of seconds; NaN, infinities and out-of-range are refused."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0.001 <= value <= 3600
    ):
        raise ValueError(
            f"{what} must be a finite number of seconds in [0.001, 3600], got {value!r}"
        )
    return f"{value:.3f}s"


def _percent(value: int = 100) -> Config:
    return {"default_value": {"numerator": value, "denominator": "HUNDRED"}}


def jwt_authn(issuer: str, audience: str, jwks: Mapping[str, Any]) -> Config:
    """The ``jwt_authn`` filter: one provider (the issuer's inline JWKS) and a named requirement.

    Routes opt in by naming :data:`REQUIREMENT` in their per-route config (:func:`require_jwt`);
    the verified payload goes to dynamic metadata (``jwt_payload``) for the rate limit's key.
    """
    return {
        "providers": {
            PROVIDER: {
                "issuer": issuer,
                "audiences": [audience],
                "local_jwks": {"inline_string": json.dumps(dict(jwks))},
                "forward": True,  # the service may verify again (defence in depth)
                "payload_in_metadata": "jwt_payload",
            }
        },
        "requirement_map": {REQUIREMENT: {"provider_name": PROVIDER}},
    }


def require_jwt() -> Config:
    """Per-route config: this route needs a token verified by :data:`PROVIDER`."""
    return {"@type": JWT_ROUTE_TYPE, "requirement_name": REQUIREMENT}


def per_consumer_limit(per_minute: int = PER_MINUTE) -> Config:
    """Per-route ``local_ratelimit``: ``per_minute`` requests per verified ``sub``, then 429."""
    if (
        isinstance(per_minute, bool)
        or not isinstance(per_minute, int)
        or not 0 < per_minute <= 10**6
    ):
        raise ValueError(f"per_minute must be an int in 1..1000000, got {per_minute!r}")
    bucket = {"max_tokens": per_minute, "tokens_per_fill": per_minute, "fill_interval": "60s"}
    return {
        "@type": RATELIMIT_TYPE,
        "stat_prefix": "per_consumer",
        # The route's overall bucket is generous: the per-consumer descriptor does the limiting.
        "token_bucket": {
            "max_tokens": 1_000_000,
            "tokens_per_fill": 1_000_000,
            "fill_interval": "1s",
        },
        "filter_enabled": _percent(),
        "filter_enforced": _percent(),
        "enable_x_ratelimit_headers": "DRAFT_VERSION_03",
        "max_dynamic_descriptors": 10_000,
        "descriptors": [{"entries": [{"key": "consumer"}], "token_bucket": bucket}],
        "rate_limits": [
            {
                "actions": [
                    {
                        "metadata": {
                            "descriptor_key": "consumer",
                            "metadata_key": {
                                "key": JWT_FILTER,
                                "path": [{"key": "jwt_payload"}, {"key": "sub"}],
                            },
                            "source": "DYNAMIC",
                        }
                    }
                ]
            }
        ],
    }


def idempotent_retries(num_retries: int = 2) -> Config:
    """Retry 5xx/resets — but only GET and HEAD: a retried POST may do its work twice."""
    return {
        "retry_on": "5xx,reset,connect-failure",
        "num_retries": num_retries,
        "retriable_request_headers": [
            {"name": ":method", "string_match": {"safe_regex": {"regex": "GET|HEAD"}}}
        ],
    }


def user_routes(cluster: str, *, timeout_s: float = 2.0) -> list[Config]:
    """The users service's routes: public ``/health``; ``/api/v1/users[/…]`` behind JWT + rate limit.

    The path reaches the service as the client sent it (no prefix rewrite), and ``/api/v1/usersX``
    is not this route (``path_separated_prefix``).
    """
    timeout = _seconds(timeout_s, "timeout_s")
    return [
        {
            "name": "users_health",
            "match": {"path": "/health"},
            "route": {"cluster": cluster, "timeout": timeout},
        },
        {
            "name": "users",
            "match": {"path_separated_prefix": USERS_PREFIX},
            "route": {
                "cluster": cluster,
                "timeout": timeout,
                "retry_policy": idempotent_retries(),
            },
            "typed_per_filter_config": {
                JWT_FILTER: require_jwt(),
                RATELIMIT_FILTER: per_consumer_limit(),
            },
        },
    ]


def service_routes(prefix: str, cluster: str, *, timeout_s: float = 2.0) -> list[Config]:
    """Another service behind the same edge rules as the users service (JWT, limit, retries)."""
    return [
        {
            "name": cluster,
            "match": {"path_separated_prefix": prefix},
            "route": {
                "cluster": cluster,
                "timeout": _seconds(timeout_s, "timeout_s"),
                "retry_policy": idempotent_retries(),
            },
            "typed_per_filter_config": {
                JWT_FILTER: require_jwt(),
                RATELIMIT_FILTER: per_consumer_limit(),
            },
        }
    ]


def marker_route() -> Config:
    """A direct response the probe checks, so another server on the port is not taken for ours."""
    return {
        "name": "course_marker",
        "match": {"path": MARKER_PATH},
        "direct_response": {"status": 200, "body": {"inline_string": MARKER_BODY}},
    }


def fault(*, delay_ms: int = 0, abort_status: int = 0, percent: int = 100) -> Config:
    """Per-route fault injection: a fixed delay and/or an aborted request, on ``percent`` of them."""
    for name, value, low, high in (
        ("percent", percent, 0, 100),
        ("abort_status", abort_status, 0, 599),
        ("delay_ms", delay_ms, 0, 3_600_000),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an int in {low}..{high}, got {value!r}")
    if abort_status and abort_status < 200:
        raise ValueError(f"abort_status must be an HTTP status 200..599, got {abort_status}")
    config: Config = {"@type": FAULT_TYPE}
    if delay_ms:
        config["delay"] = {
            "fixed_delay": _seconds(delay_ms / 1000, "delay_ms / 1000"),
            "percentage": {"numerator": percent, "denominator": "HUNDRED"},
        }
    if abort_status:
        config["abort"] = {
            "http_status": abort_status,
            "percentage": {"numerator": percent, "denominator": "HUNDRED"},
        }
    return config


def outlier_detection(consecutive_5xx: int = 3) -> Config:
    """Eject a host after ``consecutive_5xx`` 5xx in a row, for 30 s, at most half the pool."""
    return {
        "consecutive_5xx": consecutive_5xx,
        "interval": "1s",
        "base_ejection_time": "30s",
        "max_ejection_percent": 50,
        "enforcing_consecutive_5xx": 100,
    }


def cluster(name: str, urls: Sequence[str], *, outlier: bool = False) -> Config:
    """An upstream cluster of ``http://host:port`` endpoints (DNS names resolved by Envoy)."""
    endpoints = []
    literal = True
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"an upstream must be http://host:port, not {url!r}")
        try:
            ipaddress.ip_address(parts.hostname)
        except ValueError:
            literal = False
        address = {"address": parts.hostname, "port_value": parts.port}
        endpoints.append({"endpoint": {"address": {"socket_address": address}}})
    config: Config = {
        "name": name,
        "type": "STATIC" if literal else "STRICT_DNS",
        "connect_timeout": "1s",
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": endpoints}]},
    }
    if outlier:
        config["outlier_detection"] = outlier_detection()
    return config


ACCESS_LOG_FORMAT = {
    "start": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "status": "%RESPONSE_CODE%",
    "flags": "%RESPONSE_FLAGS%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "client": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
    "upstream": "%UPSTREAM_HOST%",
    "route": "%ROUTE_NAME%",
    "duration_ms": "%DURATION%",
}


def http_filters(jwt: Config | None, *, with_fault: bool = False) -> list[Config]:
    """The filter chain, in order: fault → jwt_authn → local_ratelimit (needs the JWT's sub) → router."""
    chain: list[Config] = []
    if with_fault:
        chain.append({"name": FAULT_FILTER, "typed_config": {"@type": FAULT_TYPE}})
    if jwt is not None:
        chain.append({"name": JWT_FILTER, "typed_config": {"@type": JWT_TYPE, **jwt}})
    chain.append(
        {"name": RATELIMIT_FILTER, "typed_config": {"@type": RATELIMIT_TYPE, "stat_prefix": "edge"}}
    )
    chain.append({"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER_TYPE}})
    return chain


def connection_manager(
    routes: Sequence[Config], filters: list[Config], access_log: str = ACCESS_LOG
) -> Config:
    """The HTTP connection manager of an edge proxy: XFF not trusted, request ids made here."""
    return {
        "@type": HCM,
        "stat_prefix": "gateway",
        "use_remote_address": True,
        "xff_num_trusted_hops": 0,
        "generate_request_id": True,
        "preserve_external_request_id": False,  # a client cannot choose the id we trace by
        "always_set_request_id_in_response": True,
        "access_log": [
            {
                "name": "envoy.access_loggers.file",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                    "path": access_log,
                    "log_format": {"json_format": ACCESS_LOG_FORMAT},
                },
            }
        ],
        "route_config": {
            "name": "gateway",
            # The service sees the peer address the gateway saw, whatever XFF the client sent.
            "request_headers_to_add": [
                {
                    "header": {
                        "key": "x-forwarded-for",
                        "value": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
                    },
                    "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                }
            ],
            "virtual_hosts": [
                {"name": "gateway", "domains": ["*"], "routes": [marker_route(), *routes]}
            ],
        },
        "http_filters": filters,
    }


def bootstrap(
    *,
    port: int,
    admin_port: int,
    routes: Sequence[Config],
    clusters: Sequence[Config],
    jwt: Config | None,
    with_fault: bool = False,
    listen: str = "127.0.0.1",
    access_log: str = ACCESS_LOG,
) -> Config:
    """A complete Envoy bootstrap: admin, one listener with ``routes``, the ``clusters``."""
    return {
        "admin": {"address": {"socket_address": {"address": listen, "port_value": admin_port}}},
        # An edge bounds how many connections clients may hold open (Envoy warns without it).
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.resource_monitors."
                        "downstream_connections.v3.DownstreamConnectionsConfig",
                        "max_active_downstream_connections": 10_000,
                    },
                }
            ]
        },
        "static_resources": {
            "listeners": [
                {
                    "name": "gateway",
                    "address": {"socket_address": {"address": listen, "port_value": port}},
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "typed_config": connection_manager(
                                        routes, http_filters(jwt, with_fault=with_fault), access_log
                                    ),
                                }
                            ]
                        }
                    ],
                }
            ],
            "clusters": list(clusters),
        },
    }


# The demo services (reference/microservices/demo.py) on their fixed loopback ports.
DEMO_PORTS = {"users": 18111, "orders": 18112, "notifications": 18113}
DEMO_ISSUER = "https://users.course.local"
DEMO_AUDIENCE = "course-gateway"
JWKS_PATH = "/.well-known/jwks.json"
_PLACEHOLDERS = (
    "LISTEN_ADDRESS",
    "GATEWAY_PORT",
    "ADMIN_PORT",
    "UPSTREAM_HOST",
    "UPSTREAM_CLUSTER_TYPE",  # STATIC for an IP address, STRICT_DNS for a name (compose)
    "ACCESS_LOG",
)


def registry_config(host: str = "127.0.0.1") -> Config:
    """The launcher's gateway: the three demo services, JWKS fetched from the users service."""
    users, orders, notifications = (f"http://{host}:{p}" for p in DEMO_PORTS.values())
    jwt = jwt_authn(DEMO_ISSUER, DEMO_AUDIENCE, {"keys": []})
    jwt["providers"][PROVIDER].pop("local_jwks")
    jwt["providers"][PROVIDER]["remote_jwks"] = {
        "http_uri": {"uri": f"{users}{JWKS_PATH}", "cluster": "jwks", "timeout": "2s"},
        "cache_duration": "300s",
        # Fetched in the background: the listener starts without the users service, and a
        # failed fetch is retried (every 1 s) instead of failing every token for five minutes.
        "async_fetch": {},
    }
    return bootstrap(
        port=18100,
        admin_port=18101,
        routes=[
            *user_routes("users"),
            *service_routes("/api/v1/orders", "orders"),
            *service_routes("/api/v1/notifications", "notifications"),
        ],
        clusters=[
            cluster("users", [users]),
            cluster("orders", [orders], outlier=True),
            cluster("notifications", [notifications]),
            cluster("jwks", [users]),
        ],
        jwt=jwt,
    )


def registry_template() -> str:
    """:func:`registry_config` as YAML with ``${LISTEN_ADDRESS}`` … placeholders (the committed file)."""
    config = registry_config("${UPSTREAM_HOST}")
    text = json.dumps(config)
    text = text.replace('"127.0.0.1"', '"${LISTEN_ADDRESS}"')
    text = text.replace(ACCESS_LOG, "${ACCESS_LOG}")
    text = text.replace('"type": "STRICT_DNS"', '"type": "${UPSTREAM_CLUSTER_TYPE}"')
    text = text.replace("${upstream_host}", "${UPSTREAM_HOST}")  # urlsplit lower-cased the host
    text = text.replace('"port_value": 18100', '"port_value": "${GATEWAY_PORT}"')
    text = text.replace('"port_value": 18101', '"port_value": "${ADMIN_PORT}"')
    body = yaml.safe_dump(json.loads(text), sort_keys=False, width=100)
    header = (
        "# The course's API gateway: Envoy in front of the chapter 04 demo services.\n"
        "# GENERATED by reference/microservices/gateway.py (registry_template); a test keeps it in sync.\n"
        "# ${NAME} placeholders are filled in by the launcher (course/services/native/envoy.py) or by\n"
        "# the compose service's sed (docker-compose.yml). Upstreams: `uv run python -m\n"
        "# reference.microservices.demo` on ${UPSTREAM_HOST}:18111-18113 (Envoy answers 503 without them).\n"
    )
    return header + body


def render_template(text: str, values: Mapping[str, str]) -> str:
    """Fill in the template's placeholders; every one must be given."""
    missing = [name for name in _PLACEHOLDERS if f"${{{name}}}" in text and name not in values]
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}")
    for name, value in values.items():
        text = text.replace(f"${{{name}}}", value)
    return text
