"""Registration's rules for the market entities other than companies: 个体工商户 and 农民专业合作社."""

from datetime import date

from yjs_contracts import samples
from yjs_contracts.api import EnterpriseType, EstablishmentApplication
from yjs_contracts.codes import make_id_number, make_uscc, validate_uscc
from yjs_contracts.words import english_words
from yjs_registration import rules

TODAY = date(2026, 12, 2)


def individual(change=lambda raw: None, **options) -> EstablishmentApplication:
    raw = samples.individual_business_application(**options)
    change(raw)
    return EstablishmentApplication.model_validate(raw)


def cooperative(change=lambda raw: None, **options) -> EstablishmentApplication:
    raw = samples.cooperative_application(**options)
    change(raw)
    return EstablishmentApplication.model_validate(raw)


def named(**parts):
    """A change to the name parts given, the name made of the parts again."""
    def change(raw):
        name_parts = raw["enterprise"]["name_parts"]
        name_parts.update(parts)
        raw["enterprise"]["name"] = "".join(name_parts[k] for k in ("region", "trade_name", "industry", "form"))
    return change


def codes(reasons) -> list[tuple[str, str]]:
    return [(r.code, r.field) for r in reasons]


def test_a_sound_individual_business_and_cooperative_pass_every_rule():
    for sound in (individual(), individual(family=True, funds=None), cooperative(), cooperative(capital=None)):
        assert rules.establishment_reasons(sound, TODAY) == []
        assert rules.review_reasons(sound) == []


def test_each_type_is_issued_its_own_organisation_type_under_authority_9():
    assert [rules.org_type(t) for t in EnterpriseType] == ["1", "1", "1", "1", "2", "3"]
    for serial in (0, 1, 887_503_680):
        for kind, prefix in ((EnterpriseType.individual_business, "92"), (EnterpriseType.farmers_cooperative, "93")):
            code = make_uscc("330402", serial, org_type=rules.org_type(kind))
            validate_uscc(code)
            assert code[:8] == prefix + "330402" and code[8:10] == "MA"


def test_an_individual_business_takes_the_organisational_forms_of_a_shop():
    for form in rules.FORMS[EnterpriseType.individual_business]:
        assert rules.name_reasons(individual(named(form=form))) == []
    assert codes(rules.name_reasons(individual(named(form="有限公司")))) == [
        ("name_form_mismatch", "application.enterprise.name_parts.form")]


def test_a_cooperatives_name_ends_in_zhuanye_or_gufen_hezuoshe():
    assert rules.name_reasons(cooperative(named(form="股份合作社"))) == []
    [reason] = rules.name_reasons(cooperative(named(form="店")))
    assert (reason.code, reason.field) == ("name_form_mismatch", "application.enterprise.name_parts.form")
    assert reason.message == "组织形式“店”与企业类型不符"


def test_the_region_of_an_individual_business_name_is_its_domiciles():
    assert codes(rules.name_reasons(individual(named(region="杭州市")))) == [
        ("name_region_mismatch", "application.enterprise.name_parts.region")]


def test_the_operator_and_family_members_id_numbers_are_checked_and_named():
    def wrong(raw):
        raw["operator"]["id_number"] = raw["operator"]["id_number"][:17] + ("1" if raw["operator"]["id_number"][17] != "1" else "2")
        raw["operator"]["family_members"][0]["id_number"] = "110105194912310021"

    reasons = rules.id_number_reasons(individual(wrong, family=True))
    assert codes(reasons) == [("invalid_id_number", "application.operator.id_number"),
                              ("invalid_id_number", "application.operator.family_members.0.id_number")]
    assert reasons[0].message.startswith("经营者张伟的公民身份号码校验位应为")
    assert reasons[1].message == "家庭成员李娜的公民身份号码校验位应为 X，实为 1"


def test_an_operator_under_eighteen_is_refused_at_the_operators_field():
    minor = make_id_number("330402", date(2010, 5, 1), 7)

    def young(raw):
        raw["operator"]["id_number"] = minor

    [reason] = rules.legal_representative_reasons(individual(young), TODAY)
    assert (reason.code, reason.field) == ("legal_representative_under_age", "application.operator.id_number")
    assert reason.message.startswith("经营者张伟申请之日（2026-12-02）未满十八周岁")


