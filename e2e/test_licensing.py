"""行业准营 end to end: permits by their 证照分离 mode inside 企业开办 and on their own, one
comprehensive permit per industry (一业一证), a false commitment revoked after issue, and
告知承诺's post-issuance checks: due in seconds here, worked from licensing's check queue, each
result doing what it says, a false promise barring the enterprise and its signer."""

from __future__ import annotations

import json
from pathlib import Path

from datetime import datetime, timedelta, timezone

from yjs_cli.client import ApiClient, token_for
from yjs_contracts import catalogue
from yjs_contracts.samples import person
from yjs_kit.testing import wait_for

RESTAURANT = ("软件开发", "餐饮服务", "食品销售", "酒类经营")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# a commitment's check falls due seconds after issue (overdue twice that); lapsed rectifications
# are looked for every half second
SYSTEM_ENV = {"COMMITMENT_CHECK_PERIOD_SECONDS": "3", "COMMITMENT_CHECK_SECONDS": "0.5"}


def establish(system, fresh_application, scope, commitments=(), subject="e2e-licensing"):
    client = system.client(subject)
    answer = client.submit(fresh_application(scope=scope, commitments=commitments, seals=(), bank_account=False))
    assert answer.status_code == 202, answer.text
    return client, answer.json()["case_id"]


def until(client, case_id, predicate, what):
    return wait_for(lambda: (lambda record: record if predicate(record) else None)(client.case(case_id)),
                    timeout=60, interval=0.2, what=what)


def step(record, name):
    return next(s for s in record["steps"] if s["step"] == name)


def test_a_restaurant_is_established_with_one_comprehensive_permit_covering_its_items(system, fresh_application):
    body = json.loads((EXAMPLES / "establishment-restaurant.json").read_text(encoding="utf-8"))  # the demo's
    enterprise = body["application"]["enterprise"]
    enterprise["name_parts"]["trade_name"] = fresh_application()["application"]["enterprise"]["name_parts"]["trade_name"]
    enterprise["name"] = "".join(enterprise["name_parts"][k] for k in ("region", "trade_name", "industry", "form"))
    client = system.client("e2e-licensing")
    answer = client.submit(body)
    assert answer.status_code == 202, answer.text
    record = client.wait_until_final(answer.json()["case_id"])
    assert record["status"] == "completed", record
    assert {s["status"] for s in record["steps"]} == {"completed"} and len(record["steps"]) == 6
    assert step(record, "licensing.issue")["after"] == ["registration.establish"]
    licences = record["outputs"]["licences"]
    assert licences["uscc"] == record["outputs"]["uscc"] and licences["catalogue_version"] == catalogue.VERSION
    [permit] = licences["permits"]
    assert permit["name"] == "饭店行业综合许可证" and permit["comprehensive"] and permit["industry"] == "restaurant"
    assert permit["items"] == ["餐饮服务", "食品销售", "酒类经营"]  # 餐饮管理 is a general item
    assert {p["name"]: p["items"] for p in permit["parts"]} == {"食品经营许可证": ["餐饮服务", "食品销售"],
                                                             "酒类商品零售许可证": ["酒类经营"]}
    assert permit["permit_number"].startswith("ZH330402") and len(permit["permit_number"]) == 16
    assert permit["mode"] == "commitment" and permit["check_due"] and permit["valid_until"]
    assert permit["status"] == "valid"
    assert "licensing.licences_issued" in [t["event_type"] for t in record["timeline"]]


def test_a_scope_mixing_filing_commitment_and_cancelled_items_handles_each_by_its_mode(system, fresh_application):
    scope = ("软件开发", "机动车修理和维护", "职业中介活动", "因私出入境中介服务")
    client, case_id = establish(system, fresh_application, scope, commitments=("职业中介活动",))
    record = client.wait_until_final(case_id)
    assert record["status"] == "completed", record
    licences = record["outputs"]["licences"]
    permits = {p["mode"]: p for p in licences["permits"]}
    assert set(permits) == {"filing", "commitment"}
    filing, commitment = permits["filing"], permits["commitment"]
    assert filing["name"] == "机动车维修经营备案" and filing["items"] == ["机动车修理和维护"]
    assert filing["valid_until"] is None and filing["check_due"] is None and not filing["comprehensive"]
    assert commitment["name"] == "人力资源服务许可证" and commitment["items"] == ["职业中介活动"]
    assert commitment["check_due"] and commitment["check_due"] > commitment["valid_from"]
    assert licences["not_required"] == [
        {"code": "exit_entry_agency", "name": "因私出入境中介机构资格认定", "items": ["因私出入境中介服务"]}]
    assert licences["awaiting_review"] == []


