"""Who acts for an enterprise, end to end: strangers refused at the door with nothing stored, an
agent for exactly the matters named and until its date, and the enterprise record as the
departments built it, readable by its people only."""

from __future__ import annotations

from datetime import date, timedelta

from yjs_cli.client import ApiClient, token_for
from yjs_contracts import samples
from yjs_kit.testing import wait_for

LEGAL = samples.LEGAL_REPRESENTATIVE_ID
AGENT = samples.person(601)
STRANGER = samples.person(602)


def established(system, fresh_application):
    """A company with seals and an account, filed by an agent (代办) for 张伟."""
    filer = system.client("e2e-filer", id_number=samples.person(603))
    answer = filer.submit(fresh_application())
    assert answer.status_code == 202, answer.text
    record = filer.wait_until_final(answer.json()["case_id"], timeout=90)
    assert record["status"] == "completed", record
    return record["outputs"]["uscc"], record["case_id"]


def licensing(uscc):
    return {"matter": "licensing", "application": {"uscc": uscc, "business_scope": ["餐饮服务"],
                                                   "commitments": ["餐饮服务"]}}


def deregistration(uscc):
    return {"matter": "deregistration", "application": samples.deregistration_application(uscc)}


def test_strangers_are_refused_and_nothing_is_stored(system, fresh_application):
    uscc, _ = established(system, fresh_application)
    stranger = system.client("e2e-mallory", id_number=STRANGER)
    filer = system.client("e2e-filer", id_number=samples.person(603))
    for client in (stranger, filer, system.client("e2e-unverified", id_number=None)):
        for body in (deregistration(uscc), licensing(uscc)):
            answer = client.submit(body)
            assert answer.status_code == 403, answer.text
            assert answer.json()["error"]["code"] == "not_authorized_for_enterprise"
    assert stranger.request("GET", "/v1/cases").json()["items"] == []
    assert system.query("case", "SELECT count(*) FROM cases WHERE application->>'uscc' = :u", u=uscc) == [(0,)]
    assert system.query("registration", "SELECT status FROM enterprises WHERE uscc = :u", u=uscc) == [("registered",)]


def test_an_agent_acts_for_the_matters_named_until_its_date_and_cannot_appoint(system, fresh_application):
    uscc, _ = established(system, fresh_application)
    legal = system.client("e2e-zhangwei")
    until = (date.today() + timedelta(days=90)).isoformat()
    appointed = legal.request("POST", f"/v1/enterprises/{uscc}/agents", json={
        "name": "李娜", "id_number": AGENT, "matters": ["licensing"], "valid_until": until})
    assert appointed.status_code == 201, appointed.text
    agent = system.client("e2e-lina", id_number=AGENT)
    accepted = agent.submit(licensing(uscc))
    assert accepted.status_code == 202, accepted.text
    assert agent.wait_until_final(accepted.json()["case_id"], timeout=60)["status"] == "completed"
    refused = agent.submit(deregistration(uscc))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_authorized_for_enterprise"
    by_agent = agent.request("POST", f"/v1/enterprises/{uscc}/agents", json={
        "name": "王五", "id_number": STRANGER, "matters": ["licensing"], "valid_until": until})
    assert by_agent.status_code == 403
    # the day after valid_until the authorisation acts no more
    system.query("registration", "UPDATE agents SET valid_until = :d WHERE agent_id = :a",
                 d=date.today() - timedelta(days=1), a=appointed.json()["agent_id"])
    assert agent.submit(licensing(uscc)).status_code == 403
    assert len(agent.request("GET", "/v1/cases").json()["items"]) == 1


def test_the_enterprise_record_as_the_departments_built_it_for_its_people_only(system, fresh_application):
    uscc, establishment = established(system, fresh_application)
    legal = system.client("e2e-zhangwei")
    permit_case = legal.submit(licensing(uscc)).json()["case_id"]
    assert legal.wait_until_final(permit_case, timeout=60)["status"] == "completed"

    def complete():
        record = legal.request("GET", f"/v1/enterprises/{uscc}").json()
        return record if record.get("permits") and len(record["history"]) == 2 else None

    record = wait_for(complete, timeout=30, what="the enterprise record")
    assert record["status"] == "registered" and record["legal_representative"] == {"name": "张伟"}
    assert {s["type"] for s in record["seals"]} == {"official", "finance", "invoice", "contract", "legal_representative"}
    assert record["taxpayer"]["uscc"] == uscc and record["taxpayer"]["status"] == "registered"
    assert [a["status"] for a in record["bank_accounts"]] == ["open"]
    assert record["permits"][0]["status"] == "valid"
    # the insurance registration, kept by the steps' table of what each completion keeps
    insured = record["social_insurance"]
    assert (insured["uscc"], insured["status"]) == (uscc, "registered") and len(insured["registration_number"]) == 16
    assert [(h["case_id"], h["matter"]) for h in record["history"]] == [
        (establishment, "establishment"), (permit_case, "licensing")]
    assert "公章刻制已办结" in record["history"][0]["summary"]
    assert system.client("e2e-ops", "operator").request("GET", f"/v1/enterprises/{uscc}").status_code == 200
    staff = ApiClient(system.base_url, token_for("e2e-clerk", "department", "tax"))
    assert staff.request("GET", f"/v1/enterprises/{uscc}").status_code == 200
    for outsider in (system.client("e2e-mallory", id_number=STRANGER), system.client("e2e-filer", id_number=samples.person(603))):
        assert outsider.request("GET", f"/v1/enterprises/{uscc}").status_code == 404
