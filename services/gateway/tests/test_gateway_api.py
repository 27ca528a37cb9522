"""The API on the real broker and database, with case and registration behind it."""

import eventlet
import requests
from yjs_case.service import CaseService
from yjs_contracts import samples
from yjs_contracts.codes import is_valid_uscc
from yjs_gateway.service import Gateway
from yjs_kit.auth import mint
from yjs_kit.config import DEV_JWT_SECRET
from yjs_kit.testing import CaseRpc, http_port, wait_for
from yjs_registration.service import RegistrationService

import pytest


@pytest.fixture
def api(start_service, monkeypatch):
    monkeypatch.setenv("YJS_SERVICES", "case,registration")
    start_service(CaseService)
    start_service(RegistrationService)
    base = f"http://127.0.0.1:{http_port(start_service(Gateway))}"

    def call(method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, base + path, headers=headers, timeout=20, **kwargs)

    return call


def token(subject="alice", role="applicant", **kw):
    return mint(DEV_JWT_SECRET, subject, role, **kw)


def body(trade_name="锦程", **kw):
    return {"matter": "establishment",
            "application": samples.establishment_application(trade_name, seals=(), bank_account=False, **kw)}


def test_submit_then_read_the_record_as_registration_decides(api):
    answer = api("POST", "/v1/cases", token(), json=body())
    assert answer.status_code == 202
    case_id = answer.json()["case_id"]
    assert answer.headers["Location"] == f"/v1/cases/{case_id}"
    record = wait_for(lambda: (lambda r: r if r["steps"][0]["status"] == "completed" else None)(
        api("GET", f"/v1/cases/{case_id}", token()).json()), what="registration")
    assert record["status"] == "in_progress"  # tax has not come yet in this test
    assert is_valid_uscc(record["outputs"]["uscc"])
    assert record["steps"][1]["status"] == "in_progress" and record["steps"][2]["status"] == "pending"
    assert [t["event_type"] for t in record["timeline"]] == ["case.submitted", "registration.enterprise_registered"]
    listing = api("GET", "/v1/cases?status=in_progress", token()).json()
    assert [c["case_id"] for c in listing["items"]] == [case_id]


def test_a_refused_registration_rejects_the_case_with_its_reasons(api):
    refused = body("国家")
    refused["application"]["shareholders"][0]["subscribed_amount"] = "500.00"
    case_id = api("POST", "/v1/cases", token(), json=refused).json()["case_id"]
    record = wait_for(lambda: (lambda r: r if r["status"] == "rejected" else None)(
        api("GET", f"/v1/cases/{case_id}", token()).json()), what="rejection")
    assert {r["code"] for r in record["reasons"]} >= {"prohibited_word", "subscriptions_mismatch"}


def test_every_invalid_field_is_named_and_nothing_is_stored(api):
    bad = body()
    bad["application"]["enterprise"]["registered_capital"] = "-1"
    bad["application"]["legal_representative"]["mobile"] = "12"
    del bad["application"]["contacts"]
    answer = api("POST", "/v1/cases", token(), json=bad)
    assert answer.status_code == 422
    fields = {d["field"] for d in answer.json()["error"]["details"]}
    assert fields == {"application.enterprise.registered_capital", "application.legal_representative.mobile",
                      "application.contacts"}
    assert api("POST", "/v1/cases", token(), json={"matter": "adoption", "application": {}}).status_code == 422
    assert api("POST", "/v1/cases", token(), data="{not json", headers={"Content-Type": "application/json"}
               ).json()["error"]["details"][0]["field"] == "body"
    assert api("GET", "/v1/cases", token()).json()["items"] == []


