"""Social and medical insurance on the real broker and database: plans and prerequisite events
in, employers registered and closed out — once each, refused while contributions are owed, and
undone with what they rested on."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, func, select
from yjs_contracts import samples
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import CaseWithdrawn
from yjs_contracts.plans import CHINA
from yjs_kit.testing import case_submitted as submitted
from yjs_kit.testing import deregistration_accepted as accepted
from yjs_kit.testing import (enterprise_registered, operator_token, publish, staff_token, step_undone,
                             wait_until_consumed)
from yjs_social_insurance.models import closures, contribution_arrears, employers, metadata
from yjs_social_insurance.service import SocialInsuranceService

REGISTERED, CLOSED, CLOSING_REFUSED = ("social_insurance.employer_registered", "social_insurance.employer_closed",
                                       "social_insurance.closing_refused")
UPDATED, REGISTRATION_REFUSED = "social_insurance.step_updated", "social_insurance.employer_registration_refused"


def rows(engine, table, *where):
    with engine.connect() as connection:
        return connection.execute(select(table).where(*where)).mappings().all()


def test_a_new_employer_is_registered_once_and_one_who_opted_out_is_not(start_service, broker_uri, watch):
    container = start_service(SocialInsuranceService)
    watcher = watch(REGISTERED, UPDATED)
    insured = samples.establishment_application("安保")
    opted_out = samples.establishment_application("免保", social_insurance=False)
    registration = enterprise_registered("S1", 1, insured)
    # redelivered, and the registration before the plan: one registration all the same
    publish(broker_uri, registration, submitted("S1", insured), registration,
            submitted("S2", opted_out), enterprise_registered("S2", 2, opted_out))
    [event] = watcher.wait_for()
    assert event.case_id == "S1" and event.data["status"] == "completed"
    year = datetime.now(CHINA).year
    assert event.data["outputs"] == {
        "uscc": make_uscc("330402", 1), "registration_number": f"330402{year}000001",
        "insurance_types": ["企业职工基本养老保险", "失业保险", "工伤保险", "职工基本医疗保险", "生育保险"],
        "social_insurance_agency": "嘉兴市南湖区人力资源和社会保障局",
        "medical_insurance_agency": "嘉兴市南湖区医疗保障局", "employees": 2,
        "registered_at": event.data["outputs"]["registered_at"]}
    wait_until_consumed(broker_uri, "social_insurance.inbox")
    assert [e.case_id for e in watcher.drain()] == ["S1"]  # everything seen: S1's registration alone
    engine = create_engine(container.config["DATABASE_URL"])
    [employer] = rows(engine, employers)
    assert (employer["case_id"], employer["status"], employer["enterprise_name"]) == ("S1", "registered", "嘉兴安保数字科技有限公司")
    steps = metadata.tables["kit_steps"]
    with engine.connect() as connection:  # the opted-out case holds no step of ours
        assert connection.execute(select(func.count()).select_from(steps).where(steps.c.case_id == "S2")).scalar() == 0
    engine.dispose()


def test_a_registration_undone_cancels_the_employers_registration_once(start_service, broker_uri, watch):
    container = start_service(SocialInsuranceService, max_workers=1)
    watcher = watch(REGISTERED, REGISTRATION_REFUSED)
    application = samples.establishment_application("撤保")
    publish(broker_uri, submitted("S3", application), enterprise_registered("S3", 3, application))
    watcher.wait_for()
    undo = step_undone("S3", "registration.establish")
    publish(broker_uri, undo, undo)
    [undone] = watcher.wait_for(lambda e: e.data.get("undoes"))
    assert (undone.event_type, undone.data["status"]) == (REGISTRATION_REFUSED, "rejected")
    assert [(r["code"], r["field"]) for r in undone.data["reasons"]] == [
        ("prerequisite_undone", "step:registration.establish")]
    wait_until_consumed(broker_uri, "social_insurance.inbox")
    assert len(watcher.drain()) == 2  # the registration and its undo: the second delivery announced nothing
    engine = create_engine(container.config["DATABASE_URL"])
    [employer] = rows(engine, employers)
    assert (employer["status"], employer["undo_reason"]) == ("cancelled", "prerequisite_undone")
    assert employer["cancelled_at"] is not None
    engine.dispose()


def test_closing_is_refused_while_contributions_are_owed_and_undone_with_a_withdrawn_deregistration(
        start_service, broker_uri, watch, rpc):
    container = start_service(SocialInsuranceService)
    watcher = watch(REGISTERED, CLOSED, CLOSING_REFUSED, UPDATED)
    announced = watch("social_insurance.arrears_recorded", "social_insurance.arrears_settled")
    establishment = samples.establishment_application("欠保")
    publish(broker_uri, submitted("E1", establishment), enterprise_registered("E1", 41, establishment))
    [registered] = watcher.wait_for()
    owing, never = make_uscc("330402", 41), make_uscc("330402", 43)
    number = registered.data["outputs"]["registration_number"]

    # its own staff or an operator record arrears; another department's staff may not
    staff = rpc("social_insurance", staff_token("social_insurance", "社保征缴员"))
    assert staff.record_arrears(owing, "3200.50", "2026年10月养老保险费")["outstanding"] == "3200.50"
    assert rpc("social_insurance", operator_token()).record_arrears(owing, "100")["outstanding"] == "3300.50"
    with pytest.raises(Exception, match="social_insurance staff or an operator"):
        rpc("social_insurance", staff_token("tax", "税务员")).record_arrears(owing, "1")
    for bad_uscc, bad_amount in ((owing, "-1"), (owing, "1.001"), ("91330402MA00000000", "1")):
        with pytest.raises(Exception):
            staff.record_arrears(bad_uscc, bad_amount)
    # each change announced with a growing revision, for deregistration to refuse at acceptance
    recorded = sorted(announced.wait_for(count=2), key=lambda e: e.data["revision"])
    assert [(e.event_type, e.data["outstanding"], e.data["revision"]) for e in recorded] == [
        ("social_insurance.arrears_recorded", "3200.50", 1), ("social_insurance.arrears_recorded", "3300.50", 2)]
    assert {e.producer for e in recorded} == {"social_insurance"} and {e.case_id for e in recorded} == {None}

    for case_id, uscc in (("D1", owing), ("D3", never)):
        publish(broker_uri, submitted(case_id, samples.deregistration_application(uscc), "deregistration"),
                accepted(case_id, uscc))
    [refused] = watcher.wait_for(lambda e: e.case_id == "D1")
    assert refused.event_type == CLOSING_REFUSED
    assert [(r["code"], r["field"]) for r in refused.data["reasons"]] == [("unpaid_contributions", "application.uscc")]
    assert "3300.50 元" in refused.data["reasons"][0]["message"]
    [confirmed] = watcher.wait_for(lambda e: e.case_id == "D3")
    assert confirmed.event_type == CLOSED and confirmed.data["outputs"]["registration_number"] is None

    # paid up, the enterprise closes by a new application
    assert staff.settle_arrears(owing, "补缴到账")["outstanding"] == "0.00"
    [settled] = announced.wait_for(lambda e: e.event_type == "social_insurance.arrears_settled")
    assert (settled.data["uscc"], settled.data["outstanding"], settled.data["revision"]) == (owing, "0.00", 3)
    deregistration = submitted("D2", samples.deregistration_application(owing), "deregistration")
    publish(broker_uri, deregistration, accepted("D2", owing))
    [closed] = watcher.wait_for(lambda e: e.case_id == "D2")
    assert closed.event_type == CLOSED and closed.data["outputs"]["registration_number"] == number
    engine = create_engine(container.config["DATABASE_URL"])
    [employer] = rows(engine, employers)
    assert (employer["status"], employer["closing_case_id"]) == ("closed", "D2")
    assert {r["case_id"]: r["outcome"] for r in rows(engine, closures)} == {
        "D1": "refused", "D2": "closed", "D3": "not_registered"}
    [kept] = rows(engine, contribution_arrears)
    assert (str(kept["outstanding"]), kept["note"]) == ("0.00", "补缴到账")

    # the deregistration withdrawn: the employer is registered again
    withdrawn = CaseWithdrawn(matter="deregistration", owner="alice", reason="继续经营",
                              steps=[s["step"] for s in deregistration.data["plan"]],
                              withdrawn_at=datetime.now(timezone.utc))
    publish(broker_uri, new_event("case.withdrawn", withdrawn, case_id="D2"))
    [undone] = watcher.wait_for(lambda e: e.case_id == "D2" and e.event_type == UPDATED)
    assert (undone.data["step"], undone.data["status"], undone.data["undoes"]) == \
        ("social_insurance.close", "cancelled", True)
    [employer] = rows(engine, employers)
    assert (employer["status"], employer["closed_at"], employer["closing_case_id"]) == ("registered", None, None)
    assert rows(engine, closures, closures.c.case_id == "D2")[0]["outcome"] == "undone"
    engine.dispose()
