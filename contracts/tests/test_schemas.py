"""The published schemas are generated from the models, and the committed ones are current."""

import jsonschema
from yjs_contracts import samples, schemas
from yjs_contracts.envelope import new_event
from yjs_contracts.events import EVENT_MODELS


def test_committed_schemas_are_current():
    assert schemas.stale_files() == [], "run `make schemas` (yjs-contracts write) and commit the result"


def test_every_event_type_has_a_schema_and_an_asyncapi_channel():
    document = schemas.asyncapi()
    for event_type in EVENT_MODELS:
        assert schemas.load(f"events/{event_type}.json")["properties"]["event_type"]["const"] == event_type
        assert event_type.replace(".", "_") in document["channels"]


def test_a_real_event_validates_against_its_published_schema_and_a_wrong_one_does_not():
    from datetime import datetime, timezone

    from yjs_contracts.events import CaseSubmitted
    from yjs_contracts.plans import plan_for

    application = samples.establishment_application()
    event = new_event("case.submitted", CaseSubmitted(
        matter="establishment", owner="alice", application=application,
        plan=plan_for("establishment", application), submitted_at=datetime.now(timezone.utc)), case_id="C1")
    schema = schemas.load("events/case.submitted.json")
    jsonschema.Draft202012Validator(schema).validate(event.model_dump(mode="json"))
    broken = event.model_dump(mode="json")
    del broken["data"]["plan"]
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))


def test_the_openapi_document_names_the_fixed_api_shapes():
    document = schemas.openapi()
    record = document["components"]["schemas"]["CaseRecord"]["properties"]
    assert {"case_id", "matter", "status", "submitted_at", "finished_at", "steps", "outputs", "timeline"} <= set(record)
    error = document["components"]["schemas"]["ErrorInfo"]["properties"]
    assert set(error) == {"code", "message", "details"}
