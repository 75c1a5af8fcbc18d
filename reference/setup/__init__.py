"""Chapter 00, setup and tour: the server registry, one probe and one client per server, one round trip each.

Taught in ``notebooks/00_setup.ipynb``: ``servers`` is the registry every tool reads (variables,
defaults, probes, native implementation, compose service, chapters), ``probes`` asks each server who
it is, ``connect`` hands out configured clients (and the course realm's Keycloak settings), ``tour``
makes one round trip per server. Exercise 00.1 (``exercises/00_setup/health_check.py``) builds a
health check on the same clients.
"""