def test_an_approval_mode_permit_leaves_the_case_visibly_awaiting_review(system, fresh_application):
    client, case_id = establish(system, fresh_application, ("药品零售", "第二类医疗器械销售"))
    record = until(client, case_id, lambda r: step(r, "licensing.issue")["status"] == "awaiting_review",
                   "licensing to wait for staff")
    record = until(client, case_id, lambda r: all(s["status"] == "completed" for s in r["steps"]
                                                  if s["step"] != "licensing.issue"), "the other departments")
    assert record["status"] == "in_progress"
    licensing = step(record, "licensing.issue")
    assert [r["code"] for r in licensing["reasons"]] == ["approval_required"]
    [waiting] = licensing["outputs"]["awaiting_review"]
    assert waiting["name"] == "药店行业综合许可证" and waiting["items"] == ["药品零售"]
    # 一业一证, each part on its own: the filed device part does not wait for the drug approval
    [issued] = licensing["outputs"]["permits"]
    assert issued["name"] == "药店行业综合许可证" and issued["items"] == ["第二类医疗器械销售"]
    assert [p["name"] for p in licensing["outputs"]["not_required"]] == ["药品零售企业筹建审批"]


def test_a_refused_drug_retail_part_leaves_the_company_registered_and_its_other_permit_issued(
        system, fresh_application):
    """证照分离: the licence stands, only the permit is refused; 一业一证: the pharmacy's filed
    device part is issued, its drug retail part refused. The case is partly done, says what
    was refused and why, and the applicant may rate it and apply for the refused part anew."""
    client = system.client("e2e-pharmacy-refused")
    answer = client.submit(fresh_application(scope=("软件开发", "药品零售", "第二类医疗器械销售"),
                                             seals=("official", "finance"), bank_account=False))
    assert answer.status_code == 202, answer.text
    case_id = answer.json()["case_id"]
    until(client, case_id, lambda r: step(r, "licensing.issue")["status"] == "awaiting_review", "the review")
    staff = ApiClient(system.base_url, token_for("licensing-staff", "department", "licensing"))
    [review] = staff.request("GET", "/v1/departments/licensing/reviews", params={"case_id": case_id}).json()["items"]
    reason = {"code": "premises_unsuitable", "message": "经营场所不符合药品零售条件", "field": None}
    decided = staff.request("POST", f"/v1/departments/licensing/reviews/{review['review_id']}/decision",
                            json={"decision": "refuse", "reasons": [reason]})
    assert decided.status_code == 200, decided.text
    record = client.wait_until_final(case_id)
    assert record["status"] == "partially_completed", record
    assert {s["status"] for s in record["steps"]} == {"completed"}
    outputs = record["outputs"]
    assert outputs["uscc"] and len(outputs["seals"]) == 2 and outputs["tax"]["tax_authority"]
    assert outputs["tax"]["invoices"]["invoice_types"]
    [permit] = outputs["licences"]["permits"]
    assert permit["name"] == "药店行业综合许可证" and permit["items"] == ["第二类医疗器械销售"]
    assert permit["status"] == "valid"
    [refused] = outputs["licences"]["refused"]
    assert refused["items"] == ["药品零售"] and refused["reasons"] == [reason]
    assert [(r["code"], r["message"]) for r in record["reasons"]] == [
        ("premises_unsuitable", "行业准营：经营场所不符合药品零售条件")]
    assert "case.completed" in [t["event_type"] for t in record["timeline"]]
    assert client.request("POST", f"/v1/cases/{case_id}/rating", json={"overall": 4}).status_code == 201
    # the company exists: the refused permit may be applied for again on its own (行业准营)
    again = client.submit({"matter": "licensing", "application": {"uscc": outputs["uscc"],
                                                                    "business_scope": ["药品零售"]}})
    assert again.status_code == 202, again.text


