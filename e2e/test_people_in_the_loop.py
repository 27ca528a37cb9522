"""People in the loop, end to end through the API: department staff review what their rules send
them and decide (approve, refuse, ask for corrections, 容缺受理); the applicant corrects
(补正, the promised limit paused meanwhile), withdraws (each department cancelling or undoing
its steps) and rates the case (好差评: a bad rating followed up by the rated department, judged by
the applicant, escalated to operators when overdue or rejected, appealed by the department)."""

from __future__ import annotations

import statistics
from datetime import datetime, time, timedelta, timezone

import pytest
import requests
from yjs_cli.client import ApiClient, token_for
from yjs_contracts import samples
from yjs_contracts.calendar import CHINA, add_working_time, is_working_day, working_time_between
from yjs_kit.config import METRICS_PORTS
from yjs_kit.testing import wait_for


def staff(system, department: str, subject: str | None = None) -> ApiClient:
    return ApiClient(system.base_url, token_for(subject or f"{department}-staff", "department", department))


def foreign(fresh_application, **kwargs) -> dict:
    """An establishment with a foreign investor: registration's rules send it to a registrar."""
    body = fresh_application(seals=(), bank_account=False, **kwargs)
    body["application"]["shareholders"][0]["nationality"] = "USA"
    return body


def step(record, name):
    return next(s for s in record["steps"] if s["step"] == name)


def until(client, case_id, predicate, what, timeout=60):
    return wait_for(lambda: (lambda record: record if predicate(record) else None)(client.case(case_id)),
                    timeout=timeout, interval=0.2, what=what)


def submit(client, body) -> str:
    answer = client.submit(body)
    assert answer.status_code == 202, answer.text
    return answer.json()["case_id"]


def waiting_review(system, applicant, case_id, department="registration", step_name="registration.establish"):
    until(applicant, case_id, lambda r: step(r, step_name)["status"] == "awaiting_review", "the review")
    listed = staff(system, department).request("GET", f"/v1/departments/{department}/reviews",
                                               params={"case_id": case_id})
    assert listed.status_code == 200, listed.text
    [review] = listed.json()["items"]
    return review


def decide(system, department, review, body, subject="registrar-li"):
    return staff(system, department, subject).request(
        "POST", f"/v1/departments/{department}/reviews/{review['review_id']}/decision", json=body)


