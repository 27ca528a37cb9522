"""Licensing on the real broker and database: enterprises known from registration's events,
the catalogue edition a case keeps, revocation of a false commitment and the credit record's
bar, 告知承诺's post-issuance checks (the queue, the three results, a lapsed rectification
revoked by the timer, the overdue figure), permits ended with the enterprise."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from types import MappingProxyType

import pytest
from nameko.exceptions import RemoteError
from yjs_contracts import catalogue
from yjs_contracts.catalogue import PermitMode
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from sqlalchemy import create_engine, select
from yjs_contracts.events import (CaseWithdrawn, CreditRecorded, EnterpriseDeregistered, EnterpriseRegistered,
                                  Signer, step_report)
from yjs_contracts.steps import StepStatus
from yjs_contracts import samples
from yjs_kit.testing import (StaffRpc, case_submitted, operator_token, publish, staff_token, step_undone, wait_for,
                             wait_until_consumed)
from yjs_licensing import checks
from yjs_licensing.models import permits
from yjs_licensing.service import LicensingService

OUTCOMES = ("licensing.licences_issued", "licensing.step_updated", "licensing.licensing_refused")
NAME = "嘉兴明远数字科技有限公司"


def submitted(case_id: str, matter: str, application: dict, version: str = catalogue.VERSION):
    return case_submitted(case_id, application, matter, catalogue_version=version)


def registered(uscc: str, case_id: str):
    return new_event("registration.enterprise_registered", step_report(
        "registration.establish", StepStatus.completed, EnterpriseRegistered(
            uscc=uscc, licence_number="330402000000001", enterprise_name=NAME,
            registered_at=datetime.now(timezone.utc))), case_id=case_id)


def licensing(case_id: str, uscc: str, scope: list[str], commitments: list[str], version: str = catalogue.VERSION,
              signer: str = samples.LEGAL_REPRESENTATIVE_ID):
    return case_submitted(case_id, {"uscc": uscc, "business_scope": scope, "commitments": commitments}, "licensing",
                          catalogue_version=version, signer=Signer(name="张伟", id_number=signer))


def credit_recorded(record_id: str, uscc: str, signer: str | None, days: int = 365):
    now = datetime.now(timezone.utc)
    return new_event("registration.credit_recorded", CreditRecorded(
        record_id=record_id, uscc=uscc, signer=Signer(id_number=signer) if signer else None,
        permit_number="RL330402000000001", finding="不实", recorded_at=now, barred_until=now + timedelta(days=days)),
        case_id=None)


def outcome(watcher, case_id: str):
    [event] = watcher.wait_for(lambda e: e.case_id == case_id)
    return event


@pytest.fixture
def stricter_edition():
    """An edition, published after some case was planned, in which 食品经营许可 needs staff."""
    strict = replace(catalogue.CURRENT, version="test.strict", permits=MappingProxyType({
        **catalogue.CURRENT.permits,
        "food_business": replace(catalogue.CURRENT.permits["food_business"], mode=PermitMode.approval)}))
    catalogue.EDITIONS[strict.version] = strict
    yield strict
    del catalogue.EDITIONS[strict.version]


def test_a_case_is_decided_with_the_catalogue_edition_it_was_planned_with(start_service, broker_uri, watch,
                                                                          stricter_edition):
    start_service(LicensingService, max_workers=1)  # in the order published: the enterprise is known first
    watcher = watch(*OUTCOMES)
    uscc = make_uscc("330402", 101)
    publish(broker_uri, registered(uscc, "R1"))
    publish(broker_uri, licensing("L1", uscc, ["食品销售"], ["食品销售"], catalogue.VERSION))
    current = outcome(watcher, "L1")
    assert current.event_type == "licensing.licences_issued"
    [permit] = current.data["outputs"]["permits"]
    assert permit["name"] == "食品经营许可证" and permit["mode"] == "commitment" and permit["check_due"]
    assert permit["permit_number"].startswith("JY330402")
    assert current.data["outputs"]["catalogue_version"] == catalogue.VERSION
    publish(broker_uri, licensing("L2", uscc, ["食品销售"], ["食品销售"], stricter_edition.version))
    strict = outcome(watcher, "L2")
    assert strict.event_type == "licensing.step_updated" and strict.data["status"] == "awaiting_review"
    assert strict.data["outputs"]["catalogue_version"] == "test.strict"
    assert [r["code"] for r in strict.data["reasons"]] == ["approval_required"]


def test_a_false_commitment_is_revoked_once_announced_and_bars_commitments(start_service, broker_uri, watch, rpc):
    start_service(LicensingService, max_workers=1)  # in the order published: the enterprise is known first
    watcher = watch(*OUTCOMES, "licensing.permit_revoked")
    uscc = make_uscc("330402", 102)
    publish(broker_uri, registered(uscc, "R2"))
    publish(broker_uri, licensing("L3", uscc, ["职业中介活动", "机动车修理和维护"], ["职业中介活动"]))
    issued = {p["mode"]: p for p in outcome(watcher, "L3").data["outputs"]["permits"]}
    commitment, filing = issued["commitment"]["permit_number"], issued["filing"]["permit_number"]
    with pytest.raises(RemoteError) as unknown:
        rpc("licensing", operator_token()).revoke_commitment("JY33040200000000", "不实")
    assert unknown.value.exc_type == "PermitNotFound"
    with pytest.raises(RemoteError) as not_commitment:
        rpc("licensing", operator_token()).revoke_commitment(filing, "不实")
    assert not_commitment.value.exc_type == "PermitNotRevocable"
    with pytest.raises(RemoteError) as not_theirs:  # tax's staff do not revoke licensing's permits
        rpc("licensing", staff_token("tax", "tax-officer")).revoke_commitment(commitment, "不实")
    assert not_theirs.value.exc_type == "CallerForbidden"
    answer = rpc("licensing", staff_token("licensing", "inspector")).revoke_commitment(commitment, "无固定经营场所，与承诺不符")
    assert answer["status"] == "revoked" and answer["case_id"] == "L3"
    with pytest.raises(RemoteError) as twice:
        rpc("licensing", operator_token()).revoke_commitment(commitment, "不实")
    assert twice.value.exc_type == "PermitNotRevocable"
    [revoked] = watcher.wait_for(lambda e: e.event_type == "licensing.permit_revoked")
    assert revoked.case_id == "L3" and revoked.data["step"] == "licensing.issue"
    restated = {p["permit_number"]: p for p in revoked.data["outputs"]["permits"]}
    assert restated[commitment]["status"] == "revoked" and restated[filing]["status"] == "valid"
    # for registration's credit record: a false promise, and who signed it
    assert revoked.data["ground"] == "false_commitment"
    assert revoked.data["signer"] == {"name": "张伟", "id_number": samples.LEGAL_REPRESENTATIVE_ID}
    # the bar is registration's credit record, announced: the enterprise, and the signer anywhere
    other = make_uscc("330402", 104)
    publish(broker_uri, registered(other, "R4"), credit_recorded("CR1", uscc, samples.LEGAL_REPRESENTATIVE_ID),
            credit_recorded("CR2", make_uscc("330402", 105), None, days=-1))  # a record that ran out bars nobody
    publish(broker_uri, licensing("L4", uscc, ["职业中介活动"], ["职业中介活动"], signer=samples.person(60)))
    barred = outcome(watcher, "L4")
    assert barred.data["status"] == "awaiting_review" and barred.data["reasons"][0]["code"] == "commitment_barred"
    publish(broker_uri, licensing("L4b", other, ["职业中介活动"], ["职业中介活动"]))
    assert outcome(watcher, "L4b").data["reasons"][0]["code"] == "commitment_barred"  # the signer, elsewhere
    publish(broker_uri, registered(make_uscc("330402", 105), "R5"))
    publish(broker_uri, licensing("L4c", make_uscc("330402", 105), ["职业中介活动"], ["职业中介活动"],
                                  signer=samples.person(61)))
    assert outcome(watcher, "L4c").event_type == "licensing.licences_issued"  # its record ran out


def test_a_licence_asked_before_the_enterprise_registration_reached_licensing_waits_for_it(start_service, broker_uri,
                                                                                            watch):
    """Registration's events and the case service's come from two producers, and nothing
    orders one before the other: a licence case can reach licensing before the registration of
    its enterprise does (a retry, a second worker or replica). It is not refused for that: tried
    again after the retry delay, it finds the enterprise. One never announced is refused on the
    event's last attempt."""
    start_service(LicensingService, max_workers=1)  # in the order published: the case first
    watcher = watch(*OUTCOMES)
    uscc = make_uscc("330402", 106)
    before = retried()
    publish(broker_uri, licensing("L9", uscc, ["食品销售"], ["食品销售"]))
    wait_for(lambda: retried() > before, what="the licence case tried, and waiting to be tried again")
    assert watcher.drain() == []  # nothing decided
    publish(broker_uri, registered(uscc, "R9"))
    issued = outcome(watcher, "L9")
    assert issued.event_type == "licensing.licences_issued", issued.data.get("reasons")