def test_tokens_roles_and_ownership(api):
    assert api("POST", "/v1/cases", json=body()).status_code == 401
    assert api("POST", "/v1/cases", "not-a-token", json=body()).json()["error"]["code"] == "unauthorized"
    assert api("POST", "/v1/cases", mint("someone-else", "x", "applicant"), json=body()).status_code == 401
    assert api("POST", "/v1/cases", token("ops", "operator"), json=body()).status_code == 403
    case_id = api("POST", "/v1/cases", token(), json=body()).json()["case_id"]
    assert api("GET", f"/v1/cases/{case_id}", token("mallory")).status_code == 404

    def operator_and_owner_views():  # the case moves on meanwhile: a pair read while it stood still
        owner_before = api("GET", f"/v1/cases/{case_id}", token()).json()
        operator_view = api("GET", f"/v1/cases/{case_id}", token("ops", "operator"))
        owner_after = api("GET", f"/v1/cases/{case_id}", token()).json()
        return (operator_view, owner_after) if owner_before == owner_after else None

    operator_view, owner_view = wait_for(operator_and_owner_views, what="two equal reads of the owner's record")
    assert operator_view.status_code == 200
    assert operator_view.json() == owner_view  # the owner's record, whole
    assert api("GET", "/v1/dead-letters", token()).status_code == 403
    assert api("GET", "/v1/dead-letters", token("ops", "operator")).json() == {"items": []}


def test_a_query_that_cannot_be_read_is_answered_with_the_parameter_and_why(api):
    def refused(path, who, field):
        answer = api("GET", path, who)
        assert answer.status_code == 422, path
        error = answer.json()["error"]
        assert error["code"] == "invalid_query" and [d["field"] for d in error["details"]] == [field], path

    registrar = token("li", "department", department="registration")
    refused("/v1/cases?limit=ten", token(), "limit")
    refused("/v1/cases?limit=-1", token(), "limit")
    refused("/v1/departments/registration/reviews?limit=many", registrar, "limit")
    refused("/v1/departments/registration/reviews?status=pending", registrar, "status")
    refused("/v1/follow-ups?limit=1.5", token("ops", "operator"), "limit")
    refused("/v1/notices?limit=all", None, "limit")
    assert api("GET", "/v1/cases?limit=5", token()).status_code == 200  # a readable one is served


def test_the_check_queue_is_its_departments_and_a_result_is_refused_at_the_door_naming_its_field(api):
    """事后核查: licensing's staff only; a bad query or result never reaches the department."""
    inspector = token("wang", "department", department="licensing")
    for who, status in ((token(), 403), (token("li", "department", department="tax"), 403), (None, 401)):
        assert api("GET", "/v1/departments/licensing/checks", who).status_code == status
    tax = api("GET", "/v1/departments/tax/checks", token("li", "department", department="tax"))
    assert tax.status_code == 404  # tax issues nothing on a commitment: it has no check queue
    for query, field in (("status=open", "status"), ("uscc=123", "uscc"), ("after=R1", "after")):
        refused = api("GET", f"/v1/departments/licensing/checks?{query}", inspector)
        assert refused.status_code == 422 and [d["field"] for d in refused.json()["error"]["details"]] == [field]
    path = "/v1/departments/licensing/checks/HC00000001/result"
    for result, field in (({"result": "rectify", "reasons": [{"code": "c", "message": "未整改"}]}, "rectify_by"),
                          ({"result": "false_commitment"}, "reasons"),
                          ({"result": "passed"}, "result"),
                          ({"result": "verified", "rectify_by": "2030-01-01T00:00:00+08:00"}, "rectify_by")):
        answer = api("POST", path, inspector, json=result)
        assert answer.status_code == 422, result
        assert [d["field"] for d in answer.json()["error"]["details"]] == [field], answer.json()
    assert "责令整改须写明整改期限" in api("POST", path, inspector, json={
        "result": "rectify", "reasons": [{"code": "c", "message": "未整改"}]}).json()["error"]["details"][0]["reason"]
    assert api("POST", path, token("li", "department", department="tax"), json={"result": "verified"}).status_code == 403


