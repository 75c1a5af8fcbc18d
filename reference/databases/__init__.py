"""Chapter 02 — databases: PostgreSQL schema and queries, MongoDB, Redis and the ORM.

Taught in ``notebooks/02_databases_*.ipynb``. The users/orders model here is the one model the whole
course shares (chapter 01's API serves it)."""
