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


def test_a_lower_case_x_is_accepted_and_stored_upper_case():
    application = samples.establishment_application()
    number = "11010519491231002X"
    application["contacts"]["finance_officer"]["id_number"] = number.lower()
    application["officers"][1]["id_number"] = number.lower()
    _, parsed = parse_submission({"matter": "establishment", "application": application})
    assert parsed.contacts.finance_officer.id_number == number and parsed.officers[1].id_number == number
    assert parsed.model_dump(mode="json")["officers"][1]["id_number"] == number


def test_an_entity_shareholders_code_is_checked_by_both_check_characters():
    application = samples.establishment_application()
    application["shareholders"][0].update(kind="entity", uscc="91350100M000100Y56", id_number=None)
    with pytest.raises(InvalidApplication) as error:  # final check right, GB 11714 check wrong
        parse_submission({"matter": "establishment", "application": application})
    [detail] = error.value.details
    assert detail.field == "application.shareholders.0.uscc"
    assert "主体标识码 M000100Y5 的校验码应为 4，实为 5" in detail.reason


def test_a_change_names_something_and_each_part_is_checked_like_its_establishment_counterpart():
    from yjs_contracts.api import ChangeApplication, InvalidApplication, parse_submission
    uscc = "91350100M000100Y43"
    matter, app = parse_submission({"matter": "change", "application": samples.change_application(uscc, "新禾")})
    assert matter == "change" and isinstance(app, ChangeApplication)
    assert app.changes.fields() == ["name", "legal_representative", "officers"]
    for changes, field in (({}, "application.changes"),
                           ({"registered_capital": 2000000}, "application.changes.registered_capital"),
                           ({"business_scope": []}, "application.changes.business_scope"),
                           ({"legal_representative": {"name": "陈静", "id_number": "123", "mobile": "136"}},
                            "application.changes.legal_representative.id_number"),
                           ({"officers": [{"role": "manager", "name": "a", "id_number": samples.person(1)},
                                          {"role": "manager", "name": "b", "id_number": samples.person(2)}]},
                            "application.changes.officers"),
                           ({"colour": "red"}, "application.changes.colour")):
        with pytest.raises(InvalidApplication) as refused:
            parse_submission({"matter": "change", "application": {"uscc": uscc, "changes": changes}})
        assert any(d.field == field for d in refused.value.details), refused.value.details
