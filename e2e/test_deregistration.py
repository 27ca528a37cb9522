"""注销一件事 end to end: an enterprise established through the API closes through it. The
simplified route's public notice, an objection that ends it, unpaid tax, unpaid social insurance
contributions, a listing that bars the
simplified route, the general route's creditor notice and liquidation report, a restart during a
notice, and refusals — each department's own records show the outcome."""

from __future__ import annotations

import uuid
from datetime import date

import requests
from nameko.standalone.rpc import ClusterRpcProxy
from yjs_contracts import samples
from yjs_contracts.codes import is_valid_uscc, make_uscc
from yjs_cli.client import ApiClient, token_for
from yjs_kit.caller import CALLER_CONTEXT
from yjs_kit.testing import wait_for

RESTAURANT = ("软件开发", "餐饮服务", "食品销售", "酒类经营")  # a commitment-mode permit is issued at once
REPORT = {"report": "清算组已清理公司财产，清偿全部债务，剩余财产已按出资比例分配完毕。", "approved_on": date.today().isoformat()}


def establish(system, body, subject):
    client = system.client(subject)
    answer = client.submit(body)
    assert answer.status_code == 202, answer.text
    record = client.wait_until_final(answer.json()["case_id"])
    assert record["status"] == "completed", record
    # deregistration knows the register from registration's events, which may still be on their way
    wait_for(lambda: system.query("deregistration", "SELECT status FROM enterprises WHERE uscc = :u",
                                  u=record["outputs"]["uscc"]), what="the registration known to deregistration")
    return client, record


def deregister(client, uscc, route="simple", **changes):
    application = {**samples.deregistration_application(uscc, route), **changes}
    answer = client.submit({"matter": "deregistration", "application": application})
    assert answer.status_code == 202, answer.text
    return answer.json()["case_id"]


def until(client, case_id, predicate, what, timeout=60):
    return wait_for(lambda: (lambda record: record if predicate(record) else None)(client.case(case_id)),
                    timeout=timeout, interval=0.2, what=what)


def step(record, name):
    return next(s for s in record["steps"] if s["step"] == name)


def public(system, method, path, **kwargs):
    """Anyone, without a token."""
    return requests.request(method, system.base_url + path, timeout=30, **kwargs)


def running_notice(system, client, case_id):
    """The notice of a case once it runs, as the public list shows it."""
    # the acceptance and the notice are announced together and folded by concurrent workers:
    # either may show on the record first
    record = until(client, case_id, lambda r: "notice_id" in step(r, "deregistration.notice")["outputs"]
                   and "uscc" in step(r, "deregistration.accept")["outputs"], "the notice published")
    notice_id = step(record, "deregistration.notice")["outputs"]["notice_id"]
    listed = public(system, "GET", "/v1/notices", params={"uscc": record_uscc(record)})
    assert listed.status_code == 200
    found = [n for n in listed.json()["items"] if n["notice_id"] == notice_id]
    assert len(found) == 1, (listed.json(), record['steps'], record['timeline'])
    return found[0]


def as_staff(system, department, subject):
    """RPC as a department's staff member (or its system holding a staff token)."""
    token = {CALLER_CONTEXT: token_for(subject, "department", department)}
    return ClusterRpcProxy({"AMQP_URI": system.amqp_uri}, timeout=15, context_data=token)


def record_uscc(record):
    return step(record, "deregistration.accept")["outputs"]["uscc"]


def kinds(record):
    return [t["event_type"] for t in record["timeline"]]


