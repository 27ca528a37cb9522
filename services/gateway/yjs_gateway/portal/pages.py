"""The 一网通办 portal's pages, served by the gateway on the API's origin. Every page reaches the
services only by calling the `/v1` entrypoint that serves the same thing, with the signed-in
person's token, so the API's authority, validation and idempotency hold in the browser too."""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any
from urllib.parse import urlencode

import structlog
from werkzeug import Response
from werkzeug.test import EnvironBuilder
from werkzeug.urls import iri_to_uri
from werkzeug.utils import redirect
from werkzeug.wrappers import Request
from yjs_contracts.api import ErrorDetail
from yjs_contracts.words import LISTING_TITLES, RATING_WORDS
from yjs_kit.auth import Caller

from ..errors import ApiError, as_api_error
from ..http import MAX_BODY_BYTES, route
from . import forms, oidc
from .render import asset, html
from .session import (CSRF_FIELD, check_csrf, clear_session, csrf_token, development_token, form_key, safe_next,
                      session_token, set_form_cookie, set_session)

log = structlog.get_logger(__name__)

OBJECTION_FIELDS = ("name", "contact", "reason")
#: what may be added to an enterprise's record from its page: the API entrypoint, the form's
#: fields, the form's name on the page, and what the page says when it is done
ADDITIONS = {"agents": ("appoint_agent", ("name", "id_number", "matters", "valid_until"), "agent", "agent_appointed"),
             "listings": ("add_listing", ("kind", "reason", "authority", "decided_on"), "listing", "listed")}
REMOVALS = {"agents": ("withdraw_agent", "agent_withdrawn"), "listings": ("remove_listing", "unlisted")}
#: what staff do with a follow-up of their department's bad rating: the API entrypoint, the form's
#: fields, and what the page says when it is done
#: the follow-ups a department's page shows: those still to answer, or to appeal while not closed
STAFF_FOLLOW_UP_STATES = ("open", "answered", "escalated")
OPERATOR_FOLLOW_UP_ACTS = {"response": ("respond_to_follow_up", forms.FOLLOW_UP_ANSWER, "responded"),
                           "appeal-decision": ("decide_appeal", forms.APPEAL_DECISION, "appeal_decided")}
STAFF_FOLLOW_UP_ACTS = {"response": ("answer_follow_up", forms.FOLLOW_UP_ANSWER, "answered"),
                        "appeal": ("appeal_rating", forms.RATING_APPEAL, "appealed")}
#: a case that has ended: rated, no longer withdrawn
ENDED = ("completed", "partially_completed", "rejected", "withdrawn")
#: a page's refusal as the person reads it, by the API's error code
ERROR_WORDS = {
    "not_found": "没有找到这个页面或办件，或者您无权查看。",
    "forbidden": "您当前的身份不能办理此项业务。",
    "unauthorized": "请先登录。",
    "csrf_refused": "表单已失效或并非来自本站，请重新打开页面后提交。",
    "idempotency_conflict": "这份表单已经提交过，内容与这次不同。请重新打开表单填写。",
    "too_many_requests": "提交过于频繁，请稍后再试。",
    "unavailable": "服务暂时不可用，请稍后再试。",
    "body_too_large": "提交的内容过多。",
    "invalid_query": "地址中的参数有误。",
    "invalid_path": "地址有误。",
    "review_closed": "这项审核已经决定过了。",
    "case_ended": "这个办件已经办结，不能撤回。",
    "withdrawal_refused": "撤回未获同意。",
    "case_not_ended": "办件办结后才能评价。",
    "already_rated": "这个办件已经评价过了。",
    "nothing_to_supplement": "这个办件现在没有需要补正的内容。",
    "notice_closed": "公告期已结束，不再受理异议。",
    "objections_not_accepted": "这则公告不受理异议；债权人请向清算组申报债权。",
    "oidc_refused": "登录未完成或已过期，请重新登录。",
    "invalid_decision": "容缺材料的补交期限须晚于现在，且不超过该环节的承诺时限。",
}


