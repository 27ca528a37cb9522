"""Writes the published JSON Schemas, the AsyncAPI document of the events and the OpenAPI
document of the gateway, all generated from the models in this package.

    yjs-contracts write   # regenerate yjs_contracts/schemas/
    yjs-contracts check   # exit 1 when the committed files are stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from . import api
from .envelope import Envelope
from .events import EVENT_MODELS
from .plans import MATTERS

SCHEMA_DIR = Path(__file__).parent / "schemas"

API_MODELS: dict[str, type[BaseModel]] = {
    "SubmitCase": api.SubmitCase,
    "EstablishmentApplication": api.EstablishmentApplication,
    "LicensingApplication": api.LicensingApplication,
    "DeregistrationApplication": api.DeregistrationApplication,
    "CaseAccepted": api.CaseAccepted,
    "CaseRecord": api.CaseRecord,
    "CaseList": api.CaseList,
    "ErrorBody": api.ErrorBody,
    "DeadLetterList": api.DeadLetterList,
    "Health": api.Health,
    "RevocationRequest": api.RevocationRequest,
    "PermitRevocation": api.PermitRevocation,
    "NoticeList": api.NoticeList,
    "Objection": api.Objection,
    "ObjectionAccepted": api.ObjectionAccepted,
    "LiquidationReport": api.LiquidationReport,
    "LiquidationReportReceived": api.LiquidationReportReceived,
    "Supplements": api.Supplements,
    "SupplementAccepted": api.SupplementAccepted,
    "WithdrawalRequest": api.WithdrawalRequest,
    "WithdrawalAccepted": api.WithdrawalAccepted,
    "RatingRequest": api.RatingRequest,
    "RatingAccepted": api.RatingAccepted,
    "ReviewList": api.ReviewList,
    "ReviewDecision": api.ReviewDecision,
    "ReviewDecided": api.ReviewDecided,
    "CheckList": api.CheckList,
    "CheckResult": api.CheckResult,
    "CommitmentCheck": api.CommitmentCheck,
    "CatalogueAnswer": api.CatalogueAnswer,
    "FollowUpList": api.FollowUpList,
    "FollowUpResponse": api.FollowUpResponse,
    "FollowUp": api.FollowUp,
    "FollowUpVerdict": api.FollowUpVerdict,
    "RatingAppeal": api.RatingAppeal,
    "AppealDecision": api.AppealDecision,
    "MatterReport": api.MatterReport,
    "AgentAppointment": api.AgentAppointment,
    "Agent": api.Agent,
    "AgentList": api.AgentList,
    "EnterpriseRecord": api.EnterpriseRecord,
    "ListingRequest": api.ListingRequest,
    "Listing": api.Listing,
}


def event_schema(event_type: str) -> dict[str, Any]:
    """The envelope with this event's `data` model in place of the free-form dict."""
    schema = Envelope.model_json_schema()
    data_schema = EVENT_MODELS[event_type].model_json_schema(ref_template="#/$defs/{model}")
    defs = {**schema.pop("$defs", {}), **data_schema.pop("$defs", {})}
    schema["properties"]["event_type"] = {"const": event_type, "type": "string"}
    schema["properties"]["data"] = data_schema
    schema["title"] = event_type
    if defs:
        schema["$defs"] = defs
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def asyncapi() -> dict[str, Any]:
    channels, operations, messages = {}, {}, {}
    for event_type in sorted(EVENT_MODELS):
        producer, name = event_type.split(".", 1)
        key = event_type.replace(".", "_")
        messages[key] = {"name": event_type, "contentType": "application/json",
                         "payload": {"$ref": f"./events/{event_type}.json"}}
        channels[key] = {
            "address": name,
            "description": f"exchange {producer}.events (topic, durable), routing key {name}",
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {
                "name": f"{producer}.events", "type": "topic", "durable": True, "autoDelete": False}}},
        }
        operations[f"publish_{key}"] = {"action": "send", "channel": {"$ref": f"#/channels/{key}"}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "yijianshi events", "version": "1.0.0",
                 "description": "Every event is one Envelope; department events carry a StepReport."},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}