def test_a_simple_deregistration_closes_the_enterprise_in_every_department_and_frees_its_name(
        system, fresh_application):
    body = fresh_application(scope=RESTAURANT, commitments=RESTAURANT[1:])
    client, established = establish(system, body, "e2e-closing")
    uscc = established["outputs"]["uscc"]
    case_id = deregister(client, uscc)
    notice = running_notice(system, client, case_id)
    assert (notice["uscc"], notice["route"]) == (uscc, "simple")
    assert notice["enterprise_name"] == body["application"]["enterprise"]["name"]
    record = client.wait_until_final(case_id)
    assert record["status"] == "completed", record
    assert {s["step"]: s["status"] for s in record["steps"]} == {
        "deregistration.accept": "completed", "deregistration.notice": "completed", "tax.clear": "completed",
        "social_insurance.close": "completed", "registration.deregister": "completed", "bank_account.close": "completed",
        "seal_carving.cancel": "completed", "licensing.revoke": "completed"}
    outputs = record["outputs"]
    assert outputs["notice"]["notice_id"] == notice["notice_id"]
    assert outputs["tax_clearance"]["certificate_number"]
    assert outputs["deregistration"]["uscc"] == uscc
    insured = established["outputs"]["social_insurance"]["registration_number"]
    assert (outputs["social_insurance_closure"]["uscc"], outputs["social_insurance_closure"]["registration_number"]) == \
        (uscc, insured)
    assert outputs["bank_account_closure"]["account_number"] == established["outputs"]["bank_account"]["account_number"]
    assert sorted(s["filing_code"] for s in outputs["seal_cancellation"]["seals"]) == \
        sorted(s["filing_code"] for s in established["outputs"]["seals"])
    [permit] = established["outputs"]["licences"]["permits"]
    assert [p["permit_number"] for p in outputs["licence_revocation"]["permits"]] == [permit["permit_number"]]
    # the plan's order: the registration is cancelled after the notice, the clearance and the
    # insurance's closing, then the rest
    order = kinds(record)
    cancelled = order.index("registration.enterprise_deregistered")
    assert max(order.index(e) for e in ("deregistration.notice_period_ended", "tax.tax_cleared",
                                        "social_insurance.employer_closed")) < cancelled
    assert min(order.index(e) for e in ("bank_account.account_closed", "seal_carving.seals_cancelled",
                                        "licensing.licences_revoked")) > cancelled
    # each department's own records show the enterprise closed
    assert system.query("registration", "SELECT status FROM enterprises WHERE uscc = :u", u=uscc) == [("deregistered",)]
    assert system.query("tax", "SELECT status FROM taxpayers WHERE uscc = :u", u=uscc) == [("cleared",)]
    assert system.query("bank_account", "SELECT status FROM accounts WHERE uscc = :u", u=uscc) == [("closed",)]
    assert system.query("social_insurance", "SELECT status, closing_case_id FROM employers WHERE uscc = :u",
                        u=uscc) == [("closed", case_id)]
    assert {s for (s,) in system.query("seal_carving", "SELECT status FROM seals WHERE uscc = :u", u=uscc)} == \
        {"cancelled"}
    assert system.query("licensing", "SELECT status FROM permits WHERE uscc = :u", u=uscc) == [("cancelled",)]
    assert all(n["uscc"] != uscc for n in public(system, "GET", "/v1/notices").json()["items"])
    # a new establishment may take the name
    _, again = establish(system, body, "e2e-closing")
    assert is_valid_uscc(again["outputs"]["uscc"]) and again["outputs"]["uscc"] != uscc
    assert again["outputs"]["enterprise_name"] == body["application"]["enterprise"]["name"]


def test_an_objection_during_the_notice_ends_the_simplified_route_with_its_reason(system, fresh_application):
    client, established = establish(system, fresh_application(seals=(), bank_account=False), "e2e-objection")
    uscc = established["outputs"]["uscc"]
    case_id = deregister(client, uscc)
    notice = running_notice(system, client, case_id)
    path = f"/v1/notices/{notice['notice_id']}/objections"
    invalid = public(system, "POST", path, json={"name": "", "reason": "x"})
    assert invalid.status_code == 422
    assert {d["field"] for d in invalid.json()["error"]["details"]} == {"name", "contact", "reason"}
    assert public(system, "POST", "/v1/notices/ZXGG20000101999999/objections",
                  json={"name": "某", "contact": "13900000000", "reason": "不同意"}).status_code == 404
    objection = {"name": "嘉兴某供应链有限公司", "contact": "0573-88880000", "reason": "该企业尚欠我司货款 12 万元未结清"}
    answer = public(system, "POST", path, json=objection)
    assert answer.status_code == 202, answer.text
    assert answer.json()["notice_id"] == notice["notice_id"]
    record = client.wait_until_final(case_id)
    assert record["status"] == "rejected"
    [reason] = record["reasons"]
    assert reason["code"] == "objection_raised" and objection["reason"] in reason["message"]
    assert step(record, "deregistration.notice")["status"] == "rejected"
    assert step(record, "registration.deregister")["status"] == "cancelled"
    assert "registration.enterprise_deregistered" not in kinds(record)
    again = public(system, "POST", path, json=objection)
    assert again.status_code == 409 and again.json()["error"]["code"] == "notice_closed"
    assert all(n["notice_id"] != notice["notice_id"] for n in public(system, "GET", "/v1/notices").json()["items"])
    assert system.query("registration", "SELECT status FROM enterprises WHERE uscc = :u", u=uscc) == [("registered",)]
    assert system.query("registration", "SELECT count(*) FROM kit_steps WHERE case_id = :c", c=case_id) == [(0,)]