def test_a_refused_permit_with_nothing_issued_still_leaves_the_company_registered(system, fresh_application):
    client = system.client("e2e-pharmacy-refused")
    answer = client.submit(fresh_application(scope=("软件开发", "药品零售"), seals=(), bank_account=False))
    assert answer.status_code == 202, answer.text
    case_id = answer.json()["case_id"]
    until(client, case_id, lambda r: step(r, "licensing.issue")["status"] == "awaiting_review", "the review")
    staff = ApiClient(system.base_url, token_for("licensing-staff", "department", "licensing"))
    [review] = staff.request("GET", "/v1/departments/licensing/reviews", params={"case_id": case_id}).json()["items"]
    decided = staff.request("POST", f"/v1/departments/licensing/reviews/{review['review_id']}/decision",
                            json={"decision": "refuse", "reasons": [{"code": "premises_unsuitable",
                                                                     "message": "经营场所不符合药品零售条件"}]})
    assert decided.status_code == 200, decided.text
    record = client.wait_until_final(case_id)
    assert record["status"] == "partially_completed", record
    statuses = {s["step"]: s["status"] for s in record["steps"]}
    assert statuses.pop("licensing.issue") == "rejected" and set(statuses.values()) == {"completed"}
    assert record["outputs"]["uscc"] and record["outputs"]["tax"]["tax_authority"]
    assert "licences" not in record["outputs"]


def test_the_licensing_matter_serves_an_existing_enterprise_and_refuses_an_unknown_one(system, fresh_application):
    client, case_id = establish(system, fresh_application, ("软件开发",))
    established = client.wait_until_final(case_id)
    assert established["status"] == "completed" and "licensing.issue" not in [s["step"] for s in established["steps"]]
    uscc = established["outputs"]["uscc"]
    wait_for(lambda: system.query("licensing", "SELECT 1 FROM enterprises WHERE uscc = :u", u=uscc),
             what="licensing to hear of the enterprise")
    answer = client.submit({"matter": "licensing", "application": {
        "uscc": uscc, "business_scope": ["健身休闲活动", "高危险性体育运动（游泳）"],
        "commitments": ["高危险性体育运动（游泳）"]}})
    assert answer.status_code == 202, answer.text
    record = client.wait_until_final(answer.json()["case_id"])
    assert record["status"] == "completed", record
    [permit] = record["outputs"]["licences"]["permits"]
    assert permit["name"] == "健身房行业综合许可证" and permit["items"] == ["高危险性体育运动（游泳）"]
    assert {p["name"] for p in permit["parts"]} == {"高危险性体育项目经营许可证", "公共场所卫生许可证"}
    assert record["outputs"]["licences"]["uscc"] == uscc

    # an enterprise registration does not know is refused at the door (asked before the 202): nothing stored
    cases_before = len(client.request("GET", "/v1/cases").json()["items"])
    unknown = client.submit({"matter": "licensing", "application": {
        "uscc": "91350100M000100Y43", "business_scope": ["食品销售"], "commitments": ["食品销售"]}})
    assert unknown.status_code == 422
    assert [d["field"] for d in unknown.json()["error"]["details"]] == ["application.uscc"]
    assert len(client.request("GET", "/v1/cases").json()["items"]) == cases_before


