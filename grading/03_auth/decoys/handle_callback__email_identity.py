"""Decoy for 03.4: the guide's identity: the email stands in for the subject. Caught by test_a_login_gives_the_iss_sub_identity."""

from __future__ import annotations

from collections.abc import Mapping

from reference.auth.oidc import Identity, LoginFailed, OidcClient


def handle_callback(client: OidcClient, query: Mapping[str, str]) -> Identity:
    record = client.take_state(query.get("state"))
    if "error" in query:
        raise LoginFailed("provider error")
    code = query.get("code")
    if not code:
        raise LoginFailed("no code")
    tokens = client.exchange(code, record["verifier"])
    claims = client.validate_id_token(str(tokens.get("id_token", "")), record["nonce"])
    return client.identity({**claims, "sub": claims.get("email")}, tokens)
