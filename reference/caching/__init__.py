"""Chapter 06 — caching: cache-aside with negative entries and jitter, invalidation that cannot go
stale, write-through and write-behind, stampede protection, Redis client-side caching, HTTP caching
headers and a real shared cache (nginx), eviction under memory pressure.

Taught in ``notebooks/06_caching_*.ipynb``."""
