"""Who may act for an enterprise, on the real broker and database: the gateway asks registration
before it accepts a matter about an existing enterprise; agents; the enterprise record."""

from datetime import date, timedelta

import pytest
import requests
from sqlalchemy import create_engine, update
from yjs_case.service import CaseService
from yjs_contracts import samples
from yjs_contracts.codes import make_uscc
from yjs_gateway.service import Gateway
from yjs_kit.auth import mint
from yjs_kit.config import DEV_JWT_SECRET
from yjs_kit.testing import http_port, wait_for
from yjs_registration.models import agents
from yjs_registration.service import RegistrationService

LEGAL = samples.LEGAL_REPRESENTATIVE_ID
AGENT = samples.person(501)
STRANGER = samples.person(502)


@pytest.fixture
def system(start_service, monkeypatch):
    monkeypatch.setenv("YJS_SERVICES", "case,registration")
    start_service(CaseService)
    registration = start_service(RegistrationService)
    base = f"http://127.0.0.1:{http_port(start_service(Gateway))}"

    def call(method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, base + path, headers=headers, timeout=20, **kwargs)

    call.registration_db = registration.config["DATABASE_URL"]
    return call


def person(subject, id_number=None, name=None):
    return mint(DEV_JWT_SECRET, subject, "applicant", name=name or subject, id_number=id_number)


def staff(department):
    return mint(DEV_JWT_SECRET, f"{department}-clerk", "department", department)


OPERATOR = mint(DEV_JWT_SECRET, "ops", "operator")


@pytest.fixture
def enterprise(system):
    """An enterprise established by an agent (代办) for 张伟, its legal representative."""
    filer = person("filing-agent", samples.person(503))
    application = samples.establishment_application("锦程", seals=(), bank_account=False)
    case_id = system("POST", "/v1/cases", filer, json={"matter": "establishment", "application": application}).json()["case_id"]
    record = wait_for(lambda: (lambda r: r if r["steps"][0]["status"] == "completed" else None)(
        system("GET", f"/v1/cases/{case_id}", filer).json()), what="registration")
    return record["outputs"]["uscc"], case_id


def licensing(uscc):
    return {"matter": "licensing", "application": {"uscc": uscc, "business_scope": ["餐饮服务"]}}


def deregistration(uscc):
    return {"matter": "deregistration", "application": samples.deregistration_application(uscc)}


def change(uscc):
    return {"matter": "change", "application": samples.change_application(uscc, "新禾")}


def cases_of(system, token):
    return system("GET", "/v1/cases", token).json()["items"]


def test_a_stranger_cannot_submit_for_someone_elses_enterprise_and_nothing_is_stored(system, enterprise):
    uscc, _ = enterprise
    stranger = person("mallory", STRANGER)
    for body in (deregistration(uscc), licensing(uscc), change(uscc)):
        answer = system("POST", "/v1/cases", stranger, json=body)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "not_authorized_for_enterprise"
    unverified = person("张伟")  # the right name, but no verified ID number in the token
    assert system("POST", "/v1/cases", unverified, json=licensing(uscc)).status_code == 403
    assert cases_of(system, stranger) == [] and cases_of(system, unverified) == []
    # the one who filed the establishment is not the enterprise's: from registration on, the legal representative is
    filer = person("filing-agent", samples.person(503))
    assert system("POST", "/v1/cases", filer, json=deregistration(uscc)).status_code == 403


def test_an_unknown_enterprise_is_invalid_naming_the_uscc(system):
    answer = system("POST", "/v1/cases", person("张伟", LEGAL), json=licensing(make_uscc("330402", 99999)))
    assert answer.status_code == 422
    assert [d["field"] for d in answer.json()["error"]["details"]] == ["application.uscc"]


