"""The guide's ``kong.yml`` (마이크로서비스 아키텍처 › API Gateway 설정 (Kong)), translated to Envoy faithfully.

Kong is not installable where this course runs; Envoy stands in for it. :func:`validate_declarative`
checks the file the way Kong's declarative loader would, and :func:`translate` turns each service,
route and plugin into the Envoy configuration that behaves as Kong would with that file — defects
included (guide-defects.md §4.2; each is shown live in ``tests/microservices/test_kong.py`` and
``notebooks/04_microservices_gateway.ipynb`` and fixed in :mod:`reference.microservices.gateway`):

- no ``_format_version``: Kong refuses to load the file at all;
- ``strip_path`` is not set and defaults to ``true``: the matched prefix is cut off, so the user
  service sees ``/`` for ``/api/v1/users`` and ``/42`` for ``/api/v1/users/42``;
- Kong's ``paths`` are plain prefixes: ``/api/v1/usersX`` is routed to the user service too;
- the ``jwt`` plugin verifies a token against the credentials of *consumers* (found by the token's
  ``iss``); the file declares none, so every request — with or without a valid token — is a 401.
  In Envoy: a provider whose key set holds no key any issuer signs with (Envoy refuses an empty set);
- ``rate-limiting`` with ``policy: redis`` and no Redis host: the plugin's schema refuses that too,
  once ``_format_version`` is added. Its limit is per consumer (falling back to the client IP):
  translated to Envoy's per-consumer local limit;
- ``cors``: not translated (no browser takes part here; Envoy's CORS filter would do the same).

``translate(..., consumer_jwks=…)`` models the first fix a reader would make (declaring a consumer
whose credential is the issuer's key): then tokens pass and the ``strip_path`` and prefix defects
show at the upstream.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from reference.auth.keys import generate_key
from reference.microservices.gateway import (
    JWT_FILTER,
    RATELIMIT_FILTER,
    Config,
    cluster,
    jwt_authn,
    per_consumer_limit,
    require_jwt,
)

KONG_YML = Path(__file__).with_name("kong.yml")
FORMAT_VERSIONS = ("1.1", "2.1", "3.0")  # what Kong 3.x's declarative loader accepts


class KongConfigError(ValueError):
    """The declarative file Kong would refuse to load, with the reason Kong gives."""


def load(path: Path = KONG_YML) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict):
        raise KongConfigError("a declarative config is a YAML mapping")
    return document


def validate_declarative(document: Mapping[str, Any]) -> None:
    """The checks of Kong's declarative loader this file meets first (``kong config parse``)."""
    version = document.get("_format_version")
    if version is None:
        raise KongConfigError("_format_version: required field missing")
    if str(version) not in FORMAT_VERSIONS:
        raise KongConfigError(f"_format_version: expected one of {', '.join(FORMAT_VERSIONS)}")
    for service in document.get("services", []):
        if "name" not in service or "url" not in service:
            raise KongConfigError("a service needs a name and a url")
        for plugin in service.get("plugins", []):
            config = plugin.get("config") or {}
            redis = config.get("redis") or {}
            if (
                plugin.get("name") == "rate-limiting"
                and config.get("policy") == "redis"
                and not (redis.get("host") or config.get("redis_host"))
            ):
                raise KongConfigError(
                    "rate-limiting: must set one of 'config.redis.host', 'config.redis_host' "
                    "when 'config.policy' is 'redis'"
                )


def translate(
    document: Mapping[str, Any],
    upstreams: Mapping[str, str],
    *,
    consumer_jwks: Mapping[str, Any] | None = None,
    issuer: str = "",
    audience: str = "",
) -> tuple[list[Config], Config | None, list[Config]]:
    """Envoy ``(routes, jwt_authn config, clusters)`` for ``document``'s services.

    ``upstreams`` maps a service name to where it really listens (``user-service:3000`` resolves
    nowhere here). Without ``consumer_jwks`` the jwt plugin has no consumer to match, as in the guide.
    """
    routes: list[Config] = []
    clusters: list[Config] = []
    jwt: Config | None = None
    for service in document["services"]:
        name = service["name"]
        clusters.append(cluster(name, [upstreams[name]]))
        plugins = {p["name"]: p.get("config", {}) for p in service.get("plugins", [])}
        per_route: Config = {}
        if "jwt" in plugins:
            # No consumers: no credential any token could match. Envoy needs at least one key.
            keys = consumer_jwks or {"keys": [generate_key("EdDSA").public_jwk()]}
            jwt = jwt_authn(issuer or "any", audience or "any", keys)
            if consumer_jwks is None or not audience:
                jwt["providers"]["course"].pop("audiences")  # Kong's jwt plugin checks no aud
            per_route[JWT_FILTER] = require_jwt()
        if "rate-limiting" in plugins:
            per_route[RATELIMIT_FILTER] = per_consumer_limit(
                int(plugins["rate-limiting"]["minute"])
            )
        for index, route in enumerate(service.get("routes", [])):
            strip = route.get("strip_path", True)  # Kong's default
            for path in route["paths"]:
                action: Config = {"cluster": name}
                if strip:
                    # /api/v1/users → /, /api/v1/users/42 → /42 (Kong keeps the service url's path).
                    action["regex_rewrite"] = {
                        "pattern": {"regex": f"^{path}/?"},
                        "substitution": "/",
                    }
                routes.append(
                    {
                        "name": f"{name}-{index}",
                        "match": {"prefix": path},  # a plain prefix, as Kong's paths are
                        "route": action,
                        "typed_per_filter_config": dict(per_route),
                    }
                )
    return routes, jwt, clusters
