"""Registration on the real broker and database: plans in, registrations out."""

from datetime import datetime, timezone

from sqlalchemy import create_engine, select
from yjs_contracts import samples
from yjs_contracts.codes import is_valid_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import PermitRevoked, Signer
from yjs_kit.testing import (prerequisites_completed, publish, wait_for, wait_for_lock_waiters, wait_for_row,
                             wait_until_consumed)
from yjs_kit.testing import case_submitted as submitted
from yjs_kit.steps import own_report_events
from yjs_kit.topology import consumers
from yjs_registration.models import enterprises, metadata
from yjs_registration.rules import name_key
from yjs_registration.service import RegistrationService



def test_a_valid_application_is_registered_once_even_when_delivered_twice(start_service, broker_uri, watch):
    container = start_service(RegistrationService)
    watcher = watch("registration.enterprise_registered", "registration.establishment_refused")
    event = submitted("C1", samples.establishment_application("奔腾"))
    publish(broker_uri, event, event)
    [registered] = watcher.wait_for()
    assert registered.event_type == "registration.enterprise_registered"
    assert registered.causation_id == str(event.event_id)
    assert is_valid_uscc(registered.data["outputs"]["uscc"])
    wait_until_consumed(broker_uri, "registration.inbox")  # the duplicate too was handled and acked
    url = container.config["DATABASE_URL"]
    assert wait_for_row(url, "SELECT count(*) AS n FROM enterprises")["n"] == 1
    # its effect would be in the outbox even before the relay published it
    assert wait_for_row(url, "SELECT count(*) AS n FROM kit_outbox WHERE routing_key = 'enterprise_registered'")["n"] == 1
    assert len(watcher.drain()) == 1


def test_its_own_reports_are_kept_as_it_announces_them_not_heard_back(start_service, broker_uri, watch):
    """The enterprise record keeps registration's own report in the transaction that announces
    it: its inbox is not bound to its own report events, so nothing brings them back to it."""
    assert not dict(consumers(RegistrationService))["on_event"] & own_report_events("registration")
    container = start_service(RegistrationService)
    watcher = watch("registration.enterprise_registered")
    publish(broker_uri, submitted("C60", samples.establishment_application("自存")))
    [registered] = watcher.wait_for()
    kept = wait_for_row(container.config["DATABASE_URL"], "SELECT case_id, step, status FROM department_reports "
                        f"WHERE event_id = '{registered.event_id}'", what="the kept report")
    assert dict(kept) == {"case_id": "C60", "step": "registration.establish", "status": "completed"}


def test_refusals_name_every_failing_rule(start_service, broker_uri, watch):
    start_service(RegistrationService)
    watcher = watch("registration.establishment_refused")
    application = samples.establishment_application("中国")
    application["legal_representative"]["id_number"] = "110105194912310021"
    application["shareholders"][0]["subscribed_amount"] = "10.00"
    publish(broker_uri, submitted("C2", application))
    [refused] = watcher.wait_for()
    codes = {r["code"] for r in refused.data["reasons"]}
    assert {"prohibited_word", "invalid_id_number", "subscriptions_mismatch"} <= codes
    assert refused.data["status"] == "rejected"


def test_a_taken_name_is_refused(start_service, broker_uri, watch):
    start_service(RegistrationService)
    watcher = watch("registration.enterprise_registered", "registration.establishment_refused")
    publish(broker_uri, submitted("C3", samples.establishment_application("飞跃")))
    watcher.wait_for()
    publish(broker_uri, submitted("C4", samples.establishment_application("飞跃")))
    events = watcher.wait_for(count=2)
    assert [e.event_type for e in events] == ["registration.enterprise_registered", "registration.establishment_refused"]
    assert events[1].data["reasons"][0]["code"] == "name_taken"


