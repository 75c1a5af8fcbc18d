"""Chapter 01, API design: REST, GraphQL and gRPC done the way the guide meant them.

The REST half (``app``, ``problems``, ``auth``, ``policy``, ``links``, ``etag``, ``ratelimit``,
``repository``, ``schemas``) is taught in ``notebooks/01_api_design_rest.ipynb``; the
``graphql`` and ``grpc`` subpackages have notebooks of their own.
"""
