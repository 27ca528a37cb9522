"""The portal's pages on the gateway: the session cookie, CSRF, the development sign-in and
where it may send a person, and the 企业开办 form sent through `POST /v1/cases`."""

import re

import pytest
import requests
from werkzeug import Response
from werkzeug.datastructures import MultiDict
from yjs_case.service import CaseService
from yjs_contracts import samples
from yjs_contracts.samples import LEGAL_REPRESENTATIVE_ID
from yjs_contracts.api import ErrorDetail
from yjs_gateway.errors import ApiError
from yjs_gateway.portal import forms
from yjs_gateway.portal.pages import _check_field, _decision_field, refused
from yjs_gateway.portal.session import SESSION_COOKIE, set_session
from yjs_gateway.service import Gateway
from yjs_kit.auth import verify
from yjs_kit.config import DEV_JWT_SECRET
from yjs_kit.testing import http_port, wait_for
from yjs_registration.service import RegistrationService

STRONG_SECRET = "a-production-secret-of-at-least-32-bytes!"


def portal_at(container):
    session = requests.Session()
    base = f"http://127.0.0.1:{http_port(container)}"

    def call(method, path, **kwargs):
        return session.request(method, base + path, timeout=20, allow_redirects=False, **kwargs)

    call.session = session
    return call


@pytest.fixture
def portal(start_service, monkeypatch):
    """The gateway alone: pages refused before any service is asked need none."""
    monkeypatch.setenv("YJS_SERVICES", "case")
    return portal_at(start_service(Gateway))


def sign_in(portal, next_path="/cases", **query):
    query = {"role": "applicant", "subject": "张伟", "id_number": LEGAL_REPRESENTATIVE_ID, "next": next_path, **query}
    return portal("GET", "/dev/sign-in", params=query)


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def test_sign_in_sets_an_http_only_lax_cookie_holding_a_token_the_api_accepts(portal):
    answer = sign_in(portal, "/cases/YJS1?x=1")
    assert answer.status_code == 303 and answer.headers["Location"] == "/cases/YJS1?x=1"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    caller = verify(DEV_JWT_SECRET, "Bearer " + portal.session.cookies[SESSION_COOKIE])
    assert (caller.subject, caller.role, caller.name, caller.id_number) == (
        "张伟", "applicant", "张伟", LEGAL_REPRESENTATIVE_ID)
    staff = portal("GET", "/dev/sign-in", params={"role": "department", "department": "registration"})
    assert staff.status_code == 303 and staff.headers["Location"] == "/staff/registration"
    assert verify(DEV_JWT_SECRET, "Bearer " + portal.session.cookies[SESSION_COOKIE]).department == "registration"
    assert portal("GET", "/dev/sign-in", params={"role": "department", "department": "police"}).status_code == 422
    assert portal("GET", "/dev/sign-in", params={"role": "root"}).status_code == 422


@pytest.mark.parametrize("target", ["//evil.example/cases", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "cases", "/\tcases"])
def test_sign_in_refuses_a_next_that_leaves_the_site(portal, target):
    answer = sign_in(portal, target)
    assert answer.status_code == 422 and "Location" not in answer.headers
    assert SESSION_COOKIE not in answer.headers.get("Set-Cookie", "")
    assert "本站" in answer.text


def test_production_has_no_development_sign_in_and_its_cookie_is_secure(start_service, monkeypatch):
    monkeypatch.setenv("YJS_SERVICES", "case")
    portal = portal_at(start_service(Gateway, YJS_ENV="production", JWT_SECRET=STRONG_SECRET))
    answer = sign_in(portal)
    assert answer.status_code == 404 and SESSION_COOKIE not in answer.headers.get("Set-Cookie", "")
    assert "Secure" in answer.headers["Set-Cookie"]  # the public's form cookie
    assert "/dev/sign-in" not in portal("GET", "/sign-in").text
    assert "Secure" in set_session(Response(), "token", production=True).headers["Set-Cookie"]


