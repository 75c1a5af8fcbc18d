"""Alembic migrations of the course schema (users, orders), applied by ``..migrate``."""
