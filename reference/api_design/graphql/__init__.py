"""GraphQL done properly with strawberry: a schema that builds, Relay connections with bounded
``first``, per-request DataLoaders (no N+1), authorization on every entry point, a subscription
scoped to its caller, and depth/token limits.

Taught in ``notebooks/01_api_design_graphql_grpc.ipynb``; ``guide/api_design/graphql_port.py`` is
the guide's version with its defects.
"""
