"""Chapter 07 — security: response headers on every answer, TLS with a course CA, CORS allow-lists,
body limits, client IPs through trusted proxies only, login throttled per IP and per account, strict
validation, NIST 800-63B passwords with a breached-password check, argon2id with rehash and a dummy
verify, secrets that refuse placeholders.

Taught in ``notebooks/07_security_*.ipynb``."""