def retried() -> float:
    from prometheus_client import REGISTRY
    return REGISTRY.get_sample_value("yjs_events_consumed_total", {
        "service": "licensing", "event_type": "case.submitted", "outcome": "retried"}) or 0


def test_unknown_and_deregistered_enterprises_are_refused_and_closing_ends_every_permit(start_service, broker_uri,
                                                                                         watch):
    start_service(LicensingService, max_workers=1)  # in the order published: the enterprise is known first
    watcher = watch(*OUTCOMES, "licensing.licences_revoked")
    publish(broker_uri, licensing("L5", make_uscc("330402", 999), ["食品销售"], ["食品销售"]))
    unknown = outcome(watcher, "L5")
    assert unknown.event_type == "licensing.licensing_refused"
    assert [(r["code"], r["field"]) for r in unknown.data["reasons"]] == [("enterprise_unknown", "application.uscc")]

    uscc = make_uscc("330402", 103)
    publish(broker_uri, registered(uscc, "R3"))
    publish(broker_uri, licensing("L6", uscc, ["粮食收购", "因私出入境中介服务"], []))
    [filing] = outcome(watcher, "L6").data["outputs"]["permits"]
    assert filing["name"] == "粮食收购备案"
    closing = submitted("D1", "deregistration", {
        "uscc": uscc, "route": "simple", "reason": "决议解散",
        "commitments": {"debts_settled": True, "investors_agree": True}})
    publish(broker_uri, closing, new_event("registration.enterprise_deregistered", step_report(
        "registration.deregister", StepStatus.completed, EnterpriseDeregistered(
            uscc=uscc, enterprise_name=NAME, licence_number="330402000000001",
            deregistered_at=datetime.now(timezone.utc))), case_id="D1"))
    [ended] = watcher.wait_for(lambda e: e.event_type == "licensing.licences_revoked")
    assert ended.case_id == "D1" and [p["permit_number"] for p in ended.data["outputs"]["permits"]] == [
        filing["permit_number"]]
    publish(broker_uri, licensing("L7", uscc, ["粮食收购"], []))
    assert [r["code"] for r in outcome(watcher, "L7").data["reasons"]] == ["enterprise_deregistered"]