def test_a_form_without_its_csrf_token_is_refused_before_anything_is_sent(portal):
    sign_in(portal)
    form = portal("GET", "/apply/establishment")
    assert form.status_code == 200
    key = hidden(form.text, "idempotency_key")
    for token in ("", "0" * 64, hidden(form.text, "csrf_token")[:-1] + "x"):
        # no case service runs behind this gateway: a form that got past the check would hang
        answer = portal("POST", "/apply/establishment", data={"csrf_token": token, "idempotency_key": key})
        assert answer.status_code == 403 and "表单已失效" in answer.text
    assert portal("POST", "/sign-out", data={}).status_code == 403
    refused = portal("POST", "/staff/registration/reviews/R1/decision", data={"decision": "approve"})
    assert refused.status_code == 403 and "表单已失效" in refused.text
    assert portal("POST", "/sign-out", data={"csrf_token": hidden(form.text, "csrf_token")}).status_code == 303
    # the public's forms too, signed out: an objection carries the token of the form cookie
    objection = portal("POST", "/notices/ZXGG20000101000001/objections", data={"name": "某", "reason": "不同意"})
    assert objection.status_code == 403 and "表单已失效" in objection.text


def test_pages_ask_to_sign_in_and_are_served_from_the_site_alone(portal):
    answer = portal("GET", "/cases")
    assert answer.status_code == 303 and answer.headers["Location"] == "/sign-in?next=%2Fcases"
    home = portal("GET", "/")
    assert home.status_code == 200 and "企业开办" in home.text and "变更登记" in home.text
    assert "default-src 'self'" in home.headers["Content-Security-Policy"]
    assert not re.search(r'(src|href)="(https?:)?//', home.text)  # no CDN
    assert portal("GET", "/static/portal.js").headers["Content-Type"].startswith("text/javascript")
    assert portal("GET", "/static/nothing.css").status_code == 404


def test_every_field_of_every_form_has_a_label(portal):
    sign_in(portal)
    for matter in forms.MATTER_FORMS:
        page = portal("GET", f"/apply/{matter}", params={"uscc": "91330402MADGK41F44"}).text
        ids = set(re.findall(r'<(?:input|select|textarea) id="([^"]+)"', page))
        labelled = set(re.findall(r'<label for="([^"]+)"', page))
        assert ids and ids <= labelled, matter
        assert f'action="/apply/{matter}"' in page and re.search(r'name="idempotency_key" value="portal:[0-9a-f-]{36}"', page)
    # the code an enterprise's page passes in is filled in; a matter the API does not know is no page
    assert 'value="91330402MADGK41F44"' in page
    assert portal("GET", "/apply/merger").status_code == 404


def test_the_form_reads_back_as_the_application_and_refusals_find_their_fields():
    # scope from the catalogue, and the 告知承诺 its licensed item is issued on
    application = samples.establishment_application("锦程", scope=("软件开发", "餐饮服务"), commitments=("餐饮服务",))
    body, rows = forms.submission_from_form(as_form(forms.form_from_application(application)))
    assert body == {"matter": "establishment", "application": application}
    # social insurance: registered with the number typed, not at all when cleared, a non-number as typed
    for typed, sent in (("0", {"employees": 0}), ("", None), ("三", {"employees": "三"})):
        values = {**forms.form_from_application(application), "application.social_insurance.employees": typed}
        assert forms.submission_from_form(as_form(values))[0]["application"]["social_insurance"] == sent
    # a blank first shareholder row is left out: the API's row 0 is the form's row 1
    values = forms.form_from_application(application)
    values = {k.replace("shareholders.0.", "shareholders.1."): v for k, v in values.items()}
    body, rows = forms.submission_from_form(as_form(values))
    assert len(body["application"]["shareholders"]) == 1
    by_field, general = forms.place_errors([
        {"field": "application.shareholders.0.id_number", "reason": "格式不符"},
        {"field": "application.enterprise.business_scope.1", "reason": "不在目录中"},
        {"field": "application.enterprise.name", "reason": "名称已被占用"},
        {"field": "matter", "reason": "未知事项"}], rows)
    assert by_field == {"application.shareholders.1.id_number": ["格式不符"],
                        "application.enterprise.business_scope": ["不在目录中"],
                        "application.enterprise.name_parts.trade_name": ["名称已被占用"]}
    assert general == ["未知事项"]


def as_form(values) -> MultiDict:
    form = MultiDict()
    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            form.add(name, item)
    return form


@pytest.fixture
def portal_with_services(start_service, monkeypatch):
    monkeypatch.setenv("YJS_SERVICES", "case,registration")
    start_service(CaseService)
    start_service(RegistrationService)
    return portal_at(start_service(Gateway))