def api_request(token: str | None, method: str = "GET", path: str = "/", body: Any = None,
                headers: dict[str, str] | None = None, query: dict[str, str] | None = None) -> Request:
    """The `/v1` request a page makes on the person's behalf, with their own token."""
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    builder = EnvironBuilder(method=method, path=path, headers=headers, query_string=query, data=data,
                             content_type="application/json" if data is not None else None)
    return Request(builder.get_environ())


def answer(response: Response) -> dict[str, Any]:
    return json.loads(response.get_data())


def page(method: str, url: str):
    """A portal route: any refusal becomes a page in Chinese (signing in, when the token is missing
    or stale), never the API's JSON."""
    def decorate(handler):
        @functools.wraps(handler)
        def serve(self, request, **values):
            try:
                if (request.content_length or 0) > MAX_BODY_BYTES:  # a form is bounded like a JSON body
                    raise ApiError(413, "body_too_large", "the body is too large")
                return handler(self, request, **values)
            except Exception as error:  # noqa: BLE001 - every fault is answered as a page
                return self.error_page(request, error)
        return route(method, url)(serve)
    return decorate


class Portal:
    """Mixed into the gateway's service class: its entrypoints are the gateway's."""

    #: the departments with a check queue (事后核查 of 告知承诺 permits): the gateway's
    commitment_departments: frozenset[str] = frozenset()

    # -- the session ---------------------------------------------------------------------------

    @property
    def production(self) -> bool:
        return self.config.get("YJS_ENV") == "production"

    def signed_in(self, request, *roles: str) -> tuple[str, Caller]:
        """The session's token and who it names, verified as the API verifies a bearer token."""
        token = session_token(request)
        return token, self.caller(api_request(token), *roles)

    def who(self, request) -> Caller | None:
        try:
            return self.signed_in(request)[1]
        except Exception:  # noqa: BLE001 - a missing or stale session reads as signed out
            return None

    def render(self, request, template: str, http_status: int = 200, **context) -> Response:
        caller = context.pop("caller", None) or self.who(request)
        key, new = form_key(request)
        response = html(template, http_status, caller=caller, csrf=csrf_token(key), csrf_field=CSRF_FIELD,
                        production=self.production, path=request.full_path.rstrip("?"), **context)
        return set_form_cookie(response, key, self.production) if new else response

    def error_page(self, request, error: Exception) -> Response:
        problem = as_api_error(error)
        if problem.status == 401:
            return redirect(iri_to_uri("/sign-in?" + _query({"next": request.full_path.rstrip("?")})), 303)
        if problem.status >= 500:
            log.error("page failed", path=request.path, error=repr(error))
        message = ERROR_WORDS.get(problem.code, "出错了，请稍后再试。" if problem.status >= 500 else problem.message)
        details = [d.reason for d in problem.details] if problem.code in ("invalid_query", "invalid_path") else []
        if problem.code == "invalid_query" and not details:
            details = [problem.message]
        return self.render(request, "error.html", problem.status, status=problem.status, message=message,
                           details=details)

    @page("GET", "/sign-in")
    def sign_in_page(self, request):
        return self.render(request, "sign_in.html", next=safe_next(request.args.get("next"), "/cases"),
                           oidc=oidc.OidcSettings.from_config(self.config) is not None)

    @page("GET", "/sign-in/oidc")
    def oidc_sign_in(self, request):
        """Off to the identity provider (OIDC authorization code with PKCE), back at the callback."""
        settings = self.oidc_settings()
        address, flow = oidc.start(settings, safe_next(request.args.get("next"), "/cases"))
        return oidc.set_flow_cookie(redirect(address, 303), flow, self.production)

    @page("GET", "/sign-in/oidc/callback")
    def oidc_callback(self, request):
        """The provider's answer: the code exchanged for its access token to this API, verified as
        every bearer token is, kept as the session."""
        settings = self.oidc_settings()
        code, verifier, next_path = oidc.returned(request.cookies.get(oidc.FLOW_COOKIE), request.args)
        try:
            token = oidc.exchange(settings, code, verifier)
            self.caller(api_request(token))  # refused unless the provider's signature, issuer and claims hold
        except Exception as error:  # noqa: BLE001 - a refused sign-in is said, not sent round to sign in again
            problem = as_api_error(error)
            if problem.status != 401:
                raise
            log.warning("sign-in refused", reason=problem.message)
            raise ApiError(403, "oidc_refused", problem.message) from None
        response = set_session(redirect(iri_to_uri(safe_next(next_path, "/cases")), 303), token, self.production)
        return oidc.clear_flow_cookie(response, self.production)

    def oidc_settings(self) -> oidc.OidcSettings:
        settings = oidc.OidcSettings.from_config(self.config)
        if settings is None:
            raise ApiError(404, "not_found", "no such resource")
        return settings

    @page("GET", "/dev/sign-in")
    def development_sign_in(self, request):
        """Signs in as anyone, on a local run only: in production this address does not exist."""
        secret = self.config.get("JWT_SECRET")
        if self.production or not secret:
            raise ApiError(404, "not_found", "no such resource")
        token, next_path = development_token(secret, request.args)
        return set_session(redirect(iri_to_uri(next_path), 303), token, self.production)

    @page("POST", "/sign-out")
    def sign_out(self, request):
        token, _ = self.signed_in(request)
        check_csrf(token, request.form)
        return clear_session(redirect("/", 303), self.production)

    # -- reading -------------------------------------------------------------------------------

    @page("GET", "/")
    def home(self, request):
        return self.render(request, "home.html")

    @page("GET", "/static/<string:name>")
    def static(self, request, name):
        found = asset(name)
        if found is None:
            raise ApiError(404, "not_found", "no such resource")
        return found

    @page("GET", "/cases")
    def my_cases(self, request):
        """我的办件: `GET /v1/cases` with the page's own query (status, after, limit)."""
        token, caller = self.signed_in(request)
        query = {k: v for k, v in request.args.items() if k in ("status", "after", "limit")}
        listing = answer(self.list_cases(api_request(token, path="/v1/cases", query=query)))
        return self.render(request, "cases.html", caller=caller, listing=listing, status=query.get("status", ""),
                           next_query=_query({**query, "after": listing["next"]}) if listing.get("next") else None)

    @page("GET", "/cases/<string:case_id>")
    def case_page(self, request, case_id):
        """办件详情: `GET /v1/cases/{case_id}`, so only those the API shows it to see it."""
        token, caller = self.signed_in(request)
        return self.case_view(request, token, caller, case_id)

    def case_view(self, request, token: str, caller: Caller, case_id: str, errors=None, general=(), values=None,
                  status=200, failed_form=None):
        record = answer(self.get_case(api_request(token, path=f"/v1/cases/{case_id}"), case_id))
        # a 补正 just sent: the departments have it, though their steps may not say so yet
        supplied = bool(record["timeline"]) and record["timeline"][-1]["event_type"] == "case.supplement_provided"
        asked = forms.requested(record) if caller.role == "applicant" and not supplied else []
        applicant, ended = caller.role == "applicant", record["status"] in ENDED
        withdrawing = (record.get("withdrawal") or {}).get("status") == "requested"
        rated = any(t["event_type"] == "case.rated" for t in record["timeline"])
        return self.render(request, "case.html", status, caller=caller, record=record, asked=asked,
                           errors=errors or {}, general=list(general), values=values or {}, supplied=supplied,
                           failed_form=failed_form, may_withdraw=applicant and not ended and not withdrawing,
                           may_rate=applicant and ended and not rated, RATING_WORDS=RATING_WORDS,
                           # a page with a form on it is not refreshed under the person typing into it
                           live=record["status"] in ("submitted", "in_progress") or supplied)

    @page("POST", "/cases/<string:case_id>/supplements")
    def supply(self, request, case_id):
        """补正: sent as `POST /v1/cases/{case_id}/supplements`; a refusal comes back to its field."""
        def field_of(named: str) -> str | None:
            # the field it names, or the field a part of which it names (a list's item)
            return next((k for k in request.form if k.startswith("field:")
                         and (named == k[6:] or named.startswith(k[6:] + "."))), None)
        return self.case_action(request, case_id, "supplements", self.supplements,
                                forms.supplements_from_form(request.form), field_of)

    @page("POST", "/cases/<string:case_id>/withdrawal")
    def withdraw(self, request, case_id):
        """撤回: sent as `POST /v1/cases/{case_id}/withdrawal`."""
        reason = request.form.get("reason", "").strip()
        return self.case_action(request, case_id, "withdrawal", self.withdrawal, {"reason": reason} if reason else {})

    @page("POST", "/cases/<string:case_id>/follow-ups/<string:follow_up_id>/verdict")
    def judge_page(self, request, case_id, follow_up_id):
        """The applicant confirms or rejects a department's answer to its bad rating: sent as
        `POST /v1/cases/{case_id}/follow-ups/{follow_up_id}/verdict`."""
        body = forms.body_of(request.form, forms.FOLLOW_UP_VERDICT)
        return self.case_action(request, case_id, f"follow-ups/{follow_up_id}/verdict",
                                lambda api, case: self.judge_follow_up(api, case, follow_up_id), body)

    @page("POST", "/cases/<string:case_id>/rating")
    def rate(self, request, case_id):
        """好差评: sent as `POST /v1/cases/{case_id}/rating`."""
        overall, comment = request.form.get("overall", ""), request.form.get("comment", "").strip()
        body: dict[str, Any] = {"overall": int(overall)} if overall in ("1", "2", "3", "4", "5") else {}
        if comment:
            body["comment"] = comment
        return self.case_action(request, case_id, "rating", self.rating, body)

    def case_action(self, request, case_id: str, action: str, entrypoint, body: dict[str, Any],
                    field_of=lambda named: named) -> Response:
        """An applicant's act on a case, sent to the API's `/v1/cases/{case_id}/{action}`; a refusal
        comes back to the case page, each reason at the field of the form it names."""
        token, caller = self.signed_in(request, "applicant")
        check_csrf(token, request.form)
        try:
            entrypoint(api_request(token, "POST", f"/v1/cases/{case_id}/{action}", body), case_id)
        except Exception as error:  # noqa: BLE001 - a refusal is shown on its form
            problem = as_api_error(error)
            if problem.status not in (409, 422):
                raise
            errors, general = refused(problem, field_of)
            return self.case_view(request, token, caller, case_id, errors, general, request.form.to_dict(),
                                  problem.status, action)
        return redirect(f"/cases/{case_id}", 303)

    # -- applying ------------------------------------------------------------------------------

    @page("GET", "/apply/<string:matter>")
    def application_form(self, request, matter):
        """A matter's application form: 企业开办, or 行业准营, 变更登记, 企业注销 of an enterprise
        (`?uscc=` fills its code in)."""
        spec = matter_form(matter)
        token, caller = self.signed_in(request, "applicant")
        values = dict(spec.defaults)
        if spec is forms.ESTABLISHMENT:
            values.update({"application.legal_representative.name": caller.name or "",
                           "application.legal_representative.id_number": caller.id_number or ""})
        else:
            values["application.uscc"] = request.args.get("uscc", "")
        return self.form_page(request, caller, spec, values)

    def form_page(self, request, caller: Caller, spec: forms.MatterForm, values: dict[str, Any], errors=None,
                  general=(), status=200):
        # a key per rendered form: the same form sent twice finds the case it opened the first time
        return self.render(request, "application.html", status, caller=caller, spec=spec, sections=spec.sections,
                           values=values, errors=errors or {}, general=list(general),
                           idempotency_key=f"portal:{uuid.uuid4()}")

    @page("POST", "/apply/<string:matter>")
    def apply(self, request, matter):
        """Sent as `POST /v1/cases`: a refusal comes back to the form, each reason at its field."""
        spec = matter_form(matter)
        token, caller = self.signed_in(request, "applicant")
        check_csrf(token, request.form)
        body, rows = forms.submission_from_form(request.form, spec)
        headers = {"Idempotency-Key": request.form.get("idempotency_key") or f"portal:{uuid.uuid4()}"}
        try:
            accepted = answer(self.submit(api_request(token, "POST", "/v1/cases", body, headers)))
        except Exception as error:  # noqa: BLE001 - a refusal of the application is shown on the form
            problem = as_api_error(error)
            if problem.status == 403 and problem.code == "not_authorized_for_enterprise":
                # the enterprise is not the applicant's to act for: said at its code
                problem = ApiError(422, problem.code, problem.message, [ErrorDetail(
                    field="application.uscc", reason="您不是该企业的法定代表人，也未获授权办理此事项")])
            if problem.status != 422:
                raise
            errors, general = forms.place_errors([d.model_dump() for d in problem.details], rows, spec)
            return self.form_page(request, caller, spec, forms.form_values(request.form, spec.sections), errors,
                                  general, 422)
        return redirect(f"/cases/{accepted['case_id']}", 303)

    # -- the public --------------------------------------------------------------------------

    @page("GET", "/notices")
    def notices_page(self, request):
        """注销公告 now running: `GET /v1/notices`, no sign-in."""
        return self.notices_list(request)

    def notices_list(self, request, failed=None, errors=None, general=(), values=None, status=200):
        query = {k: v for k, v in request.args.items() if k in ("uscc", "after")}
        listing = answer(self.notices(api_request(None, path="/v1/notices", query=query)))
        return self.render(request, "notices.html", status, listing=listing, failed=failed, errors=errors or {},
                           general=list(general), values=values or {}, objected=request.args.get("objected"),
                           next_query=_query({**query, "after": listing["next"]}) if listing.get("next") else None)

    @page("POST", "/notices/<string:notice_id>/objections")
    def object_page(self, request, notice_id):
        """异议: sent as `POST /v1/notices/{notice_id}/objections`."""
        check_csrf(form_key(request)[0], request.form)
        # a field left empty is left out, so the API names it as 必填
        body = forms.body_of(request.form, OBJECTION_FIELDS)
        try:
            self.object_to_notice(api_request(None, "POST", f"/v1/notices/{notice_id}/objections", body), notice_id)
        except Exception as error:  # noqa: BLE001 - a refused objection is shown on its form
            problem = as_api_error(error)
            if problem.status not in (409, 422):
                raise
            errors, general = refused(problem, lambda named: named if named in OBJECTION_FIELDS else None)
            return self.notices_list(request, notice_id, errors, general, body, problem.status)
        return redirect("/notices?" + _query({"objected": notice_id}), 303)

    # -- a department's staff ------------------------------------------------------------------

    @page("GET", "/staff/<string:department>")
    def staff_queue(self, request, department):
        """The department's reviews waiting for a decision: `GET /v1/departments/{department}/reviews`."""
        token, caller = self.signed_in(request)
        return self.queue_page(request, token, caller, department)

    def queue_page(self, request, token: str, caller: Caller, department: str, failed: str | None = None,
                   errors=None, general=(), values=None, status=200):
        query = {k: v for k, v in request.args.items() if k in ("case_id", "after")}
        listing = answer(self.reviews(api_request(token, path=f"/v1/departments/{department}/reviews", query=query),
                                      department))
        # 事后核查 (`GET …/checks`), only where permits are issued on a commitment; 差评督办 (`GET …/follow-ups`)
        checks = answer(self.commitment_checks(api_request(token, path=f"/v1/departments/{department}/checks"),
                                               department))["items"] if department in self.commitment_departments else None
        follow_ups = [item for state in STAFF_FOLLOW_UP_STATES for item in answer(self.department_follow_ups(api_request(
            token, path=f"/v1/departments/{department}/follow-ups", query={"status": state}), department))["items"]]
        return self.render(request, "staff.html", status, caller=caller, department=department, listing=listing,
                           failed=failed, errors=errors or {}, general=list(general), values=values or {},
                           decided=request.args.get("decided"), done=request.args.get("done"),
                           reason_rows=forms.REASON_ROWS, missing_rows=forms.MISSING_ROWS,
                           reason_fields=forms.REASON_FIELDS, checks=checks, check_reason_rows=forms.CHECK_REASON_ROWS,
                           follow_ups=follow_ups,
                           next_query=_query({**query, "after": listing["next"]}) if listing.get("next") else None)

    def staff_action(self, request, department: str, failed: str, act, done: dict[str, str],
                     field_of=lambda named: named) -> Response:
        """A staff member's act sent to the API (`act(token)`); a refusal comes back to the
        department's page, at the form `failed` names, each reason at its field; once done, the
        page says so (`done`: its query)."""
        token, caller = self.signed_in(request)
        check_csrf(token, request.form)
        try:
            act(token)
        except Exception as error:  # noqa: BLE001 - a refusal is shown on its form
            problem = as_api_error(error)
            if problem.status not in (409, 422):
                raise
            errors, general = refused(problem, field_of)
            return self.queue_page(request, token, caller, department, failed, errors, general,
                                   request.form.to_dict(), problem.status)
        return redirect(f"/staff/{department}?" + _query(done), 303)

    @page("POST", "/staff/<string:department>/checks/<string:check_id>/result")
    def staff_check_result(self, request, department, check_id):
        """核查结果: sent as `POST /v1/departments/{department}/checks/{check_id}/result`."""
        body = forms.check_result_from_form(request.form)
        path = f"/v1/departments/{department}/checks/{check_id}/result"
        return self.staff_action(request, department, check_id, lambda token: self.check_result(
            api_request(token, "POST", path, body), department, check_id), {"done": f"checked:{check_id}"}, _check_field)

    @page("POST", "/staff/<string:department>/follow-ups/<string:follow_up_id>/<string:act>")
    def staff_follow_up(self, request, department, follow_up_id, act):
        """答复 (`POST /v1/departments/{department}/follow-ups/{id}/response`) or 申诉 (`…/appeal`)."""
        if act not in STAFF_FOLLOW_UP_ACTS:
            raise ApiError(404, "not_found", "no such resource")
        entrypoint, fields, done = STAFF_FOLLOW_UP_ACTS[act]
        body = forms.body_of(request.form, fields)
        path = f"/v1/departments/{department}/follow-ups/{follow_up_id}/{act}"
        return self.staff_action(request, department, f"{follow_up_id}:{act}", lambda token: getattr(self, entrypoint)(
            api_request(token, "POST", path, body), department, follow_up_id), {"done": f"{done}:{follow_up_id}"},
            lambda named: named if named in fields else None)

    @page("POST", "/staff/<string:department>/reviews/<string:review_id>/decision")
    def staff_decision(self, request, department, review_id):
        """Sent as the API's decision; a refused one comes back to its review, each reason at its row."""
        body = forms.decision_from_form(request.form)
        path = f"/v1/departments/{department}/reviews/{review_id}/decision"
        return self.staff_action(request, department, review_id, lambda token: self.decide(
            api_request(token, "POST", path, body), department, review_id), {"decided": review_id}, _decision_field)

    # -- an enterprise: its record, who acts for it, its listings ------------------------------

    @page("GET", "/enterprises/<string:uscc>")
    def enterprise_page(self, request, uscc):
        """The enterprise record (`GET /v1/enterprises/{uscc}`): shown to whom the API shows it."""
        token, caller = self.signed_in(request)
        return self.enterprise_view(request, token, caller, uscc)

    def enterprise_view(self, request, token: str, caller: Caller, uscc: str, failed_form=None, errors=None,
                        general=(), values=None, status=200):
        record = answer(self.enterprise(api_request(token, path=f"/v1/enterprises/{uscc}"), uscc))
        return self.render(request, "enterprise.html", status, caller=caller, record=record,
                           failed_form=failed_form, errors=errors or {}, general=list(general), values=values or {},
                           done=request.args.get("done"), agent_matters=forms.AGENT_MATTERS,
                           listing_kinds=LISTING_TITLES,
                           may_list=caller.role == "department" and caller.department == "registration",
                           may_appoint=caller.role == "applicant" and record["status"] == "registered")

    def enterprise_action(self, request, uscc: str, form_name: str, act, done: str,
                          field_of=lambda named: named) -> Response:
        """An act on an enterprise sent to the API (`act(token)`); a refusal comes back to the
        enterprise page, each reason at the field of the form it names."""
        token, caller = self.signed_in(request)
        check_csrf(token, request.form)
        try:
            act(token)
        except Exception as error:  # noqa: BLE001 - a refusal is shown on its form
            problem = as_api_error(error)
            if problem.status not in (403, 404, 409, 422):
                raise
            errors, general = refused(problem, field_of)
            return self.enterprise_view(request, token, caller, uscc, form_name, errors, general,
                                        request.form.to_dict(), problem.status)
        return redirect(f"/enterprises/{uscc}?" + _query({"done": done}), 303)

    @page("POST", "/enterprises/<string:uscc>/<string:kind>")
    def add_to_enterprise(self, request, uscc, kind):
        """授权经办 (`POST /v1/enterprises/{uscc}/agents`, its legal representative) or 列入
        (`POST /v1/enterprises/{uscc}/listings`, registration staff)."""
        if kind not in ADDITIONS:
            raise ApiError(404, "not_found", "no such resource")
        entrypoint, fields, form_name, done = ADDITIONS[kind]
        body = forms.body_of(request.form, fields)
        return self.enterprise_action(
            request, uscc, form_name, lambda token: getattr(self, entrypoint)(
                api_request(token, "POST", f"/v1/enterprises/{uscc}/{kind}", body), uscc), done,
            lambda named: named if named in fields else None)

    @page("POST", "/enterprises/<string:uscc>/<string:kind>/<string:item_id>/removal")
    def remove_from_enterprise(self, request, uscc, kind, item_id):
        """Sent as `DELETE /v1/enterprises/{uscc}/agents/{agent_id}` (撤销授权) or
        `…/listings/{listing_id}` (移出), a form being able only to POST."""
        if kind not in REMOVALS:
            raise ApiError(404, "not_found", "no such resource")
        entrypoint, done = REMOVALS[kind]
        return self.enterprise_action(
            request, uscc, kind, lambda token: getattr(self, entrypoint)(
                api_request(token, "DELETE", f"/v1/enterprises/{uscc}/{kind}/{item_id}"), uscc, item_id), done)

    # -- operators -------------------------------------------------------------------------------

    @page("GET", "/operator")
    def operator_page(self, request):
        """Dead letters (`GET /v1/dead-letters`) and the follow-ups of bad ratings (`GET /v1/follow-ups`)."""
        token, caller = self.signed_in(request, "operator")
        return self.operator_view(request, token, caller)

    def operator_view(self, request, token: str, caller: Caller, failed=None, errors=None, general=(), values=None,
                      status=200):
        letters = answer(self.dead_letters(api_request(token, path="/v1/dead-letters")))["items"]
        # escalated ones by default: overdue or rejected by the applicant, what operators must act on
        query = {"status": "escalated", **{k: v for k, v in request.args.items() if k in ("status", "after")}}
        follow_ups = answer(self.follow_ups(api_request(token, path="/v1/follow-ups", query=query)))
        appeals = answer(self.follow_ups(api_request(token, path="/v1/follow-ups",
                                                     query={"status": "", "appeal": "pending"})))["items"]
        return self.render(request, "operator.html", status, caller=caller, letters=letters, follow_ups=follow_ups,
                           appeals=appeals, status_filter=query["status"], failed=failed, errors=errors or {},
                           general=list(general), values=values or {}, done=request.args.get("done"),
                           next_query=_query({**query, "after": follow_ups["next"]}) if follow_ups.get("next") else None)

    @page("POST", "/operator/dead-letters/<string:dead_letter_id>/replay")
    def replay_page(self, request, dead_letter_id):
        """Sent as `POST /v1/dead-letters/{dead_letter_id}/replay`."""
        token, caller = self.signed_in(request, "operator")
        check_csrf(token, request.form)
        self.replay_dead_letter(api_request(token, "POST", f"/v1/dead-letters/{dead_letter_id}/replay"), dead_letter_id)
        return redirect("/operator?" + _query({"done": f"replayed:{dead_letter_id}"}), 303)

    @page("POST", "/operator/follow-ups/<string:follow_up_id>/<string:act>")
    def operator_follow_up(self, request, follow_up_id, act):
        """回访并关闭 (`POST /v1/follow-ups/{follow_up_id}/response`) or 申诉裁决
        (`…/appeal-decision`); a refusal comes back to its form."""
        if act not in OPERATOR_FOLLOW_UP_ACTS:
            raise ApiError(404, "not_found", "no such resource")
        entrypoint, fields, done = OPERATOR_FOLLOW_UP_ACTS[act]
        token, caller = self.signed_in(request, "operator")
        check_csrf(token, request.form)
        body = forms.body_of(request.form, fields)
        try:
            getattr(self, entrypoint)(api_request(token, "POST", f"/v1/follow-ups/{follow_up_id}/{act}", body),
                                      follow_up_id)
        except Exception as error:  # noqa: BLE001 - a refusal is shown on its form
            problem = as_api_error(error)
            if problem.status not in (409, 422):
                raise
            errors, general = refused(problem, lambda named: named if named in fields else None)
            return self.operator_view(request, token, caller, f"{follow_up_id}:{act}", errors, general,
                                      request.form.to_dict(), problem.status)
        return redirect("/operator?" + _query({"done": f"{done}:{follow_up_id}"}), 303)


