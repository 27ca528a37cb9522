"""Signing in to the portal through an identity provider (OIDC authorization code with PKCE),
against a provider made of real HTTP: a small server in the test with an authorization endpoint,
a token endpoint and its JWKS, which checks what a provider checks (client secret, PKCE, the
redirect address) and issues RS256 tokens."""

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from yjs_contracts.samples import LEGAL_REPRESENTATIVE_ID
from yjs_gateway.portal.oidc import FLOW_COOKIE, OidcSettings
from yjs_gateway.portal.session import SESSION_COOKIE
from yjs_gateway.service import Gateway
from yjs_kit.auth import ISSUER, TokenKeys, verify

CLIENT_ID, CLIENT_SECRET = "yjs-portal", "a-client-secret-the-provider-issued"


class Provider:
    """The identity provider: it signs the person in at once (as if the person had typed a
    password) and remembers each code's PKCE challenge and redirect address."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signing_key = self.key  # a test swaps it to sign with a key the JWKS does not publish
        self.codes: dict[str, dict] = {}
        self.exchanges: list[dict] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/jwks":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(provider.key.public_key()))
                    return self.answer(200, {"keys": [{**jwk, "kid": "idp-1", "use": "sig", "alg": "RS256"}]})
                if url.path == "/authorize" and query.get("client_id") == CLIENT_ID \
                        and query.get("response_type") == "code" and query.get("code_challenge_method") == "S256":
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = query
                    self.send_response(302)
                    self.send_header("Location", query["redirect_uri"] + "?" + urlencode(
                        {"code": code, "state": query["state"]}))
                    self.end_headers()
                    return None
                return self.answer(400, {"error": "invalid_request"})

            def do_POST(self):
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
                provider.exchanges.append(form)
                expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                asked = provider.codes.pop(form.get("code", ""), None)  # a code is good once
                if self.path != "/token" or self.headers.get("Authorization") != expected or asked is None:
                    return self.answer(400, {"error": "invalid_grant"})
                challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest())
                if challenge.rstrip(b"=").decode() != asked["code_challenge"] or \
                        form.get("redirect_uri") != asked["redirect_uri"]:
                    return self.answer(400, {"error": "invalid_grant"})
                now = int(time.time())
                access = jwt.encode({"iss": ISSUER, "sub": "zhangwei@idp", "role": "applicant", "name": "张伟",
                                     "id_number": LEGAL_REPRESENTATIVE_ID, "iat": now, "exp": now + 3600},
                                    provider.signing_key, algorithm="RS256", headers={"kid": "idp-1"})
                return self.answer(200, {"access_token": access, "token_type": "Bearer", "expires_in": 3600})

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def provider():
    provider = Provider()
    yield provider
    provider.server.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def portal(start_service, monkeypatch, provider):
    monkeypatch.setenv("YJS_SERVICES", "case")
    base = f"http://127.0.0.1:{free_port()}"  # the provider sends the person back here
    start_service(Gateway, WEB_SERVER_ADDRESS=base[7:], JWT_JWKS_URL=f"{provider.url}/jwks",
                  OIDC_AUTHORIZATION_ENDPOINT=f"{provider.url}/authorize", OIDC_TOKEN_ENDPOINT=f"{provider.url}/token",
                  OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET,
                  OIDC_REDIRECT_URI=f"{base}/sign-in/oidc/callback")
    session = requests.Session()

    def call(method, path, **kwargs):
        return session.request(method, base + path, timeout=20, allow_redirects=False, **kwargs)

    call.session, call.base = session, base
    return call


def follow(portal, answer):
    """Where the browser goes next: the provider's address directly, ours through the portal."""
    location = answer.headers["Location"]
    if location.startswith("/"):
        return portal("GET", location)
    return portal.session.get(location, allow_redirects=False, timeout=20)


def test_a_person_signs_in_through_the_identity_provider_and_the_session_holds_its_verified_token(portal, provider):
    assert 'href="/sign-in/oidc?next=/cases"' in portal("GET", "/sign-in", params={"next": "/cases"}).text
    sent = portal("GET", "/sign-in/oidc", params={"next": "/cases?status=completed"})
    assert sent.status_code == 303 and sent.headers["Location"].startswith(f"{provider.url}/authorize?")
    assert "HttpOnly" in sent.headers["Set-Cookie"] and FLOW_COOKIE in sent.headers["Set-Cookie"]
    back = follow(portal, sent)  # the provider signs the person in and sends them back with a code
    assert back.status_code == 302
    signed_in = portal.session.get(back.headers["Location"], allow_redirects=False, timeout=20)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/cases?status=completed", signed_in.text[-1500:]
    # what the session holds is the provider's token, verified as the API verifies any bearer token
    caller = verify(TokenKeys(jwks_url=f"{provider.url}/jwks"), "Bearer " + portal.session.cookies[SESSION_COOKIE])
    assert (caller.subject, caller.name, caller.id_number) == ("zhangwei@idp", "张伟", LEGAL_REPRESENTATIVE_ID)
    assert provider.exchanges[-1]["grant_type"] == "authorization_code"
    assert FLOW_COOKIE not in portal.session.cookies  # a flow is used once
    assert "张伟" in portal("GET", "/").text


def test_a_sign_in_the_browser_did_not_start_or_a_token_the_provider_did_not_sign_is_refused(portal, provider):
    sent = portal("GET", "/sign-in/oidc", params={"next": "/cases"})
    code_back = follow(portal, sent).headers["Location"]
    # another state than the one sent (a sign-in slipped in from elsewhere): refused, the code unspent
    forged = code_back.replace("state=", "state=x")
    refused = portal.session.get(forged, allow_redirects=False, timeout=20)
    assert refused.status_code == 403 and SESSION_COOKIE not in portal.session.cookies
    assert "登录未完成" in refused.text and not provider.exchanges
    # a browser without the flow's cookie
    assert requests.get(code_back, allow_redirects=False, timeout=20).status_code == 403
    # the provider's answer signed with a key its JWKS does not publish
    provider.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = portal.session.get(code_back, allow_redirects=False, timeout=20)
    assert refused.status_code == 403 and SESSION_COOKIE not in portal.session.cookies
    assert len(provider.exchanges) == 1
    # the provider refusing the person
    portal("GET", "/sign-in/oidc")
    assert portal("GET", "/sign-in/oidc/callback", params={"error": "access_denied"}).status_code == 403


def test_the_provider_is_configured_whole_or_not_at_all():
    assert OidcSettings.from_config({}) is None
    with pytest.raises(ValueError, match="OIDC_CLIENT_SECRET"):
        OidcSettings.from_config({"OIDC_AUTHORIZATION_ENDPOINT": "https://idp.example/authorize",
                                  "OIDC_TOKEN_ENDPOINT": "https://idp.example/token", "OIDC_CLIENT_ID": "yjs",
                                  "OIDC_REDIRECT_URI": "https://yjs.example/sign-in/oidc/callback"})
