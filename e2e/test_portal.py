"""The portal in a real headless Chromium (Debian's), against the whole system: an applicant
signs in, fills in 企业开办 and reads the finished case; a refusal lands at its field; a case page
is shown only to those the API shows the case to."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from yjs_cli.browser import Browser
from yjs_cli.client import ApiClient, token_for
from yjs_contracts.codes import is_valid_uscc
from yjs_contracts.samples import LEGAL_REPRESENTATIVE_ID, deregistration_application, person
from yjs_gateway.portal import forms
from yjs_kit.testing import wait_for

pytestmark = pytest.mark.timeout(240)
#: a notice that runs long enough for a person to object in the browser
SYSTEM_ENV = {"NOTICE_PERIOD_SECONDS": "300"}


@pytest.fixture(scope="module")
def browser():
    # no skip when Chromium is missing: `make test` installs it, and a missing one is a failure
    with Browser() as browser:
        yield browser


def sign_in(browser, system, next_path: str, **query) -> None:
    query = {"role": "applicant", "subject": "张伟", "id_number": LEGAL_REPRESENTATIVE_ID, **query, "next": next_path}
    browser.open(f"{system.base_url}/dev/sign-in?{urlencode(query)}")


def fill_in(browser, application: dict) -> None:
    """Types the application into the form as a person would: every text field, every choice."""
    values = forms.form_from_application(application)
    for section in forms.SECTIONS:
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
                else:
                    browser.field(name).type(value)


def submit(browser) -> None:
    browser.find("form.application button[type=submit]").click()


def fits_the_phone(browser) -> bool:
    return browser.script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_an_applicant_fills_in_establishment_and_reads_the_finished_case(system, browser, fresh_application):
    sign_in(browser, system, "/apply/establishment")
    assert browser.find("h1").text == "企业开办" and fits_the_phone(browser)
    application = fresh_application()["application"]
    fill_in(browser, application)
    submit(browser)
    case_id = browser.wait_for(lambda: (re.search(r"/cases/([A-Z0-9]+)$", browser.url) or [None, None])[1],
                               what="the case page")
    # the page refreshes itself while the departments work
    browser.wait_for(lambda: browser.find("#case-status").text == "已办结", timeout=90, what="the finished case")
    page = browser.source
    uscc = re.search(r"<dt>统一社会信用代码</dt>\s*<dd>([0-9A-Z]{18})</dd>", page).group(1)
    assert is_valid_uscc(uscc)
    seals = re.findall(r"<tr><td>([^<]+)</td><td>([0-9]{13})</td><td>([^<]+)</td></tr>", page)
    assert [s[0] for s in seals] == ["公章", "财务专用章", "发票专用章", "合同专用章", "法定代表人名章"]
    assert seals[0][2] == application["enterprise"]["name"]
    assert "设立登记" in page and "市场监管部门" in page and fits_the_phone(browser)
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
    browser.find("form.decision button[type=submit]").click()
    browser.wait_for(lambda: "已决定" in browser.find("main").text, what="the decision")
    sign_in(browser, system, f"/cases/{case_id}", subject="e2e-applicant")
    browser.wait_for(lambda: browser.find("#case-status").text == "已办结", timeout=90, what="the finished case")
    assert "registrar-li" in browser.source  # who decided, on the record


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
