"""Signing in through the identity provider: the OpenID Connect authorization-code flow with PKCE.

The portal sends the person to the provider's authorization endpoint with a random `state` and a
PKCE challenge, both remembered in a short-lived HttpOnly cookie; the provider sends them back
with a code; the gateway exchanges the code at the token endpoint (authenticated with its client
secret and the PKCE verifier) for the provider's access token to this API, verifies it exactly as
it verifies any bearer token (`yjs_kit.auth.verify`: the provider's JWKS or public key), and keeps
it as the session. Nothing the browser carries is trusted without that verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping

from werkzeug import Response

from ..errors import ApiError
from .session import clear_cookie, set_cookie

FLOW_COOKIE = "yjs_oidc"
FLOW_SECONDS = 600  # the person has ten minutes at the provider
FLOW_PATH = "/sign-in/oidc"  # the cookie goes back only to the callback
EXCHANGE_TIMEOUT_SECONDS = 10
#: every setting the flow needs, by its environment variable
REQUIRED = ("OIDC_AUTHORIZATION_ENDPOINT", "OIDC_TOKEN_ENDPOINT", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET",
            "OIDC_REDIRECT_URI")


@dataclass(frozen=True)
class OidcSettings:
    authorization_endpoint: str
    token_endpoint: str
    client_id: str
    client_secret: str
    redirect_uri: str  # this gateway's /sign-in/oidc/callback as the provider knows it
    scope: str = "openid profile"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "OidcSettings | None":
        """None when the provider is not configured; a ValueError naming what is missing when it is
        half configured."""
        present = [name for name in REQUIRED if config.get(name)]
        if not present:
            return None
        missing = [name for name in REQUIRED if not config.get(name)]
        if missing:
            raise ValueError("OIDC sign-in needs " + ", ".join(missing))
        return cls(config["OIDC_AUTHORIZATION_ENDPOINT"], config["OIDC_TOKEN_ENDPOINT"], config["OIDC_CLIENT_ID"],
                   config["OIDC_CLIENT_SECRET"], config["OIDC_REDIRECT_URI"],
                   config.get("OIDC_SCOPE") or "openid profile")


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def start(settings: OidcSettings, next_path: str) -> tuple[str, str]:
    """The provider's authorization address to send the person to, and the flow's cookie value
    (state, PKCE verifier and where to go afterwards)."""
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": settings.client_id, "redirect_uri": settings.redirect_uri,
        "scope": settings.scope, "state": state, "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256"})
    separator = "&" if "?" in settings.authorization_endpoint else "?"
    flow = base64.urlsafe_b64encode(json.dumps([state, verifier, next_path]).encode()).decode()  # cookie-safe
    return f"{settings.authorization_endpoint}{separator}{query}", flow


def set_flow_cookie(response: Response, value: str, production: bool) -> Response:
    # Lax: sent on the provider's top-level redirect back to us, never on another site's form
    return set_cookie(response, FLOW_COOKIE, value, production, FLOW_SECONDS, FLOW_PATH)


def clear_flow_cookie(response: Response, production: bool) -> Response:
    return clear_cookie(response, FLOW_COOKIE, production, FLOW_PATH)


def returned(cookie: str | None, args: Mapping[str, str]) -> tuple[str, str, str]:
    """The code the provider returned, the PKCE verifier and the `next` path, once the returned
    `state` is the one this browser was sent with (else another site's sign-in is being slipped in)."""
    if args.get("error"):
        raise ApiError(403, "oidc_refused", f"the identity provider did not sign the person in: {args['error']}")
    try:
        state, verifier, next_path = json.loads(base64.urlsafe_b64decode((cookie or "").encode()))
    except (ValueError, TypeError):
        raise ApiError(403, "oidc_refused", "no sign-in under way in this browser") from None
    if not hmac.compare_digest(str(args.get("state", "")).encode(), str(state).encode()):
        raise ApiError(403, "oidc_refused", "the state returned is not the one sent")
    code = args.get("code", "")
    if not code:
        raise ApiError(403, "oidc_refused", "the identity provider returned no code")
    return code, verifier, next_path


def exchange(settings: OidcSettings, code: str, verifier: str) -> str:
    """The access token the token endpoint gives for the code (client authenticated with HTTP
    Basic, as RFC 6749 prefers). The caller verifies it before trusting any claim in it."""
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                   "redirect_uri": settings.redirect_uri, "code_verifier": verifier}).encode()
    credentials = ":".join(urllib.parse.quote(part, safe="") for part in (settings.client_id, settings.client_secret))
    request = urllib.request.Request(settings.token_endpoint, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
        "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()})
    try:
        with urllib.request.urlopen(request, timeout=EXCHANGE_TIMEOUT_SECONDS) as answer:
            tokens = json.loads(answer.read(1_000_000))
    except urllib.error.HTTPError as error:
        raise ApiError(401, "unauthorized", f"the token endpoint refused the code ({error.code})") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ApiError(503, "unavailable", f"the token endpoint did not answer: {error}") from None
    token = tokens.get("access_token") if isinstance(tokens, dict) else None
    if not isinstance(token, str) or not token:
        raise ApiError(401, "unauthorized", "the token endpoint returned no access token")
    return token
