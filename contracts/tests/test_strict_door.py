"""The door is strict: what a clerk, a seal or a department could not take is refused with every
offending field named, and what is accepted is exactly what the standards allow."""

import re
from datetime import date, timedelta

import pytest
from yjs_contracts import samples
from yjs_contracts.api import InvalidApplication, RatingRequest, parse_submission
from yjs_contracts.codes import text_problem
from yjs_contracts.words import english_words
from pydantic import ValidationError


def refused(application, matter="establishment"):
    with pytest.raises(InvalidApplication) as error:
        parse_submission({"matter": matter, "application": application})
    return {d.field: d.reason for d in error.value.details}


def accepted(application, matter="establishment"):
    return parse_submission({"matter": matter, "application": application})[1]


@pytest.mark.parametrize("digits", ["３３０４０２", "٣٣٠٤٠٢", "33040２"])
def test_unicode_digits_are_not_a_division_code(digits):
    app = samples.establishment_application()
    app["enterprise"]["domicile"]["division_code"] = digits
    assert set(refused(app)) == {"application.enterprise.domicile.division_code"}


def test_unicode_digits_are_not_an_id_number_or_a_mobile():
    app = samples.establishment_application()
    app["legal_representative"]["id_number"] = "１" + app["legal_representative"]["id_number"][1:]
    app["contacts"]["liaison"]["mobile"] = "１3900000000"
    assert set(refused(app)) == {"application.legal_representative.id_number", "application.contacts.liaison.mobile"}


@pytest.mark.parametrize("name", ["张\x00伟", "张\x1b[2J伟", "\u202e伟张", "张\u200d伟", "张\ue000伟", "   ", "", " 张伟",
                                  "张" * 51, "张\n伟"])
def test_names_a_seal_could_not_carry_are_refused(name):
    app = samples.establishment_application()
    app["legal_representative"]["name"] = name
    assert set(refused(app)) == {"application.legal_representative.name"}


@pytest.mark.parametrize("name", ["张伟", "𠀀𠀁", "阿卜杜拉·买买提", "John Smith"])
def test_real_names_pass(name):
    app = samples.establishment_application()
    app["legal_representative"]["name"] = name
    assert accepted(app).legal_representative.name == name


@pytest.mark.parametrize("capital", ["500_000", "１000000.00", 1000000, 1000000.0, "1000000.001", "1e6", "-1",
                                     "0", "1000000000000.00", " 1000000.00", "1000000.00\n", True, "NaN", "Infinity"])
def test_money_is_a_decimal_string_with_two_places_and_a_bound(capital):
    app = samples.establishment_application()
    app["enterprise"]["registered_capital"] = capital
    assert "application.enterprise.registered_capital" in refused(app)


def test_a_contribution_deadline_is_a_date_in_a_sane_future():
    app = samples.establishment_application()
    for deadline in ["1900-01-01", "2000-01-01", date.today().replace(year=date.today().year - 1).isoformat(),
                     "2999-01-01", 20301231, "2030-1-1", "2030-02-30"]:
        app["shareholders"][0]["contribution_deadline"] = deadline
        assert set(refused(app)) == {"application.shareholders.0.contribution_deadline"}, deadline


def test_a_stored_application_is_read_again_whatever_today_is():
    """Departments read the application after acceptance: a deadline that has passed since
    must not make them refuse it."""
    from yjs_contracts.api import EstablishmentApplication

    app = samples.establishment_application()
    app["shareholders"][0]["contribution_deadline"] = "2001-01-01"
    assert EstablishmentApplication.model_validate(app).shareholders[0].contribution_deadline == date(2001, 1, 1)


def test_duplicate_shareholders_and_unique_roles_are_refused():
    app = samples.establishment_application()
    app["shareholders"].append(dict(app["shareholders"][0]))
    app["officers"].append({"role": "executive_director", "name": "王芳", "id_number": samples.person(33)})
    assert set(refused(app)) == {"application.shareholders", "application.officers"}
    app = samples.establishment_application()
    app["officers"].append({"role": "supervisor", "name": "王芳", "id_number": samples.person(33)})
    assert len(accepted(app).officers) == 3  # several supervisors are a 监事会


