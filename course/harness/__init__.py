"""The exercise harness: the catalogue (``exercises/exercises.toml``), loading, grading and verifying."""
