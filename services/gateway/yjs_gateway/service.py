"""The one API, versioned under /v1: applicants submit and read cases, operators see health
and dead letters. Each route authenticates, calls a service and shapes the answer."""

from __future__ import annotations

import json
import uuid

from nameko.dependency_providers import Config
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug import Response
from yjs_contracts.api import ErrorDetail, InvalidApplication, parse_submission
from yjs_contracts.schemas import openapi
from yjs_kit.auth import Caller, verify
from yjs_kit.metrics import MetricsServer

from .backends import Backends
from .errors import ApiError, forbidden, json_response
from .http import route

MAX_BODY_BYTES = 1 << 20
OPENAPI = json.dumps(openapi(), ensure_ascii=False)


class Gateway:
    name = "gateway"
    backends = Backends()
    metrics = MetricsServer()

    config = Config()

    def caller(self, request, *roles: str) -> Caller:
        caller = verify(self.config["JWT_SECRET"], request.headers.get("Authorization"))
        if roles and caller.role not in roles:
            raise forbidden()
        return caller

    @route("POST", "/v1/cases")
    def submit(self, request):
        caller = self.caller(request, "applicant")
        body = json_body(request)
        parse_submission(body)  # 422 before anything is stored
        # without a client key, one per request: an RPC redelivered after a crash of the case
        # service then finds the case it already opened instead of opening a second one
        key = request.headers.get("Idempotency-Key") or f"request:{uuid.uuid4()}"
        answer = self.backends["case"].call("submit", caller.subject, body, key)
        return json_response(202, {"case_id": answer["case_id"], "status": answer["status"]},
                             {"Location": f"/v1/cases/{answer['case_id']}"})

    @route("GET", "/v1/cases/<string:case_id>")
    def get_case(self, request, case_id):
        caller = self.caller(request)
        owner = caller.subject if caller.role == "applicant" else None  # an applicant sees only its own
        return json_response(200, self.backends["case"].call("get_case", case_id, owner))

    @route("GET", "/v1/cases")
    def list_cases(self, request):
        caller = self.caller(request, "applicant")
        args = request.args
        limit = args.get("limit", "20")
        if not limit.isdigit():
            raise ApiError(422, "invalid_query", "limit must be a number", [ErrorDetail(field="limit", reason="not a number")])
        return json_response(200, self.backends["case"].call(
            "list_cases", caller.subject, args.get("status"), int(limit), args.get("after")))

    @route("GET", "/v1/dead-letters")
    def dead_letters(self, request):
        self.caller(request, "operator")
        items = []
        for name, backend in self.backends.items():
            items.extend(backend.call("dead_letters"))
        return json_response(200, {"items": sorted(items, key=lambda d: d["failed_at"])})

    @route("POST", "/v1/dead-letters/<string:dead_letter_id>/replay")
    def replay_dead_letter(self, request, dead_letter_id):
        self.caller(request, "operator")
        service, _, number = dead_letter_id.partition(":")
        if service not in self.backends or not number.isdigit():
            raise ApiError(404, "not_found", f"no such dead letter {dead_letter_id}")
        return json_response(202, self.backends[service].call("replay_dead_letter", int(number)))

    @route("GET", "/healthz")
    def healthz(self, request):
        return json_response(200, {"status": "ok"})

    @route("GET", "/readyz")
    def readyz(self, request):
        checks = {}
        for name, backend in self.backends.items():
            try:
                backend.call("health", timeout=3)
                checks[name] = "ok"
            except Exception as error:  # noqa: BLE001 - each unreachable part is reported, not raised
                checks[name] = f"unavailable: {type(error).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return json_response(200 if ready else 503, {"status": "ok" if ready else "unavailable", "checks": checks})

    @route("GET", "/metrics")
    def metrics_page(self, request):
        return Response(generate_latest(), status=200, headers={"Content-Type": CONTENT_TYPE_LATEST})

    @route("GET", "/openapi.json")
    def openapi_document(self, request):
        return Response(OPENAPI, status=200, mimetype="application/json")


def json_body(request):
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(request.get_data(as_text=True) or "null")
    except ValueError as error:
        raise InvalidApplication([ErrorDetail(field="body", reason=f"not valid JSON: {error}")]) from None


SERVICE = Gateway