def test_a_foreign_investor_is_approved_by_registration_staff_and_no_one_else_may_see_or_decide(
        system, fresh_application):
    applicant = system.client("e2e-review")
    case_id = submit(applicant, foreign(fresh_application))
    review = waiting_review(system, applicant, case_id)
    assert review["step"] == "registration.establish" and review["status"] == "waiting"
    assert [r["code"] for r in review["reasons"]] == ["foreign_investor"]
    assert review["data"]["application"]["shareholders"][0]["nationality"] == "USA"
    path = "/v1/departments/registration/reviews"
    # only registration's own staff: not tax's, not the applicant, not without a token
    for outsider in (staff(system, "tax"), applicant, system.client("e2e-operator", "operator")):
        assert outsider.request("GET", path).status_code == 403
        refused = outsider.request("POST", f"{path}/{review['review_id']}/decision", json={"decision": "approve"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert ApiClient(system.base_url).request("GET", path).status_code == 401
    assert staff(system, "tax").request("GET", "/v1/departments/nowhere/reviews").status_code == 404
    assert decide(system, "registration", review, {"decision": "refuse"}).status_code == 422  # reasons needed
    port = METRICS_PORTS["case"] + system.system.config.metrics_port_offset
    scraped = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    waiting = next(line for line in scraped.splitlines() if line.startswith('yjs_reviews_waiting{department="registration"}'))
    assert float(waiting.rsplit(" ", 1)[1]) >= 1
    assert until(applicant, case_id, lambda r: True, "the record")["status"] == "in_progress"

    decided = decide(system, "registration", review, {"decision": "approve", "comment": "外资备案材料齐全"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["decided_by"] == "registrar-li" and decided.json()["step_status"] == "completed"
    record = applicant.wait_until_final(case_id)
    assert record["status"] == "completed", record
    registration = step(record, "registration.establish")
    assert registration["decided_by"] == "registrar-li" and registration["outputs"]["uscc"]
    assert any("经办人 registrar-li" in t["summary"] for t in record["timeline"])
    again = decide(system, "registration", review, {"decision": "approve"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "review_closed"
    decided_list = staff(system, "registration").request("GET", path, params={"status": "decided", "case_id": case_id})
    assert decided_list.json()["items"][0]["decided_by"] == "registrar-li"


def previous_working_morning() -> datetime:
    day = datetime.now(CHINA).date() - timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, time(10, 0), CHINA)


def test_corrections_in_one_notice_are_supplied_and_the_step_resumes_its_deadline_pushed_by_the_pause(
        system, fresh_application):
    applicant = system.client("e2e-corrections")
    case_id = submit(applicant, foreign(fresh_application))
    review = waiting_review(system, applicant, case_id)
    notice = [{"code": "nationality_unproven", "message": "请提供外方股东的国籍证明，或更正股东国籍",
               "field": "application.shareholders.0.nationality"},
              {"code": "domicile_proof_missing", "message": "缺少住所使用证明", "field": "material:住所使用证明"}]
    asked = decide(system, "registration", review, {"decision": "request_corrections", "reasons": notice})
    assert asked.status_code == 200 and asked.json()["step_status"] == "awaiting_applicant"
    waiting = until(applicant, case_id, lambda r: r["status"] == "awaiting_applicant", "the notice")
    registration = step(waiting, "registration.establish")
    assert registration["reasons"] == notice and registration["decided_by"] == "registrar-li"
    assert registration["paused_at"]
    # the clock stopped a working morning ago, so the pause is never empty whenever this runs
    paused_at = previous_working_morning()
    system.query("case", "UPDATE case_steps SET paused_at = :p WHERE case_id = :c AND step = 'registration.establish'",
                 p=paused_at, c=case_id)
    deadlines = {s["step"]: datetime.fromisoformat(s["deadline"]) for s in waiting["steps"]}

    bad = applicant.request("POST", f"/v1/cases/{case_id}/supplements",
                            json={"items": [{"field": "application.shareholders.0.nationality", "value": "usa"}]})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"].startswith("application.shareholders")
    assert system.client("e2e-stranger").request("POST", f"/v1/cases/{case_id}/supplements", json={
        "items": [{"material": "住所使用证明", "document_id": "DOC-1"}]}).status_code == 404
    # a 补正 changes only what the notice named
    unasked = applicant.request("POST", f"/v1/cases/{case_id}/supplements", json={"items": [
        {"field": "application.shareholders.0.nationality", "value": "CHN"},
        {"field": "application.enterprise.registered_capital", "value": "10.00"}]})
    assert unasked.status_code == 422 and unasked.json()["error"]["code"] == "field_not_requested"
    assert [d["field"] for d in unasked.json()["error"]["details"]] == ["application.enterprise.registered_capital"]
    answer = applicant.request("POST", f"/v1/cases/{case_id}/supplements", json={"items": [
        {"field": "application.shareholders.0.nationality", "value": "CHN"},
        {"material": "住所使用证明", "document_id": "DOC-20261129-0001"}]})
    assert answer.status_code == 202, answer.text
    assert answer.json()["resumed"] == ["registration.establish"] and answer.json()["revision"] == 1
    # staff asked, so staff decide again: back in their queue with the corrections, old and new
    again = waiting_review(system, applicant, case_id)
    assert again["review_id"] != review["review_id"] and again["revision"] == 1
    assert again["corrections"][0] == {"field": "application.shareholders.0.nationality", "old": "USA", "new": "CHN"}
    back = step(applicant.case(case_id), "registration.establish")
    assert back["status"] == "awaiting_review" and back["decided_by"] is None
    approved = decide(system, "registration", again, {"decision": "approve"}, "registrar-wang")
    assert approved.status_code == 200 and approved.json()["revision"] == 1
    record = applicant.wait_until_final(case_id)
    assert record["status"] == "completed", record
    assert step(record, "registration.establish")["decided_by"] == "registrar-wang"
    supplied_at = datetime.fromisoformat(
        next(t["at"] for t in record["timeline"] if t["event_type"] == "case.supplement_provided"))
    pause = working_time_between(paused_at, supplied_at)
    assert pause > timedelta(0)
    for s in record["steps"]:  # registration and every step that waited for it, by exactly the pause
        assert datetime.fromisoformat(s["deadline"]) == add_working_time(deadlines[s["step"]], pause)
    kinds = [t["event_type"] for t in record["timeline"]]
    assert kinds.index("case.supplement_provided") < kinds.index("registration.enterprise_registered")


def test_an_acceptance_with_materials_missing_is_withdrawn_when_they_never_come(system, fresh_application):
    applicant = system.client("e2e-rongque")
    body = foreign(fresh_application)
    case_id = submit(applicant, body)
    review = waiting_review(system, applicant, case_id)
    due = datetime.now(timezone.utc) + timedelta(seconds=4)
    accepted = decide(system, "registration", review, {
        "decision": "approve",
        "missing_materials": [{"material": "住所使用证明", "message": "房屋租赁合同复印件，加盖出租方公章"}],
        "materials_due": due.isoformat()})
    assert accepted.status_code == 200, accepted.text
    record = until(applicant, case_id, lambda r: step(r, "registration.establish")["status"] == "completed",
                   "the acceptance")
    registration = step(record, "registration.establish")
    assert datetime.fromisoformat(registration["materials_due"]) == due
    assert registration["reasons"][0]["code"] == "materials_missing"
    uscc = registration["outputs"]["uscc"]
    record = until(applicant, case_id, lambda r: step(r, "registration.establish")["status"] == "rejected",
                   "the decision withdrawn")
    registration = step(record, "registration.establish")
    assert registration["reasons"][0]["code"] == "materials_not_supplied"
    assert any("原决定撤销" in t["summary"] for t in record["timeline"])
    assert system.query("registration", "SELECT status FROM enterprises WHERE uscc = :u", u=uscc) == [("revoked",)]
    # 撤销登记 frees the name: the same name, with nothing for a registrar to look at, is registered
    same_name = {**body, "application": {**body["application"], "shareholders": [
        {**body["application"]["shareholders"][0], "nationality": "CHN"}]}}
    again = until(applicant, submit(applicant, same_name),
                  lambda r: step(r, "registration.establish")["status"] not in ("pending", "in_progress"),
                  "the same name decided")
    assert step(again, "registration.establish")["status"] == "completed", step(again, "registration.establish")


def test_a_lapsed_acceptance_undoes_the_seals_taxpayer_invoices_account_and_insurance_built_on_it(
        system, fresh_application):
    applicant = system.client("e2e-cascade")
    body = fresh_application()  # every seal, a bank account
    body["application"]["shareholders"][0]["nationality"] = "USA"
    case_id = submit(applicant, body)
    review = waiting_review(system, applicant, case_id)
    accepted = decide(system, "registration", review, {
        "decision": "approve",
        "missing_materials": [{"material": "住所使用证明", "message": "房屋租赁合同复印件，加盖出租方公章"}],
        "materials_due": (datetime.now(timezone.utc) + timedelta(seconds=6)).isoformat()})
    assert accepted.status_code == 200, accepted.text
    built = ("seal_carving.carve", "tax.register", "tax.grant_invoices", "bank_account.open",
             "social_insurance.register")
    record = until(applicant, case_id, lambda r: all(step(r, s)["status"] == "completed" for s in built),
                   "every step built on the acceptance")
    assert record["outputs"]["bank_account"]["account_number"]
    record = until(applicant, case_id, lambda r: all(step(r, s)["status"] == "rejected"
                                                     for s in ("registration.establish", *built)), "the undo cascaded")
    for name in built:
        [reason] = step(record, name)["reasons"]
        assert reason["code"] == "prerequisite_undone" and reason["field"].startswith("step:"), (name, reason)
    assert step(record, "tax.grant_invoices")["reasons"][0]["field"] in (
        "step:registration.establish", "step:seal_carving.carve")
    assert not {"uscc", "bank_account", "tax"} & set(record["outputs"]), record["outputs"]
    # and in each department's books: kept, marked undone, never deleted
    assert system.query("seal_carving", "SELECT DISTINCT status FROM seals WHERE case_id = :c", c=case_id) == [("voided",)]
    assert system.query("tax", "SELECT status FROM taxpayers WHERE case_id = :c", c=case_id) == [("cancelled",)]
    assert system.query("tax", "SELECT status FROM invoice_grants WHERE case_id = :c", c=case_id) == [("revoked",)]
    assert system.query("bank_account", "SELECT status, undo_reason FROM accounts WHERE case_id = :c",
                        c=case_id) == [("closed", "prerequisite_undone")]
    assert system.query("social_insurance", "SELECT status, undo_reason FROM employers WHERE case_id = :c",
                        c=case_id) == [("cancelled", "prerequisite_undone")]


def test_an_establishment_withdrawn_while_its_registration_waits_for_review_frees_the_name(
        system, fresh_application):
    applicant = system.client("e2e-withdraw")
    body = foreign(fresh_application)
    case_id = submit(applicant, body)
    waiting_review(system, applicant, case_id)
    same_name = {**body, "application": {**body["application"], "shareholders": [
        {**body["application"]["shareholders"][0], "nationality": "CHN"}]}}
    taken = applicant.wait_until_final(submit(applicant, same_name))
    assert taken["status"] == "rejected" and taken["reasons"][0]["code"] == "name_taken"  # held for the review

    answer = applicant.request("POST", f"/v1/cases/{case_id}/withdrawal", json={"reason": "经营计划调整"})
    # registration, which owns the point of no return, decides
    assert answer.status_code == 202 and answer.json()["withdrawal"]["status"] == "requested", answer.text
    record = until(applicant, case_id, lambda r: all(s["status"] == "cancelled" for s in r["steps"]),
                   "every step cancelled")
    assert record["status"] == "withdrawn" and record["withdrawal"]["status"] == "accepted"
    assert "registration.withdrawal_accepted" in [t["event_type"] for t in record["timeline"]]
    assert "registration.step_updated" in [t["event_type"] for t in record["timeline"]]  # registration said so
    for service in ("seal_carving", "tax", "bank_account"):  # nothing else ever started
        assert system.query(service, "SELECT count(*) FROM kit_steps WHERE case_id = :c", c=case_id)[0][0] == 0
    assert staff(system, "registration").request("GET", "/v1/departments/registration/reviews",
                                                 params={"case_id": case_id}).json()["items"] == []
    again = applicant.request("POST", f"/v1/cases/{case_id}/withdrawal", json={"reason": "再撤一次"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "case_ended"
    # the name is free again for a new application
    fresh = applicant.wait_until_final(submit(applicant, same_name))
    assert fresh["status"] == "completed", fresh
    assert fresh["outputs"]["enterprise_name"] == body["application"]["enterprise"]["name"]


def test_an_establishment_whose_registration_is_done_cannot_be_withdrawn(system, fresh_application):
    applicant = system.client("e2e-too-late")
    body = fresh_application(seals=(), bank_account=False)
    body["application"]["tax"] = {"taxpayer_type": "general", "invoices": ["ordinary"]}  # tax staff hold it
    case_id = submit(applicant, body)
    waiting_review(system, applicant, case_id, "tax", "tax.register")
    refused = applicant.request("POST", f"/v1/cases/{case_id}/withdrawal", json={"reason": "不开了"})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "withdrawal_refused" and "注销" in error["message"]
    assert applicant.case(case_id)["status"] == "in_progress"


def test_a_deregistration_withdrawn_during_its_notice_after_tax_clearance_leaves_the_enterprise_active(
        system, fresh_application):
    applicant = system.client("e2e-change-of-heart")
    established = applicant.wait_until_final(submit(applicant, fresh_application()))
    assert established["status"] == "completed"
    uscc = established["outputs"]["uscc"]
    case_id = submit(applicant, {"matter": "deregistration", "application": samples.deregistration_application(uscc)})
    until(applicant, case_id, lambda r: step(r, "tax.clear")["status"] == "completed"
          and step(r, "deregistration.notice")["status"] == "in_progress", "the clearance during the notice", timeout=30)
    answer = applicant.request("POST", f"/v1/cases/{case_id}/withdrawal", json={"reason": "股东决定继续经营"})
    assert answer.status_code == 202, answer.text
    record = until(applicant, case_id, lambda r: all(s["status"] == "cancelled" for s in r["steps"]),
                   "every step cancelled or undone")
    # registration accepted: it had not struck the enterprise off
    assert record["status"] == "withdrawn" and record["withdrawal"]["status"] == "accepted"
    kinds = [t["event_type"] for t in record["timeline"]]
    assert "tax.step_updated" in kinds and "deregistration.step_updated" in kinds  # each department said so
    assert system.query("tax", "SELECT outcome FROM clearances WHERE case_id = :c", c=case_id) == [("undone",)]
    # the enterprise stays active in every department's records
    assert system.query("registration", "SELECT status FROM enterprises WHERE uscc = :u", u=uscc) == [("registered",)]
    assert system.query("tax", "SELECT status FROM taxpayers WHERE uscc = :u", u=uscc) == [("registered",)]
    assert system.query("bank_account", "SELECT status FROM accounts WHERE uscc = :u", u=uscc) == [("open",)]
    assert {s for (s,) in system.query("seal_carving", "SELECT status FROM seals WHERE uscc = :u", u=uscc)} == {"filed"}
    assert system.query("deregistration", "SELECT status FROM enterprises WHERE uscc = :u", u=uscc) == [("registered",)]
    assert system.query("deregistration", "SELECT status FROM notices WHERE case_id = :c", c=case_id) == [("cancelled",)]
    notices = ApiClient(system.base_url).request("GET", "/v1/notices", params={"uscc": uscc}).json()["items"]
    assert notices == []
    # and it may apply to close again later
    again = submit(applicant, {"matter": "deregistration", "application": samples.deregistration_application(uscc)})
    until(applicant, again, lambda r: step(r, "deregistration.accept")["status"] == "completed", "a new application")


def test_a_bad_rating_reaches_the_rated_department_with_a_due_date_is_answered_rejected_and_escalated(
        system, fresh_application):
    applicant = system.client("e2e-rating")
    case_id = submit(applicant, fresh_application(seals=(), bank_account=False))
    assert applicant.wait_until_final(case_id)["status"] == "completed"
    assert applicant.request("POST", f"/v1/cases/{case_id}/rating", json={"overall": 9}).status_code == 422
    rated = applicant.request("POST", f"/v1/cases/{case_id}/rating",
                              json={"overall": 2, "departments": {"tax": 1, "registration": 4}, "comment": "电话没人接"})
    assert rated.status_code == 201, rated.text
    overall_id, tax_id = rated.json()["follow_ups"]  # the operators' (overall) and the tax bureau's
    # the tax bureau's staff find it in their queue, due in five working days; no one else's queue has it
    tax = staff(system, "tax")
    [follow_up] = [f for f in tax.request("GET", "/v1/departments/tax/follow-ups").json()["items"]
                   if f["case_id"] == case_id]
    assert (follow_up["follow_up_id"], follow_up["ratings"], follow_up["comment"]) == (tax_id, {"tax": 1}, "电话没人接")
    due, opened = datetime.fromisoformat(follow_up["due_at"]), datetime.fromisoformat(follow_up["opened_at"])
    assert working_time_between(opened, due) == timedelta(hours=5 * 7) and due.utcoffset() == timedelta(hours=8)
    registration = staff(system, "registration")
    assert case_id not in [f["case_id"] for f in registration.request(
        "GET", "/v1/departments/registration/follow-ups").json()["items"]]
    assert registration.request("GET", "/v1/departments/tax/follow-ups").status_code == 403
    assert applicant.request("GET", "/v1/follow-ups").status_code == 403
    stolen = registration.request("POST", f"/v1/departments/registration/follow-ups/{tax_id}/response",
                                  json={"response": "已整改"})
    assert stolen.status_code == 404
    silent = tax.request("POST", f"/v1/departments/tax/follow-ups/{tax_id}/response", json={"response": ""})
    assert silent.status_code == 422 and silent.json()["error"]["details"][0]["field"] == "response"
    answered = tax.request("POST", f"/v1/departments/tax/follow-ups/{tax_id}/response",
                           json={"response": "已约谈窗口人员，咨询电话增设专人接听"})
    assert answered.status_code == 200 and answered.json()["status"] == "answered", answered.text
    # the applicant reads the answer on the case and rejects it, once
    [on_case] = [f for f in applicant.case(case_id)["follow_ups"] if f["follow_up_id"] == tax_id]
    assert on_case["response"] == "已约谈窗口人员，咨询电话增设专人接听" and on_case["responded_by"] == "tax-staff"
    verdict = f"/v1/cases/{case_id}/follow-ups/{tax_id}/verdict"
    assert applicant.request("POST", verdict, json={"verdict": "maybe"}).status_code == 422
    assert system.client("e2e-stranger").request("POST", verdict, json={"verdict": "rejected"}).status_code == 404
    rejected = applicant.request("POST", verdict, json={"verdict": "rejected", "comment": "打过去还是没人接"})
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["escalation"]) == ("escalated", "rejected")
    again = applicant.request("POST", verdict, json={"verdict": "confirmed"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "follow_up_not_ready"
    # escalated to operators, who close it with their own resolution
    operator = system.client("operator-zhao", "operator")
    escalated = operator.request("GET", "/v1/follow-ups", params={"status": "escalated"}).json()["items"]
    assert tax_id in [f["follow_up_id"] for f in escalated]
    closed = operator.request("POST", f"/v1/follow-ups/{tax_id}/response", json={"response": "已督办税务局限期整改并回访"})
    assert closed.status_code == 200 and (closed.json()["status"], closed.json()["resolved_by"]) == (
        "closed", "operator-zhao")
    twice = operator.request("POST", f"/v1/follow-ups/{tax_id}/response", json={"response": "再次回访"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "follow_up_closed"
    # the bad overall rating is the operators' own, closed as before with the response given
    overall = operator.request("POST", f"/v1/follow-ups/{overall_id}/response", json={"response": "已电话回访"})
    assert overall.status_code == 200 and overall.json()["responded_by"] == "operator-zhao"
    assert applicant.request("POST", f"/v1/cases/{case_id}/rating", json={"overall": 5}).status_code == 409
    summaries = [t["summary"] for t in applicant.case(case_id)["timeline"]]
    assert f"申请人不认可差评督办 {tax_id} 的答复，已提交运维人员督办" in summaries


def test_an_appeal_upheld_keeps_the_rating_on_record_and_a_follow_up_left_unanswered_escalates(
        system, fresh_application):
    applicant = system.client("e2e-appeal")
    case_id = submit(applicant, fresh_application(seals=(), bank_account=False))
    assert applicant.wait_until_final(case_id)["status"] == "completed"
    rated = applicant.request("POST", f"/v1/cases/{case_id}/rating",
                              json={"overall": 4, "departments": {"registration": 2, "tax": 2}})
    registration_id, tax_id = rated.json()["follow_ups"]
    # 申诉: registration holds the rating wrong; an operator upholds it
    registration = staff(system, "registration")
    appeal = f"/v1/departments/registration/follow-ups/{registration_id}/appeal"
    assert registration.request("POST", appeal, json={}).status_code == 422
    appealed = registration.request("POST", appeal, json={"reason": "申请人所述排队发生在银行网点，不属登记窗口"})
    assert appealed.status_code == 202 and appealed.json()["appeal"]["status"] == "pending", appealed.text
    assert registration.request("POST", appeal, json={"reason": "再申诉"}).status_code == 409
    operator = system.client("operator-qian", "operator")
    pending = operator.request("GET", "/v1/follow-ups", params={"appeal": "pending", "status": ""}).json()["items"]
    assert registration_id in [f["follow_up_id"] for f in pending]
    decided = operator.request("POST", f"/v1/follow-ups/{registration_id}/appeal-decision",
                               json={"decision": "upheld", "reason": "经核实，所涉事项不属登记机关"})
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["appeal"]["status"], decided.json()["appeal"]["decided_by"]) == (
        "closed", "upheld", "operator-qian")
    # the rating stays in the record
    record = applicant.case(case_id)
    assert "case.rated" in [t["event_type"] for t in record["timeline"]]
    assert [f["appeal"]["status"] for f in record["follow_ups"] if f["follow_up_id"] == registration_id] == ["upheld"]
    # the tax bureau lets its follow-up fall due: it escalates to operators as overdue
    system.query("case", "UPDATE follow_ups SET due_at = now() - interval '1 second' WHERE case_id = :c "
                 "AND department = 'tax'", c=case_id)
    wait_for(lambda: [f for f in operator.request("GET", "/v1/follow-ups", params={"status": "escalated"}).json()["items"]
                      if f["follow_up_id"] == tax_id and f["escalation"] == "overdue"], timeout=30,
             what="the overdue follow-up to escalate")
    late = staff(system, "tax").request("POST", f"/v1/departments/tax/follow-ups/{tax_id}/response",
                                        json={"response": "已整改"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "follow_up_not_ready"


def test_a_licensing_matter_withdrawn_while_its_approval_waits_closes_the_review_and_issues_nothing(
        system, fresh_application):
    applicant = system.client("e2e-no-pharmacy")
    established = applicant.wait_until_final(submit(applicant, fresh_application(seals=(), bank_account=False)))
    uscc = established["outputs"]["uscc"]
    wait_for(lambda: system.query("licensing", "SELECT 1 FROM enterprises WHERE uscc = :u", u=uscc),
             what="licensing to hear of the enterprise")
    case_id = submit(applicant, {"matter": "licensing", "application": {
        "uscc": uscc, "business_scope": ["药品零售", "第二类医疗器械销售"]}})
    waiting_review(system, applicant, case_id, "licensing", "licensing.issue")
    answer = applicant.request("POST", f"/v1/cases/{case_id}/withdrawal", json={"reason": "选址未定"})
    assert answer.status_code == 202, answer.text
    record = until(applicant, case_id, lambda r: step(r, "licensing.issue")["status"] == "cancelled", "the cancellation")
    assert record["status"] == "withdrawn" and record["withdrawal"]["status"] == "accepted"  # licensing decided
    assert staff(system, "licensing").request("GET", "/v1/departments/licensing/reviews",
                                              params={"case_id": case_id}).json()["items"] == []
    assert system.query("licensing", "SELECT count(*) FROM permits WHERE case_id = :c AND status = 'valid'",
                        c=case_id)[0][0] == 0


def report(operator, **params) -> dict:
    """无感监测 of the establishments finished from yesterday to tomorrow (Beijing): the cases of this run."""
    today = datetime.now(CHINA).date()
    answer = operator.request("GET", "/v1/reports/matters", params={
        "matter": "establishment", "from": (today - timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(), **params})
    assert answer.status_code == 200, answer.text
    [figures] = answer.json()["matters"]
    return figures


def test_the_report_of_finished_cases_agrees_with_their_records_pauses_and_ratings(system, fresh_application):
    operator = system.client("operator-sun", "operator")
    applicant = system.client("e2e-report")
    assert applicant.request("GET", "/v1/reports/matters").status_code == 403
    refused = operator.request("GET", "/v1/reports/matters", params={"from": "2026-12-02", "to": "2026-12-01"})
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "to"
    assert operator.request("GET", "/v1/reports/matters", params={"from": "2026-02-30"}).status_code == 422
    assert operator.request("GET", "/v1/reports/matters", params={"matter": "lunch"}).status_code == 422
    before = report(operator)
    # one case straight through, rated 非常不满意 of registration, which appeals and is upheld
    plain = submit(applicant, fresh_application(seals=(), bank_account=False))
    assert applicant.wait_until_final(plain)["status"] == "completed"
    [appealed] = applicant.request("POST", f"/v1/cases/{plain}/rating", json={
        "overall": 5, "departments": {"registration": 1}}).json()["follow_ups"]
    assert staff(system, "registration").request("POST", f"/v1/departments/registration/follow-ups/{appealed}/appeal",
                                                 json={"reason": "评价针对的是银行网点"}).status_code == 202
    assert operator.request("POST", f"/v1/follow-ups/{appealed}/appeal-decision",
                            json={"decision": "upheld", "reason": "经核实属实"}).status_code == 200
    # one paused for 补正 since a working morning ago, rated 不满意 overall (a follow-up left open)
    paused = submit(applicant, foreign(fresh_application))
    review = waiting_review(system, applicant, paused)
    decide(system, "registration", review, {"decision": "request_corrections", "reasons": [
        {"code": "nationality_unproven", "message": "请提供外方股东的国籍证明", "field": "application.shareholders.0.nationality"}]})
    until(applicant, paused, lambda r: r["status"] == "awaiting_applicant", "the notice")
    system.query("case", "UPDATE case_steps SET paused_at = :p WHERE case_id = :c AND step = 'registration.establish'",
                 p=previous_working_morning(), c=paused)
    assert applicant.request("POST", f"/v1/cases/{paused}/supplements", json={"items": [
        {"field": "application.shareholders.0.nationality", "value": "CHN"}]}).status_code == 202
    decide(system, "registration", waiting_review(system, applicant, paused), {"decision": "approve"})
    record = applicant.wait_until_final(paused)
    assert record["status"] == "completed"
    registration = step(record, "registration.establish")
    assert registration["paused_working_hours"] >= 1 and record["paused_working_hours"] == registration[
        "paused_working_hours"]
    assert (registration["promised_days"], registration["legal_days"], record["promised_days"]) == (0.5, 3.0, 1.0)
    assert registration["legal_kept"] is True and record["promised_kept"] is not None
    assert applicant.request("POST", f"/v1/cases/{paused}/rating", json={"overall": 2}).status_code == 201

    after = report(operator)
    assert after["cases_finished"] == before["cases_finished"] + 2
    assert after["pauses"] == before["pauses"] + 1
    assert after["paused_working_hours"] == pytest.approx(before["paused_working_hours"]
                                                          + record["paused_working_hours"], abs=0.002)
    assert after["ratings"]["count"] == before["ratings"]["count"] + 2
    assert [after["ratings"]["levels"][level] - before["ratings"]["levels"][level] for level in "12345"] == [0, 1, 0, 0, 1]
    assert after["open_follow_ups"] == before["open_follow_ups"] + 1  # the overall one; the upheld one closed
    registration_ratings = lambda figures: next(
        d["ratings"]["count"] for d in figures["departments"] if d["department"] == "registration")
    assert registration_ratings(after) == registration_ratings(before)  # the appeal took its rating out
    # the shares and percentiles are those of the finished cases' records
    finished = [operator.case(case_id) for (case_id,) in system.query(
        "case", "SELECT case_id FROM cases WHERE matter = 'establishment' AND finished_at IS NOT NULL "
                "AND status <> 'withdrawn'")]
    assert len(finished) == after["cases_finished"]
    took = [r["working_hours"] for r in finished]
    assert after["median_working_hours"] == pytest.approx(statistics.median(took), abs=0.002)
    assert after["p90_working_hours"] == pytest.approx(
        statistics.quantiles(took, n=10, method="inclusive")[8], abs=0.002)
    assert after["within_promised_limit"] == pytest.approx(
        sum(r["promised_kept"] for r in finished) / len(finished), abs=0.0001)
    assert after["steps_past_legal_limit"] == sum(
        s["legal_kept"] is False for r in finished for s in r["steps"])
    # the same figures as the case service's metrics: every case of this run finished today
    port = METRICS_PORTS["case"] + system.system.config.metrics_port_offset
    scraped = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    sample = lambda name: float(next(line for line in scraped.splitlines() if line.startswith(name)).rsplit(" ", 1)[1])
    assert sample('yjs_matter_cases_finished{matter="establishment"}') == after["cases_finished"]
    assert sample('yjs_matter_within_promised_limit_ratio{matter="establishment"}') == pytest.approx(
        after["within_promised_limit"])
    assert sample('yjs_matter_working_hours{matter="establishment",quantile="0.9"}') == pytest.approx(
        after["p90_working_hours"])
    assert sample('yjs_matter_working_hours{matter="establishment",quantile="0.5"}') == pytest.approx(
        after["median_working_hours"])