def test_the_form_opens_one_case_however_often_it_is_sent_and_shows_refusals_at_their_fields(portal_with_services):
    portal = portal_with_services
    sign_in(portal)
    page = portal("GET", "/apply/establishment").text
    values = forms.form_from_application(samples.establishment_application("锦程", seals=(), bank_account=False))
    values["application.enterprise.registered_capital"] = "一百万"
    fields = {**values, "csrf_token": hidden(page, "csrf_token"), "idempotency_key": hidden(page, "idempotency_key")}
    refused = portal("POST", "/apply/establishment", data=as_form(fields))
    assert refused.status_code == 422
    error = re.search(r'id="error-application.enterprise.registered_capital">([^<]+)<', refused.text).group(1)
    assert "元" in error  # the API's own reason, in Chinese
    assert 'value="锦程"' in refused.text  # what was typed is kept
    fields.update({"application.enterprise.registered_capital": "1000000.00",
                   "idempotency_key": hidden(refused.text, "idempotency_key")})
    first = portal("POST", "/apply/establishment", data=as_form(fields))
    again = portal("POST", "/apply/establishment", data=as_form(fields))
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    case_id = first.headers["Location"].rsplit("/", 1)[1]
    listing = portal("GET", "/cases").text
    assert re.findall(r'href="/cases/([A-Z0-9]+)"', listing) == [case_id]
    page = wait_for(lambda: (lambda p: p if "设立登记" in p and "已办结" in p else None)(
        portal("GET", f"/cases/{case_id}").text), what="registration")
    assert "统一社会信用代码" in page and "市场监管部门" in page


def test_a_refusal_lands_at_the_row_or_field_it_names_and_the_rest_at_the_top():
    problem = ApiError(422, "invalid_body", "the body is invalid", [
        ErrorDetail(field="reasons.1.message", reason="必填"), ErrorDetail(field="body", reason="不予通过须写明理由")])
    assert refused(problem, _decision_field) == ({"reasons.1": ["必填"]}, ["不予通过须写明理由"])
    assert refused(ApiError(409, "review_closed", "closed")) == ({}, ["这项审核已经决定过了。"])


def test_a_correction_asks_for_only_what_the_notice_named():
    record = {"steps": [
        {"status": "awaiting_applicant", "reasons": [
            {"code": "x", "message": "请更正国籍", "field": "application.shareholders.0.nationality"},
            {"code": "y", "message": "缺少住所使用证明", "field": "material:住所使用证明"},
            {"code": "z", "message": "经营范围有误", "field": "application.enterprise.business_scope"}]},
        {"status": "completed", "reasons": [{"code": "w", "message": "无关", "field": "application.enterprise.name"}]}]}
    asked = forms.requested(record)
    assert [(a["name"], a["label"], a["why"]) for a in asked] == [
        ("field:application.shareholders.0.nationality", "股东（发起人） 第 1 位·国籍", "请更正国籍"),
        ("material:住所使用证明", "住所使用证明（材料编号）", "缺少住所使用证明"),
        ("field:application.enterprise.business_scope", "企业基本信息·经营范围", "经营范围有误")]
    form = MultiDict({"field:application.shareholders.0.nationality": "CHN", "material:住所使用证明": "DOC-1",
                      "field:application.enterprise.business_scope": "软件开发\n信息技术咨询服务\n", "csrf_token": "t"})
    assert forms.supplements_from_form(form) == {"items": [
        {"field": "application.shareholders.0.nationality", "value": "CHN"},
        {"material": "住所使用证明", "document_id": "DOC-1"},
        {"field": "application.enterprise.business_scope", "value": ["软件开发", "信息技术咨询服务"]}]}


