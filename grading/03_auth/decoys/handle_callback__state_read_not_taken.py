"""Decoy for 03.4: the state's record is read with GET and left in place: the same callback logs in twice (replay). Caught by test_a_state_is_good_once."""

from __future__ import annotations

import json
from collections.abc import Mapping

from reference.auth.oidc import Identity, LoginFailed, OidcClient


def handle_callback(client: OidcClient, query: Mapping[str, str]) -> Identity:
    saved = client.store.get(f"{client.prefix}state:{query.get('state')}")
    if saved is None:
        raise LoginFailed("unknown state")
    record = json.loads(str(saved))
    if "error" in query:
        raise LoginFailed("provider error")
    code = query.get("code")
    if not code:
        raise LoginFailed("no code")
    tokens = client.exchange(code, record["verifier"])
    claims = client.validate_id_token(str(tokens.get("id_token", "")), record["nonce"])
    return client.identity(claims, tokens)
