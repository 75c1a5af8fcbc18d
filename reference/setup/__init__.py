"""Chapter 00, setup and tour: connect to each of the five servers and make one round trip to each.

Taught in ``notebooks/00_setup.ipynb``; exercise 00.1 (``exercises/00_setup/health_check.py``) builds a
health check on the same clients.
"""