def refused(problem: ApiError, field_of=lambda named: named) -> tuple[dict[str, list[str]], list[str]]:
    """A refused form's reasons by the form field each names (`field_of`: the API's field to the
    form's, or None); the others, or the refusal itself when it names no field, for the form's top."""
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    for detail in problem.details:
        key = field_of(detail.field)
        (errors.setdefault(key, []) if key else general).append(detail.reason)
    if not problem.details:
        general.append(ERROR_WORDS.get(problem.code, problem.message))
    return errors, general


def _decision_field(named: str) -> str | None:
    """A decision's refusal at its reason's or missing material's row (`reasons.0.message` -> `reasons.0`)."""
    if named.startswith(("reasons.", "missing_materials.")) and named.count(".") >= 2:
        return ".".join(named.split(".")[:2])
    return named if named in ("decision", "comment", "materials_due", "missing_materials") else None


def _check_field(named: str) -> str | None:
    """A check result's refusal at its finding's row (`reasons.0.message` -> `reasons.0`)."""
    if named.startswith("reasons.") and named.count(".") >= 2:
        return ".".join(named.split(".")[:2])
    return named if named in ("result", "reasons", "rectify_by") else None


def matter_form(matter: str) -> forms.MatterForm:
    if matter not in forms.MATTER_FORMS:
        raise ApiError(404, "not_found", "no such resource")
    return forms.MATTER_FORMS[matter]


def _query(values: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})
