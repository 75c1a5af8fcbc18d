"""Every test run (reference tests, grading tests, notebooks) gets the real-server fixtures."""

pytest_plugins = ["course.testing.fixtures"]
