"""Decoy for 04.3: the per-consumer descriptor without max_dynamic_descriptors — Envoy keeps 20 consumers' buckets and evicts the oldest, so a limited consumer comes back with a full bucket once 20 others have called. Caught by test_the_101st_request_of_a_consumer_is_429."""

from __future__ import annotations

from typing import Any


def gateway_routes(cluster: str, timeout_s: float) -> list[dict[str, Any]]:
    """The virtual host's routes (Envoy ``config.route.v3.Route`` objects) for the users service."""
    import yaml

    # The users route as Envoy YAML: everything on one route.
    users_route = """
name: users
match:
  path_separated_prefix: /api/v1/users   # /api/v1/users and /api/v1/users/..., not /api/v1/usersX
route:
  cluster: {cluster}
  timeout: {timeout}
  retry_policy:
    retry_on: 5xx,reset,connect-failure
    num_retries: 2
    retriable_request_headers:             # only these methods: a retried POST may run twice
    - name: ":method"
      string_match: {{safe_regex: {{regex: "GET|HEAD"}}}}
typed_per_filter_config:
  envoy.filters.http.jwt_authn:
    "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig
    requirement_name: user
  envoy.filters.http.local_ratelimit:
    "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
    stat_prefix: users
    token_bucket: {{max_tokens: 100000, tokens_per_fill: 100000, fill_interval: 1s}}
    filter_enabled: {{default_value: {{numerator: 100, denominator: HUNDRED}}}}
    filter_enforced: {{default_value: {{numerator: 100, denominator: HUNDRED}}}}
    descriptors:
    - entries: [{{key: sub}}]                # no value: a bucket per distinct subject
      token_bucket: {{max_tokens: 100, tokens_per_fill: 100, fill_interval: 60s}}
    rate_limits:
    - actions:
      - metadata:                          # the verified token's sub, never a client header
          descriptor_key: sub
          source: DYNAMIC
          metadata_key:
            key: envoy.filters.http.jwt_authn
            path: [{{key: claims}}, {{key: sub}}]
"""
    timeout = f"{float(timeout_s):.3f}s"
    health = {"match": {"path": "/health"}, "route": {"cluster": cluster, "timeout": timeout}}
    users = yaml.safe_load(users_route.format(cluster=cluster, timeout=timeout))
    return [health, users]


def jwt_authn(issuer: str, audience: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The ``jwt_authn`` filter's configuration (``JwtAuthentication``, without its ``@type``)."""
    import json

    return {
        "providers": {
            "users": {
                "issuer": issuer,
                "audiences": [audience],
                "local_jwks": {"inline_string": json.dumps(jwks)},
                "payload_in_metadata": "claims",
            }
        },
        "requirement_map": {"user": {"provider_name": "users"}},
    }