def _transport_errors(document: dict[str, Any]) -> dict[str, Any]:
    """What the door answers on any operation, whatever the route: 422 for a query or path id
    out of shape, 429 for a throttled client; with a body also 413, 415 and 422."""
    error = {"description": "error", **_body(api.ErrorBody)}
    for path in document["paths"].values():
        for operation in (o for o in path.values() if isinstance(o, dict)):
            responses = operation.setdefault("responses", {})
            codes = ["422", "429"] + (["413", "415"] if "requestBody" in operation else [])
            for code in codes:
                responses.setdefault(code, error)
    return document


def openapi() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in API_MODELS.values():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    error = {"description": "error", **_body(api.ErrorBody)}
    bearer = [{"bearer": []}]
    case_id = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}
    department = {"name": "department", "in": "path", "required": True, "schema": {"type": "string"}}
    follow_up_id = {"name": "follow_up_id", "in": "path", "required": True, "schema": {"type": "string"}}
    follow_up_status = {"name": "status", "in": "query",
                        "schema": {"type": "string", "enum": [s.value for s in api.FollowUpStatus]}}
    uscc = {"name": "uscc", "in": "path", "required": True, "schema": {"type": "string"}}
    return _transport_errors({
        "openapi": "3.1.0",
        "info": {"title": "yijianshi unified submission API", "version": "1.0.0"},
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "paths": {
            "/v1/cases": {
                "post": {"summary": "Submit one application for one matter", "security": bearer,
                         "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
                         "requestBody": _body(api.SubmitCase),
                         "responses": {"202": {"description": "accepted", **_body(api.CaseAccepted)},
                                       "401": error, "403": error, "409": error, "413": error, "422": error}},
                "get": {"summary": "The caller's own cases", "security": bearer,
                        "parameters": [{"name": "status", "in": "query", "schema": {"type": "string"}},
                                       {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                                       {"name": "after", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "a page", **_body(api.CaseList)}, "401": error}},
            },
            "/v1/cases/{case_id}": {
                "get": {"summary": "The case record", "security": bearer,
                        "parameters": [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "the record", **_body(api.CaseRecord)},
                                      "401": error, "404": error}},
            },
            "/v1/cases/{case_id}/liquidation-report": {
                "post": {"summary": "File the liquidation report of a general-route deregistration (清算报告)",
                         "security": bearer,
                         "parameters": [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                         "requestBody": _body(api.LiquidationReport),
                         "responses": {"202": {"description": "accepted", **_body(api.LiquidationReportReceived)},
                                       "401": error, "404": error, "409": error, "422": error}},
            },
            "/v1/cases/{case_id}/supplements": {
                "post": {"summary": "Hand in what the one notice asked for (补正), or the materials a 容缺受理 left "
                                    "outstanding; the waiting steps resume", "security": bearer,
                         "parameters": [case_id],
                         "requestBody": _body(api.Supplements),
                         "responses": {"202": {"description": "accepted", **_body(api.SupplementAccepted)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/cases/{case_id}/withdrawal": {
                "post": {"summary": "Withdraw a case that has not ended (撤回); each department cancels or undoes "
                                    "its steps. 409 `withdrawal_refused` once the record shows the matter's point of no return passed; otherwise the pivot's department answers on the record (`withdrawal`)",
                         "security": bearer, "parameters": [case_id],
                         "requestBody": _body(api.WithdrawalRequest),
                         "responses": {"202": {"description": "withdrawn", **_body(api.WithdrawalAccepted)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/cases/{case_id}/rating": {
                "post": {"summary": "Rate an ended case, overall and per department (好差评); 1 or 2 opens a "
                                    "follow-up (差评督办) for each department so rated, and for operators overall", "security": bearer, "parameters": [case_id],
                         "requestBody": _body(api.RatingRequest),
                         "responses": {"201": {"description": "rated", **_body(api.RatingAccepted)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/departments/{department}/reviews": {
                "get": {"summary": "The department's steps waiting for its staff (its own staff only)",
                        "security": bearer,
                        "parameters": [department,
                                       {"name": "status", "in": "query",
                                        "schema": {"type": "string", "enum": ["waiting", "decided", "closed"]}},
                                       {"name": "case_id", "in": "query", "schema": {"type": "string"}},
                                       {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                                       {"name": "after", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "a page", **_body(api.ReviewList)},
                                      "401": error, "403": error, "404": error, "422": error}},
            },
            "/v1/departments/{department}/reviews/{review_id}/decision": {
                "post": {"summary": "Approve (possibly 容缺受理), refuse, or ask for corrections (一次性告知)",
                         "security": bearer,
                         "parameters": [department, {"name": "review_id", "in": "path", "required": True,
                                                     "schema": {"type": "string"}}],
                         "requestBody": _body(api.ReviewDecision),
                         "responses": {"200": {"description": "decided", **_body(api.ReviewDecided)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/cases/{case_id}/follow-ups/{follow_up_id}/verdict": {
                "post": {"summary": "Confirm (closed) or reject (escalated to operators) a department's answer to "
                                    "the applicant's bad rating, once (applicants)",
                         "security": bearer, "parameters": [case_id, follow_up_id],
                         "requestBody": _body(api.FollowUpVerdict),
                         "responses": {"200": {"description": "judged", **_body(api.FollowUp)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/departments/{department}/follow-ups": {
                "get": {"summary": "The department's follow-ups of bad ratings (差评督办), oldest first, each with "
                                   "its due date (its own staff only)", "security": bearer,
                        "parameters": [department, follow_up_status,
                                       {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                                       {"name": "after", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "a page", **_body(api.FollowUpList)},
                                      "401": error, "403": error, "404": error, "422": error}},
            },
            "/v1/departments/{department}/follow-ups/{follow_up_id}/response": {
                "post": {"summary": "Answer an open follow-up with what the department did; the applicant then "
                                    "confirms or rejects it", "security": bearer,
                         "parameters": [department, follow_up_id],
                         "requestBody": _body(api.FollowUpResponse),
                         "responses": {"200": {"description": "answered", **_body(api.FollowUp)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/departments/{department}/follow-ups/{follow_up_id}/appeal": {
                "post": {"summary": "Appeal the rating (申诉), once; an operator decides", "security": bearer,
                         "parameters": [department, follow_up_id],
                         "requestBody": _body(api.RatingAppeal),
                         "responses": {"202": {"description": "appealed", **_body(api.FollowUp)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/departments/{department}/checks": {
                "get": {"summary": "The department's post-issuance checks of 告知承诺 permits, oldest due first "
                                   "(its own staff only): `due` (default) those whose date has come, `all` every "
                                   "open one", "security": bearer,
                        "parameters": [department,
                                       {"name": "status", "in": "query",
                                        "schema": {"type": "string", "enum": ["due", "all"]}},
                                       {"name": "uscc", "in": "query", "schema": {"type": "string"}},
                                       {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                                       {"name": "after", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "a page", **_body(api.CheckList)},
                                      "401": error, "403": error, "404": error, "422": error}},
            },
            "/v1/departments/{department}/checks/{check_id}/result": {
                "post": {"summary": "Record a check's outcome: verified (closes it), rectify (整改 by a deadline, "
                                    "else revoked), false_commitment (revoked at once, credit record)",
                         "security": bearer,
                         "parameters": [department, {"name": "check_id", "in": "path", "required": True,
                                                     "schema": {"type": "string"}}],
                         "requestBody": _body(api.CheckResult),
                         "responses": {"200": {"description": "recorded", **_body(api.CommitmentCheck)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/catalogue": {
                "get": {"summary": "The permit catalogue in force: scope items, permits by mode, each commitment's "
                                   "告知承诺书 (no token)",
                        "responses": {"200": {"description": "the catalogue", **_body(api.CatalogueAnswer)}}},
            },
            "/v1/follow-ups": {
                "get": {"summary": "Follow-ups of bad ratings (operators): `status=escalated` for those overdue or "
                                   "rejected, `appeal=pending` for appeals to decide", "security": bearer,
                        "parameters": [follow_up_status,
                                       {"name": "appeal", "in": "query",
                                        "schema": {"type": "string", "enum": ["pending", "upheld", "dismissed"]}},
                                       {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                                       {"name": "after", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "a page", **_body(api.FollowUpList)},
                                      "401": error, "403": error}},
            },
            "/v1/follow-ups/{follow_up_id}/response": {
                "post": {"summary": "Close a follow-up, escalated or still open, with the operators' response "
                                    "(operators)",
                         "security": bearer, "parameters": [follow_up_id],
                         "requestBody": _body(api.FollowUpResponse),
                         "responses": {"200": {"description": "closed", **_body(api.FollowUp)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/follow-ups/{follow_up_id}/appeal-decision": {
                "post": {"summary": "Decide a department's appeal (operators): upheld, the rating stays in the "
                                    "record and leaves the figures, and the follow-up closes",
                         "security": bearer, "parameters": [follow_up_id],
                         "requestBody": _body(api.AppealDecision),
                         "responses": {"200": {"description": "decided", **_body(api.FollowUp)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/reports/matters": {
                "get": {"summary": "无感监测 (operators): per matter and department, the cases finished in a period — "
                                   "the share within the promised limit, median and 90th percentile in working hours "
                                   "(补正 excluded), pauses, steps past their legal limit, ratings, open follow-ups",
                        "security": bearer,
                        "parameters": [{"name": "matter", "in": "query",
                                        "schema": {"type": "string", "enum": sorted(MATTERS)}},
                                       {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                                       {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}],
                        "responses": {"200": {"description": "the figures", **_body(api.MatterReport)},
                                      "401": error, "403": error, "422": error}},
            },
            "/v1/notices": {
                "get": {"summary": "Open public notices of deregistrations (no token)",
                        "parameters": [{"name": "uscc", "in": "query", "schema": {"type": "string"}},
                                       {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                                       {"name": "after", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "a page", **_body(api.NoticeList)}, "422": error}},
            },
            "/v1/notices/{notice_id}/objections": {
                "post": {"summary": "Object to a simplified deregistration while its notice runs (no token)",
                         "parameters": [{"name": "notice_id", "in": "path", "required": True,
                                         "schema": {"type": "string"}}],
                         "requestBody": _body(api.Objection),
                         "responses": {"202": {"description": "accepted", **_body(api.ObjectionAccepted)},
                                       "404": error, "409": error, "422": error}},
            },
            "/v1/licences/{permit_number}/revocation": {
                "post": {"summary": "Revoke a permit whose commitment its post-issuance check found false (告知承诺核查不实; "
                                    "operators, or the licensing department)", "security": bearer,
                         "parameters": [{"name": "permit_number", "in": "path", "required": True,
                                         "schema": {"type": "string"}}],
                         "requestBody": _body(api.RevocationRequest),
                         "responses": {"200": {"description": "revoked", **_body(api.PermitRevocation)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/enterprises/{uscc}": {
                "get": {"summary": "The enterprise as the departments know it (its legal representative, its agents, "
                                   "staff, operators; anyone else: 404)", "security": bearer, "parameters": [uscc],
                        "responses": {"200": {"description": "the record", **_body(api.EnterpriseRecord)},
                                      "401": error, "404": error}},
            },
            "/v1/enterprises/{uscc}/agents": {
                "post": {"summary": "Authorise a person for some matters until a date, at most a year "
                                    "(授权经办; the legal representative only)", "security": bearer,
                         "parameters": [uscc], "requestBody": _body(api.AgentAppointment),
                         "responses": {"201": {"description": "appointed", **_body(api.Agent)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
                "get": {"summary": "The enterprise's agents (the legal representative, staff, operators)",
                        "security": bearer, "parameters": [uscc],
                        "responses": {"200": {"description": "list", **_body(api.AgentList)},
                                      "401": error, "403": error, "404": error}},
            },
            "/v1/enterprises/{uscc}/agents/{agent_id}": {
                "delete": {"summary": "Withdraw an authorisation (the legal representative only)", "security": bearer,
                           "parameters": [uscc, {"name": "agent_id", "in": "path", "required": True,
                                                 "schema": {"type": "string"}}],
                           "responses": {"204": {"description": "withdrawn"}, "401": error, "403": error,
                                         "404": error}},
            },
            "/v1/enterprises/{uscc}/listings": {
                "post": {"summary": "List an enterprise (经营异常名录, 严重违法失信名单, 股权冻结, 股权出质, 动产抵押, "
                                    "立案调查; registration staff only)", "security": bearer,
                         "parameters": [uscc], "requestBody": _body(api.ListingRequest),
                         "responses": {"201": {"description": "listed", **_body(api.Listing)},
                                       "401": error, "403": error, "404": error, "409": error, "422": error}},
            },
            "/v1/enterprises/{uscc}/listings/{listing_id}": {
                "delete": {"summary": "Remove a listing (registration staff only)", "security": bearer,
                           "parameters": [uscc, {"name": "listing_id", "in": "path", "required": True,
                                                 "schema": {"type": "string"}}],
                           "responses": {"204": {"description": "removed"}, "401": error, "403": error,
                                         "404": error}},
            },
            "/v1/dead-letters": {
                "get": {"summary": "Dead letters of every service (operators)", "security": bearer,
                        "responses": {"200": {"description": "list", **_body(api.DeadLetterList)},
                                      "401": error, "403": error}},
            },
            "/v1/dead-letters/{dead_letter_id}/replay": {
                "post": {"summary": "Put a dead letter back on its queue (operators)", "security": bearer,
                         "parameters": [{"name": "dead_letter_id", "in": "path", "required": True,
                                         "schema": {"type": "string"}}],
                         "responses": {"202": {"description": "replayed"}, "401": error, "403": error, "404": error}},
            },
            "/healthz": {"get": {"summary": "The process is up", "responses": {"200": {"description": "ok"}}}},
            "/readyz": {"get": {"summary": "Broker and databases reachable",
                                "responses": {"200": {"description": "ready", **_body(api.Health)},
                                              "503": {"description": "not ready", **_body(api.Health)}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (operators; Prometheus scrapes the metrics port)",
                                 "security": bearer,
                                 "responses": {"200": {"description": "text"}, "401": error, "403": error}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "json"}}}},
        },
    })


def documents() -> dict[str, Any]:
    docs: dict[str, Any] = {f"events/{t}.json": event_schema(t) for t in EVENT_MODELS}
    for name, model in API_MODELS.items():
        docs[f"api/{name}.json"] = model.model_json_schema()
    docs["asyncapi.json"] = asyncapi()
    docs["openapi.json"] = openapi()
    return docs


def render(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def stale_files(directory: Path = SCHEMA_DIR) -> list[str]:
    expected = {name: render(doc) for name, doc in documents().items()}
    present = {str(p.relative_to(directory)) for p in directory.rglob("*.json")}
    stale = [name for name, text in expected.items()
             if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text]
    return sorted(stale + sorted(present - set(expected)))


def write(directory: Path = SCHEMA_DIR) -> None:
    for path in directory.rglob("*.json"):
        path.unlink()
    for name, doc in documents().items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(doc), encoding="utf-8")


def load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:]) or ["write"]
    if command[0] == "write":
        write()
        print(f"wrote {len(documents())} documents to {SCHEMA_DIR}")
        return 0
    if command[0] == "check":
        stale = stale_files()
        for name in stale:
            print(f"stale: {name} (run `yjs-contracts write`)")
        return 1 if stale else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