def test_the_forms_of_an_enterprise_s_matters_read_back_as_their_applications():
    uscc = "91330402MADGK41F44"
    for spec, application in (
            (forms.LICENSING, {"uscc": uscc, "business_scope": ["餐饮服务", "酒类经营"], "commitments": ["餐饮服务"]}),
            (forms.DEREGISTRATION, samples.deregistration_application(uscc, "simple")),
            (forms.DEREGISTRATION, samples.deregistration_application(uscc, "general")),
            (forms.CHANGE, samples.change_application(uscc, "锦程", registered_capital="2000000.00",
                                                      business_scope=["软件开发"]))):
        body, _ = forms.submission_from_form(as_form(forms.form_from_application(application, spec.sections)), spec)
        assert body == {"matter": spec.matter, "application": {"commitments": [], **application}}, spec.matter
    # what is left blank does not change: a change of the domicile alone says only that
    body, _ = forms.submission_from_form(as_form({
        "application.uscc": uscc, "application.changes.domicile.address": "浙江省嘉兴市南湖区广益路2号",
        "application.changes.domicile.division_code": "330402",
        "application.changes.officers.0.role": "executive_director"}), forms.CHANGE)
    assert body["application"] == {"uscc": uscc, "commitments": [], "changes": {
        "domicile": {"address": "浙江省嘉兴市南湖区广益路2号", "division_code": "330402"}}}
    # a refused composed name is said at its 字号; an unsigned commitment is a real false
    by_field, _ = forms.place_errors([{"field": "application.changes.name.name", "reason": "名称已被占用"}], {},
                                     forms.CHANGE)
    assert by_field == {"application.changes.name.name_parts.trade_name": ["名称已被占用"]}
    body, _ = forms.submission_from_form(as_form({"application.route": "simple"}), forms.DEREGISTRATION)
    assert body["application"]["commitments"] == {"debts_settled": False, "investors_agree": False}


def test_the_catalogue_says_what_each_licensed_item_needs():
    notes = dict(forms.SCOPE_NOTES)
    assert "软件开发" not in notes and "食品经营许可证（实行告知承诺）" in notes["餐饮服务"]
    assert "药品经营许可证（零售）（优化审批服务）" in notes["药品零售"]
    signable = dict(forms.COMMITMENT_OPTIONS)
    assert "餐饮服务" in signable and "药品零售" not in signable and "软件开发" not in signable


def test_an_approval_with_materials_left_missing_is_sent_as_a_tolerated_acceptance():
    form = MultiDict({"decision": "approve", "missing_materials.0.material": "住所使用证明",
                      "missing_materials.0.message": "租赁合同复印件", "missing_materials.1.material": "",
                      "materials_due": "2026-12-04 17:00"})
    assert forms.decision_from_form(form) == {
        "decision": "approve", "reasons": [], "missing_materials": [
            {"material": "住所使用证明", "message": "租赁合同复印件"}], "materials_due": "2026-12-04T17:00:00+08:00"}
    # what is not a time staff read is sent as typed, for the API to name
    assert forms.china_minute_to_iso("下周五") == "下周五"
    problem = ApiError(422, "invalid_body", "the body is invalid", [
        ErrorDetail(field="missing_materials.0.message", reason="必填"),
        ErrorDetail(field="materials_due", reason="应为日期时间")])
    assert refused(problem, _decision_field) == (
        {"missing_materials.0": ["必填"], "materials_due": ["应为日期时间"]}, [])


def test_what_an_enterprise_holds_reads_in_chinese_with_its_times_in_china_time():
    from yjs_contracts.words import english_words
    from yjs_gateway.portal.render import holdings

    held = holdings({"taxpayer": {"tax_authority": "国家税务总局嘉兴市南湖区税务局", "status": "registered"},
                     "bank_accounts": [{"account_number": "1204330402000000001", "status": "closed"}],
                     "permits": [{"permit_number": "JL330402000001", "status": "revoked",
                                  "revoked_at": "2026-12-02T07:30:00+00:00"}]})
    assert [title for title, _ in held] == ["税务", "基本存款账户", "许可证"]
    # one label and value a row, as the case page's records read, not one paragraph a holding
    assert held[0][1] == [("主管税务机关", "国家税务总局嘉兴市南湖区税务局"), ("状态", "已登记")]
    permit = dict(held[2][1])
    assert permit["状态"] == "已撤销" and "2026-12-02 15:30" in permit.values()
    text = "；".join(value for _, rows in held for _, value in rows)
    assert "已销户" in text and not any("，" in value for _, rows in held for _, value in rows)
    assert not english_words(text, ["JL330402000001"])


