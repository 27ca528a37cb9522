"""The gateway's HTTP layer: nameko's web entrypoint with one strict door in front of every route.

Before a route runs: the client is not being throttled, path values have their shape. A route
reads its body with `read_json` (size, media type, nesting depth bounded before parsing) and its
query with `query_limit` / `query_cursor` / `query_choice`. Every answer, the framework's own
404/405 included, is JSON in the error shape and carries the API's headers."""

from __future__ import annotations

import json
import re
import time

import jwt
import structlog
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug import Response
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request
from yjs_contracts.api import ErrorDetail
from yjs_kit import logging as kit_logging
from yjs_kit.metrics import HTTP_SECONDS

from .errors import ApiError, as_api_error, error_response
from .portal.session import SESSION_COOKIE
from .throttle import Throttle

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1 << 20
MAX_DEPTH = 32  # the deepest application is 4 levels; 32 leaves room and stops a stack-eating body
MAX_IDEMPOTENCY_KEY = 200  # the column's width
API_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}

#: path values by name: anything else is refused before a service sees it (a number that would
#: overflow the database's integer, a control character in an id)
PATH_SHAPES = {
    "review_id": re.compile(r"R[0-9]{1,18}"),
    "follow_up_id": re.compile(r"F[0-9]{1,18}"),
    "dead_letter_id": re.compile(r"[a-z_]{1,40}:[0-9]{1,18}"),
    "department": re.compile(r"[a-z_]{1,40}"),
}
ANY_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
UNTHROTTLED = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
#: what opens a case: the API's own route and the portal's form, which spends the same budget
SUBMISSIONS = frozenset({"/v1/cases", "/apply/establishment"})


def _client_error(status: int, code: str, message: str, field: str | None = None, reason: str | None = None):
    return ApiError(status, code, message, [ErrorDetail(field=field, reason=reason or message)] if field else [])


# -- bodies ------------------------------------------------------------------------------------

_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nests_deeper_than(data: bytes, limit: int) -> bool:
    """Whether arrays and objects nest in `data` deeper than `limit`, found without parsing
    (strings skipped), stopping as soon as it is passed: the parser itself recurses."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # cannot nest deeper than it has openings: most bodies end here, unscanned
    depth = 0
    for token in _JSON_TOKEN.finditer(data):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def _read_raw(request) -> bytes:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        # werkzeug reads nothing without a length; the server's input decodes the chunks
        stream, parts, size = request.environ["wsgi.input"], [], 0
        while True:
            part = stream.read(65536)
            if not part:
                break
            size += len(part)
            if size > MAX_BODY_BYTES:
                raise ApiError(413, "body_too_large", f"the body is over {MAX_BODY_BYTES} bytes")
            parts.append(part)
        return b"".join(parts)
    return request.get_data(cache=True)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def read_json(request):
    """The request body as JSON: 413 over the size limit (chunked too), 415 unless it is
    application/json, 422 when it is not UTF-8 JSON or nests deeper than MAX_DEPTH."""
    data = _read_raw(request)
    if not data and request.mimetype != "application/json":
        data = b"null"  # no body at all: the model names what is missing
    elif request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "the body must be application/json")
    if nests_deeper_than(data, MAX_DEPTH):
        raise _client_error(422, "invalid_body", "the body is invalid", "body", f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(data.decode("utf-8") or "null", parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        reason = f"not valid JSON: {error}" if not isinstance(error, RecursionError) else "nested too deep"
        raise _client_error(422, "invalid_body", "the body is invalid", "body", reason[:200]) from None


def idempotency_key(request) -> str | None:
    """The client's Idempotency-Key: at most 200 printable ASCII characters."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not all(" " <= c <= "~" for c in key):
        raise _client_error(422, "invalid_header", "the Idempotency-Key is invalid", "Idempotency-Key",
                            f"1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters")
    return key


# -- queries -----------------------------------------------------------------------------------

def query_limit(request, default: int, maximum: int) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= maximum:
        raise _client_error(422, "invalid_query", "limit is invalid", "limit", f"a whole number from 1 to {maximum}")
    return int(raw)


