"""Forged department results against the whole system, which runs with a broker user per service:
guest (rights on every exchange) announcing a registration, and tax reporting registration's step,
are dead-lettered as `provenance` and the case waiting in review is unchanged; the registrar's
real decision then takes the case to its end."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import amqp
import pytest
from kombu import Connection
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import EnterpriseRegistered, step_report
from yjs_contracts.steps import StepStatus
from yjs_kit.broker_users import broker_password, uri_with_user
from yjs_cli.client import ApiClient, token_for
from yjs_kit.testing import publish, queue_depths, wait_for, wait_until_consumed


def step(record, name):
    return next(s for s in record["steps"] if s["step"] == name)


def until(client, case_id, predicate, what, timeout=60):
    return wait_for(lambda: (lambda record: record if predicate(record) else None)(client.case(case_id)),
                    timeout=timeout, interval=0.2, what=what)


def registered_outputs() -> EnterpriseRegistered:
    n = uuid.uuid4().int % 10**8
    return EnterpriseRegistered(uscc=make_uscc("330402", n), licence_number=f"330402{n:09d}",
                                enterprise_name="伪造有限公司", registered_at=datetime.now(timezone.utc))


def test_forged_results_are_dead_lettered_and_the_case_waiting_in_review_is_unchanged(system, fresh_application):
    applicant = system.client("e2e-forged")
    body = fresh_application(seals=(), bank_account=False)
    body["application"]["shareholders"][0]["nationality"] = "USA"  # registration's rules: a registrar reviews
    answer = applicant.submit(body)
    assert answer.status_code == 202, answer.text
    case_id = answer.json()["case_id"]
    before = until(applicant, case_id, lambda r: step(r, "registration.establish")["status"] == "awaiting_review",
                   "the review")
    registrar = ApiClient(system.base_url, token_for("registrar-li", "department", "registration"))
    [review] = registrar.request("GET", "/v1/departments/registration/reviews", params={"case_id": case_id}).json()["items"]

    completed = step_report("registration.establish", StepStatus.completed, registered_outputs())
    # guest may write on every exchange; the broker lets it publish, the consumers do not believe it
    publish(system.amqp_uri, new_event("registration.enterprise_registered", completed, case_id=case_id))
    # another department's user may not even publish on registration's exchange
    tax_uri = uri_with_user(system.amqp_uri, "yjs-tax", broker_password("tax"))
    with Connection(tax_uri) as connection:
        channel = connection.channel()
        with pytest.raises(amqp.exceptions.AccessRefused):
            channel.basic_publish(amqp.Message("{}", content_type="application/json"),
                                  exchange="registration.events", routing_key="enterprise_registered")
            channel.basic_qos(0, 1, False)  # a round trip: the refusal closes the channel by then
    # ... and on its own exchange, registration's step is not tax's to report
    publish(tax_uri, new_event("tax.step_updated", completed, case_id=case_id))

    def refused():
        rows = system.query("case", "SELECT event_type, kind, publisher FROM kit_dead_letters WHERE case_id = :c",
                            c=case_id)
        return sorted(tuple(r) for r in rows) if len(rows) >= 2 else None

    assert wait_for(refused, timeout=30, what="both forgeries dead-lettered by the case service") == [
        ("registration.enterprise_registered", "provenance", "guest"), ("tax.step_updated", "provenance", "yjs-tax")]
    # every consumer has taken the forgeries: what they did is committed
    wait_until_consumed(system.amqp_uri, *[q for q in queue_depths(system.amqp_uri) if q.endswith(".inbox")])
    for service in system.database_urls:
        rows = system.query(service, "SELECT body FROM kit_outbox WHERE routing_key = 'event_dead_lettered'")
        assert not [r for r in rows if case_id in r.body], f"{service} announced a forgery as a stall of the case"
    after = applicant.case(case_id)
    assert after["status"] == before["status"] == "in_progress"
    assert [(s["step"], s["status"], s["stalled"], s.get("outputs")) for s in after["steps"]] == \
        [(s["step"], s["status"], s["stalled"], s.get("outputs")) for s in before["steps"]]
    assert step(after, "registration.establish")["status"] == "awaiting_review"

    # the registrar's approval is published by registration's own user: believed, the case goes on
    decided = registrar.request("POST", f"/v1/departments/registration/reviews/{review['review_id']}/decision",
                                json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    final = until(applicant, case_id, lambda r: r["status"] == "completed", "the case completed", timeout=90)
    assert step(final, "registration.establish")["outputs"]["uscc"] != completed.outputs["uscc"]