def test_unpaid_tax_refuses_the_deregistration_and_the_case_says_why(system, fresh_application):
    client, established = establish(system, fresh_application(seals=(), bank_account=False), "e2e-arrears")
    uscc = established["outputs"]["uscc"]
    # tax's own system, as tax staff: the service verifies who records arrears
    with as_staff(system, "tax", "e2e-tax-system") as cluster:
        recorded = cluster.tax.record_arrears(uscc, "2345.60", "2026年10月增值税")
    assert recorded["outstanding"] == "2345.60"
    wait_for(lambda: system.query("deregistration", "SELECT outstanding FROM tax_arrears WHERE uscc = :u", u=uscc),
             what="the arrears announced to deregistration")
    case_id = deregister(client, uscc)
    record = client.wait_until_final(case_id)
    assert record["status"] == "rejected"
    [reason] = record["reasons"]
    assert reason["code"] == "unpaid_tax" and "2345.60" in reason["message"]
    assert step(record, "deregistration.accept")["status"] == "rejected"
    # nothing was cleared, published or cancelled for an enterprise that may not close
    assert {s["status"] for s in record["steps"] if s["step"] != "deregistration.accept"} == {"cancelled"}
    assert system.query("tax", "SELECT status FROM taxpayers WHERE uscc = :u", u=uscc) == [("registered",)]
    assert system.query("tax", "SELECT count(*) FROM clearances WHERE case_id = :c", c=case_id) == [(0,)]
    assert system.query("registration", "SELECT status FROM enterprises WHERE uscc = :u", u=uscc) == [("registered",)]


def test_unpaid_contributions_refuse_the_deregistration_at_acceptance(system, fresh_application):
    client, established = establish(system, fresh_application(seals=(), bank_account=False), "e2e-contributions")
    uscc = established["outputs"]["uscc"]
    # the insurance's collection system, as its staff: the service verifies who records arrears
    with as_staff(system, "social_insurance", "e2e-collection") as cluster:
        recorded = cluster.social_insurance.record_arrears(uscc, "3200.50", "2026年10月养老保险费")
    assert (recorded["outstanding"], recorded["revision"]) == ("3200.50", 1)
    wait_for(lambda: system.query("deregistration", "SELECT outstanding FROM contribution_arrears WHERE uscc = :u",
                                  u=uscc), what="the contribution arrears announced to deregistration")
    case_id = deregister(client, uscc)
    record = client.wait_until_final(case_id)
    assert record["status"] == "rejected", record
    assert [(r["code"], r["field"]) for r in record["reasons"]] == [("unpaid_contributions", "application.uscc")]
    assert "3200.50" in record["reasons"][0]["message"]
    assert step(record, "deregistration.accept")["status"] == "rejected"
    # refused before any notice ran: nothing published, closed or cancelled for an enterprise that may not close
    assert {s["status"] for s in record["steps"] if s["step"] != "deregistration.accept"} == {"cancelled"}
    assert system.query("deregistration", "SELECT count(*) FROM notices WHERE case_id = :c", c=case_id) == [(0,)]
    assert "registration.enterprise_deregistered" not in kinds(record)
    assert system.query("registration", "SELECT status FROM enterprises WHERE uscc = :u", u=uscc) == [("registered",)]
    assert system.query("social_insurance", "SELECT status FROM employers WHERE uscc = :u", u=uscc) == [("registered",)]
    assert system.query("social_insurance", "SELECT count(*) FROM closures WHERE case_id = :c", c=case_id) == [(0,)]


def listed_kinds(system, uscc):
    """The listings in force as deregistration learned them from registration's announcement."""
    rows = system.query("deregistration", "SELECT kinds FROM listings WHERE uscc = :u", u=uscc)
    return rows[0][0] if rows else None


