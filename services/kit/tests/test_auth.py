"""Tokens: the verified identity they carry, what makes one unacceptable, and the keys a
production process refuses to start without."""

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from yjs_contracts import samples
from yjs_kit.auth import ISSUER, TokenKeys, Unauthorized, WeakKeys, check_keys, mint, verify
from yjs_kit.config import DEV_JWT_SECRET, service_config

STRONG = "s" * 40
ID = samples.LEGAL_REPRESENTATIVE_ID


def bearer(token):
    return f"Bearer {token}"


def test_an_applicant_token_carries_the_verified_identity():
    caller = verify(STRONG, bearer(mint(STRONG, "zhang-wei", "applicant", name="张伟", id_number=ID)))
    assert (caller.subject, caller.name, caller.id_number, caller.verified) == ("zhang-wei", "张伟", ID, True)


def test_an_id_number_with_a_wrong_check_digit_is_no_identity():
    wrong = ID[:-1] + ("0" if ID[-1] != "0" else "1")
    caller = verify(STRONG, bearer(mint(STRONG, "zhang-wei", "applicant", id_number=wrong)))
    assert caller.id_number is None and not caller.verified


def raw(claims, key=STRONG):
    now = int(time.time())
    return bearer(jwt.encode({"iss": ISSUER, "iat": now, "exp": now + 3600, "role": "applicant", "sub": "a", **claims},
                             key, algorithm="HS256"))


@pytest.mark.parametrize("claims", [
    {"sub": ""}, {"sub": "   "}, {"exp": int(time.time()) + 25 * 3600}, {"role": "root"}, {"iss": "someone"}])
def test_tokens_without_a_subject_too_long_lived_or_foreign_are_refused(claims):
    with pytest.raises(Unauthorized):
        verify(STRONG, raw(claims))


def test_a_token_without_iat_is_refused():
    now = int(time.time())
    token = jwt.encode({"iss": ISSUER, "exp": now + 60, "role": "applicant", "sub": "a"}, STRONG, algorithm="HS256")
    with pytest.raises(Unauthorized):
        verify(STRONG, bearer(token))


def test_rs256_tokens_of_an_identity_provider_verified_with_its_public_key():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    keys = TokenKeys(public_key=public)
    token = mint(private, "zhang-wei", "applicant", id_number=ID, algorithm="RS256")
    assert verify(keys, bearer(token)).id_number == ID
    with pytest.raises(Unauthorized):  # a token signed with a shared secret is not the provider's
        verify(keys, bearer(mint(STRONG, "zhang-wei", "applicant")))


def test_es256_tokens_verified_through_the_providers_jwks():
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "idp-1", "use": "sig", "alg": "ES256"}]}).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        now = int(time.time())
        token = jwt.encode({"iss": ISSUER, "iat": now, "exp": now + 600, "role": "applicant", "sub": "zhang-wei",
                            "id_number": ID}, private, algorithm="ES256", headers={"kid": "idp-1"})
        keys = TokenKeys(jwks_url=f"http://127.0.0.1:{server.server_port}/jwks.json")
        assert verify(keys, bearer(token)).subject == "zhang-wei"
    finally:
        server.shutdown()


@pytest.mark.parametrize("env, variable", [
    ({}, "JWT_SECRET"),
    ({"JWT_SECRET": DEV_JWT_SECRET}, "JWT_SECRET"),
    ({"JWT_SECRET": "short-but-mine"}, "JWT_SECRET"),
])
def test_production_refuses_weak_keys(env, variable):
    with pytest.raises(WeakKeys, match=variable):
        check_keys({"YJS_ENV": "production", **env})


def test_production_accepts_a_strong_secret_or_a_providers_key_and_development_stays_convenient():
    check_keys({"YJS_ENV": "production", "JWT_SECRET": STRONG})
    check_keys({"YJS_ENV": "production", "JWT_JWKS_URL": "https://idp.example/jwks.json"})
    check_keys({"YJS_ENV": "development", "JWT_SECRET": DEV_JWT_SECRET})


def test_production_config_has_no_development_secret(monkeypatch):
    monkeypatch.setenv("YJS_ENV", "production")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    assert service_config("gateway")["JWT_SECRET"] is None


@pytest.mark.timeout(60)
def test_a_production_process_without_a_strong_key_does_not_start():
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWT_")}
    env.update(YJS_ENV="production", AMQP_URI="amqp://guest:guest@127.0.0.1:1/")  # it must stop before the broker
    for service in ("gateway", "case"):
        started = subprocess.run([sys.executable, "-m", "yjs_kit.serve", service], env=env, capture_output=True,
                                 text=True, timeout=50)
        assert started.returncode != 0
        assert "YJS_ENV=production" in started.stderr and "JWT_SECRET" in started.stderr
