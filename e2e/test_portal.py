"""The portal in a real headless Chromium (Debian's), against the whole system: an applicant
signs in, fills in 企业开办 and reads the finished case; a refusal lands at its field; a case page
is shown only to those the API shows the case to; an enterprise's page, its agents and listings,
and its licensing, change and deregistration forms; the operators' dead letters and follow-ups; a
bad rating answered and appealed by staff, rejected by the applicant, supervised by operators."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import pytest
from yjs_cli.browser import ELEMENT, Browser
from yjs_cli.client import ApiClient, token_for
from yjs_contracts.codes import is_valid_uscc
from yjs_contracts.plans import CHINA
from yjs_contracts.samples import LEGAL_REPRESENTATIVE_ID, deregistration_application, person
from yjs_gateway.portal import forms
from yjs_kit.testing import wait_for

pytestmark = pytest.mark.timeout(240)
#: a notice that runs long enough for a person to object in the browser; 告知承诺 checks due in seconds
SYSTEM_ENV = {"NOTICE_PERIOD_SECONDS": "300", "COMMITMENT_CHECK_PERIOD_SECONDS": "3", "COMMITMENT_CHECK_SECONDS": "0.5"}


@pytest.fixture(scope="module")
def browser():
    # no skip when Chromium is missing: `make test` installs it, and a missing one is a failure
    with Browser() as browser:
        yield browser


def sign_in(browser, system, next_path: str, **query) -> None:
    query = {"role": "applicant", "subject": "张伟", "id_number": LEGAL_REPRESENTATIVE_ID, **query, "next": next_path}
    browser.open(f"{system.base_url}/dev/sign-in?{urlencode(query)}")


def fill_in(browser, application: dict, spec: forms.MatterForm = forms.ESTABLISHMENT) -> None:
    """Types the application into the form as a person would: every text field, every choice."""
    values = forms.form_from_application(application, spec.sections)
    for section in spec.sections:
        for row in range(section.rows) if section.rows else (None,):
            for field in section.fields:
                name = section.name(field, row)
                value = values.get(name, [] if field.kind == "choices" else "")
                if field.kind == "select":
                    if value:
                        browser.find(f'[name="{name}"] option[value="{value}"]').click()
                elif field.kind == "choices":
                    for key, _ in field.options:
                        box = browser.find(f'[name="{name}"][value="{key}"]')
                        if box.selected != (key in value):
                            box.click()
                elif field.kind == "flag":
                    box = browser.field(name)
                    if box.selected != (value == "true"):
                        box.click()
                else:
                    browser.field(name).type(value)


def submit(browser) -> None:
    browser.find("form.application button[type=submit]").click()


def fits_the_phone(browser) -> bool:
    return browser.script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_an_applicant_fills_in_establishment_and_reads_the_finished_case(system, browser, fresh_application):
    sign_in(browser, system, "/apply/establishment")
    assert browser.find("h1").text == "企业开办" and fits_the_phone(browser)
    # the scope ticked from the catalogue, its licensed item's permit signed for (告知承诺)
    application = fresh_application(scope=("软件开发", "餐饮服务"), commitments=("餐饮服务",))["application"]
    fill_in(browser, application)
    submit(browser)
    case_id = browser.wait_for(lambda: (re.search(r"/cases/([A-Z0-9]+)$", browser.url) or [None, None])[1],
                               what="the case page")
    # the page refreshes itself while the departments work
    browser.wait_for(lambda: browser.find("#case-status").text == "已办结", timeout=90, what="the finished case")
    page = browser.source
    uscc = re.search(r"<dt>统一社会信用代码</dt>\s*<dd>([0-9A-Z]{18})</dd>", page).group(1)
    assert is_valid_uscc(uscc)
    seals = re.findall(r"<tr><td[^>]*>([^<]+)</td><td[^>]*>([0-9]{13})</td><td[^>]*>([^<]+)</td></tr>", page)
    assert [s[0] for s in seals] == ["公章", "财务专用章", "发票专用章", "合同专用章", "法定代表人名章"]
    assert seals[0][2] == application["enterprise"]["name"]
    # at a phone's width each seal reads as a card of labelled values, not a squeezed table
    assert browser.script("return getComputedStyle(document.querySelector('table.seals td')).display") == "grid"
    assert "设立登记" in page and "市场监管部门" in page and "食品经营许可证" in page and fits_the_phone(browser)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", browser.text)  # every time in China time, not ISO
    # 好差评, once the case has ended
    browser.find('input[name="overall"][value="5"]').click()
    browser.find("form.rating button[type=submit]").click()
    browser.wait_for(lambda: "好差评：非常满意" in browser.find(".timeline").text, what="the rating")
    assert not browser.find_all("form.rating")
    browser.open(f"{system.base_url}/cases")
    assert case_id in browser.find("table.cases").text


def test_a_refusal_is_shown_next_to_its_field(system, browser, fresh_application):
    sign_in(browser, system, "/apply/establishment")
    application = fresh_application()["application"]
    application["enterprise"]["registered_capital"] = "一百万"
    fill_in(browser, application)
    submit(browser)
    error = browser.wait_for(lambda: browser.find('[id="error-application.enterprise.registered_capital"]'),
                             what="the refusal")
    assert "元" in error.text  # the API's own reason, in Chinese
    # beside its own field, which keeps what was typed
    assert browser.script("return document.getElementById(arguments[0]).closest('.field').querySelector('input').value",
                          "error-application.enterprise.registered_capital") == "一百万"
    assert browser.field("application.enterprise.name_parts.trade_name").attribute("value") == \
        application["enterprise"]["name_parts"]["trade_name"]


def test_a_case_page_is_only_for_its_applicant_and_the_departments_in_it(system, browser, fresh_application):
    case_id = system.client().submit(fresh_application()).json()["case_id"]
    sign_in(browser, system, f"/cases/{case_id}", subject="李四", id_number=person(77))
    assert browser.find("h1").text == "没有找到" and case_id not in browser.source
    sign_in(browser, system, f"/cases/{case_id}", role="department", department="deregistration")
    assert browser.find("h1").text == "没有找到"
    sign_in(browser, system, f"/cases/{case_id}", role="department", department="registration")
    assert case_id in browser.find("h1").text and "设立登记" in browser.source
    sign_in(browser, system, f"/cases/{case_id}", subject="e2e-applicant")
    assert case_id in browser.find("h1").text


def test_registration_staff_decide_a_review_in_the_browser_and_the_applicant_reads_the_outcome(
        system, browser, fresh_application):
    body = fresh_application(seals=(), bank_account=False)
    body["application"]["shareholders"][0]["nationality"] = "USA"  # a foreign investor: a registrar decides
    case_id = system.client().submit(body).json()["case_id"]
    queue = f"/staff/registration?case_id={case_id}"
    sign_in(browser, system, queue, role="department", department="registration", subject="registrar-li")
    browser.wait_for(lambda: browser.open(system.base_url + queue) or browser.find_all("section.review"),
                     what="the review in the queue")
    assert case_id in browser.find("section.review h2").text and "USA" in browser.source
    # a refusal names its reasons: without one the decision comes back, said in Chinese
    browser.find('input[name="decision"][value="refuse"]').click()
    browser.find("form.decision button[type=submit]").click()
    assert "须写明理由" in browser.wait_for(lambda: browser.find(".error-summary"), what="the refusal").text
    browser.find('input[name="decision"][value="approve"]').click()
    # 容缺受理: approved, a material to follow by a time in Beijing time
    browser.find("details.tolerance summary").click()
    browser.field("missing_materials.0.material").type("住所使用证明")
    browser.field("missing_materials.0.message").type("租赁合同复印件并加盖出租方公章")
    due = (datetime.now(CHINA) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    browser.field("materials_due").type(due)
    browser.find("form.decision button[type=submit]").click()
    browser.wait_for(lambda: "已决定" in browser.find("main").text, what="the decision")
    sign_in(browser, system, f"/cases/{case_id}", subject="e2e-applicant")
    browser.wait_for(lambda: browser.find("#case-status").text == "已办结", timeout=90, what="the finished case")
    assert "registrar-li" in browser.source  # who decided, on the record
    assert re.search(r"<dt>容缺材料补齐期限</dt><dd>" + due + "</dd>", browser.source)


def test_the_public_reads_the_notices_and_objects_in_the_browser(system, browser, fresh_application):
    client = system.client("e2e-closing")
    established = client.wait_until_final(client.submit(fresh_application(seals=(), bank_account=False)).json()["case_id"])
    uscc = established["outputs"]["uscc"]
    # deregistration knows the register from registration's events, which may still be on their way
    wait_for(lambda: system.query("deregistration", "SELECT status FROM enterprises WHERE uscc = :u", u=uscc),
             what="the registration known to deregistration")
    case_id = client.submit({"matter": "deregistration",
                             "application": deregistration_application(uscc, "simple")}).json()["case_id"]
    browser.call("DELETE", "/cookie")  # the public: nobody signed in
    notices = f"{system.base_url}/notices?uscc={uscc}"
    browser.wait_for(lambda: browser.open(notices) or browser.find_all("section.notice-item"), what="the notice")
    assert established["outputs"]["enterprise_name"] in browser.find("section.notice-item h2").text
    browser.find("section.notice-item summary").click()
    browser.field("name").type("嘉兴某供应链有限公司")
    browser.field("contact").type("0573-88880000")
    browser.find("form.objection button[type=submit]").click()
    # without a reason the objection comes back, the reason's field said to be missing
    assert browser.wait_for(lambda: browser.find('[id^="error-"][id$="-reason"]'), what="the refusal").text == "必填"
    assert browser.field("name").attribute("value") == "嘉兴某供应链有限公司"
    browser.field("reason").type("该企业尚欠我司货款 12 万元未结清")
    browser.find("form.objection button[type=submit]").click()
    browser.wait_for(lambda: "异议已受理" in browser.find("main").text, what="the objection accepted")
    record = client.wait_until_final(case_id)
    assert record["status"] == "rejected" and record["reasons"][0]["code"] == "objection_raised"


def test_a_correction_round_staff_name_the_field_and_the_applicant_corrects_only_it(
        system, browser, fresh_application):
    body = fresh_application(seals=(), bank_account=False)
    body["application"]["shareholders"][0]["nationality"] = "USA"
    case_id = system.client().submit(body).json()["case_id"]
    queue = f"/staff/registration?case_id={case_id}"
    sign_in(browser, system, queue, role="department", department="registration", subject="registrar-li")
    browser.wait_for(lambda: browser.open(system.base_url + queue) or browser.find_all("section.review"),
                     what="the review in the queue")
    browser.find('input[name="decision"][value="request_corrections"]').click()
    browser.find('[name="reasons.0.field"] option[value="application.shareholders.0.nationality"]').click()
    browser.field("reasons.0.message").type("请提供外方股东的国籍证明，或更正股东国籍")
    browser.find("form.decision button[type=submit]").click()
    browser.wait_for(lambda: "已决定" in browser.find("main").text, what="the decision")

    page = f"{system.base_url}/cases/{case_id}"
    sign_in(browser, system, f"/cases/{case_id}", subject="e2e-applicant")
    browser.wait_for(lambda: browser.open(page) or browser.find_all("form.supplements"), what="the 补正 form")
    # only what the notice named, labelled as the application form labels it, with the reason
    asked = "field:application.shareholders.0.nationality"
    assert [e.attribute("name") for e in browser.find_all("form.supplements input[type=text]")] == [asked]
    assert "国籍" in browser.find(f'label[for="{asked}"]').text
    assert "国籍证明" in browser.find("form.supplements .hint").text
    browser.field(asked).type("usa")
    browser.find("form.supplements button[type=submit]").click()
    assert "ISO 3166" in browser.wait_for(lambda: browser.find(f'[id="error-{asked}"]'), what="the refusal").text
    browser.field(asked).type("CHN")
    browser.find("form.supplements button[type=submit]").click()
    browser.wait_for(lambda: "补正已提交" in browser.find("main").text, what="the 补正 taken")
    assert not browser.find_all("form.supplements")
    # staff asked, so staff decide again
    registrar = ApiClient(system.base_url, token_for("registrar-wang", "department", "registration"))
    review = wait_for(lambda: registrar.request("GET", "/v1/departments/registration/reviews",
                                                params={"case_id": case_id}).json()["items"], what="the review again")[0]
    assert review["corrections"][0]["new"] == "CHN"
    decided = registrar.request("POST", f"/v1/departments/registration/reviews/{review['review_id']}/decision",
                                json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    browser.open(page)
    browser.wait_for(lambda: browser.find("#case-status").text == "已办结", timeout=90, what="the finished case")


def test_an_applicant_withdraws_a_case_in_the_browser(system, browser, fresh_application):
    body = fresh_application(seals=(), bank_account=False)
    body["application"]["shareholders"][0]["nationality"] = "USA"  # held for a registrar: not yet registered
    case_id = system.client().submit(body).json()["case_id"]
    sign_in(browser, system, f"/cases/{case_id}", subject="e2e-applicant")
    browser.find("form.withdrawal button[type=submit]").click()
    assert browser.wait_for(lambda: browser.find('[id="error-reason"]'), what="the refusal").text == "必填"
    browser.field("reason").type("经营计划调整，暂不设立")
    browser.find("form.withdrawal button[type=submit]").click()
    page = f"{system.base_url}/cases/{case_id}"
    browser.wait_for(lambda: browser.open(page) or browser.find("#case-status").text == "已撤回", what="the withdrawal")
    assert "撤回" in browser.find(".timeline").text and not browser.find_all("form.withdrawal")


def case_of(browser) -> str:
    return browser.wait_for(lambda: (re.search(r"/cases/([A-Z0-9]+)$", browser.url) or [None, None])[1],
                            what="the case page")


def test_an_enterprise_s_page_its_agents_listings_and_the_matters_about_it_in_the_browser(
        system, browser, fresh_application):
    client = system.client("e2e-owner")
    established = client.wait_until_final(client.submit(fresh_application(bank_account=False)).json()["case_id"])
    uscc, name = established["outputs"]["uscc"], established["outputs"]["enterprise_name"]
    page = f"/enterprises/{uscc}"
    # registration folds the departments' reports as they arrive
    sign_in(browser, system, page)
    browser.wait_for(lambda: browser.open(system.base_url + page) or len(browser.find_all("table.seals tbody tr")) == 5,
                     what="the enterprise's seals")
    assert browser.find("h1").text == name and browser.find("#enterprise-status").text == "存续"
    assert fits_the_phone(browser)

    # 授权经办: the refusal at its field, then the agent
    browser.script("document.querySelector('form.agent').closest('details').open = true")
    browser.field("name").type("李娜")
    browser.field("id_number").type(person(22, date(1990, 2, 28)))
    browser.find('form.agent [name="matters"][value="licensing"]').click()
    browser.find("form.agent button[type=submit]").click()
    assert browser.wait_for(lambda: browser.find('[id="error-valid_until"]'), what="the refusal").text == "必填"
    until = (date.today() + timedelta(days=180)).isoformat()
    browser.field("valid_until").type(until)
    browser.find('form.agent [name="matters"][value="licensing"]').click()
    browser.find("form.agent button[type=submit]").click()
    browser.wait_for(lambda: "已授权经办人" in browser.find("main").text, what="the agent")
    assert "李娜" in browser.find("table.agents").text and until in browser.find("table.agents").text

    # registration staff list the enterprise, then remove the listing
    sign_in(browser, system, page, role="department", department="registration", subject="registrar-zhao")
    browser.script("document.querySelector('form.listing').closest('details').open = true")
    browser.find('form.listing [name="kind"] option[value="abnormal_operation"]').click()
    browser.field("reason").type("通过登记的住所无法联系")
    browser.find("form.listing button[type=submit]").click()
    browser.wait_for(lambda: "已列入" in browser.find("main").text, what="the listing")
    assert "经营异常名录" in browser.find("table.listings").text
    browser.find("form.removal button[type=submit]").click()
    browser.wait_for(lambda: "已移出" in browser.find("main").text, what="the removal")
    assert not browser.find_all("table.listings")

    # a stranger is refused at the enterprise's code, before anything is stored
    sign_in(browser, system, f"/apply/licensing?uscc={uscc}", subject="王五", id_number=person(506))
    assert browser.field("application.uscc").attribute("value") == uscc
    fill_in(browser, {"uscc": uscc, "business_scope": ["酒类经营"], "commitments": ["酒类经营"]}, forms.LICENSING)
    submit(browser)
    assert "未获授权" in browser.wait_for(lambda: browser.find('[id="error-application.uscc"]'), what="the refusal").text

    # 行业准营 from the enterprise's page: nothing ticked is refused at the items, then issued
    sign_in(browser, system, page)
    browser.find(f'a[href="/apply/licensing?uscc={uscc}"]').click()
    assert browser.find("h1").text == "行业准营" and fits_the_phone(browser)
    submit(browser)
    assert browser.wait_for(lambda: browser.find('[id="error-application.business_scope"]'), what="the refusal")
    fill_in(browser, {"uscc": uscc, "business_scope": ["酒类经营"], "commitments": ["酒类经营"]}, forms.LICENSING)
    submit(browser)
    case_of(browser)
    browser.wait_for(lambda: browser.find("#case-status").text == "已办结", timeout=90, what="the permit")
    assert "酒类商品零售许可证" in browser.source

    # 变更登记: only the domicile
    browser.open(f"{system.base_url}/apply/change?uscc={uscc}")
    fill_in(browser, {"uscc": uscc, "changes": {"domicile": {"address": "浙江省嘉兴市南湖区广益路8号",
                                                             "division_code": "330402"}}}, forms.CHANGE)
    submit(browser)
    case_of(browser)
    browser.wait_for(lambda: browser.find("#case-status").text == "已办结", timeout=90, what="the change")
    browser.wait_for(lambda: browser.open(system.base_url + page) or "广益路8号" in browser.find("dl.enterprise").text,
                     what="the new domicile on the record")

    # 企业注销: the simple route, both commitments signed; its notice now runs
    browser.find(f'a[href="/apply/deregistration?uscc={uscc}"]').click()
    fill_in(browser, deregistration_application(uscc, "simple"), forms.DEREGISTRATION)
    submit(browser)
    case_of(browser)
    assert browser.find("h1").text.startswith("企业注销")
    browser.wait_for(lambda: browser.open(f"{system.base_url}/notices?uscc={uscc}") or
                     browser.find_all("section.notice-item"), what="the notice")


def test_an_operator_replays_a_dead_letter_and_answers_a_bad_rating_in_the_browser(
        system, browser, fresh_application):
    client = system.client("e2e-rater")
    rated = client.wait_until_final(client.submit(fresh_application(seals=(), bank_account=False)).json()["case_id"])
    answer = client.request("POST", f"/v1/cases/{rated['case_id']}/rating", json={"overall": 1, "comment": "补正告知不清"})
    assert answer.status_code == 201 and len(answer.json()["follow_ups"]) == 1, answer.text
    [follow_up] = answer.json()["follow_ups"]  # a bad overall rating: the operators' own follow-up
    system.query("registration", "ALTER TABLE enterprises RENAME TO enterprises_offline")  # a fault, not a refusal
    try:
        case_id = client.submit(fresh_application(seals=(), bank_account=False)).json()["case_id"]
        sign_in(browser, system, "/operator", role="operator", subject="ops-chen")
        letter = browser.wait_for(lambda: browser.open(f"{system.base_url}/operator") or [
            s for s in browser.find_all("section.dead-letter") if case_id in s.text], timeout=60,
            what="the dead letter")[0]
        assert "enterprises" in letter.text and fits_the_phone(browser)
    finally:
        system.query("registration", "ALTER TABLE enterprises_offline RENAME TO enterprises")
    browser.script("arguments[0].querySelector('form.replay button').click()", {ELEMENT: letter.ref})
    browser.wait_for(lambda: "已重放死信" in browser.find("main").text, what="the replay")
    assert client.wait_until_final(case_id)["status"] == "completed"

    # the follow-up of the bad overall rating, the operators' own: an empty answer is refused at its
    # field, then it is closed
    browser.open(f"{system.base_url}/operator?status=open")
    form = f"#follow-up-{follow_up} form.follow-up-response"
    assert "非常不满意" in browser.find(f"#follow-up-{follow_up}").text
    browser.find(f"{form} button[type=submit]").click()
    assert browser.wait_for(lambda: browser.find(f'[id="error-{follow_up}-response"]'), what="the refusal").text
    browser.find(f"{form} textarea").type("已电话回访，补正告知已整改")
    browser.find(f"{form} button[type=submit]").click()
    browser.wait_for(lambda: "已回访并关闭" in browser.find("main").text, what="the response")
    assert not browser.find_all(f"#follow-up-{follow_up}")
    browser.open(f"{system.base_url}/operator?status=closed")
    assert "已电话回访" in browser.find(f"#follow-up-{follow_up}").text


def test_a_bad_rating_answered_by_staff_rejected_by_the_applicant_and_supervised_by_an_operator(
        system, browser, fresh_application):
    client = system.client("e2e-unhappy")
    rated = client.wait_until_final(client.submit(fresh_application(
        scope=("软件开发", "餐饮服务"), commitments=("餐饮服务",), seals=(), bank_account=False)).json()["case_id"])
    case_id = rated["case_id"]
    answer = client.request("POST", f"/v1/cases/{case_id}/rating",
                            json={"overall": 4, "departments": {"registration": 1}, "comment": "窗口解释不清"})
    assert answer.status_code == 201, answer.text
    [follow_up] = answer.json()["follow_ups"]  # registration's, rated 非常不满意; the overall rating is good

    # registration's staff: the follow-up in their page, due in China time; an empty answer refused at its field
    sign_in(browser, system, "/staff/registration", role="department", department="registration",
            subject="registrar-sun")
    card = f"#follow-up-{follow_up}"
    assert "非常不满意" in browser.find(card).text and "窗口解释不清" in browser.find(card).text
    assert fits_the_phone(browser) and not re.search(r"\d{4}-\d\d-\d\dT\d\d:", browser.text)
    browser.find(f"{card} form.follow-up-response button[type=submit]").click()
    error = browser.wait_for(lambda: browser.find(f'[id="error-{follow_up}-response-response"]'), what="the refusal")
    assert error.text == "必填"
    browser.find(f"{card} form.follow-up-response textarea").type("已电话联系申请人，窗口一次性告知已整改")
    browser.find(f"{card} form.follow-up-response button[type=submit]").click()
    browser.wait_for(lambda: "已答复差评" in browser.find("main").text, what="the answer")
    assert "待申请人确认" in browser.find(card).text and not browser.find_all(f"{card} form.follow-up-response")
    # 申诉: the department holds the rating wrong
    browser.script("document.querySelector(arguments[0]).open = true", f"{card} details.follow-up-appeal")
    browser.find(f"{card} form.follow-up-appeal textarea").type("所涉排队时长属银行网点，不属登记窗口")
    browser.find(f"{card} form.follow-up-appeal button[type=submit]").click()
    browser.wait_for(lambda: "已提交申诉" in browser.find("main").text, what="the appeal")
    assert "待裁决" in browser.find(card).text and not browser.find_all(f"{card} form.follow-up-appeal")

    # the applicant reads the answer on the case page and rejects it; no choice is refused first
    sign_in(browser, system, f"/cases/{case_id}", subject="e2e-unhappy")
    assert "窗口一次性告知已整改" in browser.find(card).text
    browser.find(f"{card} form.follow-up-verdict button[type=submit]").click()
    assert browser.wait_for(lambda: browser.find('[id="error-verdict"]'), what="the refusal").text
    browser.find(f'{card} input[name="verdict"][value="rejected"]').click()
    browser.find(f"{card} textarea").type("问题并未解决")
    browser.find(f"{card} form.follow-up-verdict button[type=submit]").click()
    browser.wait_for(lambda: "不认可答复：问题并未解决" in browser.find(card).text, what="the verdict")
    assert not browser.find_all("form.follow-up-verdict")

    # the operator: escalated (rejected by the applicant) and its appeal waiting; the appeal decided
    sign_in(browser, system, "/operator", role="operator", subject="ops-qian")
    escalated = browser.find(card).text
    assert "申请人不认可答复" in escalated and "问题并未解决" in escalated and "registrar-sun" in escalated
    appeal = f"#appeal-{follow_up}"
    assert "银行网点" in browser.find(appeal).text
    browser.find(f'{appeal} input[name="decision"][value="dismissed"]').click()
    browser.find(f"{appeal} button[type=submit]").click()
    assert browser.wait_for(lambda: browser.find(f'[id="error-{follow_up}-reason"]'), what="the refusal").text == "必填"
    browser.find(f"{appeal} textarea").type("排队发生在登记窗口，评价属实")
    browser.find(f"{appeal} button[type=submit]").click()
    browser.wait_for(lambda: "已裁决申诉" in browser.find("main").text, what="the decision")
    assert not browser.find_all(appeal) and "申诉不成立" in browser.find(card).text
    record = client.request("GET", f"/v1/cases/{case_id}").json()
    [kept] = record["follow_ups"]
    assert kept["status"] == "escalated" and kept["verdict"] == "rejected" and kept["appeal"]["status"] == "dismissed"

    # the permit issued on its 告知承诺, checked afterwards (事后核查) in licensing's page
    queue = "/staff/licensing"
    sign_in(browser, system, queue, role="department", department="licensing", subject="inspector-zhou")
    check = browser.wait_for(lambda: browser.open(system.base_url + queue) or [
        c for c in browser.find_all("section.check") if case_id in c.text], what="the check due")[0]
    check_id = check.attribute("id").removeprefix("check-")
    form = f"#check-{check_id} form.check-result"
    assert "餐饮服务" in check.text and not re.search(r"\d{4}-\d\d-\d\dT\d\d:", check.text)
    # 责令整改 without a finding or a deadline comes back, said in Chinese
    browser.find(f'{form} input[name="result"][value="rectify"]').click()
    browser.find(f"{form} button[type=submit]").click()
    refusal = browser.wait_for(lambda: browser.find(f"#check-{check_id} .error-summary, #check-{check_id} .error"),
                               what="the refusal")
    assert "须写明" in refusal.text
    browser.find(f'{form} input[name="result"][value="verified"]').click()
    browser.find(f"{form} button[type=submit]").click()
    browser.wait_for(lambda: "已记录核查结果" in browser.find("main").text, what="the check result")
    assert not browser.find_all(f"#check-{check_id}")
