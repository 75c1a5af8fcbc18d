"""gRPC done properly: a versioned proto, a servicer that maps failures to the right status codes,
respects deadlines and never leaks exception text, plus the standard health service. Callers
authenticate with the REST app's bearer tokens and are held to its policy and validation models;
the server bounds its streams and message sizes.

Taught in ``notebooks/01_api_design_grpc.ipynb``.
"""
