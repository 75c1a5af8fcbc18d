"""Decoy for 03.4: checks ``error`` before taking the state: a provider error leaves the state usable. Caught by test_a_provider_error_spends_the_state."""

from __future__ import annotations

from collections.abc import Mapping

from reference.auth.oidc import Identity, LoginFailed, OidcClient


def handle_callback(client: OidcClient, query: Mapping[str, str]) -> Identity:
    if "error" in query:
        raise LoginFailed("provider error")
    record = client.take_state(query.get("state"))
    code = query.get("code")
    if not code:
        raise LoginFailed("no code")
    tokens = client.exchange(code, record["verifier"])
    claims = client.validate_id_token(str(tokens.get("id_token", "")), record["nonce"])
    return client.identity(claims, tokens)