def test_a_cooperative_has_five_members_or_more():
    reasons = rules.cooperative_member_reasons(cooperative(members=samples.cooperative_members(4), capital="80000.00"))
    assert codes(reasons) == [("cooperative_too_few_members", "application.members")]
    assert reasons[0].message == "农民专业合作社应有五名以上成员，申报了 4 名"


def test_farmers_are_at_least_eighty_percent_of_the_members():
    assert rules.cooperative_member_reasons(cooperative(members=samples.cooperative_members(5, others=1))) == []
    reasons = rules.cooperative_member_reasons(cooperative(members=samples.cooperative_members(5, others=2)))
    assert codes(reasons) == [("cooperative_farmer_share", "application.members")]
    assert reasons[0].message == "农民至少应当占成员总数的百分之八十，5 名成员中农民 3 名"


def test_entity_members_one_among_twenty_or_five_percent_beyond():
    def entities(count: int, total: int):
        members = samples.cooperative_members(total, contribution=None)
        for i, code in zip(range(total - count, total), range(count)):
            members[i] = {"name": f"单位{i}", "kind": "other", "uscc": make_uscc("330402", 1000 + code)}
        return cooperative(members=members, capital=None)

    one = entities(1, 20)
    assert rules.cooperative_member_reasons(one) == []
    assert codes(rules.review_reasons(one)) == [("entity_member", "application.members.19.uscc")]
    assert codes(rules.cooperative_member_reasons(entities(2, 20))) == [
        ("cooperative_entity_members", "application.members")]
    assert rules.cooperative_member_reasons(entities(2, 40)) == []
    assert codes(rules.cooperative_member_reasons(entities(3, 40))) == [
        ("cooperative_entity_members", "application.members")]


def test_the_chairman_is_one_of_the_members():
    def outsider(raw):
        raw["legal_representative"]["id_number"] = samples.person(77)

    [reason] = rules.legal_representative_reasons(cooperative(outsider), TODAY)
    assert (reason.code, reason.field) == ("legal_representative_not_member", "application.legal_representative.id_number")
    assert reason.message == "法定代表人（理事长）张伟应为本社成员"


def test_the_members_total_contribution_is_the_sum_of_their_contributions():
    assert rules.capital_reasons(cooperative(capital="100000.00"), TODAY) == []
    assert rules.capital_reasons(cooperative(capital=None), TODAY) == []
    assert rules.capital_reasons(cooperative(members=samples.cooperative_members(contribution=None)), TODAY) == []
    [reason] = rules.capital_reasons(cooperative(capital="90000.00"), TODAY)
    assert (reason.code, reason.field) == ("contributions_mismatch", "application.members")
    assert reason.message == "成员出资合计 100000.00 元，与成员出资总额 90000.00 元不符"


def test_company_rules_do_not_ask_an_individual_business_or_cooperative_for_officers():
    assert rules.officer_reasons(individual()) == [] and rules.officer_reasons(cooperative()) == []
    assert rules.investor_reasons(individual(), TODAY) == [] and rules.supervisor_reasons(cooperative()) == []


def test_every_new_reason_reads_in_chinese():
    minor = make_id_number("330402", date(2010, 5, 1), 7)

    def everything(raw):
        raw["legal_representative"]["id_number"] = minor
        raw["enterprise"]["registered_capital"] = "1.00"

    reasons = (rules.establishment_reasons(cooperative(everything, members=samples.cooperative_members(4, others=2)), TODAY)
               + rules.establishment_reasons(individual(lambda raw: raw["operator"].update(id_number=minor)), TODAY))
    assert {r.code for r in reasons} >= {"cooperative_too_few_members", "cooperative_farmer_share",
                                         "legal_representative_not_member", "legal_representative_under_age",
                                         "contributions_mismatch"}
    assert [english_words(r.message) for r in reasons] == [[] for _ in reasons]
