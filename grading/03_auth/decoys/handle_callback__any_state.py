"""Decoy for 03.4: no state check at all: any stored login record is used for whatever state arrives (the guide stored none). Caught by test_a_forged_or_missing_state_is_refused."""

from __future__ import annotations

import json
from collections.abc import Mapping

from reference.auth.oidc import Identity, LoginFailed, OidcClient


def handle_callback(client: OidcClient, query: Mapping[str, str]) -> Identity:
    key = f"{client.prefix}state:{query.get('state')}"
    if not client.store.exists(key):
        key = next(iter(client.store.scan_iter(match=f"{client.prefix}state:*")), key)
    saved = client.store.getdel(key)
    if saved is None:
        raise LoginFailed("no login in progress")
    record = json.loads(str(saved))
    if "error" in query:
        raise LoginFailed("provider error")
    code = query.get("code")
    if not code:
        raise LoginFailed("no code")
    tokens = client.exchange(code, record["verifier"])
    claims = client.validate_id_token(str(tokens.get("id_token", "")), record["nonce"])
    return client.identity(claims, tokens)
