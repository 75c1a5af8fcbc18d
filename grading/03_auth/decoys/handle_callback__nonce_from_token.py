"""Decoy for 03.4: validates the ID token against the nonce the token itself carries (so any login's ID token passes). Caught by test_the_stored_nonce_is_the_one_checked."""

from __future__ import annotations

from collections.abc import Mapping

import jwt

from reference.auth.oidc import Identity, LoginFailed, OidcClient


def handle_callback(client: OidcClient, query: Mapping[str, str]) -> Identity:
    record = client.take_state(query.get("state"))
    if "error" in query:
        raise LoginFailed("provider error")
    code = query.get("code")
    if not code:
        raise LoginFailed("no code")
    tokens = client.exchange(code, record["verifier"])
    id_token = str(tokens.get("id_token", ""))
    own = jwt.decode(id_token, options={"verify_signature": False}).get("nonce", "")
    claims = client.validate_id_token(id_token, str(own))
    return client.identity(claims, tokens)
