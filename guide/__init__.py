"""The guide's own code, ported faithfully to Python — defects included — so tests and notebooks can show each defect next to the fix in `reference/`. Never import this from `reference/`."""
