"""gRPC done properly: a versioned proto, a servicer that maps failures to the right status codes,
respects deadlines and never leaks exception text, plus the standard health service.

Taught in ``notebooks/01_api_design_graphql_grpc.ipynb``.
"""
