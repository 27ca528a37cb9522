"""Submissions: every invalid field named, nothing else let through."""

import pytest
from yjs_contracts import samples
from yjs_contracts.api import InvalidApplication, parse_submission


def fields(body):
    with pytest.raises(InvalidApplication) as error:
        parse_submission(body)
    return {d.field for d in error.value.details}


def test_a_sample_application_is_valid():
    matter, application = parse_submission({"matter": "establishment", "application": samples.establishment_application()})
    assert matter == "establishment" and application.enterprise.registered_capital == 1_000_000


def test_every_offending_field_is_named():
    application = samples.establishment_application()
    application["enterprise"]["type"] = "cooperative"
    application["seals"] = ["official", "golden"]
    application["legal_representative"]["id_number"] = "123"
    application["shareholders"][0]["subscribed_amount"] = "12.345"
    application["surprise"] = 1
    assert fields({"matter": "establishment", "application": application}) == {
        "application.enterprise.type", "application.seals.1", "application.legal_representative.id_number",
        "application.shareholders.0.subscribed_amount", "application.surprise"}


def test_an_unknown_matter_and_a_malformed_body():
    assert fields({"matter": "adoption", "application": {}}) == {"matter"}
    assert fields([1, 2]) == {"body"}
    assert fields({"application": {}}) == {"matter"}
