"""Pytest support for tests that talk to the course's real servers."""
