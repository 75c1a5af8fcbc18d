"""The guide's microservices snippets (chapter 04: the Kong gateway config, the opossum circuit breaker,
Consul discovery), ported faithfully — defects included — onto what runs here (Envoy, etcd)."""