def test_a_listed_enterprise_is_refused_the_simple_route_until_registration_removes_the_listing(
        system, fresh_application):
    client, established = establish(system, fresh_application(seals=(), bank_account=False), "e2e-listed")
    uscc = established["outputs"]["uscc"]
    path = f"/v1/enterprises/{uscc}/listings"
    body = {"kind": "abnormal_operation", "reason": "通过登记的住所或者经营场所无法联系"}
    registrar = ApiClient(system.base_url, token_for("e2e-registrar", "department", "registration"))
    # only registration's staff list an enterprise: not the enterprise itself, not another department
    for other in (client, ApiClient(system.base_url, token_for("e2e-tax-clerk", "department", "tax"))):
        refused = other.request("POST", path, json=body)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    unknown = registrar.request("POST", f"/v1/enterprises/{make_uscc('330402', 987653)}/listings", json=body)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    invalid = registrar.request("POST", path, json={"kind": "blacklisted", "reason": "无"})
    assert invalid.status_code == 422
    assert {d["field"] for d in invalid.json()["error"]["details"]} == {"kind", "reason"}
    listed = registrar.request("POST", path, json=body)
    assert listed.status_code == 201, listed.text
    listing = listed.json()
    assert listing["kind_text"] == "经营异常名录" and listing["authority"].endswith("市场监督管理局")
    shown = client.request("GET", f"/v1/enterprises/{uscc}").json()["listings"]
    assert [(entry["listing_id"], entry["kind"], entry["reason"]) for entry in shown] == [
        (listing["listing_id"], "abnormal_operation", body["reason"])]
    wait_for(lambda: listed_kinds(system, uscc) == ["abnormal_operation"], what="the listing announced to deregistration")

    record = client.wait_until_final(deregister(client, uscc))
    assert record["status"] == "rejected"
    [reason] = record["reasons"]
    assert (reason["code"], reason["field"]) == ("abnormal_operation", "application.route")
    assert "经营异常名录" in reason["message"] and "简易注销" in reason["message"]
    assert {s["status"] for s in record["steps"] if s["step"] != "deregistration.accept"} == {"cancelled"}

    removed = registrar.request("DELETE", f"{path}/{listing['listing_id']}")
    assert removed.status_code == 204
    assert registrar.request("DELETE", f"{path}/{listing['listing_id']}").status_code == 404
    assert client.request("GET", f"/v1/enterprises/{uscc}").json()["listings"] == []
    wait_for(lambda: listed_kinds(system, uscc) == [], what="the removal announced to deregistration")
    notice = running_notice(system, client, deregister(client, uscc))
    assert notice["uscc"] == uscc and notice["route"] == "simple"


def test_an_individual_business_closes_by_the_simple_route_after_its_own_exclusions(system):
    """A 个体工商户 has no equity to list; listed on 动产抵押 its simple route is refused in its own
    words; once removed it closes like a company: seals handed in, account closed."""
    body = {"matter": "establishment", "application": samples.individual_business_application(
        samples.unique_trade_name(uuid.uuid4().int % 10**6), seals=("official",), bank_account=True)}
    client, established = establish(system, body, "e2e-shop")
    uscc = established["outputs"]["uscc"]
    assert uscc.startswith("92")
    path = f"/v1/enterprises/{uscc}/listings"
    registrar = ApiClient(system.base_url, token_for("e2e-registrar", "department", "registration"))
    equity = registrar.request("POST", path, json={"kind": "equity_pledged", "reason": "股权出质登记"})
    assert equity.status_code == 422
    assert [d["field"] for d in equity.json()["error"]["details"]] == ["kind"]
    listed = registrar.request("POST", path, json={"kind": "chattel_mortgage", "reason": "经营设备抵押尚未注销"})
    assert listed.status_code == 201, listed.text
    wait_for(lambda: listed_kinds(system, uscc) == ["chattel_mortgage"], what="the listing announced to deregistration")
    refused = client.wait_until_final(deregister(client, uscc))
    assert refused["status"] == "rejected"
    assert [(r["code"], r["message"]) for r in refused["reasons"]] == [
        ("chattel_mortgage", "该个体工商户存在尚未注销的动产抵押，不适用简易注销程序")]
    assert registrar.request("DELETE", f"{path}/{listed.json()['listing_id']}").status_code == 204
    wait_for(lambda: listed_kinds(system, uscc) == [], what="the removal announced to deregistration")
    record = client.wait_until_final(deregister(client, uscc))
    assert record["status"] == "completed", record
    assert record["outputs"]["deregistration"]["uscc"] == uscc
    assert [s["type"] for s in record["outputs"]["seal_cancellation"]["seals"]] == ["official"]
    assert record["outputs"]["bank_account_closure"]["account_number"] == \
        established["outputs"]["bank_account"]["account_number"]
    assert system.query("registration", "SELECT status FROM enterprises WHERE uscc = :u", u=uscc) == [("deregistered",)]


