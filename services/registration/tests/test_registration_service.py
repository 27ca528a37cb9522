"""Registration on the real broker and database: plans in, registrations out."""

from datetime import datetime, timezone

from sqlalchemy import create_engine, select
from yjs_contracts import samples
from yjs_contracts.codes import is_valid_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import CaseSubmitted
from yjs_contracts.plans import plan_for, with_deadlines
from yjs_kit.testing import publish, wait_for
from yjs_registration.models import enterprises
from yjs_registration.service import RegistrationService


def submitted(case_id: str, application: dict, matter: str = "establishment"):
    now = datetime.now(timezone.utc)
    plan = with_deadlines(matter, plan_for(matter, application), now)
    return new_event("case.submitted", CaseSubmitted(matter=matter, owner="alice", application=application,
                                                     plan=plan, submitted_at=now), case_id=case_id)


def test_a_valid_application_is_registered_once_even_when_delivered_twice(start_service, broker_uri, watch):
    container = start_service(RegistrationService)
    watcher = watch("registration.enterprise_registered", "registration.establishment_refused")
    event = submitted("C1", samples.establishment_application("奔腾"))
    publish(broker_uri, event, event)
    [registered] = watcher.wait_for()
    assert registered.event_type == "registration.enterprise_registered"
    assert registered.causation_id == str(event.event_id)
    assert is_valid_uscc(registered.data["outputs"]["uscc"])
    engine = create_engine(container.config["DATABASE_URL"])
    wait_for(lambda: len(engine.connect().execute(select(enterprises)).all()) == 1)
    assert len(watcher.drain()) == 1
    engine.dispose()


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