def test_what_waits_for_staff_is_issued_on_their_approval_beside_what_was_issued_at_once(start_service, broker_uri,
                                                                                        watch, rpc):
    container = start_service(LicensingService, max_workers=1)  # in the order published: the enterprise is known first
    watcher = watch(*OUTCOMES)
    uscc = make_uscc("330402", 104)
    publish(broker_uri, registered(uscc, "R4"))
    publish(broker_uri, licensing("L8", uscc, ["药品零售", "第二类医疗器械销售", "粮食收购"], []))
    waiting = outcome(watcher, "L8")
    assert waiting.data["status"] == "awaiting_review"
    # 一业一证, each part on its own: the device filing is issued in the pharmacy's permit at once
    at_once = {p["name"]: p for p in waiting.data["outputs"]["permits"]}
    assert set(at_once) == {"粮食收购备案", "药店行业综合许可证"}
    filing, device = at_once["粮食收购备案"], at_once["药店行业综合许可证"]
    assert device["items"] == ["第二类医疗器械销售"]
    [waits] = waiting.data["outputs"]["awaiting_review"]
    assert waits["items"] == ["药品零售"] and [p["code"] for p in waits["parts"]] == ["drug_retail"]
    [review] = StaffRpc(rpc, "licensing").reviews(case_id="L8")["items"]
    assert [r["code"] for r in review["reasons"]] == ["approval_required"]
    StaffRpc(rpc, "licensing").decide(review["review_id"], {"decision": "approve"}, "department:staff")
    [issued] = watcher.wait_for(lambda e: e.case_id == "L8" and e.event_type == "licensing.licences_issued")
    assert issued.data["decided_by"] == "department:staff"
    by_name = {p["name"]: p for p in issued.data["outputs"]["permits"]}
    assert set(by_name) == {"粮食收购备案", "药店行业综合许可证"}
    assert by_name["粮食收购备案"]["permit_number"] == filing["permit_number"]  # not issued twice
    pharmacy = by_name["药店行业综合许可证"]
    assert pharmacy["mode"] == "approval" and pharmacy["comprehensive"] and pharmacy["check_due"] is None
    assert pharmacy["items"] == ["药品零售", "第二类医疗器械销售"]  # 换发: one permit covering every part
    assert pharmacy["permit_number"] != device["permit_number"]
    assert issued.data["outputs"]["awaiting_review"] == []
    engine = create_engine(container.config["DATABASE_URL"])
    with engine.connect() as connection:
        assert connection.execute(select(permits.c.status).where(
            permits.c.permit_number == device["permit_number"])).scalar() == "superseded"