def test_a_check_result_is_sent_with_its_findings_and_its_deadline_in_beijing_time():
    form = MultiDict({"result": "rectify", "reasons.0.message": "未配备消毒设施", "reasons.1.message": " ",
                      "rectify_by": "2026-12-09 17:00"})
    assert forms.check_result_from_form(form) == {
        "result": "rectify", "reasons": [{"code": "rectification_ordered", "message": "未配备消毒设施"}],
        "rectify_by": "2026-12-09T17:00:00+08:00"}
    # verified: nothing but the result, so the API needs no finding and no deadline
    assert forms.check_result_from_form(MultiDict({"result": "verified", "reasons.0.message": ""})) == {
        "result": "verified"}
    # a refusal at the finding's row, at the deadline, and what names no field at the top
    problem = ApiError(422, "invalid_body", "the body is invalid", [
        ErrorDetail(field="reasons.0.message", reason="必填"), ErrorDetail(field="rectify_by", reason="须晚于现在"),
        ErrorDetail(field="permit", reason="已撤销")])
    assert refused(problem, _check_field) == ({"reasons.0": ["必填"], "rectify_by": ["须晚于现在"]}, ["已撤销"])


def test_the_forms_after_a_bad_rating_send_only_what_was_typed():
    typed = MultiDict({"verdict": "rejected", "comment": "  ", "response": " 已整改 ", "reason": ""})
    assert forms.body_of(typed, forms.FOLLOW_UP_VERDICT) == {"verdict": "rejected"}
    assert forms.body_of(typed, forms.FOLLOW_UP_ANSWER) == {"response": "已整改"}
    # an empty appeal reaches the API without its reason, which the API names as 必填
    assert forms.body_of(typed, forms.RATING_APPEAL) == {}
    assert forms.body_of(MultiDict({"decision": "upheld", "reason": "不属该部门"}), forms.APPEAL_DECISION) == {
        "decision": "upheld", "reason": "不属该部门"}


FOLLOW_UP = {"follow_up_id": "F7", "case_id": "YJS42", "department": "registration", "owner": "张伟",
             "ratings": {"registration": 1}, "comment": "窗口解释不清", "status": "answered",
             "opened_at": "2026-12-01T02:00:00+00:00", "due_at": "2026-12-08T02:00:00+00:00",
             "response": "已整改", "responded_by": "registrar-sun", "responded_at": "2026-12-02T01:00:00+00:00",
             "verdict": None, "escalation": None, "appeal": None}


def test_the_pages_after_a_decision_show_their_forms_labelled_and_their_times_in_china_time():
    from yjs_gateway.portal.render import html

    check = {"check_id": "HC3", "department": "licensing", "uscc": "91330402MADGK41F44", "case_id": "YJS41",
             "permit": {"permit_number": "JY330402000001", "name": "食品经营许可证", "items": ["餐饮服务"],
                        "conditions": ["有与经营的食品品种相适应的场所"]},
             "due": "2026-12-03T09:00:00+00:00", "overdue": False, "status": "open"}
    common = dict(caller=None, csrf="t", csrf_field="csrf_token", production=False, path="/", errors={}, general=[],
                  values={}, failed=None, done=None)
    staff = html("staff.html", department="licensing", listing={"items": []}, checks=[check], check_reason_rows=2,
                 follow_ups=[FOLLOW_UP], reason_rows=3, missing_rows=2, reason_fields=(), decided=None,
                 next_query=None, **common).get_data(as_text=True)
    operator = html("operator.html", letters=[], follow_ups={"items": [{**FOLLOW_UP, "status": "escalated",
                                                                        "escalation": "rejected", "verdict": "rejected"}]},
                    appeals=[{**FOLLOW_UP, "appeal": {"status": "pending", "reason": "不属本部门", "appealed_by": "r",
                                                      "appealed_at": "2026-12-02T03:00:00+00:00"}}],
                    status_filter="escalated", next_query=None, **common).get_data(as_text=True)
    for page in (staff, operator):
        ids = set(re.findall(r'<(?:input|select|textarea) [^>]*id="([^"]+)"', page))
        assert ids and ids <= set(re.findall(r'<label for="([^"]+)"', page))
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", re.sub(r"<[^>]+>", "", page))  # China time, not ISO
    assert 'action="/staff/licensing/checks/HC3/result"' in staff and "2026-12-03 17:00" in staff
    # answered: no second answer, an appeal still possible
    assert 'follow-ups/F7/appeal"' in staff and 'follow-ups/F7/response"' not in staff
    assert 'action="/operator/follow-ups/F7/appeal-decision"' in operator and "申请人不认可答复" in operator
    assert 'action="/operator/follow-ups/F7/response?status=escalated"' in operator
