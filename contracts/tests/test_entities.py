"""个体工商户 and 农民专业合作社 at the door: each type's form holds what it needs and nothing
another type's form holds; every refusal names the field, in Chinese; and their plans."""

import pytest
from yjs_contracts import samples
from yjs_contracts.api import InvalidApplication, parse_submission
from yjs_contracts.codes import make_uscc
from yjs_contracts.plans import plan_for
from yjs_contracts.words import english_words


def refused(application) -> dict[str, str]:
    with pytest.raises(InvalidApplication) as error:
        parse_submission({"matter": "establishment", "application": application})
    return {d.field: d.reason for d in error.value.details}


def accepted(application):
    return parse_submission({"matter": "establishment", "application": application})[1]


def test_an_individual_business_names_an_operator_instead_of_investors_and_officers():
    app = accepted(samples.individual_business_application(family=True))
    assert app.operator.operation == "family" and app.operator.family_members[0].name == "李娜"
    assert app.signatory is app.operator and app.shareholders is None and app.officers is None
    assert accepted(samples.individual_business_application(funds=None)).enterprise.registered_capital is None


def test_an_individual_business_form_with_a_companys_people_is_refused_at_each_field():
    company = samples.establishment_application()
    application = samples.individual_business_application()
    del application["operator"]
    application |= {"legal_representative": company["legal_representative"], "shareholders": company["shareholders"],
                    "officers": company["officers"]}
    assert refused(application) == {
        "application.legal_representative": "个体工商户不填写法定代表人（legal_representative）",
        "application.shareholders": "个体工商户不填写股东（投资人）（shareholders）",
        "application.officers": "个体工商户不填写董事、监事、经理（officers）",
        "application.operator": "个体工商户须填写经营者（operator）",
    }


def test_family_operation_names_the_family_members_and_personal_operation_none():
    family = samples.individual_business_application(family=True)
    family["operator"]["family_members"] = []
    assert refused(family) == {"application.operator.family_members": "家庭经营须填写参加经营的家庭成员"}
    personal = samples.individual_business_application(family=True)
    personal["operator"]["operation"] = "personal"
    assert list(refused(personal)) == ["application.operator.family_members"]


def test_a_lower_case_x_in_an_operators_or_members_id_number_is_stored_upper_case():
    application = samples.cooperative_application()
    application["members"][1]["id_number"] = "11010519491231002x"
    individual = samples.individual_business_application()
    individual["operator"]["id_number"] = "11010519491231002x"
    assert accepted(application).members[1].id_number == "11010519491231002X"
    assert accepted(individual).operator.id_number == "11010519491231002X"


def test_a_cooperative_names_members_and_its_legal_representative_not_shareholders():
    app = accepted(samples.cooperative_application())
    assert len(app.members) == 5 and app.signatory is app.legal_representative
    application = samples.cooperative_application()
    application["shareholders"] = samples.establishment_application()["shareholders"]
    del application["members"], application["legal_representative"]
    assert refused(application) == {
        "application.shareholders": "农民专业合作社不填写股东（投资人）（shareholders）",
        "application.members": "农民专业合作社须填写成员（members）",
        "application.legal_representative": "农民专业合作社须填写法定代表人（legal_representative）",
    }


def test_a_company_still_needs_its_registered_capital_and_takes_no_members():
    application = samples.establishment_application()
    del application["enterprise"]["registered_capital"]
    application["members"] = samples.cooperative_members()
    assert set(refused(application)) == {"application.enterprise.registered_capital", "application.members"}


def test_a_member_is_identified_a_farmer_by_id_number_another_by_either():
    members = samples.cooperative_members(contribution=None)
    members[1] = {"name": "成员1", "kind": "farmer", "uscc": make_uscc("330402", 5)}
    members[2] = {"name": "成员2", "kind": "other"}
    members[3]["uscc"] = make_uscc("330402", 6)
    members[4] |= {"contribution": "-5"}
    reasons = refused(samples.cooperative_application(members=members, capital=None))
    assert reasons == {
        "application.members.1.id_number": "农民成员须填写公民身份号码（id_number）",
        "application.members.2.id_number": "成员须填写公民身份号码（id_number）或统一社会信用代码（uscc）",
        "application.members.3.uscc": "成员只填写公民身份号码或统一社会信用代码之一",
        "application.members.4.contribution": reasons["application.members.4.contribution"],
    }
    assert all(english_words(reason, ("id_number", "uscc")) == [] for reason in reasons.values())


def test_a_member_uscc_is_checked_by_both_check_characters():
    for code, why in (("91350100M000100Y44", "校验码应为 3，实为 4"), ("91350100M000100Y56", "主体标识码 M000100Y5 的校验码应为 4")):
        members = samples.cooperative_members(contribution=None)
        members[4] = {"name": "某公司", "kind": "other", "uscc": code}
        reasons = refused(samples.cooperative_application(members=members, capital=None))
        assert list(reasons) == ["application.members.4.uscc"] and why in reasons["application.members.4.uscc"]
    members = samples.cooperative_members(contribution=None)
    members[4] = {"name": "某公司", "kind": "other", "uscc": "91350100M000100Y43"}
    assert accepted(samples.cooperative_application(members=members, capital=None)).members[4].uscc == "91350100M000100Y43"


def test_the_same_member_twice_is_refused():
    members = samples.cooperative_members()
    members[4]["id_number"] = members[3]["id_number"]
    assert refused(samples.cooperative_application(members=members)) == {"application.members": "第 3 与第 4 位成员是同一人"}


def test_an_individual_business_plan_holds_only_the_steps_it_asked_for():
    def steps(application):
        return {p.step: p.after for p in plan_for("establishment", application)}

    assert steps(samples.individual_business_application(seals=(), bank_account=False)) == {
        "registration.establish": [], "tax.register": ["registration.establish"],
        "tax.grant_invoices": ["tax.register"]}
    assert steps(samples.individual_business_application(seals=("official", "invoice"), bank_account=True)) == {
        "registration.establish": [], "seal_carving.carve": ["registration.establish"],
        "tax.register": ["registration.establish"], "tax.grant_invoices": ["tax.register", "seal_carving.carve"],
        "bank_account.open": ["registration.establish", "seal_carving.carve"]}
    assert steps(samples.individual_business_application(seals=(), employees=1))["social_insurance.register"] == [
        "registration.establish"]
    # a cooperative's is a company's: seals, tax, its account and social insurance
    assert set(steps(samples.cooperative_application())) == {
        "registration.establish", "seal_carving.carve", "tax.register", "tax.grant_invoices", "bank_account.open",
        "social_insurance.register"}
