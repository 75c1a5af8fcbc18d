"""GraphQL done properly with strawberry: a schema that builds, Relay connections with bounded
``first``, per-request DataLoaders (no N+1), authorization on every entry point, a subscription
scoped to its caller, inputs validated by the REST API's own models, and limits on what one request
may cost — body size, depth, tokens, aliases and a query-cost budget — checked before execution,
off the event loop, with every refusal a clear client error.

Taught in ``notebooks/01_api_design_graphql.ipynb``; ``guide/api_design/graphql_port.py`` is
the guide's version with its defects.
"""
