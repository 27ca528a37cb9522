"""Registration's staff review on the real broker and database — the kit's review machinery as a
department uses it: the name held while a registrar looks, approval issuing the code, refusal
and withdrawal releasing the name, corrections resuming the step, a 容缺受理 withdrawn when its
materials never come."""

from datetime import datetime, timedelta, timezone

import pytest
from nameko.exceptions import RemoteError
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, select
from yjs_contracts import samples
from yjs_contracts.codes import is_valid_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import CaseWithdrawn, SupplementProvided
from yjs_kit.testing import StaffRpc, publish, wait_for
from yjs_kit.testing import case_submitted as submitted
from yjs_registration.models import enterprises, metadata, name_reservations
from yjs_registration.service import RegistrationService

EVENTS = ("registration.enterprise_registered", "registration.establishment_refused", "registration.step_updated")



def foreign(trade_name: str) -> dict:
    application = samples.establishment_application(trade_name, seals=(), bank_account=False)
    application["shareholders"][0]["nationality"] = "USA"
    return application


def of(case_id):
    return lambda e: e.case_id == case_id


@pytest.fixture
def registration(start_service, watch, rpc):
    container = start_service(RegistrationService, MATERIALS_CHECK_SECONDS=0.2)
    engine = create_engine(container.config["DATABASE_URL"])

    def rows(table, **where):
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        with engine.connect() as connection:
            return connection.execute(query).mappings().all()

    yield watch(*EVENTS), StaffRpc(rpc, "registration"), rows
    engine.dispose()


def waiting_review(watcher, registration, case_id):
    [waiting] = watcher.wait_for(of(case_id))
    assert (waiting.event_type, waiting.data["status"]) == ("registration.step_updated", "awaiting_review")
    [review] = registration.reviews(case_id=case_id)["items"]
    return waiting, review


def decisions(decision: str) -> float:
    return REGISTRY.get_sample_value("yjs_review_decisions_total",
                                     {"service": "registration", "decision": decision}) or 0


def test_a_foreign_investor_waits_for_a_registrar_holding_the_name_and_approval_issues_the_code(broker_uri, registration):
    watcher, rpc, rows = registration
    approved, refused_before = decisions("approve"), decisions("refuse")
    publish(broker_uri, submitted("R1", foreign("远航")))
    waiting, review = waiting_review(watcher, rpc, "R1")
    assert [r["code"] for r in waiting.data["reasons"]] == ["foreign_investor"]
    assert review["step"] == "registration.establish" and review["department"] == "registration"
    assert review["data"]["application"]["shareholders"][0]["nationality"] == "USA"  # what staff need to decide
    assert rows(enterprises) == [] and rows(name_reservations)[0]["case_id"] == "R1"
    # the held name is taken for anyone else meanwhile
    publish(broker_uri, submitted("R2", samples.establishment_application("远航", seals=(), bank_account=False)))
    [other] = watcher.wait_for(of("R2"))
    assert other.event_type == "registration.establishment_refused" and other.data["reasons"][0]["code"] == "name_taken"

    # over the broker, past the gateway: only registration's own staff, verified here, decide
    from nameko.exceptions import RemoteError as Refused
    from yjs_kit.testing import operator_token, staff_token

    for token, refusal in ((None, "CallerNotVerified"), (staff_token("tax", "tax-officer"), "CallerForbidden"),
                           (operator_token(), "CallerForbidden")):
        with pytest.raises(Refused) as refused:
            rpc._rpc("registration", token).decide(review["review_id"], {"decision": "approve"})
        assert refused.value.exc_type == refusal
    decided = rpc.decide(review["review_id"], {"decision": "approve", "comment": "外资材料齐全"}, "registrar-li")
    assert (decided["decision"], decided["step_status"], decided["decided_by"]) == ("approve", "completed", "registrar-li")
    [registered] = watcher.wait_for(lambda e: e.case_id == "R1" and e.event_type.endswith("enterprise_registered"))
    assert registered.data["decided_by"] == "registrar-li" and is_valid_uscc(registered.data["outputs"]["uscc"])
    assert registered.causation_id is None and registered.correlation_id == waiting.correlation_id
    assert rows(name_reservations) == [] and rows(enterprises)[0]["case_id"] == "R1"
    [done] = rpc.reviews("decided")["items"]
    assert (done["decision"], done["decided_by"], done["comment"]) == ("approve", "registrar-li", "外资材料齐全")
    with pytest.raises(RemoteError) as twice:
        rpc.decide(review["review_id"], {"decision": "refuse", "reasons": [{"code": "x", "message": "x"}]}, "registrar-wu")
    assert twice.value.exc_type == "ReviewClosed"
    # counted once each, and a refused attempt not at all
    assert (decisions("approve") - approved, decisions("refuse") - refused_before) == (1, 0)


