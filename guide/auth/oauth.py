"""The guide's ``GoogleOAuth`` (인증/인가 › OAuth 2.0 / OIDC), ported from google-auth-library to httpx.

Defects kept (tests in ``tests/auth/test_guide_defects.py``, fix in ``reference/auth/oidc.py``):
no ``openid`` scope, so no ID token and no ``nonce``; no PKCE (``code_challenge``); the ``state`` is
whatever the caller passes and no callback ever checks it; the identity is the provider's ``id``
(keyed per provider by email in practice) and ``verified_email`` is dropped, so linking by email
lets anyone who registers a victim's address at the provider take over the account;
``getUserInfo`` accepts any access token, minted for any client; ``access_type=offline`` with
``prompt=consent`` asks for refresh tokens nobody stores.

Liberty: the endpoints are parameters (Google's are the defaults; the course has no internet).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

GOOGLE_AUTH_URL = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_USERINFO_URL = "https://www.googleapis.com/oauth2/v2/userinfo"


class GoogleOAuth:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        auth_url: str = GOOGLE_AUTH_URL,
        userinfo_url: str = GOOGLE_USERINFO_URL,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.auth_url = auth_url
        self.userinfo_url = userinfo_url

    def get_auth_url(self, state: str) -> str:
        query = {
            "access_type": "offline",
            "scope": "https://www.googleapis.com/auth/userinfo.email "
            "https://www.googleapis.com/auth/userinfo.profile",
            "state": state,
            "prompt": "consent",
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
        }
        return f"{self.auth_url}?{urlencode(query)}"

    def get_user_info(self, access_token: str) -> dict[str, Any]:
        response = httpx.get(
            self.userinfo_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=10
        )
        data = response.json()
        return {
            "id": data.get("id", data.get("sub")),
            "email": data.get("email"),
            "name": data.get("name"),
            "provider": "google",
        }
