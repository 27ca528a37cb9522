"""Notices about a step that already reported (events.NOTICE_EVENTS): on the timeline, and
their restated outputs in the record, whichever arrives first."""

from datetime import date, datetime, timezone

from yjs_case.service import CaseService
from yjs_contracts.envelope import new_event
from yjs_contracts.events import (IssuedPermit, LicencesIssued, PermitPart, PermitRevoked, step_report)
from yjs_contracts.steps import StepStatus
from yjs_kit.testing import CaseRpc, publish, wait_for, wait_until_consumed

USCC = "91350100M000100Y43"
LICENSING = {"matter": "licensing", "application": {"uscc": USCC, "business_scope": ["职业中介活动"],
                                                    "commitments": ["职业中介活动"]}}


def issued(status: str = "valid") -> dict:
    permit = IssuedPermit(
        permit_number="RL33040200000017", name="人力资源服务许可证", mode="commitment", items=["职业中介活动"],
        parts=[PermitPart(code="human_resources", name="人力资源服务许可证", department="人力资源和社会保障局",
                          mode="commitment", items=["职业中介活动"])],
        valid_from=date(2026, 11, 30), check_due=date(2027, 1, 12), status=status)
    return LicencesIssued(uscc=USCC, catalogue_version="2025.1", permits=[permit]).model_dump(mode="json")


def revoked_notice(case_id: str):
    return new_event("licensing.permit_revoked", PermitRevoked(
        step="licensing.issue", summary="许可撤销 人力资源服务许可证：告知承诺经核查不实", outputs=issued("revoked"),
        uscc=USCC, permit_number=issued()["permits"][0]["permit_number"], finding="无固定经营场所",
        actor="operator:ops", revoked_at=datetime.now(timezone.utc)), case_id=case_id)


def test_a_notice_after_the_case_finished_restates_its_outputs_and_joins_the_timeline(start_service, rpc, broker_uri):
    start_service(CaseService)
    case_id = CaseRpc(rpc).submit("alice", LICENSING)["case_id"]
    publish(broker_uri, new_event("licensing.licences_issued", step_report(
        "licensing.issue", StepStatus.completed, issued()), case_id=case_id))
    wait_for(lambda: CaseRpc(rpc).get_case(case_id)["status"] == "completed", what="the case completed")
    notice = revoked_notice(case_id)
    publish(broker_uri, notice, notice)  # delivered twice, noted once
    wait_until_consumed(broker_uri, "case.inbox")  # both copies handled and acked
    record = CaseRpc(rpc).get_case(case_id)
    assert record["outputs"]["licences"]["permits"][0]["status"] == "revoked"
    assert record["status"] == "completed"
    assert record["steps"][0]["outputs"]["permits"][0]["status"] == "revoked"
    kinds = [t["event_type"] for t in record["timeline"]]
    assert kinds[-1] == "licensing.permit_revoked" and kinds.count("licensing.permit_revoked") == 1
    assert "告知承诺经核查不实" in record["timeline"][-1]["summary"]


def test_a_notice_that_overtakes_its_step_report_waits_for_it(start_service, rpc, broker_uri):
    start_service(CaseService)
    case_id = CaseRpc(rpc).submit("alice", LICENSING)["case_id"]
    publish(broker_uri, revoked_notice(case_id))
    publish(broker_uri, new_event("licensing.licences_issued", step_report(
        "licensing.issue", StepStatus.completed, issued()), case_id=case_id))
    record = wait_for(lambda: (lambda r: r if "licensing.permit_revoked" in [t["event_type"] for t in r["timeline"]]
                               else None)(CaseRpc(rpc).get_case(case_id)), what="the notice, retried")
    assert record["outputs"]["licences"]["permits"][0]["status"] == "revoked"