def test_a_refused_part_is_refused_with_its_reasons_and_what_was_issued_stands(start_service, broker_uri,
                                                                             watch, rpc):
    container = start_service(LicensingService, max_workers=1)
    watcher = watch(*OUTCOMES)
    uscc = make_uscc("330402", 106)
    publish(broker_uri, registered(uscc, "R6"))
    publish(broker_uri, licensing("L10", uscc, ["药品零售", "第二类医疗器械销售"], []))
    assert outcome(watcher, "L10").data["status"] == "awaiting_review"
    [review] = StaffRpc(rpc, "licensing").reviews(case_id="L10")["items"]
    reasons = [{"code": "premises_unsuitable", "message": "经营场所不符合药品零售条件", "field": None}]
    StaffRpc(rpc, "licensing").decide(review["review_id"], {"decision": "refuse", "reasons": reasons}, "department:staff")
    [decided] = watcher.wait_for(lambda e: e.case_id == "L10" and e.event_type == "licensing.licences_issued")
    assert decided.data["status"] == "completed" and decided.data["reasons"] == reasons
    assert decided.data["decided_by"] == "department:staff"
    [device] = decided.data["outputs"]["permits"]
    assert device["items"] == ["第二类医疗器械销售"] and device["status"] == "valid"
    [refused] = decided.data["outputs"]["refused"]
    assert refused["items"] == ["药品零售"] and refused["reasons"] == reasons
    engine = create_engine(container.config["DATABASE_URL"])
    with engine.connect() as connection:
        assert connection.execute(select(permits.c.status).where(permits.c.case_id == "L10")).scalars().all() == [
            "valid"]


def test_a_refusal_with_nothing_issued_rejects_the_step(start_service, broker_uri, watch, rpc):
    start_service(LicensingService, max_workers=1)
    watcher = watch(*OUTCOMES)
    uscc = make_uscc("330402", 107)
    publish(broker_uri, registered(uscc, "R7"))
    publish(broker_uri, licensing("L11", uscc, ["药品零售"], []))
    assert outcome(watcher, "L11").data["status"] == "awaiting_review"
    [review] = StaffRpc(rpc, "licensing").reviews(case_id="L11")["items"]
    reasons = [{"code": "premises_unsuitable", "message": "经营场所不符合药品零售条件", "field": None}]
    StaffRpc(rpc, "licensing").decide(review["review_id"], {"decision": "refuse", "reasons": reasons}, "department:staff")
    [refused] = watcher.wait_for(lambda e: e.case_id == "L11" and e.event_type == "licensing.licensing_refused")
    assert refused.data["reasons"] == reasons


