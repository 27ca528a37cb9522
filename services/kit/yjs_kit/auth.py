"""Bearer tokens: signed JWTs naming a subject and a role (applicant, department with its
department, operator)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

ROLES = ("applicant", "department", "operator")
ALGORITHM = "HS256"
ISSUER = "yijianshi"


class Unauthorized(Exception):
    """No token, or one that is not ours, expired or malformed."""


@dataclass(frozen=True)
class Caller:
    subject: str
    role: str
    department: str | None = None


def mint(secret: str, subject: str, role: str, department: str | None = None, ttl_seconds: int = 12 * 3600) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "department" and not department:
        raise ValueError("a department token names its department")
    now = int(time.time())
    claims = {"sub": subject, "role": role, "iss": ISSUER, "iat": now, "exp": now + ttl_seconds}
    if department:
        claims["department"] = department
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret: str, authorization: str | None) -> Caller:
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("missing bearer token")
    try:
        claims = jwt.decode(authorization[7:].strip(), secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["sub", "role", "exp"]})
    except jwt.PyJWTError as error:
        raise Unauthorized(f"invalid token: {error}") from None
    if claims["role"] not in ROLES:
        raise Unauthorized("unknown role")
    return Caller(subject=claims["sub"], role=claims["role"], department=claims.get("department"))