def test_a_refusal_names_its_reasons_and_frees_the_name(broker_uri, registration):
    watcher, rpc, rows = registration
    publish(broker_uri, submitted("R3", foreign("长河")))
    _, review = waiting_review(watcher, rpc, "R3")
    reasons = [{"code": "foreign_investment_negative_list", "message": "属于外商投资准入负面清单禁止领域",
                "field": "application.enterprise.business_scope"}]
    rpc.decide(review["review_id"], {"decision": "refuse", "reasons": reasons}, "registrar-li")
    [refused] = watcher.wait_for(lambda e: e.case_id == "R3" and e.event_type.endswith("establishment_refused"))
    assert refused.data["reasons"] == reasons and refused.data["decided_by"] == "registrar-li"
    assert rows(name_reservations) == []
    publish(broker_uri, submitted("R4", samples.establishment_application("长河", seals=(), bank_account=False)))
    [again] = watcher.wait_for(of("R4"))
    assert again.event_type == "registration.enterprise_registered"


def test_corrections_wait_for_the_applicant_and_the_step_resumes_with_the_corrected_application(broker_uri, registration):
    watcher, rpc, rows = registration
    application = foreign("青禾")
    publish(broker_uri, submitted("R5", application))
    _, review = waiting_review(watcher, rpc, "R5")
    notice = [{"code": "nationality_unproven", "message": "请提供股东国籍证明，或更正国籍",
               "field": "application.shareholders.0.nationality"},
              {"code": "lease_missing", "message": "缺少住所使用证明", "field": "material:住所使用证明"}]
    decided = rpc.decide(review["review_id"], {"decision": "request_corrections", "reasons": notice}, "registrar-li")
    assert decided["step_status"] == "awaiting_applicant"
    [asked] = watcher.wait_for(lambda e: e.case_id == "R5" and e.data["status"] == "awaiting_applicant")
    assert asked.data["reasons"] == notice and asked.data["decided_by"] == "registrar-li"  # one notice, everything
    assert rpc.reviews(case_id="R5")["items"] == [] and rows(name_reservations)[0]["case_id"] == "R5"
    corrected = {**application, "shareholders": [{**application["shareholders"][0], "nationality": "CHN"}]}
    supplied = SupplementProvided(items=[{"field": "application.shareholders.0.nationality", "value": "CHN"},
                                         {"material": "住所使用证明", "document_id": "DOC-1"}],
                                  application=corrected, revision=1, supplied_at=datetime.now(timezone.utc))
    publish(broker_uri, new_event("case.supplement_provided", supplied, case_id="R5"))
    # staff asked, so staff decide again: back in the review queue, with what changed
    back = watcher.wait_for(lambda e: e.case_id == "R5" and e.data["status"] == "awaiting_review", count=2)[-1]
    assert back.data["reasons"] == notice and back.data["decided_by"] is None
    [again] = rpc.reviews(case_id="R5")["items"]
    assert again["review_id"] != review["review_id"] and again["revision"] == 1
    assert again["corrections"] == [
        {"field": "application.shareholders.0.nationality", "old": "USA", "new": "CHN"},
        {"material": "住所使用证明", "document_id": "DOC-1"}]
    assert again["data"]["application"]["shareholders"][0]["nationality"] == "CHN"
    assert rows(enterprises, case_id="R5") == []  # nothing registered without a new decision
    decided = rpc.decide(again["review_id"], {"decision": "approve"}, "registrar-wang")
    assert decided["revision"] == 1 and decided["decided_by"] == "registrar-wang"
    [registered] = watcher.wait_for(lambda e: e.case_id == "R5" and e.event_type.endswith("enterprise_registered"))
    assert registered.data["decided_by"] == "registrar-wang"
    assert rows(metadata.tables["kit_plans"], case_id="R5")[0]["revision"] == 1
    assert rows(enterprises, case_id="R5")[0]["status"] == "registered" and rows(name_reservations) == []
    assert rpc.reviews("decided", case_id="R5")["items"][-1]["revision"] == 1