def test_a_withdrawn_case_ends_the_permits_it_was_issued(start_service, broker_uri, watch):
    container = start_service(LicensingService, max_workers=1)  # in the order published: the enterprise is known first
    watcher = watch(*OUTCOMES)
    uscc = make_uscc("330402", 105)
    publish(broker_uri, registered(uscc, "R5"))
    publish(broker_uri, licensing("L9", uscc, ["机动车修理和维护"], []))
    assert outcome(watcher, "L9").event_type == "licensing.licences_issued"
    publish(broker_uri, new_event("case.withdrawn", CaseWithdrawn(
        matter="licensing", owner="alice", reason="不再经营", steps=["licensing.issue"],
        withdrawn_at=datetime.now(timezone.utc)), case_id="L9"))
    [cancelled] = watcher.wait_for(lambda e: e.case_id == "L9" and e.data["status"] == "cancelled")
    assert cancelled.data["undoes"] is True
    engine = create_engine(container.config["DATABASE_URL"])
    with engine.connect() as connection:
        assert connection.execute(select(permits.c.status, permits.c.revocation_reason)).all() == [
            ("cancelled", "申请人撤回申请")]
    engine.dispose()


def test_permits_issued_on_a_registration_that_is_undone_are_revoked_once(start_service, broker_uri, watch):
    container = start_service(LicensingService, max_workers=1)
    watcher = watch(*OUTCOMES)
    uscc = make_uscc("330402", 106)
    application = samples.establishment_application("明修", scope=("软件开发", "机动车修理和维护"))
    publish(broker_uri, submitted("E1", "establishment", application), registered(uscc, "E1"))
    assert outcome(watcher, "E1").event_type == "licensing.licences_issued"
    undo = step_undone("E1", "registration.establish")
    publish(broker_uri, undo, undo)
    [undone] = watcher.wait_for(lambda e: e.event_type == "licensing.licensing_refused")
    assert undone.data["undoes"] is True
    assert [r["code"] for r in undone.data["reasons"]] == ["prerequisite_undone"]
    wait_until_consumed(broker_uri, "licensing.inbox")
    engine = create_engine(container.config["DATABASE_URL"])
    with engine.connect() as connection:
        assert connection.execute(select(permits.c.status, permits.c.revocation_reason)).all() == [
            ("cancelled", "所依据的登记已撤销")]
    engine.dispose()
    assert len(watcher.drain()) == 2
    # the enterprise struck off, licensing for it is refused from now on
    publish(broker_uri, licensing("L12", uscc, ["机动车修理和维护"], []))
    refused = outcome(watcher, "L12")
    assert [r["code"] for r in refused.data["reasons"]] == ["enterprise_revoked"]

REASON = {"code": "premises_unsuitable", "message": "经营场所无油烟净化设施，与承诺不符", "field": None}