def test_a_registrars_check_refuses_on_the_real_broker_and_database(start_service, broker_uri, watch):
    """A supervisor who is also the company's manager: refused with the rule's code and field,
    and nothing is registered."""
    container = start_service(RegistrationService)
    watcher = watch("registration.enterprise_registered", "registration.establishment_refused")
    application = samples.establishment_application("兼任")
    supervisor = application["officers"][1]
    application["officers"].append({"role": "manager", "name": supervisor["name"], "id_number": supervisor["id_number"]})
    publish(broker_uri, submitted("C7", application))
    [refused] = watcher.wait_for()
    assert refused.event_type == "registration.establishment_refused"
    assert [(r["code"], r["field"]) for r in refused.data["reasons"]] == [
        ("supervisor_also_director_or_manager", "application.officers.1.id_number")]
    assert "监事李娜同时担任经理" in refused.data["reasons"][0]["message"]
    assert wait_for_row(container.config["DATABASE_URL"], "SELECT count(*) AS n FROM enterprises")["n"] == 0


def test_a_name_differing_only_in_the_forms_wording_is_taken(start_service, broker_uri, watch):
    start_service(RegistrationService)
    watcher = watch("registration.enterprise_registered", "registration.establishment_refused")
    publish(broker_uri, submitted("C8", samples.establishment_application("同名")))
    watcher.wait_for()
    again = samples.establishment_application("同名")
    again["enterprise"]["name"] = "嘉兴同名数字科技有限责任公司"
    again["enterprise"]["name_parts"]["form"] = "有限责任公司"
    publish(broker_uri, submitted("C9", again))
    events = watcher.wait_for(count=2)
    assert [e.event_type for e in events] == ["registration.enterprise_registered", "registration.establishment_refused"]
    assert [r["code"] for r in events[1].data["reasons"]] == ["name_taken"]


def test_two_cases_after_one_name_at_the_same_moment_one_is_registered(start_service, broker_uri, watch):
    """The race forced: the test holds the name's lock while both cases arrive; released, one
    takes the name and the other is refused, whichever goes first. Each case in its own
    transaction, as on two replicas (in one batch the second would see the first's name)."""
    from sqlalchemy import text
    from sqlalchemy.pool import NullPool

    url = start_service(RegistrationService, EVENT_BATCH=1).config["DATABASE_URL"]
    watcher = watch("registration.enterprise_registered", "registration.establishment_refused")
    application = samples.establishment_application("同时", seals=(), bank_account=False)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                           {"k": f"enterprise-name:{name_key(application['enterprise']['name'])}"})
            publish(broker_uri, submitted("S1", application), submitted("S2", application))
            wait_for_lock_waiters(url, 2, wait_event="advisory", what="both cases waiting for the name")
            holder.rollback()
    finally:
        engine.dispose()
    events = watcher.wait_for(count=2)
    assert sorted(e.event_type for e in events) == ["registration.enterprise_registered",
                                                    "registration.establishment_refused"]
    [refused] = [e for e in events if e.event_type.endswith("refused")]
    assert [r["code"] for r in refused.data["reasons"]] == ["name_taken"]
    assert wait_for_row(url, "SELECT count(*) AS n FROM enterprises")["n"] == 1


def prerequisites_done(case_id: str, uscc: str):
    """What 注销登记 waits for, the notice's end (without objection) first: tax cleared and
    whatever else the plan has it wait for."""
    now = datetime.now(timezone.utc).isoformat()
    notice = {"notice_id": "ZXGG20261129000001", "route": "simple", "starts_at": now, "ends_at": now, "ended_at": now}
    return prerequisites_completed(case_id, "deregistration", samples.deregistration_application(uscc),
                                   "registration.deregister", {"deregistration.notice": notice})


