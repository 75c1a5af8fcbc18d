"""Chapter 03 — authentication and authorization (인증/인가), corrected from the guide.

- :mod:`.keys` — signing keys (EdDSA, RS256) and their JWKS, rotated without logging anyone out.
- :mod:`.tokens` — access/refresh tokens: pinned algorithms, required claims, ``typ``, ``kid``.
- :mod:`.refresh` — refresh rotation with reuse detection (per-session families, one Lua CAS).
- :mod:`.bearer` — RFC 6750 ``Authorization: Bearer`` parsing and its 401 challenges.
- :mod:`.authenticator` — the JWT authenticator behind chapter 01's seam (REST, GraphQL, gRPC).
- :mod:`.rbac` — ``require_permissions(*p, mode)``: 401 vs 403.
- :mod:`.abac`, :mod:`.casbin_policy` — attribute rules with an injected clock and ``zoneinfo``.
- :mod:`.passwords` — argon2id with rehash on login.

Taught in ``notebooks/03_auth_*.ipynb``.
"""