def test_a_withdrawal_while_the_registrar_looks_cancels_the_step_closes_the_review_and_frees_the_name(
        broker_uri, registration):
    watcher, rpc, rows = registration
    event = submitted("R6", foreign("星河"))
    publish(broker_uri, event)
    _, review = waiting_review(watcher, rpc, "R6")
    withdrawn = CaseWithdrawn(matter="establishment", owner="alice", reason="暂不设立",
                              steps=[s["step"] for s in event.data["plan"]], withdrawn_at=datetime.now(timezone.utc))
    publish(broker_uri, new_event("case.withdrawn", withdrawn, case_id="R6"))
    [cancelled] = watcher.wait_for(lambda e: e.case_id == "R6" and e.data["status"] == "cancelled")
    assert cancelled.data["reasons"][0]["code"] == "case_withdrawn" and cancelled.data["undoes"] is False
    assert rpc.reviews(case_id="R6")["items"] == [] and rpc.reviews("closed")["items"][0]["case_id"] == "R6"
    assert rows(name_reservations) == [] and rows(enterprises) == []
    with pytest.raises(RemoteError) as late:
        rpc.decide(review["review_id"], {"decision": "approve"}, "registrar-li")
    assert late.value.exc_type == "ReviewClosed"


def test_a_withdrawal_that_arrives_before_the_plan_starts_nothing_and_says_so(broker_uri, registration):
    watcher, rpc, rows = registration
    event = submitted("R7", samples.establishment_application("云帆", seals=(), bank_account=False))
    withdrawn = CaseWithdrawn(matter="establishment", owner="alice", reason="填错了",
                              steps=[s["step"] for s in event.data["plan"]], withdrawn_at=datetime.now(timezone.utc))
    publish(broker_uri, new_event("case.withdrawn", withdrawn, case_id="R7"))
    wait_for(lambda: rows(metadata.tables["kit_plans"], case_id="R7"), what="the withdrawal kept")
    publish(broker_uri, event)
    [cancelled] = watcher.wait_for(of("R7"))
    assert (cancelled.event_type, cancelled.data["status"]) == ("registration.step_updated", "cancelled")
    assert cancelled.data["reasons"][0]["code"] == "case_withdrawn"
    assert rows(metadata.tables["kit_plans"], case_id="R7")[0]["withdrawn_at"] is not None
    assert [r["status"] for r in rows(metadata.tables["kit_steps"], case_id="R7")] == ["cancelled"]
    assert rows(enterprises, case_id="R7") == [] and rows(name_reservations) == []


