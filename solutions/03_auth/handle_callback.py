"""Taught in notebooks/03_auth_oidc.ipynb §2.

Exercise 03.4: the OpenID Connect callback — state, code, ID token, identity.

The guide never showed its callback: its ``state`` was never stored or checked (a login CSRF: an
attacker's code lands in the victim's session), it had no ID token or ``nonce`` (no ``openid``
scope), and it keyed users on the email from ``userinfo`` (anyone who registers a victim's address
at the provider becomes the victim).

``client`` is a :class:`~reference.auth.oidc.OidcClient`; its :meth:`begin_login` stored
``{"nonce": …, "verifier": …}`` under the state it put in the authorization URL. Write
:func:`handle_callback` for the redirect's query parameters (``state``, ``code``, maybe ``error``):

1. take the login record for ``query["state"]`` with ``client.take_state`` — it removes the record
   as it reads it, so a state is good once; a missing or unknown state is ``LoginFailed``. Take it
   before anything else, also when the provider reports an ``error`` (which is ``LoginFailed``);
2. no ``code`` → ``LoginFailed``; else ``client.exchange(code, record["verifier"])`` redeems it
   (PKCE: a stolen code is useless without our verifier);
3. ``client.validate_id_token(tokens["id_token"], record["nonce"])`` — the nonce *this* login
   stored, never one read from the token itself;
4. return ``client.identity(claims, tokens)``: the identity is ``iss`` + ``sub``, never the email.

Every refusal is :class:`~reference.auth.oidc.LoginFailed` (the login app answers 400).
"""

from __future__ import annotations

from collections.abc import Mapping

from reference.auth.oidc import Identity, LoginFailed, OidcClient

__all__ = ["Identity", "LoginFailed", "OidcClient", "handle_callback"]


def handle_callback(client: OidcClient, query: Mapping[str, str]) -> Identity:
    """The identity behind the callback, or :class:`LoginFailed`."""
    record = client.take_state(query.get("state"))
    error = query.get("error")
    if error is not None:
        raise LoginFailed(f"the provider answered {error}")
    code = query.get("code")
    if not code:
        raise LoginFailed("no code in the callback")
    tokens = client.exchange(code, record["verifier"])
    claims = client.validate_id_token(str(tokens.get("id_token", "")), record["nonce"])
    return client.identity(claims, tokens)
