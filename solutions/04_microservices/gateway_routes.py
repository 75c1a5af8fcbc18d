"""Taught in notebooks/04_microservices_gateway.ipynb §3.

Exercise 04.3: Gateway routes, JWT at the edge and a per-consumer rate limit, in Envoy.

Write the part of an Envoy (1.40) configuration that the guide's ``kong.yml`` meant, as Python
returning Envoy v3 config fragments (dicts, as Envoy's JSON/YAML would spell them). The grader
embeds them into a full configuration and runs it in a real throwaway Envoy
(``reference.microservices.envoy.throwaway_envoy``) in front of an upstream that counts every
request reaching it. The grader provides the rest: the listener, the cluster named ``cluster``, and
the HTTP filter chain ``envoy.filters.http.jwt_authn`` (configured with your :func:`jwt_authn`) →
``envoy.filters.http.local_ratelimit`` (empty; configure it per route) → ``envoy.filters.http.router``.

What the gateway must do:

* ``GET /health`` is public and reaches the service as ``/health``;
* ``/api/v1/users`` and everything under ``/api/v1/users/`` reach the service with the path
  unchanged (Kong's ``strip_path`` default sent ``/``), and ``/api/v1/usersX`` is not routed (404);
* every ``/api/v1/users`` request needs a JWT signed by a key in ``jwks``, issued by ``issuer`` for
  ``audience`` and not expired: a missing, forged, expired, wrong-issuer or wrong-audience token is
  refused by Envoy (401/403) and never reaches the service;
* each consumer (the verified token's ``sub``) gets 100 requests a minute: a burst of 100 passes,
  the next is a 429 (Envoy's token bucket then refills continuously, one every 0.6 s). Other
  consumers are unaffected, and neither a client-chosen header nor a fresh token resets the count;
* a 5xx from the service is retried (up to twice) for GET and HEAD only — never a POST;
* the service gets ``timeout_s`` to answer; after that the client gets a 504.

Envoy's docs name what you need: ``path_separated_prefix``; ``jwt_authn``'s ``providers``,
``requirement_map``, ``payload_in_metadata`` and the per-route ``PerRouteConfig``;
``local_ratelimit``'s ``descriptors`` (an entry without a value: one bucket per distinct value),
``max_dynamic_descriptors`` and ``rate_limits`` with a ``metadata`` action; a route's
``retry_policy`` with ``retriable_request_headers``.
"""

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
    max_dynamic_descriptors: 10000
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