def test_the_legal_representative_submits_and_authorises_agents_for_exactly_the_matters_named(system, enterprise):
    uscc, _ = enterprise
    legal = person("张伟", LEGAL)
    assert system("POST", "/v1/cases", legal, json=licensing(uscc)).status_code == 202

    until = (date.today() + timedelta(days=30)).isoformat()
    appointed = system("POST", f"/v1/enterprises/{uscc}/agents", legal,
                       json={"name": "李娜", "id_number": AGENT, "matters": ["licensing"], "valid_until": until})
    assert appointed.status_code == 201, appointed.text
    agent_id = appointed.json()["agent_id"]
    assert appointed.json()["status"] == "valid" and appointed.json()["id_number"] != AGENT  # masked

    agent = person("李娜", AGENT)
    assert system("POST", "/v1/cases", agent, json=licensing(uscc)).status_code == 202
    refused = system("POST", "/v1/cases", agent, json=deregistration(uscc))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_authorized_for_enterprise"
    assert len(cases_of(system, agent)) == 1

    # an agent cannot appoint agents, nor see the list of them
    by_agent = system("POST", f"/v1/enterprises/{uscc}/agents", agent,
                      json={"name": "王五", "id_number": STRANGER, "matters": ["licensing"], "valid_until": until})
    assert by_agent.status_code == 403 and by_agent.json()["error"]["code"] == "not_authorized_for_enterprise"
    assert system("GET", f"/v1/enterprises/{uscc}/agents", agent).status_code == 403
    assert [a["agent_id"] for a in system("GET", f"/v1/enterprises/{uscc}/agents", legal).json()["items"]] == [agent_id]

    # at most a year, never in the past, only matters about an existing enterprise
    too_long = system("POST", f"/v1/enterprises/{uscc}/agents", legal, json={
        "name": "王五", "id_number": STRANGER, "matters": ["establishment"],
        "valid_until": (date.today() + timedelta(days=400)).isoformat()})
    assert too_long.status_code == 422
    assert {d["field"] for d in too_long.json()["error"]["details"]} == {"matters", "valid_until"}

    # an authorisation past its date acts no more
    engine = create_engine(system.registration_db)
    with engine.begin() as connection:
        connection.execute(update(agents).where(agents.c.agent_id == agent_id).values(
            valid_until=date.today() - timedelta(days=1)))
    engine.dispose()
    assert system("POST", "/v1/cases", agent, json=licensing(uscc)).status_code == 403
    assert system("GET", f"/v1/enterprises/{uscc}", agent).status_code == 404

    # and one withdrawn acts no more either
    second = system("POST", f"/v1/enterprises/{uscc}/agents", legal, json={
        "name": "赵六", "id_number": STRANGER, "matters": ["licensing", "deregistration"], "valid_until": until}).json()
    assert system("POST", "/v1/cases", person("赵六", STRANGER), json=licensing(uscc)).status_code == 202
    assert system("DELETE", f"/v1/enterprises/{uscc}/agents/{second['agent_id']}", agent).status_code == 403
    assert system("DELETE", f"/v1/enterprises/{uscc}/agents/{second['agent_id']}", legal).status_code == 204
    assert system("POST", "/v1/cases", person("赵六", STRANGER), json=licensing(uscc)).status_code == 403
    statuses = {a["agent_id"]: a["status"] for a in system("GET", f"/v1/enterprises/{uscc}/agents", legal).json()["items"]}
    assert statuses == {agent_id: "expired", second["agent_id"]: "withdrawn"}


def test_the_enterprise_record_is_for_its_people_staff_and_operators(system, enterprise):
    uscc, establishment = enterprise
    legal = person("张伟", LEGAL)
    licensing_case = system("POST", "/v1/cases", legal, json=licensing(uscc)).json()["case_id"]
    record = wait_for(lambda: (lambda r: r if len(r.json().get("history", [])) == 2 else None)(
        system("GET", f"/v1/enterprises/{uscc}", legal)), what="the licensing case in the history").json()
    assert record["uscc"] == uscc and record["status"] == "registered" and record["status_text"] == "存续"
    assert record["legal_representative"] == {"name": "张伟"}
    assert record["domicile"]["address"] == "浙江省嘉兴市南湖区广益路1号"
    assert record["business_scope"] == ["软件开发", "信息技术咨询服务"]
    assert [(h["case_id"], h["matter"]) for h in record["history"]] == [
        (establishment, "establishment"), (licensing_case, "licensing")]
    assert record["history"][0]["summary"].startswith("企业开办：设立登记已办结")
    for reader in (staff("tax"), OPERATOR):
        assert system("GET", f"/v1/enterprises/{uscc}", reader).status_code == 200
    for outsider in (person("mallory", STRANGER), person("filing-agent", samples.person(503)), person("张伟")):
        answer = system("GET", f"/v1/enterprises/{uscc}", outsider)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    assert system("GET", "/v1/enterprises/not-a-uscc", OPERATOR).status_code == 404


def test_staff_read_only_the_cases_their_department_has_a_step_in(system, enterprise):
    _, case_id = enterprise  # an establishment without seals or an account: registration and tax
    assert system("GET", f"/v1/cases/{case_id}", staff("tax")).status_code == 200
    assert system("GET", f"/v1/cases/{case_id}", staff("bank_account")).status_code == 404
    assert system("GET", f"/v1/cases/{case_id}", staff("licensing")).status_code == 404
    assert system("GET", f"/v1/cases/{case_id}", OPERATOR).status_code == 200


def test_metrics_on_the_public_port_are_for_operators(system):
    assert system("GET", "/metrics").status_code == 401
    assert system("GET", "/metrics", person("张伟", LEGAL)).status_code == 403
    assert "yjs_http_seconds" in system("GET", "/metrics", OPERATOR).text