def test_the_catalogue_shows_each_commitments_notice_before_anyone_signs(api):
    answer = api("GET", "/v1/catalogue")  # no token: read before applying
    assert answer.status_code == 200
    permits = {p["code"]: p for p in answer.json()["permits"]}
    notice = permits["food_business"]["commitment_notice"]
    assert permits["food_business"]["mode"] == "commitment" and notice["conditions"] and notice["liability"]
    assert permits["tobacco_retail"]["commitment_notice"] is None


def test_an_idempotency_key_never_opens_a_second_case(api):
    headers = {"Idempotency-Key": "retry-1"}
    first = api("POST", "/v1/cases", token(), json=body(), headers=headers)
    second = api("POST", "/v1/cases", token(), json=body(), headers=dict(headers))
    assert first.status_code == second.status_code == 202
    assert first.json()["case_id"] == second.json()["case_id"]
    conflict = api("POST", "/v1/cases", token(), json=body("新锐"), headers=dict(headers))
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "idempotency_conflict"
    assert len(api("GET", "/v1/cases", token()).json()["items"]) == 1


def test_health_readiness_metrics_and_openapi(api):
    assert api("GET", "/healthz").json() == {"status": "ok"}
    ready = api("GET", "/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"case": "ok", "registration": "ok"}
    api("GET", "/healthz")
    assert 'yjs_http_seconds_count{method="GET",route="/healthz",status="200"}' in api(
        "GET", "/metrics", token("ops", "operator")).text
    document = api("GET", "/openapi.json").json()
    assert "/v1/cases" in document["paths"] and "CaseRecord" in document["components"]["schemas"]
    assert api("POST", "/v1/cases", token(), data="x" * (1 << 21)).status_code == 413


def test_readiness_names_a_department_that_does_not_answer_and_stays_ready(api, monkeypatch):
    monkeypatch.setenv("YJS_SERVICES", "case,registration,tax")
    ready = api("GET", "/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["tax"].startswith("unavailable") and ready.json()["checks"]["case"] == "ok"


def test_a_submit_delivered_twice_to_the_case_service_opens_one_case(start_service, database_factory, broker_uri, rpc,
                                                                      monkeypatch):
    """The submit request sits in the case service's queue twice, as after a case service that
    committed and died before it acked; the client sent no Idempotency-Key."""
    from kombu import Connection, Exchange, Producer, Queue
    from yjs_kit.migrations import upgrade
    from yjs_kit.testing import wait_until_consumed

    monkeypatch.setenv("YJS_SERVICES", "case")
    rpc_exchange = Exchange("nameko-rpc", type="topic", durable=True)
    with Connection(broker_uri) as connection:  # the case service's queue as nameko declares it: the request waits there
        Queue("rpc-case", exchange=rpc_exchange, routing_key="case.*", durable=True)(connection.default_channel).declare()
    url = database_factory()
    upgrade("case", url)  # beforehand: the case service must start within the gateway's RPC timeout
    base = f"http://127.0.0.1:{http_port(start_service(Gateway))}"
    submitting = eventlet.spawn(requests.post, base + "/v1/cases", json=body(), timeout=30,
                                headers={"Authorization": f"Bearer {token()}"})
    with Connection(broker_uri) as connection:
        channel = connection.default_channel
        request = wait_for(lambda: Queue("rpc-case", channel=channel, no_declare=True).get(no_ack=False),
                           what="the submit request")
        Producer(channel).publish(request.body, exchange=rpc_exchange, routing_key=request.delivery_info["routing_key"],
                                  headers=request.headers, content_type=request.content_type,
                                  content_encoding=request.content_encoding, **{
                                      k: request.properties[k] for k in ("reply_to", "correlation_id")})
        request.requeue()  # the original back too, marked redelivered
    start_service(CaseService, database_url=url, migrate=False)
    answer = submitting.wait()
    assert answer.status_code == 202
    wait_until_consumed(broker_uri, "rpc-case")  # both copies handled and acked
    assert [c["case_id"] for c in CaseRpc(rpc).list_cases("alice")["items"]] == [answer.json()["case_id"]]
