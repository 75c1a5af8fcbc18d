"""Chapter 08 — observability: structured JSON logs (redaction, request ids, audit events that survive
level filtering) shipped into OpenSearch and queried per request, Prometheus metrics with recording
rules and alerts through Alertmanager, and OpenTelemetry traces that follow one request across services.

Taught in ``notebooks/08_observability_*.ipynb``."""