def test_an_acceptance_with_materials_missing_is_withdrawn_when_they_never_come(broker_uri, registration):
    watcher, rpc, rows = registration
    publish(broker_uri, submitted("R9", foreign("华章")))
    _, review = waiting_review(watcher, rpc, "R9")
    due = datetime.now(timezone.utc) + timedelta(seconds=2)
    decided = rpc.decide(review["review_id"], {
        "decision": "approve", "missing_materials": [{"material": "住所使用证明", "message": "租赁合同复印件"}],
        "materials_due": due.isoformat()}, "registrar-li")
    assert datetime.fromisoformat(decided["materials_due"]) == due
    [accepted] = watcher.wait_for(lambda e: e.case_id == "R9" and e.data["status"] == "completed")
    assert datetime.fromisoformat(accepted.data["materials_due"]) == due
    assert accepted.data["reasons"] == [{"code": "materials_missing", "message": "租赁合同复印件",
                                         "field": "material:住所使用证明"}]
    uscc = accepted.data["outputs"]["uscc"]
    [withdrawn] = watcher.wait_for(lambda e: e.case_id == "R9" and e.data["status"] == "rejected", timeout=20)
    assert withdrawn.data["undoes"] is True and withdrawn.data["reasons"][0]["code"] == "materials_not_supplied"
    assert rows(enterprises, uscc=uscc)[0]["status"] == "revoked"  # 撤销登记
    assert len([e for e in watcher.drain() if e.case_id == "R9" and e.data["status"] == "rejected"]) == 1
    # the revoked enterprise's name is free again: another application takes it
    publish(broker_uri, submitted("R9b", samples.establishment_application("华章", seals=(), bank_account=False)))
    [again] = watcher.wait_for(of("R9b"))
    assert (again.event_type, again.data["status"]) == ("registration.enterprise_registered", "completed")
    name = again.data["outputs"]["enterprise_name"]
    assert sorted(r["status"] for r in rows(enterprises, name=name)) == ["registered", "revoked"]


def test_materials_handed_in_on_time_keep_the_acceptance(broker_uri, registration):
    watcher, rpc, rows = registration
    application = foreign("华美")
    publish(broker_uri, submitted("R10", application), submitted("R11", foreign("华夏")))
    _, review = waiting_review(watcher, rpc, "R10")
    _, other = waiting_review(watcher, rpc, "R11")
    due = datetime.now(timezone.utc) + timedelta(seconds=6)
    missing = [{"material": "住所使用证明", "message": "租赁合同复印件"}]
    rpc.decide(review["review_id"], {"decision": "approve", "missing_materials": missing,
                                     "materials_due": due.isoformat()}, "registrar-li")
    # R11's materials fall due a second later and never come: its withdrawal proves the lapse
    # check ran past R10's due date
    rpc.decide(other["review_id"], {"decision": "approve", "missing_materials": missing,
                                    "materials_due": (due + timedelta(seconds=1)).isoformat()}, "registrar-li")
    watcher.wait_for(lambda e: e.case_id == "R10" and e.data["status"] == "completed")
    supplied = SupplementProvided(items=[{"material": "住所使用证明", "document_id": "DOC-7"}],
                                  application=application, revision=1, supplied_at=datetime.now(timezone.utc))
    publish(broker_uri, new_event("case.supplement_provided", supplied, case_id="R10"))
    reviews = metadata.tables["kit_reviews"]
    wait_for(lambda: rows(reviews, case_id="R10")[0]["materials_status"] == "received", what="materials received")
    assert datetime.now(timezone.utc) < due  # handed in on time
    watcher.wait_for(lambda e: e.case_id == "R11" and e.data["status"] == "rejected", timeout=25)
    [row] = rows(reviews, case_id="R10")
    assert row["materials_status"] == "received" and row["missing_materials"][0]["document_id"] == "DOC-7"
    assert rows(enterprises, case_id="R10")[0]["status"] == "registered"
    assert [e for e in watcher.drain() if e.case_id == "R10" and e.data["status"] == "rejected"] == []


def test_a_decision_with_a_due_date_past_the_promised_limit_is_refused(broker_uri, registration):
    watcher, rpc, rows = registration
    publish(broker_uri, submitted("R12", foreign("博远")))
    _, review = waiting_review(watcher, rpc, "R12")
    with pytest.raises(RemoteError) as late:
        rpc.decide(review["review_id"], {
            "decision": "approve", "missing_materials": [{"material": "住所使用证明", "message": "租赁合同"}],
            "materials_due": (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()}, "registrar-li")
    assert late.value.exc_type == "InvalidDecision"
    assert rpc.reviews(case_id="R12")["items"][0]["status"] == "waiting"  # nothing decided