def test_checks_fall_due_into_the_queue_and_each_result_does_what_it_says(start_service, broker_uri, watch, rpc,
                                                                          monkeypatch):
    container = start_service(LicensingService, max_workers=1, COMMITMENT_CHECK_SECONDS=0.2)
    watcher = watch(*OUTCOMES, "licensing.permit_revoked", "licensing.commitment_verified",
                    "licensing.rectification_ordered")
    later, soon, third = make_uscc("330402", 201), make_uscc("330402", 202), make_uscc("330402", 203)
    publish(broker_uri, registered(later, "R21"), registered(soon, "R22"), registered(third, "R23"))
    monkeypatch.setenv("COMMITMENT_CHECK_PERIOD_SECONDS", "3600")
    publish(broker_uri, licensing("L21", later, ["餐饮服务", "软件开发"], ["餐饮服务"]))
    [not_yet] = outcome(watcher, "L21").data["outputs"]["permits"]
    # the 告知承诺书 signed is kept with the permit and shown on its part
    assert not_yet["parts"][0]["commitment_notice"]["conditions"] and "撤销许可" in not_yet["parts"][0]["commitment_notice"]["liability"]
    monkeypatch.setenv("COMMITMENT_CHECK_PERIOD_SECONDS", "0.2")
    publish(broker_uri, licensing("L22", soon, ["职业中介活动"], ["职业中介活动"]),
            licensing("L23", third, ["洗浴服务"], ["洗浴服务"]))
    due_permit = outcome(watcher, "L22").data["outputs"]["permits"][0]["permit_number"]
    third_permit = outcome(watcher, "L23").data["outputs"]["permits"][0]["permit_number"]

    staff = rpc("licensing", staff_token("licensing", "inspector"))
    due = wait_for(lambda: (lambda page: page if len(page["items"]) == 2 else None)(staff.commitment_checks("due")),
                   what="two checks to fall due")
    assert [c["permit"]["permit_number"] for c in due["items"]] == [due_permit, third_permit]  # oldest due first
    first = due["items"][0]
    assert first["status"] == "open" and first["uscc"] == soon and first["case_id"] == "L22"
    assert first["permit"]["conditions"] and first["department"] == "licensing"
    everything = staff.commitment_checks("all")["items"]
    assert [c["permit"]["permit_number"] for c in everything][-1] == not_yet["permit_number"]  # open, not yet due
    assert [c["uscc"] for c in staff.commitment_checks("all", later)["items"]] == [later]
    page = staff.commitment_checks("due", None, 1)
    assert len(page["items"]) == 1 and page["next"] == first["check_id"]
    assert [c["check_id"] for c in staff.commitment_checks("due", None, 1, page["next"])["items"]] == \
        [due["items"][1]["check_id"]]
    with pytest.raises(RemoteError) as not_theirs:
        rpc("licensing", staff_token("tax", "tax-officer")).commitment_checks("due")
    assert not_theirs.value.exc_type == "CallerForbidden"

    # overdue once the period passed again unchecked: counted for operators
    engine = create_engine(container.config["DATABASE_URL"])
    try:
        wait_for(lambda: checks.overdue_counts(engine.connect(), datetime.now(timezone.utc)).get("licensing") == 2,
                 what="two overdue checks")
    finally:
        engine.dispose()

    # verified closes the check; nothing more can be recorded on it
    verified = staff.record_check_result(first["check_id"], {"result": "verified"})
    assert verified["status"] == "verified" and verified["checked_by"] == "department:inspector"
    [event] = watcher.wait_for(lambda e: e.event_type == "licensing.commitment_verified")
    assert event.case_id == "L22" and event.data["permit_number"] == due_permit
    with pytest.raises(RemoteError) as closed:
        staff.record_check_result(first["check_id"], {"result": "false_commitment", "reasons": [REASON]})
    assert closed.value.exc_type == "CheckClosed"

    # rectify: a deadline in the past is refused, naming the field; past a set one, the timer revokes
    second = due["items"][1]["check_id"]
    with pytest.raises(RemoteError) as past:
        staff.record_check_result(second, {"result": "rectify", "reasons": [REASON],
                                           "rectify_by": (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()})
    assert past.value.exc_type == "InvalidApplication" and "rectify_by" in str(past.value.value)
    rectify_by = datetime.now(timezone.utc) + timedelta(seconds=1)
    rectifying = staff.record_check_result(second, {"result": "rectify", "reasons": [REASON],
                                                    "rectify_by": rectify_by.isoformat()})
    assert rectifying["status"] == "rectifying"
    [ordered] = watcher.wait_for(lambda e: e.event_type == "licensing.rectification_ordered")
    assert ordered.data["rectify_by"] and ordered.data["reasons"] == [REASON]
    [revoked] = watcher.wait_for(lambda e: e.event_type == "licensing.permit_revoked")
    assert revoked.case_id == "L23" and revoked.data["ground"] == "not_rectified"
    assert revoked.data["permit_number"] == third_permit and revoked.data["actor"] == "system:rectification_deadline"
    assert [c["check_id"] for c in staff.commitment_checks("all")["items"]] == \
        [c["check_id"] for c in everything if c["permit"]["permit_number"] == not_yet["permit_number"]]

    # false_commitment revokes at once, as a false promise with its signer
    last = staff.commitment_checks("all")["items"][0]["check_id"]
    answer = staff.record_check_result(last, {"result": "false_commitment", "reasons": [REASON]})
    assert answer["status"] == "revoked" and answer["result"] == "false_commitment"
    [false] = watcher.wait_for(lambda e: e.event_type == "licensing.permit_revoked" and e.case_id == "L21")
    assert false.data["ground"] == "false_commitment" and false.data["finding"] == REASON["message"]
    assert false.data["check_id"] == last and false.data["signer"]["id_number"]
    assert staff.commitment_checks("all")["items"] == []
