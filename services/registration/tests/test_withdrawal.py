"""Withdrawal decided where the point of no return is, on the real broker and database:
registration owns an establishment's pivot (设立登记), so it accepts a withdrawal request while
the enterprise is not registered — and then never registers it — and refuses it once it is."""

from datetime import datetime, timezone

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import create_engine, select
from yjs_case.service import CaseService
from yjs_contracts import samples
from yjs_contracts.envelope import new_event
from yjs_contracts.events import CaseWithdrawn, WithdrawalRequested
from yjs_kit.testing import CaseRpc, StaffRpc, publish, wait_for
from yjs_kit.testing import case_submitted as submitted
from yjs_registration.models import enterprises, metadata, name_reservations
from yjs_registration.service import RegistrationService

from .test_reviews import foreign, of, registration  # noqa: F401 - the fixture: registration, its events, its rows

ANSWERS = ("registration.withdrawal_accepted", "registration.withdrawal_refused")


def domestic(trade_name: str) -> dict:
    return samples.establishment_application(trade_name, seals=(), bank_account=False)


def request(case_id: str, reason: str = "暂不设立"):
    return new_event("case.withdrawal_requested", WithdrawalRequested(
        matter="establishment", owner="alice", reason=reason, pivot="registration.establish",
        requested_at=datetime.now(timezone.utc)), case_id=case_id)


def withdrawn(case_id: str, plan_event):
    return new_event("case.withdrawn", CaseWithdrawn(
        matter="establishment", owner="alice", reason="暂不设立", steps=[s["step"] for s in plan_event.data["plan"]],
        withdrawn_at=datetime.now(timezone.utc)), case_id=case_id)


def test_a_request_before_the_plan_is_accepted_once_and_the_enterprise_is_never_registered(
        broker_uri, registration, watch):
    steps, _, rows = registration
    answers = watch(*ANSWERS)
    plan = submitted("W1", domestic("青禾"))
    asked = request("W1")
    publish(broker_uri, asked, asked)  # redelivered
    [accepted] = answers.wait_for(of("W1"))
    assert accepted.event_type == "registration.withdrawal_accepted"
    assert accepted.data["request_id"] == str(asked.event_id) and accepted.data["withdrawal_reason"] == "暂不设立"
    publish(broker_uri, request("W1", "再按一次"))  # a second request: answered already
    publish(broker_uri, plan)
    [cancelled] = steps.wait_for(of("W1"))  # its turn came: cancelled, not performed
    assert (cancelled.event_type, cancelled.data["status"]) == ("registration.step_updated", "cancelled")
    publish(broker_uri, withdrawn("W1", plan))
    # the two requests, the plan and the withdrawal applied (the redelivery refused by the inbox)
    wait_for(lambda: len(rows(metadata.tables["kit_inbox"], consumer="steps")) >= 4, what="every event applied")
    assert rows(enterprises, case_id="W1") == [] and rows(name_reservations) == []
    assert [e.event_type for e in answers.drain() if e.case_id == "W1"] == ["registration.withdrawal_accepted"]
    assert [r["status"] for r in rows(metadata.tables["kit_steps"], case_id="W1")] == ["cancelled"]


def test_a_request_after_registration_is_refused_and_nothing_is_undone(broker_uri, registration, watch):
    steps, _, rows = registration
    answers = watch(*ANSWERS)
    publish(broker_uri, submitted("W2", domestic("远山")))
    [registered] = steps.wait_for(of("W2"))
    assert registered.event_type == "registration.enterprise_registered"
    publish(broker_uri, request("W2"))
    [refused] = answers.wait_for(of("W2"))
    assert refused.event_type == "registration.withdrawal_refused"
    [reason] = refused.data["reasons"]
    assert reason["code"] == "withdrawal_refused" and reason["message"] == "设立登记已办结，申请不能撤回"
    assert rows(enterprises, case_id="W2")[0]["status"] == "registered"
    assert [r["status"] for r in rows(metadata.tables["kit_steps"], case_id="W2")] == ["completed"]
    assert [e for e in steps.drain() if e.case_id == "W2"] == [registered]  # nothing cancelled or undone


def test_a_request_while_the_registrar_looks_is_accepted_the_approval_comes_too_late_and_the_case_is_withdrawn(
        start_service, rpc, watch):
    """With the case service: the applicant's withdrawal reaches registration while its step waits
    for a registrar; registration accepts, the case is withdrawn, and the registrar's approval
    arriving after can no longer register the enterprise."""
    start_service(CaseService)
    container = start_service(RegistrationService)
    engine = create_engine(container.config["DATABASE_URL"])
    answers = watch(*ANSWERS)
    case_id = CaseRpc(rpc).submit("alice", {"matter": "establishment", "application": foreign("星河")})["case_id"]
    staff = StaffRpc(rpc, "registration")
    [review] = wait_for(lambda: staff.reviews(case_id=case_id)["items"], what="the registrar's review")
    asked = CaseRpc(rpc).withdraw(case_id, "alice", "经营计划调整")
    assert asked["withdrawal"]["status"] == "requested" and asked["status"] != "withdrawn"
    record = wait_for(lambda: (lambda r: r if r["status"] == "withdrawn" and r["steps"][0]["status"] == "cancelled"
                               else None)(CaseRpc(rpc).get_case(case_id)), what="the case withdrawn")
    assert record["withdrawal"]["status"] == "accepted"
    assert [e.event_type for e in answers.wait_for(of(case_id))] == ["registration.withdrawal_accepted"]
    with pytest.raises(RemoteError) as late:
        staff.decide(review["review_id"], {"decision": "approve"}, "registrar-li")
    assert late.value.exc_type == "ReviewClosed"
    with engine.connect() as connection:
        assert connection.execute(select(enterprises).where(enterprises.c.case_id == case_id)).all() == []
    engine.dispose()