def test_a_false_commitment_is_revoked_after_issue_and_the_record_shows_it(system, fresh_application):
    scope = RESTAURANT + ("机动车修理和维护",)
    client, case_id = establish(system, fresh_application, scope, commitments=RESTAURANT[1:])
    record = client.wait_until_final(case_id)
    assert record["status"] == "completed", record
    permits = {p["mode"]: p["permit_number"] for p in record["outputs"]["licences"]["permits"]}
    number, filing = permits["commitment"], permits["filing"]
    path = f"/v1/licences/{number}/revocation"
    finding = {"finding": "现场核查：无油烟净化设施，与承诺不符"}
    assert client.request("POST", path, json=finding).status_code == 403  # not the applicant's to do
    tax = ApiClient(system.base_url, token_for("tax-staff", "department", "tax"))
    assert tax.request("POST", path, json=finding).status_code == 403
    inspector = ApiClient(system.base_url, token_for("inspector", "department", "licensing"))
    assert inspector.request("POST", path, json={}).status_code == 422
    assert inspector.request("POST", "/v1/licences/ZH33040200000000/revocation", json=finding).status_code == 404
    assert inspector.request("POST", f"/v1/licences/{filing}/revocation", json=finding).json()["error"]["code"] == \
        "not_revocable"
    revoked = inspector.request("POST", path, json=finding)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked" and revoked.json()["case_id"] == case_id
    again = system.client("ops", "operator").request("POST", path, json=finding)
    assert again.status_code == 409

    def shown(record):
        return {p["permit_number"]: p for p in record["outputs"]["licences"]["permits"]}

    record = until(client, case_id, lambda r: shown(r)[number]["status"] == "revoked", "the revocation on the record")
    assert record["status"] == "completed"
    assert shown(record)[number]["revocation_reason"] == finding["finding"] and shown(record)[number]["revoked_at"]
    assert shown(record)[filing]["status"] == "valid"
    assert step(record, "licensing.issue")["outputs"]["permits"] == record["outputs"]["licences"]["permits"]
    assert record["timeline"][-1]["event_type"] == "licensing.permit_revoked"
    assert number in record["timeline"][-1]["summary"]

    # a past false promise: on registration's credit record, which licensing hears of; this
    # enterprise's next commitment goes to staff instead
    wait_for(lambda: system.query("licensing", "SELECT 1 FROM commitment_bars WHERE uscc = :u",
                                  u=record["outputs"]["uscc"]), what="licensing to hear of the credit record")
    answer = client.submit({"matter": "licensing", "application": {
        "uscc": record["outputs"]["uscc"], "business_scope": ["职业中介活动"], "commitments": ["职业中介活动"]}})
    later = until(client, answer.json()["case_id"], lambda r: r["steps"][0]["status"] == "awaiting_review",
                  "the barred commitment to wait for staff")
    assert later["status"] == "in_progress"
    assert [r["code"] for r in later["steps"][0]["reasons"]] == ["commitment_barred"]


