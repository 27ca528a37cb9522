"""Bearer tokens: signed JWTs naming a subject and a role (applicant, department with its
department, operator). An applicant's token carries the person's verified identity (实名认证:
`name`, `id_number`), as a 一网通办 identity provider supplies it.

Keys: HS256 with `JWT_SECRET`, or RS256/ES256 tokens from an identity provider verified with
`JWT_PUBLIC_KEY` (PEM) or `JWT_JWKS_URL`. With `YJS_ENV=production` a process refuses to start
unless one of them is strong (`check_keys`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping

import jwt
from yjs_contracts.codes import CodeError, validate_id_number

ROLES = ("applicant", "department", "operator")
ALGORITHM = "HS256"
ASYMMETRIC = ("RS256", "ES256")
ISSUER = "yijianshi"
MAX_TOKEN_SECONDS = 24 * 3600  # a token lives at most a day after it was issued
MIN_SECRET_BYTES = 32
#: secrets that ship in the repository for local runs: never good enough for production
DEVELOPMENT_SECRETS = frozenset({
    "yjs-local-development-secret-not-for-production", "change-me-local-only", "change-me-dev-cluster-only"})


class Unauthorized(Exception):
    """No token, or one that is not ours, expired or malformed."""


class WeakKeys(SystemExit):
    """A production process without a strong key: it must not start."""


@dataclass(frozen=True)
class Caller:
    subject: str
    role: str
    department: str | None = None
    name: str | None = None
    #: the 居民身份证号码 the identity provider verified; None when absent or not a valid number
    id_number: str | None = None

    @property
    def verified(self) -> bool:
        return self.id_number is not None

    def claims(self) -> dict[str, Any]:
        """What a service needs to know of the caller (passed along with an RPC)."""
        return {"sub": self.subject, "role": self.role, "department": self.department, "name": self.name,
                "id_number": self.id_number}


@dataclass(frozen=True)
class TokenKeys:
    """How tokens are verified: a shared secret (HS256), a public key or a JWKS URL (RS256/ES256)."""

    secret: str | None = None
    public_key: str | None = None
    jwks_url: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "TokenKeys":
        return cls(secret=config.get("JWT_SECRET") or None, public_key=config.get("JWT_PUBLIC_KEY") or None,
                   jwks_url=config.get("JWT_JWKS_URL") or None)

    def key_for(self, token: str) -> tuple[Any, list[str]]:
        if self.jwks_url:
            return _jwks_client(self.jwks_url).get_signing_key_from_jwt(token).key, list(ASYMMETRIC)
        if self.public_key:
            return self.public_key, list(ASYMMETRIC)
        if self.secret:
            return self.secret, [ALGORITHM]
        raise Unauthorized("no key to verify tokens with")


_JWKS_CLIENTS: dict[str, jwt.PyJWKClient] = {}


def _jwks_client(url: str) -> jwt.PyJWKClient:
    # one client per URL: it caches the provider's keys between requests
    if url not in _JWKS_CLIENTS:
        _JWKS_CLIENTS[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=300)
    return _JWKS_CLIENTS[url]


def check_keys(config: Mapping[str, Any]) -> None:
    """With YJS_ENV=production, refuse to run unless tokens are verified with a strong key."""
    if config.get("YJS_ENV") != "production":
        return
    if config.get("JWT_PUBLIC_KEY") or config.get("JWT_JWKS_URL"):
        return
    secret = config.get("JWT_SECRET") or ""
    if not secret:
        raise WeakKeys("YJS_ENV=production needs JWT_SECRET (at least 32 bytes), JWT_PUBLIC_KEY or JWT_JWKS_URL")
    if secret in DEVELOPMENT_SECRETS:
        raise WeakKeys("YJS_ENV=production: JWT_SECRET is a development default; set a secret of your own")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise WeakKeys(f"YJS_ENV=production: JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes")


def verified_id_number(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        validate_id_number(value)
    except CodeError:
        return None
    return value


def mint(secret: str, subject: str, role: str, department: str | None = None, ttl_seconds: int = 12 * 3600,
         name: str | None = None, id_number: str | None = None, algorithm: str = ALGORITHM) -> str:
    """A token as the identity provider would issue it (`secret`: the HS256 secret or a private key)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "department" and not department:
        raise ValueError("a department token names its department")
    now = int(time.time())
    claims = {"sub": subject, "role": role, "iss": ISSUER, "iat": now, "exp": now + ttl_seconds}
    if department:
        claims["department"] = department
    if name:
        claims["name"] = name
    if id_number:
        claims["id_number"] = id_number
    return jwt.encode(claims, secret, algorithm=algorithm)


def verify(keys: TokenKeys | str, authorization: str | None) -> Caller:
    if isinstance(keys, str):
        keys = TokenKeys(secret=keys)
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("missing bearer token")
    token = authorization[7:].strip()
    try:
        key, algorithms = keys.key_for(token)
        claims = jwt.decode(token, key, algorithms=algorithms, issuer=ISSUER,
                            options={"require": ["sub", "role", "exp", "iat"]})
    except jwt.PyJWTError as error:
        raise Unauthorized(f"invalid token: {error}") from None
    return caller_from_claims(claims)


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthorized("the token names no subject")
    if claims.get("role") not in ROLES:
        raise Unauthorized("unknown role")
    issued, expires = claims.get("iat"), claims.get("exp")
    if isinstance(issued, (int, float)) and isinstance(expires, (int, float)) and expires - issued > MAX_TOKEN_SECONDS:
        raise Unauthorized("the token lives longer than 24 hours")
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    return Caller(subject=subject, role=claims["role"], department=claims.get("department"), name=name,
                  id_number=verified_id_number(claims.get("id_number")))
