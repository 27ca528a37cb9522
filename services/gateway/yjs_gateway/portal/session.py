"""The portal's session: the same bearer token the API accepts, kept in an HttpOnly cookie;
a CSRF token derived from it for every form; the development sign-in that mints it; and the
one check that a `next` address stays on this site."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from werkzeug import Response
from yjs_contracts.steps import DEPARTMENTS
from yjs_kit.auth import ROLES, mint, verified_id_number

from ..errors import ApiError

SESSION_COOKIE = "yjs_session"
#: a random value for people not signed in (the public's forms): the CSRF token is derived from it
FORM_COOKIE = "yjs_form"
SESSION_SECONDS = 12 * 3600  # as long as the token inside it lives
CSRF_FIELD = "csrf_token"


def session_token(request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    return token or None


def set_cookie(response: Response, name: str, value: str, production: bool, max_age: int | None = None,
               path: str = "/") -> Response:
    # HttpOnly: no script reads it; Lax: no other site's form or frame carries it; Secure in production
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="Lax", secure=production)
    return response


def clear_cookie(response: Response, name: str, production: bool, path: str = "/") -> Response:
    response.delete_cookie(name, path=path, httponly=True, samesite="Lax", secure=production)
    return response


def set_session(response: Response, token: str, production: bool) -> Response:
    return set_cookie(response, SESSION_COOKIE, token, production, SESSION_SECONDS)


def clear_session(response: Response, production: bool) -> Response:
    return clear_cookie(response, SESSION_COOKIE, production)


def form_key(request) -> tuple[str, bool]:
    """What a form's CSRF token is derived from: the session, or for someone not signed in the
    form cookie (a new one when there is none: True)."""
    key = session_token(request) or request.cookies.get(FORM_COOKIE)
    return (key, False) if key else (secrets.token_urlsafe(32), True)


def set_form_cookie(response: Response, key: str, production: bool) -> Response:
    return set_cookie(response, FORM_COOKIE, key, production)


def csrf_token(token: str) -> str:
    """Keyed by the session token itself: a page of another site can neither read the cookie nor
    so compute this, and every replica of the gateway checks it without a shared store."""
    return hmac.new(token.encode(), b"yjs-portal-csrf", hashlib.sha256).hexdigest()


def check_csrf(token: str, form) -> None:
    sent = form.get(CSRF_FIELD, "")
    if not hmac.compare_digest(sent.encode(), csrf_token(token).encode()):
        raise ApiError(403, "csrf_refused", "表单已失效或并非来自本站，请重新打开页面后提交")


def safe_next(value: str | None, default: str) -> str:
    """`next` as a path on this site; anything that could leave it (a scheme, `//host`, a
    backslash some browsers read as a slash, a control character) is refused."""
    if not value:
        return default
    parts = urlsplit(value)
    if (not value.startswith("/") or value.startswith("//") or "\\" in value or parts.scheme or parts.netloc
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)):
        raise ApiError(422, "invalid_query", "next 只能是本站的路径，如 /cases")
    return value


def development_token(secret: str, args) -> tuple[str, str]:
    """The token of a development sign-in and where to go after it, from the query
    `role`, `subject`, `id_number`, `department`: what an identity provider would have issued."""
    role = args.get("role", "")
    if role not in ROLES:
        raise ApiError(422, "invalid_query", "role 应为 applicant、department 或 operator")
    department = args.get("department") or None
    if role == "department" and department not in DEPARTMENTS:
        raise ApiError(422, "invalid_query", "department 应为以下之一：" + "、".join(DEPARTMENTS))
    subject = (args.get("subject") or "").strip() or ({"department": f"{department}-staff"}.get(role, role))
    if role == "applicant" and subject == role:
        raise ApiError(422, "invalid_query", "申请人须填写 subject（姓名或用户名）")
    id_number = (args.get("id_number") or "").strip() or None
    if id_number and not verified_id_number(id_number):
        raise ApiError(422, "invalid_query", "id_number 不是有效的公民身份号码")
    default = {"applicant": "/cases", "department": f"/staff/{department}"}.get(role, "/")
    token = mint(secret, subject[:100], role, department if role == "department" else None, SESSION_SECONDS,
                 name=subject[:50] if role == "applicant" else None,
                 id_number=id_number if role == "applicant" else None)
    return token, safe_next(args.get("next"), default)
