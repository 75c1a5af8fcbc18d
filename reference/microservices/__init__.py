"""Chapter 04 — microservices: an Envoy API gateway (JWT at the edge, rate limits, timeouts, request
ids), discovery through etcd (leases, heartbeats, watches), circuit breakers, retries with a budget,
bulkheads and deadline propagation under injected faults.

Taught in ``notebooks/04_microservices_*.ipynb``."""
