"""The one API, versioned under /v1: applicants submit and read cases, correct, withdraw and rate
them; department staff work their review queues and answer (or appeal) the bad ratings of their
department (差评督办); anyone reads the public deregistration notices
and may object; operators see health and dead letters, supervise follow-ups and decide appeals. Each route
authenticates (where it must), calls a service and shapes the answer. The web portal's pages
(`portal/`) are served by the same service and call these same entrypoints."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

from nameko.dependency_providers import Config
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug import Response
from pydantic import ValidationError
from yjs_contracts import catalogue
from yjs_contracts.api import (ENTERPRISE_MATTERS, USCC_SHAPE, AgentAppointment, AppealDecision, CaseStatus, CheckResult,
                               ErrorDetail, FollowUpResponse, FollowUpStatus, FollowUpVerdict, InvalidApplication,
                               LiquidationReport, ListingRequest, Objection, RatingAppeal, RatingRequest,
                               ReviewDecision, RevocationRequest, Supplements, WithdrawalRequest, parse_submission,
                               validation_details)
from yjs_contracts.calendar import CHINA
from yjs_contracts.codes import is_valid_uscc
from yjs_contracts.plans import MATTERS
from yjs_contracts.schemas import openapi
from yjs_contracts.steps import DEPARTMENTS
from yjs_kit.auth import Caller, TokenKeys, verify
from yjs_kit.metrics import MetricsServer

from .backends import Backends
from .errors import ApiError, forbidden, json_response, not_authorized_for_enterprise, not_found
from .http import idempotency_key, query_choice, query_cursor, query_limit, query_text, read_json, route
from .portal.pages import Portal
from .readiness import readiness

CASE_ID = r"[A-Z]{1,10}[0-9]{1,30}"
FOLLOW_UP_ID = r"F[0-9]{1,18}"
OPENAPI = json.dumps(openapi(), ensure_ascii=False)
CATALOGUE = catalogue.CURRENT.described()
#: the departments whose permits may be issued on a commitment, each with its check queue
COMMITMENT_DEPARTMENTS = frozenset({"licensing"})


class Gateway(Portal):
    """The API's entrypoints; the portal's pages (Portal) are entrypoints of the same service."""

    name = "gateway"
    commitment_departments = COMMITMENT_DEPARTMENTS
    backends = Backends()
    metrics = MetricsServer()

    config = Config()

    def caller(self, request, *roles: str) -> Caller:
        authorization = request.headers.get("Authorization")
        caller = verify(TokenKeys.from_config(self.config), authorization)
        if roles and caller.role not in roles:
            raise forbidden()
        self.backends.act_as(authorization[7:].strip())
        return caller

    def backend(self, service: str):
        if service not in self.backends:
            raise ApiError(503, "unavailable", f"{service} is not part of this deployment")
        return self.backends[service]

    @route("POST", "/v1/cases")
    def submit(self, request):
        caller = self.caller(request, "applicant")
        body = json_body(request)
        matter, application = parse_submission(body)  # 422 before anything is stored
        if matter in ENTERPRISE_MATTERS:
            self.authorise_for_enterprise(caller, matter, application.uscc)
        # without a client key, one per request: an RPC redelivered after a crash of the case
        # service then finds the case it already opened instead of opening a second one
        key = idempotency_key(request) or f"request:{uuid.uuid4()}"
        answer = self.backends["case"].call("submit", caller.subject, body, key)
        return json_response(202, {"case_id": answer["case_id"], "status": answer["status"]},
                             {"Location": f"/v1/cases/{answer['case_id']}"})

    def authorise_for_enterprise(self, caller: Caller, matter: str, uscc: str) -> None:
        """A matter about an existing enterprise: its legal representative, or an agent it
        authorised for the matter today. Asked of registration before anything is stored."""
        if not caller.verified:
            raise ApiError(403, "not_authorized_for_enterprise",
                           "a matter about an enterprise needs a verified identity (实名认证: id_number in the token)")
        answer = self.backend("registration").call("authority", uscc, matter)
        if answer["decision"] in ("unknown", "deregistered"):
            reason = "登记簿上没有这个统一社会信用代码的企业" if answer["decision"] == "unknown" \
                else "该企业已不在登记簿上（已注销或撤销）"
            raise InvalidApplication([ErrorDetail(field="application.uscc", reason=reason)])
        if answer["decision"] != "allowed":
            raise not_authorized_for_enterprise(uscc)

    @route("GET", "/v1/cases/<string:case_id>")
    def get_case(self, request, case_id):
        caller = self.caller(request)
        owner = caller.subject if caller.role == "applicant" else None  # an applicant sees only its own
        # the case service itself limits staff to the cases with a step of their department
        return json_response(200, self.backends["case"].call("get_case", case_id, owner))

    @route("GET", "/v1/cases")
    def list_cases(self, request):
        caller = self.caller(request, "applicant")
        return json_response(200, self.backends["case"].call(
            "list_cases", caller.subject, query_choice(request, "status", [s.value for s in CaseStatus], None),
            query_limit(request, 20, 100), query_cursor(request, "after", CASE_ID)))

    @route("POST", "/v1/cases/<string:case_id>/liquidation-report")
    def liquidation_report(self, request, case_id):
        caller = self.caller(request, "applicant")
        report = parse_body(LiquidationReport, json_body(request))
        record = self.backends["case"].call("get_case", case_id, caller.subject)  # 404 unless the caller's own
        if record["matter"] != "deregistration":
            raise ApiError(409, "liquidation_report_refused", "only a deregistration takes a liquidation report")
        return json_response(202, self.backend("deregistration").call(
            "submit_liquidation_report", case_id, report.model_dump(mode="json")))

    @route("POST", "/v1/cases/<string:case_id>/supplements")
    def supplements(self, request, case_id):
        """补正: the applicant answers the one notice, or hands in what a 容缺受理 left missing."""
        caller = self.caller(request, "applicant")
        body = parse_body(Supplements, json_body(request))
        return json_response(202, self.backends["case"].call(
            "supplement", case_id, caller.subject, body.model_dump(mode="json")))

    @route("POST", "/v1/cases/<string:case_id>/withdrawal")
    def withdrawal(self, request, case_id):
        caller = self.caller(request, "applicant")
        body = parse_body(WithdrawalRequest, json_body(request))
        return json_response(202, self.backends["case"].call("withdraw", case_id, caller.subject, body.reason))

    @route("POST", "/v1/cases/<string:case_id>/rating")
    def rating(self, request, case_id):
        """好差评 of an ended case."""
        caller = self.caller(request, "applicant")
        body = parse_body(RatingRequest, json_body(request))
        return json_response(201, self.backends["case"].call(
            "rate", case_id, caller.subject, body.model_dump(mode="json")))

    def staff_of(self, request, department: str, work: str = "work its reviews") -> Caller:
        """A department's staff, and no one else, work its review queue (or its register)."""
        if department not in DEPARTMENTS:
            raise not_found("department")
        caller = self.caller(request, "department")
        if caller.department != department:
            raise forbidden(f"only {department} staff {work}")
        return caller

    @route("GET", "/v1/departments/<string:department>/reviews")
    def reviews(self, request, department):
        self.staff_of(request, department)
        query = (query_choice(request, "status", ("waiting", "decided", "closed"), "waiting"),
                 query_text(request, "case_id", CASE_ID), query_limit(request, 50, 200),
                 query_cursor(request, "after", r"R[0-9]{1,18}"))
        return json_response(200, self.backend(department).call("reviews", *query))

    @route("POST", "/v1/departments/<string:department>/reviews/<string:review_id>/decision")
    def decide(self, request, department, review_id):
        """人工审核: approve (容缺受理 when materials are left missing), refuse, or ask for
        corrections; recorded with who decided."""
        self.staff_of(request, department)
        decision = parse_body(ReviewDecision, json_body(request))
        # the department records the staff member its own check of the caller's token names
        return json_response(200, self.backend(department).call(
            "decide", review_id, decision.model_dump(mode="json")))

    @route("POST", "/v1/cases/<string:case_id>/follow-ups/<string:follow_up_id>/verdict")
    def judge_follow_up(self, request, case_id, follow_up_id):
        """The applicant confirms or rejects a department's answer to its bad rating, once."""
        caller = self.caller(request, "applicant")
        body = parse_body(FollowUpVerdict, json_body(request))
        return json_response(200, self.backends["case"].call(
            "judge_follow_up", case_id, caller.subject, follow_up_id, body.verdict, body.comment))

    @route("GET", "/v1/departments/<string:department>/follow-ups")
    def department_follow_ups(self, request, department):
        """差评督办: the bad ratings of the department, oldest first, each with its due date."""
        self.staff_of(request, department, "work its follow-ups")
        return json_response(200, self.backends["case"].call(
            "department_follow_ups", department, follow_up_status(request), query_limit(request, 50, 200),
            query_cursor(request, "after", FOLLOW_UP_ID)))

    @route("POST", "/v1/departments/<string:department>/follow-ups/<string:follow_up_id>/response")
    def answer_follow_up(self, request, department, follow_up_id):
        self.staff_of(request, department, "answer its follow-ups")
        body = parse_body(FollowUpResponse, json_body(request))
        return json_response(200, self.backends["case"].call("answer_follow_up", department, follow_up_id,
                                                             body.response))

    @route("POST", "/v1/departments/<string:department>/follow-ups/<string:follow_up_id>/appeal")
    def appeal_rating(self, request, department, follow_up_id):
        """申诉: the department holds the rating wrong; an operator decides."""
        self.staff_of(request, department, "appeal its ratings")
        body = parse_body(RatingAppeal, json_body(request))
        return json_response(202, self.backends["case"].call("appeal_rating", department, follow_up_id, body.reason))

    @route("GET", "/v1/departments/<string:department>/checks")
    def commitment_checks(self, request, department):
        """事后核查 of 告知承诺 permits: the department's own staff, as for its review queue."""
        self.staff_of(request, department, "work its checks")
        query = (query_choice(request, "status", ("due", "all"), "due"),
                 query_text(request, "uscc", USCC_SHAPE.strip("^$")), query_limit(request, 50, 200),
                 query_cursor(request, "after", r"HC[0-9]{1,18}"))
        return json_response(200, self.checking_department(department).call("commitment_checks", *query))

    @route("POST", "/v1/departments/<string:department>/checks/<string:check_id>/result")
    def check_result(self, request, department, check_id):
        """Verified, rectify by a deadline, or a false commitment; recorded with who checked."""
        self.staff_of(request, department, "record its checks")
        result = parse_body(CheckResult, json_body(request))
        return json_response(200, self.checking_department(department).call(
            "record_check_result", check_id, result.model_dump(mode="json")))

    def checking_department(self, department: str):
        """Only a department that issues permits on a commitment (告知承诺) keeps checks."""
        if department not in COMMITMENT_DEPARTMENTS:
            raise not_found("check queue")
        return self.backend(department)

    @route("GET", "/v1/catalogue")
    def permit_catalogue(self, request):
        """Public: the catalogue in force, each commitment permit with its 告知承诺书 (no token)."""
        return json_response(200, CATALOGUE)

    @route("GET", "/v1/follow-ups")
    def follow_ups(self, request):
        self.caller(request, "operator")
        return json_response(200, self.backends["case"].call(
            "follow_ups", follow_up_status(request), query_limit(request, 50, 200),
            query_cursor(request, "after", FOLLOW_UP_ID),
            query_choice(request, "appeal", ("pending", "upheld", "dismissed"), None)))

    @route("POST", "/v1/follow-ups/<string:follow_up_id>/response")
    def respond_to_follow_up(self, request, follow_up_id):
        self.caller(request, "operator")
        body = parse_body(FollowUpResponse, json_body(request))
        return json_response(200, self.backends["case"].call("respond_to_follow_up", follow_up_id, body.response))

    @route("POST", "/v1/follow-ups/<string:follow_up_id>/appeal-decision")
    def decide_appeal(self, request, follow_up_id):
        self.caller(request, "operator")
        body = parse_body(AppealDecision, json_body(request))
        return json_response(200, self.backends["case"].call("decide_appeal", follow_up_id, body.decision,
                                                             body.reason))

    @route("GET", "/v1/reports/matters")
    def matter_report(self, request):
        """无感监测 (operators): per matter and department, the cases finished from `from` to `to`
        (dates in Beijing time; today by default)."""
        self.caller(request, "operator")
        matter = query_choice(request, "matter", sorted(MATTERS), None)
        end = query_date(request, "to") or datetime.now(CHINA).date().isoformat()
        start = query_date(request, "from") or end
        return json_response(200, self.backends["case"].call("matter_report", matter, start, end))

    @route("GET", "/v1/notices")
    def notices(self, request):
        """Public: the deregistration notices now running (no token)."""
        query = (query_text(request, "uscc", USCC_SHAPE.strip("^$")), query_limit(request, 50, 200),
                 query_cursor(request, "after", r"[A-Z]{1,10}[0-9]{1,30}"))
        return json_response(200, self.backend("deregistration").call("open_notices", *query))

    @route("POST", "/v1/notices/<string:notice_id>/objections")
    def object_to_notice(self, request, notice_id):
        """Public: anyone may object to a simplified deregistration while its notice runs (no token)."""
        objection = parse_body(Objection, json_body(request))
        return json_response(202, self.backend("deregistration").call(
            "raise_objection", notice_id, objection.model_dump(mode="json")))

    @route("POST", "/v1/licences/<string:permit_number>/revocation")
    def revoke_licence(self, request, permit_number):
        """撤销: a commitment (告知承诺) its post-issuance check found false; operators, or the
        licensing department's staff."""
        caller = self.caller(request, "operator", "department")
        if caller.role == "department" and caller.department != "licensing":
            raise forbidden("only the licensing department or an operator revokes a permit")
        revocation = parse_body(RevocationRequest, json_body(request))
        return json_response(200, self.backend("licensing").call(
            "revoke_commitment", permit_number, revocation.finding))

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

    # -- enterprises: their record and who acts for them --------------------------------------

    def enterprise_uscc(self, uscc: str) -> str:
        if not is_valid_uscc(uscc):
            raise not_found("enterprise")
        return uscc

    @route("GET", "/v1/enterprises/<string:uscc>")
    def enterprise(self, request, uscc):
        """The enterprise as the departments know it: for its legal representative, its agents,
        staff and operators; anyone else finds no such enterprise."""
        self.caller(request)
        return json_response(200, self.backend("registration").call("enterprise_record", self.enterprise_uscc(uscc)))

    @route("POST", "/v1/enterprises/<string:uscc>/agents")
    def appoint_agent(self, request, uscc):
        """授权经办: the legal representative (only) authorises a person for some matters."""
        self.caller(request, "applicant")
        appointment = parse_body(AgentAppointment, json_body(request))
        agent = self.backend("registration").call(
            "appoint_agent", self.enterprise_uscc(uscc), appointment.model_dump(mode="json"))
        return json_response(201, agent, {"Location": f"/v1/enterprises/{uscc}/agents/{agent['agent_id']}"})

    @route("GET", "/v1/enterprises/<string:uscc>/agents")
    def agents(self, request, uscc):
        self.caller(request)
        return json_response(200, self.backend("registration").call("agents", self.enterprise_uscc(uscc)))

    @route("DELETE", "/v1/enterprises/<string:uscc>/agents/<string:agent_id>")
    def withdraw_agent(self, request, uscc, agent_id):
        self.caller(request, "applicant")
        self.backend("registration").call("withdraw_agent", self.enterprise_uscc(uscc), agent_id)
        return Response(status=204)

    @route("POST", "/v1/enterprises/<string:uscc>/listings")
    def add_listing(self, request, uscc):
        """列入经营异常名录、严重违法失信名单 …: registration staff only."""
        self.staff_of(request, "registration", "list an enterprise")
        listing = parse_body(ListingRequest, json_body(request))
        answer = self.backend("registration").call(
            "add_listing", self.enterprise_uscc(uscc), listing.model_dump(mode="json"))
        return json_response(201, answer, {"Location": f"/v1/enterprises/{uscc}/listings/{answer['listing_id']}"})

    @route("DELETE", "/v1/enterprises/<string:uscc>/listings/<string:listing_id>")
    def remove_listing(self, request, uscc, listing_id):
        self.staff_of(request, "registration", "remove a listing")
        self.backend("registration").call("remove_listing", self.enterprise_uscc(uscc), listing_id)
        return Response(status=204)

    @route("GET", "/healthz")
    def healthz(self, request):
        return json_response(200, {"status": "ok"})

    @route("GET", "/readyz")
    def readyz(self, request):
        checks, oldest = {}, {}
        for name, backend in self.backends.items():
            try:
                health = backend.call("health", timeout=3)
                relay = health.get("relay", "alive")  # a service without an outbox has no relay
                checks[name] = "ok" if relay == "alive" else f"unavailable: outbox relay {relay}"
                if "oldest_unsent_seconds" in health:
                    oldest[name] = health["oldest_unsent_seconds"]
            except Exception as error:  # noqa: BLE001 - each unreachable part is reported, not raised
                checks[name] = f"unavailable: {type(error).__name__}"
        status_code, status = readiness(checks)
        return json_response(status_code, {"status": status, "checks": checks, "oldest_unsent_seconds": oldest})

    @route("GET", "/metrics")
    def metrics_page(self, request):
        """Prometheus scrapes the metrics port; on the public port the figures are operators' only."""
        self.caller(request, "operator")
        return Response(generate_latest(), status=200, headers={"Content-Type": CONTENT_TYPE_LATEST})

    @route("GET", "/openapi.json")
    def openapi_document(self, request):
        return Response(OPENAPI, status=200, mimetype="application/json")


def parse_body(model, body):
    """The body as its model, or 422 naming every offending field."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise ApiError(422, "invalid_body", "the body is invalid", validation_details(error)) from None


def query_date(request, name: str) -> str | None:
    """A date query value, YYYY-MM-DD, or 422 naming it."""
    raw = query_text(request, name, r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
    if raw is not None:
        try:
            date.fromisoformat(raw)
        except ValueError:
            raise ApiError(422, "invalid_query", f"{name} is invalid",
                           [ErrorDetail(field=name, reason="no such day")]) from None
    return raw


def follow_up_status(request) -> str | None:
    """`?status=` one of the follow-up statuses, `open` by default; empty: all."""
    return query_choice(request, "status", [*FollowUpStatus, ""], "open") or None


def json_body(request):
    return read_json(request)  # size, media type and depth bounded before parsing


SERVICE = Gateway