def test_deregistration_waits_for_notice_and_tax_then_frees_the_name(start_service, broker_uri, watch):
    container = start_service(RegistrationService)
    watcher = watch("registration.enterprise_registered", "registration.establishment_refused",
                    "registration.enterprise_deregistered", "registration.deregistration_refused")
    publish(broker_uri, submitted("C5", samples.establishment_application("长风")))
    [first] = watcher.wait_for()
    uscc = first.data["outputs"]["uscc"]
    notice_ended, *others_done = prerequisites_done("D5", uscc)
    publish(broker_uri, submitted("D5", samples.deregistration_application(uscc), "deregistration"), notice_ended)
    engine = create_engine(container.config["DATABASE_URL"])

    def recorded(table):
        with engine.connect() as connection:
            return connection.execute(select(table).where(table.c.case_id == "D5")).all()

    wait_for(lambda: recorded(metadata.tables["kit_step_facts"]), what="the notice's end recorded")
    assert recorded(metadata.tables["kit_steps"]) == []  # tax is not cleared yet: nothing started
    publish(broker_uri, *others_done)
    [closed] = watcher.wait_for(lambda e: e.case_id == "D5")
    assert closed.event_type == "registration.enterprise_deregistered"
    assert closed.data["outputs"]["uscc"] == uscc and closed.data["outputs"]["enterprise_name"] == "嘉兴长风数字科技有限公司"
    with engine.connect() as connection:
        row = connection.execute(select(enterprises).where(enterprises.c.uscc == uscc)).mappings().one()
    assert (row["status"], row["deregistration_case_id"]) == ("deregistered", "D5") and row["deregistered_at"]
    # the name is free again, and the closed enterprise cannot be closed twice
    publish(broker_uri, submitted("C6", samples.establishment_application("长风")))
    [second] = watcher.wait_for(lambda e: e.case_id == "C6")
    assert second.event_type == "registration.enterprise_registered" and second.data["outputs"]["uscc"] != uscc
    publish(broker_uri, submitted("D6", samples.deregistration_application(uscc), "deregistration"),
            *prerequisites_done("D6", uscc))
    [refused] = watcher.wait_for(lambda e: e.case_id == "D6")
    assert refused.event_type == "registration.deregistration_refused"
    assert refused.data["reasons"][0]["code"] == "already_deregistered"
    engine.dispose()


def test_a_promise_found_false_goes_on_the_credit_record_once_and_is_announced(start_service, broker_uri, watch, rpc,
                                                                              monkeypatch):
    """信用记录: a false commitment's revocation, however often delivered, is one record and one
    announcement, barring for COMMITMENT_BAR_DAYS; a rectification not done in time is none."""
    from datetime import timedelta

    from yjs_contracts.events import PermitRevoked, Signer
    from yjs_kit.testing import operator_token

    monkeypatch.setenv("COMMITMENT_BAR_DAYS", "30")
    container = start_service(RegistrationService, max_workers=1)
    watcher = watch("registration.enterprise_registered", "registration.credit_recorded")
    publish(broker_uri, submitted("C40", samples.establishment_application("守信")))
    [registered] = watcher.wait_for(lambda e: e.event_type == "registration.enterprise_registered")
    uscc = registered.data["outputs"]["uscc"]
    now = datetime.now(timezone.utc)

    def revoked(number: str, ground: str):
        return new_event("licensing.permit_revoked", PermitRevoked(
            step="licensing.issue", summary="许可撤销", uscc=uscc, permit_number=number, finding="无油烟净化设施，与承诺不符",
            actor="department:inspector", revoked_at=now, ground=ground,
            signer=Signer(name="张伟", id_number=samples.LEGAL_REPRESENTATIVE_ID)), case_id="L40")

    false = revoked("JY330402000000017", "false_commitment")
    publish(broker_uri, false, false, revoked("WG330402000000016", "not_rectified"))
    [recorded] = watcher.wait_for(lambda e: e.event_type == "registration.credit_recorded")
    assert recorded.data["uscc"] == uscc and recorded.data["permit_number"] == "JY330402000000017"
    assert recorded.data["signer"] == {"name": "张伟", "id_number": samples.LEGAL_REPRESENTATIVE_ID}
    assert datetime.fromisoformat(recorded.data["barred_until"]) - now == timedelta(days=30)
    assert recorded.data["enterprise_name"] == "嘉兴守信数字科技有限公司"
    wait_until_consumed(broker_uri, "registration.inbox")
    # one announcement stored, whatever was delivered twice (the outbox holds it before it is published)
    assert wait_for_row(container.config["DATABASE_URL"], "SELECT count(*) AS n FROM kit_outbox "
                        "WHERE routing_key = 'credit_recorded'")["n"] == 1
    [entry] = rpc("registration", operator_token()).enterprise_record(uscc)["credit_records"]
    assert entry["permit_number"] == "JY330402000000017" and entry["in_force"] and entry["kind"] == "false_commitment"
    assert entry["signer"]["name"] == "张伟" and entry["signer"]["id_number"] != samples.LEGAL_REPRESENTATIVE_ID