def test_the_general_route_files_the_group_runs_the_creditor_notice_and_waits_for_the_report(
        system, fresh_application):
    client, established = establish(system, fresh_application(seals=("official",), bank_account=False), "e2e-general")
    uscc = established["outputs"]["uscc"]
    case_id = deregister(client, uscc, "general")
    notice = running_notice(system, client, case_id)
    assert notice["route"] == "general"
    record = client.case(case_id)
    assert step(record, "deregistration.notice")["outputs"]["liquidation_group_filed_at"]
    assert step(record, "deregistration.liquidation_report")["after"] == ["deregistration.notice"]
    assert step(record, "registration.deregister")["after"] == [
        "deregistration.notice", "tax.clear", "social_insurance.close", "deregistration.liquidation_report"]
    # creditors file claims with the liquidation group: no objections, and no report before the period ends
    objected = public(system, "POST", f"/v1/notices/{notice['notice_id']}/objections",
                      json={"name": "某", "contact": "13900000000", "reason": "不同意注销"})
    assert objected.status_code == 409 and objected.json()["error"]["code"] == "objections_not_accepted"
    path = f"/v1/cases/{case_id}/liquidation-report"
    early = client.request("POST", path, json=REPORT)
    assert early.status_code == 409 and early.json()["error"]["code"] == "liquidation_report_refused"
    record = until(client, case_id, lambda r: r["status"] == "awaiting_applicant", "the report awaited")
    waiting = step(record, "deregistration.liquidation_report")
    assert waiting["status"] == "awaiting_applicant" and waiting["reasons"][0]["code"] == "liquidation_report_required"
    assert step(record, "registration.deregister")["status"] == "pending"
    assert system.client("someone-else").request("POST", path, json=REPORT).status_code == 404
    invalid = client.request("POST", path, json={"report": "短", "approved_on": "2999-01-01"})
    assert invalid.status_code == 422
    assert {d["field"] for d in invalid.json()["error"]["details"]} == {"report", "approved_on"}
    filed = client.request("POST", path, json=REPORT)
    assert filed.status_code == 202, filed.text
    record = client.wait_until_final(case_id)
    assert record["status"] == "completed", record
    assert record["outputs"]["liquidation_report"]["approved_on"] == REPORT["approved_on"]
    order = kinds(record)
    assert order.index("deregistration.notice_period_ended") < order.index("deregistration.liquidation_report_accepted") \
        < order.index("registration.enterprise_deregistered")
    # the department closes its own file when it hears case.completed, after the record is final
    wait_for(lambda: system.query("deregistration", "SELECT route, status FROM deregistrations WHERE case_id = :c",
                                  c=case_id) == [("general", "completed")], what="the deregistration file closed")


def test_a_notice_running_while_deregistration_restarts_still_ends_once(system, fresh_application):
    client, established = establish(system, fresh_application(seals=(), bank_account=False), "e2e-restart")
    case_id = deregister(client, established["outputs"]["uscc"])
    running_notice(system, client, case_id)
    system.system.kill("deregistration")  # SIGKILL mid-notice: its end is stored, not scheduled in memory
    system.system.restart("deregistration")
    record = client.wait_until_final(case_id)
    assert record["status"] == "completed", record
    assert kinds(record).count("deregistration.notice_period_ended") == 1
    assert kinds(record).count("registration.enterprise_deregistered") == 1
    assert system.query("deregistration", "SELECT status FROM notices WHERE case_id = :c", c=case_id) == [("ended",)]


def test_unknown_closed_and_closing_enterprises_are_refused(system, fresh_application):
    client, established = establish(system, fresh_application(seals=(), bank_account=False), "e2e-refusals")
    uscc = established["outputs"]["uscc"]
    first = deregister(client, uscc)
    running_notice(system, client, first)
    # registration answers before the 202: an enterprise it does not know, or no longer on the
    # register, is an invalid application and nothing is stored
    unknown = client.submit({"matter": "deregistration",
                             "application": samples.deregistration_application(make_uscc("330402", 987654))})
    assert unknown.status_code == 422 and [d["field"] for d in unknown.json()["error"]["details"]] == ["application.uscc"]
    closing = deregister(client, uscc, "general")
    refused = {"closing": client.wait_until_final(closing)}
    assert client.wait_until_final(first)["status"] == "completed"
    closed = client.submit({"matter": "deregistration", "application": samples.deregistration_application(uscc)})
    assert closed.status_code == 422 and [d["field"] for d in closed.json()["error"]["details"]] == ["application.uscc"]
    # refused while the first case's notice runs (6 s here), or, on a slow machine, after it closed
    # the enterprise: one reason either way, never both
    assert [r["code"] for r in refused["closing"]["reasons"]] in (["deregistration_in_progress"], ["already_deregistered"])
    for record in refused.values():
        assert record["status"] == "rejected" and step(record, "tax.clear")["status"] == "cancelled"
        assert system.query("tax", "SELECT count(*) FROM clearances WHERE case_id = :c", c=record["case_id"]) == [(0,)]