def test_a_commitments_check_falls_due_into_the_queue_and_each_result_does_what_it_says(system, fresh_application):
    """Three commitment permits, each checked: verified closes its check; rectify, not done by
    its deadline, revokes the permit; a false commitment revokes at once and puts the enterprise
    and the person who signed on registration's credit record, which bars 告知承诺 for both —
    this enterprise's next commitment and another enterprise's signed by the same person go to
    staff. (Only licensing issues permits on a commitment: its queue is the only one.)"""
    signer = person(70)
    applicant = system.client("e2e-checks-signer", id_number=signer)
    scope = ("软件开发", "餐饮服务", "职业中介活动", "洗浴服务")
    answer = applicant.submit(fresh_application(scope=scope, commitments=scope[1:], seals=(), bank_account=False))
    assert answer.status_code == 202, answer.text
    case_id = answer.json()["case_id"]
    record = applicant.wait_until_final(case_id)
    assert record["status"] == "completed", record
    uscc = record["outputs"]["uscc"]
    permits = {p["items"][0]: p for p in record["outputs"]["licences"]["permits"]}
    assert set(permits) == {"餐饮服务", "职业中介活动", "洗浴服务"} and {p["mode"] for p in permits.values()} == {"commitment"}
    # the 告知承诺书 each was signed on, in the case record and kept with the permit
    notice = permits["职业中介活动"]["parts"][0]["commitment_notice"]
    assert notice["conditions"] and "撤销许可" in notice["liability"] and notice["check_days"] == 30

    inspector = ApiClient(system.base_url, token_for("inspector", "department", "licensing"))
    queue = "/v1/departments/licensing/checks"
    assert applicant.request("GET", queue).status_code == 403
    assert ApiClient(system.base_url, token_for("tax-staff", "department", "tax")).request("GET", queue).status_code == 403
    due = wait_for(lambda: (lambda items: items if len(items) == 3 else None)(
        inspector.request("GET", queue, params={"uscc": uscc}).json()["items"]), timeout=60, interval=0.5,
        what="three checks to fall due")
    assert [c["due"] for c in due] == sorted(c["due"] for c in due)  # oldest due first
    assert {c["permit"]["permit_number"] for c in due} == {p["permit_number"] for p in permits.values()}
    checks = {c["permit"]["items"][0]: c for c in due}
    assert all(c["status"] == "open" and c["case_id"] == case_id and c["permit"]["conditions"] for c in due)

    def result(item, body):
        return inspector.request("POST", f"{queue}/{checks[item]['check_id']}/result", json=body)

    def shown(record, item):
        return next(p for p in record["outputs"]["licences"]["permits"] if p["items"][0] == item)

    verified = result("餐饮服务", {"result": "verified"})
    assert verified.status_code == 200 and verified.json()["status"] == "verified", verified.text
    again = result("餐饮服务", {"result": "false_commitment", "reasons": [{"code": "x", "message": "不实"}]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "check_closed"
    late = result("洗浴服务", {"result": "rectify", "reasons": [{"code": "hygiene", "message": "未配备消毒设施"}],
                             "rectify_by": (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()})
    assert late.status_code == 422 and [d["field"] for d in late.json()["error"]["details"]] == ["rectify_by"]
    rectify = result("洗浴服务", {"result": "rectify", "reasons": [{"code": "hygiene", "message": "未配备消毒设施"}],
                                "rectify_by": (datetime.now(timezone.utc) + timedelta(seconds=2)).isoformat()})
    assert rectify.status_code == 200 and rectify.json()["status"] == "rectifying", rectify.text
    finding = {"code": "no_staff", "message": "现场核查：无专职工作人员，与承诺不符"}
    false = result("职业中介活动", {"result": "false_commitment", "reasons": [finding]})
    assert false.status_code == 200 and false.json()["status"] == "revoked", false.text

    record = until(applicant, case_id, lambda r: shown(r, "洗浴服务")["status"] == "revoked"
                   and shown(r, "职业中介活动")["status"] == "revoked", "both revocations on the record")
    assert shown(record, "餐饮服务")["status"] == "valid"
    assert shown(record, "洗浴服务")["revocation_reason"] == "逾期未按要求整改"
    assert shown(record, "职业中介活动")["revocation_reason"] == finding["message"]
    events = [t["event_type"] for t in record["timeline"]]
    assert {"licensing.commitment_verified", "licensing.rectification_ordered"} <= set(events)
    assert events.count("licensing.permit_revoked") == 2
    assert inspector.request("GET", queue, params={"uscc": uscc, "status": "all"}).json()["items"] == []

    # the enterprise record: the revocations, and the credit record of the false promise only
    operator = system.client("ops", "operator")
    enterprise = wait_for(lambda: (lambda e: e if e["credit_records"] else None)(
        operator.request("GET", f"/v1/enterprises/{uscc}").json()), timeout=30, what="the credit record")
    [credit] = enterprise["credit_records"]
    assert credit["permit_number"] == permits["职业中介活动"]["permit_number"] and credit["in_force"]
    assert credit["finding"] == finding["message"] and credit["signer"]["name"] == "e2e-checks-signer"
    on_record = {p["permit_number"]: p for p in enterprise["permits"]}
    assert on_record[permits["职业中介活动"]["permit_number"]]["status"] == "revoked"
    assert on_record[permits["洗浴服务"]["permit_number"]]["status"] == "revoked"
    assert on_record[permits["餐饮服务"]["permit_number"]]["check_result"] == "verified"

    # barred: the same signer's commitment for another enterprise goes to staff with the reason
    wait_for(lambda: system.query("licensing", "SELECT 1 FROM commitment_bars WHERE uscc = :u", u=uscc),
             what="licensing to hear of the credit record")
    other = applicant.submit(fresh_application(scope=("软件开发", "旅游业务"), commitments=("旅游业务",), seals=(),
                                               bank_account=False))
    assert other.status_code == 202, other.text
    barred = until(applicant, other.json()["case_id"], lambda r: step(r, "licensing.issue")["status"] == "awaiting_review",
                   "the signer's next commitment to wait for staff")
    [reason] = step(barred, "licensing.issue")["reasons"]
    assert reason["code"] == "commitment_barred" and "虚假承诺" in reason["message"]
