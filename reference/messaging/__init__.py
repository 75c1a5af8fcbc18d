"""Chapter 05 — messaging: an event envelope, Kafka producer/consumer with a dead-letter topic and
idempotent effects, the transactional outbox, and RabbitMQ with confirms, retries and parking.

Taught in ``notebooks/05_messaging_*.ipynb``."""
