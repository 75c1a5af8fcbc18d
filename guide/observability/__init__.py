"""The guide's observability snippets (chapter 08: the Winston logger, the prom-client metrics, the ELK
stack compose file), ported faithfully — defects included — onto what runs here (structlog/stdlib
logging, prometheus-client, OpenSearch)."""