def test_an_entity_shareholder_is_checked_by_its_check_characters_and_nationality_by_iso_3166():
    app = samples.establishment_application()
    app["shareholders"][0].update(kind="entity", uscc="91350100M000100Y44", nationality="ZZZ")
    app["shareholders"][0].pop("id_number")
    assert set(refused(app)) == {"application.shareholders.0.uscc", "application.shareholders.0.nationality"}
    app["shareholders"][0].update(uscc="91350100M000100Y43", nationality="DEU")
    assert accepted(app).shareholders[0].nationality == "DEU"


def test_scope_items_are_bounded():
    app = samples.establishment_application(scope=("软件开发" * 300,))
    assert set(refused(app)) == {"application.enterprise.business_scope.0"}


@pytest.mark.parametrize("value", ["yes", 1, "true", None])
def test_commitments_are_signed_with_real_booleans(value):
    app = samples.deregistration_application("91350100M000100Y43")
    app["commitments"]["debts_settled"] = value
    assert set(refused(app, "deregistration")) == {"application.commitments.debts_settled"}


@pytest.mark.parametrize("overall", [5.0, "5", True, 6, 0])
def test_a_rating_is_an_integer(overall):
    with pytest.raises(ValidationError):
        RatingRequest.model_validate({"overall": overall})


def test_text_may_span_lines_but_never_carry_controls():
    assert text_problem("第一行\n第二行\t完", multiline=True) is None
    assert text_problem("清屏\x1b[2J", multiline=True) is not None
    assert text_problem("\n", multiline=True) == "must not be blank"


def test_a_joint_stock_companys_promoters_may_have_paid_already():
    """股份有限公司: shares are paid in full before registration, so the date may be past; an
    LLC's deadline to pay may not."""
    app = samples.establishment_application()
    app["enterprise"].update(type="joint_stock_company", name="嘉兴红船数字科技股份有限公司")
    app["enterprise"]["name_parts"]["form"] = "股份有限公司"
    last_month = (date.today() - timedelta(days=30)).isoformat()
    app["shareholders"][0]["contribution_deadline"] = last_month
    _, parsed = parse_submission({"matter": "establishment", "application": app})
    assert parsed.shareholders[0].contribution_deadline.isoformat() == last_month
    app["enterprise"]["type"] = "limited_liability_company"
    assert set(refused(app)) == {"application.shareholders.0.contribution_deadline"}


def _machine_words(reason: str) -> list[str]:
    """What a reason may quote as the API fixes it: field names, enumerated values, formats."""
    return [*re.findall(r"'([a-z_]+)'", reason), *re.findall(r"（([a-z_]+)）", reason),
            "YYYY-MM-DD", "ISO", "JSON", "CHN", "true", "false", "application.enterprise.registered_capital",
            "application"]


def test_every_reason_the_door_gives_is_chinese():
    # each kind of mistake pydantic or the contracts' own validators can find, once
    app = samples.establishment_application()
    app["enterprise"]["name"] = 5
    app["enterprise"]["type"] = "llc"
    app["enterprise"]["registered_capital"] = "abc"
    app["enterprise"]["business_scope"] = []
    app["enterprise"]["surprise"] = 1
    app["enterprise"]["domicile"]["division_code"] = "33040"
    app["legal_representative"]["id_number"] = "11010519491231002Y"
    app["legal_representative"]["mobile"] = "123"
    app["shareholders"][0]["contribution_deadline"] = "2030-13-01"
    app["shareholders"][0]["nationality"] = "ZZZ"
    app["shareholders"].append({**app["shareholders"][0], "contribution_deadline": "2030-12-31", "nationality": "CHN"})
    app["shareholders"].append({**app["shareholders"][1], "id_number": None, "kind": "natural_person"})
    app["officers"].append(dict(app["officers"][0]))
    app["seals"] = ["official", "zz"]
    app["tax"] = "x"
    app["contacts"] = {}
    reasons = refused(app)
    reasons.update(refused({"route": 1}, matter="deregistration"))
    with pytest.raises(InvalidApplication) as unknown:
        parse_submission({"matter": "opening", "application": {}})
    reasons.update({d.field: d.reason for d in unknown.value.details})
    assert len(reasons) >= 15, reasons
    english = {field: english_words(reason, _machine_words(reason)) for field, reason in reasons.items()}
    assert {field: words for field, words in english.items() if words} == {}, reasons


def test_a_pattern_the_door_checks_is_said_in_words():
    app = samples.establishment_application()
    app["legal_representative"]["id_number"] = "1101051949123100"
    assert refused(app) == {"application.legal_representative.id_number":
                            "应为 18 位公民身份号码：17 位数字和一位校验位（数字或 X）"}
