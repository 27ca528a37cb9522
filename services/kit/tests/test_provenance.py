"""The rules a consumer reads and trusts a message by, without a broker."""

import json
import pickle

import pytest
from yjs_contracts.envelope import new_event
from yjs_contracts.events import step_report
from yjs_contracts.steps import StepStatus
from yjs_kit.outbox import outbox_row
from yjs_kit.provenance import Refused, check, read


def body(event) -> bytes:
    return json.dumps(event.model_dump(mode="json")).encode()


def refusal(fn, *args) -> str:
    with pytest.raises(Refused) as caught:
        fn(*args)
    return caught.value.kind


def test_only_a_json_envelope_is_readable():
    event = new_event("case.submitted", {}, case_id="C1")
    assert read(body(event), "application/json", "utf-8") == event
    assert read(body(event), "application/json; charset=utf-8") == event
    assert refusal(read, body(event), "text/plain") == "unreadable"
    assert refusal(read, body(event), None) == "unreadable"
    assert refusal(read, pickle.dumps({"a": 1}), "application/x-python-serialize") == "unreadable"
    assert refusal(read, b"{", "application/json") == "unreadable"
    assert refusal(read, b"\xff", "application/json") == "unreadable"
    assert refusal(read, b"[]", "application/json") == "unreadable"
    assert refusal(read, body(event), "application/json", "gzip") == "unreadable"


def test_an_unreadable_body_says_why_it_is_refused():
    """The dead letter tells an operator what was wrong with the bytes: not UTF-8, not JSON, or
    JSON that is not an envelope; an envelope written by the outbox reads back as it was."""
    def detail(raw: bytes) -> str:
        with pytest.raises(Refused) as caught:
            read(raw, "application/json")
        return caught.value.detail

    assert detail(b"\xff{}").startswith("not UTF-8")
    assert detail(b'{"event_id": ').startswith("not JSON")
    assert detail(b"[1]").startswith("not an envelope")
    assert detail(b'{"event_type": "case.submitted"}').startswith("not an envelope")
    event = new_event("case.submitted", {"名称": "甲", "n": [1.5, None]}, case_id="C1")
    written = outbox_row(event)["body"]
    assert "甲" in written and read(written.encode(), "application/json") == event


def test_an_event_is_trusted_only_from_its_producers_exchange():
    event = new_event("case.submitted", {}, case_id="C1")
    check(event, "case.events")
    assert refusal(check, event, "registration.events") == "provenance"
    assert refusal(check, event, None) == "provenance"
    assert refusal(check, event, "amq.topic") == "provenance"
    assert refusal(check, event.model_copy(update={"producer": "registration"}), "registration.events") == "provenance"


def test_a_step_report_is_trusted_only_for_its_producers_own_steps():
    own = new_event("tax.step_updated", step_report("tax.register", StepStatus.awaiting_review), case_id="C1")
    check(own, "tax.events")
    foreign = new_event("tax.step_updated", step_report("licensing.issue", StepStatus.cancelled), case_id="C1")
    assert refusal(check, foreign, "tax.events") == "provenance"
    unknown = new_event("tax.step_updated", {"step": "tax.nothing", "status": "cancelled"}, case_id="C1")
    assert refusal(check, unknown, "tax.events") == "provenance"


def test_a_completed_steps_outputs_must_match_their_contract():
    outputs = {"uscc": "913304020000000000", "licence_number": "1", "enterprise_name": "x",
               "registered_at": "2026-01-01T00:00:00Z"}
    report = {"step": "registration.establish", "status": "completed", "outputs": outputs}
    event = new_event("registration.enterprise_registered", report, case_id="C1")
    assert refusal(check, event, "registration.events") == "invalid"


def test_with_a_user_per_service_an_event_is_trusted_only_from_its_producers_user():
    from yjs_kit.broker_users import broker_user

    event = new_event("registration.enterprise_registered", {"uscc": "x"}, case_id="C1")
    check(event, "registration.events", "guest")  # all on one account: the publisher says nothing
    check(event, "registration.events", "yjs-registration", broker_user)
    for publisher in ("guest", None, "yjs-tax", "yjs-registration2"):
        assert refusal(check, event, "registration.events", publisher, broker_user) == "provenance"


def test_production_runs_each_service_as_its_own_broker_user():
    from yjs_kit.broker_users import own_user_problem
    from yjs_kit.config import broker_users_on

    assert broker_users_on({}) is False and broker_users_on({"YJS_BROKER_USERS": "1"}) is True
    assert broker_users_on({"YJS_ENV": "production"}) is True
    own = "amqp://yjs-tax:pw@rabbitmq:5672/"
    assert own_user_problem({"AMQP_URI": own, "BROKER_USERS": True, "YJS_ENV": "production"}, "tax") is None
    assert own_user_problem({"AMQP_URI": "amqp://guest:guest@rabbitmq/", "BROKER_USERS": False}, "tax") is None
    assert "may not be off" in own_user_problem(
        {"AMQP_URI": own, "BROKER_USERS": False, "YJS_ENV": "production"}, "tax")
    assert "'yjs-tax', not 'guest'" in own_user_problem(
        {"AMQP_URI": "amqp://guest:guest@rabbitmq/", "BROKER_USERS": True}, "tax")