def query_cursor(request, name: str = "after", shape: str = r"[A-Za-z0-9._:-]{1,100}") -> str | None:
    """A page cursor (the last id of the previous page), in the shape of the ids it pages."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(shape, raw):
        raise _client_error(422, "invalid_query", f"{name} is invalid", name, "not an id of this list")
    return raw


def query_choice(request, name: str, choices, default: str | None) -> str | None:
    raw = request.args.get(name)
    if raw is None or (raw == "" and "" not in choices):  # `?status=` from a form: as if absent
        return default
    if raw not in choices:
        raise _client_error(422, "invalid_query", f"{name} is invalid", name, "one of " + ", ".join(choices))
    return raw


def query_text(request, name: str, shape: str) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(shape, raw):
        raise _client_error(422, "invalid_query", f"{name} is invalid", name, "not in the expected form")
    return raw


# -- the entrypoint ----------------------------------------------------------------------------

def _unverified_subject(request) -> str | None:
    """The subject a bearer token (or the portal's session) claims, unverified: only used to look up a bucket that only
    verified requests of that subject ever spend."""
    authorization = request.headers.get("Authorization", "")
    token = authorization[7:].strip() if authorization.startswith("Bearer ") else request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        sub = jwt.decode(token, options={"verify_signature": False}).get("sub")
    except jwt.PyJWTError:
        return None
    return sub if isinstance(sub, str) else None


def with_api_headers(response: Response) -> Response:
    for name, value in API_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def too_many(retry_after: int) -> Response:
    response = error_response(ApiError(429, "too_many_requests", f"too many requests; retry after {retry_after} s"))
    response.headers["Retry-After"] = str(retry_after)
    return response


class ApiServer(WebServer):
    """nameko's web server, answering its own routing errors in the API's shape."""

    def get_wsgi_app(self):
        return ApiWsgiApp(self)

    @property
    def throttle(self) -> Throttle:
        if getattr(self, "_throttle", None) is None:
            self._throttle = Throttle(self.container.config)
        return self._throttle


class ApiWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = framework_error(exc)
        return with_api_headers(response)(environ, start_response)


def framework_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    codes = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type",
             429: "too_many_requests"}
    message = {404: "no such resource", 405: "this method is not allowed here"}.get(status, exc.name)
    response = error_response(ApiError(status, codes.get(status, "http_error"), message))
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


class ApiRoute(HttpRequestHandler):
    server = ApiServer()

    def handle_request(self, request):
        started = time.perf_counter()
        address = request.remote_addr or "unknown"
        throttle = self.server.throttle
        submitting = request.method == "POST" and self.url in SUBMISSIONS
        subject = _unverified_subject(request) if submitting else None
        # probes and scrapers are never slowed down: they carry no credentials to guess
        wait = 0 if self.url in UNTHROTTLED else throttle.retry_after("auth_failures", address)
        if not wait and submitting:
            wait = throttle.retry_after("submissions", subject)
        if wait:
            response = too_many(wait)
        else:
            try:
                check_path_values(request.path_values)
                response = super().handle_request(request)
            except ApiError as error:
                response = error_response(error)
            if response.status_code == 401:
                throttle.spend("auth_failures", address)
                # one short line: a failed authentication is the client's business, not a fault
                log.info("authentication failed", path=self.url, address=address)
            elif submitting:
                throttle.spend("submissions", subject)
        HTTP_SECONDS.labels(request.method, self.url, str(response.status_code)).observe(time.perf_counter() - started)
        return response

    def response_from_exception(self, exc):
        error = as_api_error(exc)
        if error.status >= 500:
            log.error("request failed", path=self.url, error=repr(exc))
        return error_response(error)


def check_path_values(values: dict[str, str]) -> None:
    details = [ErrorDetail(field=name, reason="not an id of this kind")
               for name, value in values.items()
               if not (PATH_SHAPES.get(name) or ANY_ID).fullmatch(value)]
    if details:
        raise ApiError(422, "invalid_path", "the path is invalid", details)


def _quiet(exc: BaseException) -> bool:
    """A worker's exception that became a 4xx answer: logged as one line here, not as a traceback."""
    return isinstance(exc, Exception) and as_api_error(exc).status < 500


kit_logging.quiet_worker_errors(_quiet)

route = ApiRoute.decorator
