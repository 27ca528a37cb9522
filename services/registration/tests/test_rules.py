"""Registration's rules, without broker or database: each rule's code, field and text."""

from datetime import date
from decimal import Decimal

from yjs_contracts import samples
from yjs_contracts.api import EstablishmentApplication
from yjs_contracts.words import english_words
from yjs_registration import rules

TODAY = date(2026, 12, 2)


def app(change=lambda raw: None, trade_name: str = "红船") -> EstablishmentApplication:
    raw = samples.establishment_application(trade_name)
    change(raw)
    return EstablishmentApplication.model_validate(raw)


def codes(reasons) -> list[tuple[str, str]]:
    return [(r.code, r.field) for r in reasons]


def test_a_sound_application_passes_every_rule_and_needs_no_registrar():
    sound = app()
    assert rules.establishment_reasons(sound, TODAY) == []
    assert rules.review_reasons(sound) == []


def test_the_name_is_region_trade_name_industry_and_form_in_that_order():
    def swapped(raw):
        raw["enterprise"]["name"] = "红船嘉兴数字科技有限公司"

    assert codes(rules.name_reasons(app(swapped))) == [("name_structure", "application.enterprise.name")]


def test_a_trade_name_is_two_or_more_chinese_characters():
    def one(raw):
        raw["enterprise"]["name"] = "嘉兴红数字科技有限公司"
        raw["enterprise"]["name_parts"]["trade_name"] = "红"

    def latin(raw):
        raw["enterprise"]["name"] = "嘉兴AB数字科技有限公司"
        raw["enterprise"]["name_parts"]["trade_name"] = "AB"

    short = [("trade_name_too_short", "application.enterprise.name_parts.trade_name")]
    assert codes(rules.name_reasons(app(one))) == short
    assert codes(rules.name_reasons(app(latin))) == short
    assert rules.name_reasons(app(trade_name="红船")) == []  # exactly two is enough


def test_the_form_must_suit_the_enterprise_type():
    def workshop(raw):
        raw["enterprise"]["name"] = "嘉兴红船数字科技工作室"
        raw["enterprise"]["name_parts"]["form"] = "工作室"

    def joint_stock(raw):  # a form of another type, and one that sorts after the LLC's
        raw["enterprise"]["name"] = "嘉兴红船数字科技股份有限公司"
        raw["enterprise"]["name_parts"]["form"] = "股份有限公司"

    [reason] = rules.name_reasons(app(workshop))
    assert (reason.code, reason.field) == ("name_form_mismatch", "application.enterprise.name_parts.form")
    assert "工作室" in reason.message
    assert codes(rules.name_reasons(app(joint_stock))) == [("name_form_mismatch", "application.enterprise.name_parts.form")]


def test_every_prohibited_word_is_named():
    reasons = rules.name_reasons(app(trade_name="中国国家"))
    assert [(r.code, r.message) for r in reasons] == [
        ("prohibited_word", "名称含有禁限用字词“中国”"), ("prohibited_word", "名称含有禁限用字词“国家”")]


def test_every_invalid_id_number_is_named_with_its_field():
    def bad(raw):
        raw["legal_representative"]["id_number"] = "110105194912310021"
        raw["officers"][1]["id_number"] = "110105194912310021"
        raw["contacts"]["tax_handler"]["id_number"] = "110105194912310021"

    assert codes(rules.id_number_reasons(app(bad))) == [
        ("invalid_id_number", "application.legal_representative.id_number"),
        ("invalid_id_number", "application.officers.1.id_number"),
        ("invalid_id_number", "application.contacts.tax_handler.id_number")]
    assert [r.message for r in rules.id_number_reasons(app(bad))] == [
        "法定代表人张伟的公民身份号码校验位应为 X，实为 1", "监事李娜的公民身份号码校验位应为 X，实为 1",
        "办税人王芳的公民身份号码校验位应为 X，实为 1"]


def test_subscriptions_add_up_to_the_registered_capital():
    def short(raw):
        raw["shareholders"][0]["subscribed_amount"] = "999999.99"

    [reason] = rules.capital_reasons(app(short), TODAY)
    assert (reason.code, reason.field) == ("subscriptions_mismatch", "application.shareholders")
    assert "999999.99" in reason.message and "1000000.00" in reason.message


def test_an_llc_pays_in_within_five_years_to_the_day():
    def deadline(day: str):
        return lambda raw: raw["shareholders"][0].update(contribution_deadline=day)

    assert rules.capital_reasons(app(deadline("2031-12-02")), TODAY) == []
    [late] = rules.capital_reasons(app(deadline("2031-12-03")), TODAY)
    assert (late.code, late.field) == ("contribution_deadline_too_late", "application.shareholders.0.contribution_deadline")
    assert "2031-12-02" in late.message
    # from 29 February the fifth year has none: the 28th is the last day
    assert rules.capital_reasons(app(deadline("2033-02-28")), date(2028, 2, 29)) == []
    assert codes(rules.capital_reasons(app(deadline("2033-03-01")), date(2028, 2, 29))) == [
        ("contribution_deadline_too_late", "application.shareholders.0.contribution_deadline")]


def test_a_company_needs_a_director():
    def no_director(raw):
        raw["officers"] = [o for o in raw["officers"] if o["role"] != "executive_director"]

    assert codes(rules.officer_reasons(app(no_director))) == [("no_director", "application.officers")]
    assert rules.officer_reasons(app()) == []


def test_every_scope_item_outside_the_catalogue_is_named():
    def scope(raw):
        raw["enterprise"]["business_scope"] = ["软件开发", "炼金术", "占卜"]

    assert codes(rules.scope_reasons(app(scope))) == [
        ("unknown_scope_item", "application.enterprise.business_scope.1"),
        ("unknown_scope_item", "application.enterprise.business_scope.2")]


def test_all_failing_rules_are_told_at_once():
    def many(raw):
        raw["shareholders"][0]["subscribed_amount"] = "1.00"
        raw["enterprise"]["business_scope"] = ["炼金术"]

    found = {r.code for r in rules.establishment_reasons(app(many, trade_name="国家"), TODAY)}
    assert found == {"prohibited_word", "subscriptions_mismatch", "unknown_scope_item"}


def test_a_registrar_looks_at_foreign_and_entity_investors_and_large_capital():
    def foreign(raw):
        raw["shareholders"][0]["nationality"] = "USA"

    assert codes(rules.review_reasons(app(foreign))) == [("foreign_investor", "application.shareholders.0.nationality")]
    assert codes(rules.review_reasons(app(), Decimal("999999.99"))) == [
        ("large_capital", "application.enterprise.registered_capital")]
    assert rules.review_reasons(app(), Decimal("1000000.00")) == []  # at the threshold: no review
    assert rules.review_capital_threshold({}) == Decimal("100000000.00")
    assert rules.review_capital_threshold({"REGISTRATION_REVIEW_CAPITAL": " 500 "}) == Decimal("500")
    assert rules.review_capital_threshold({"REGISTRATION_REVIEW_CAPITAL": " "}) == Decimal("100000000.00")


def test_deregistration_needs_an_enterprise_still_registered():
    assert codes(rules.deregistration_reasons(None)) == [("enterprise_unknown", "application.uscc")]
    assert codes(rules.deregistration_reasons("deregistered")) == [("already_deregistered", "application.uscc")]
    assert codes(rules.deregistration_reasons("revoked")) == [("already_deregistered", "application.uscc")]
    assert rules.deregistration_reasons("registered") == []


def test_a_licence_number_is_the_division_and_a_nine_digit_serial():
    assert rules.licence_number("330402", 17) == "330402000000017"
    assert rules.name_taken_reason().code == "name_taken"


def test_the_legal_representative_is_a_director_or_the_manager():
    def supervisor_represents(raw):
        raw["legal_representative"]["id_number"] = raw["officers"][1]["id_number"]

    def manager_represents(raw):
        supervisor_represents(raw)
        raw["officers"][1]["role"] = "manager"

    [reason] = rules.legal_representative_reasons(app(supervisor_represents), TODAY)
    assert (reason.code, reason.field) == ("legal_representative_not_director_or_manager",
                                           "application.legal_representative.id_number")
    assert reason.message.startswith("法定代表人张伟")
    assert rules.legal_representative_reasons(app(manager_represents), TODAY) == []
    assert rules.legal_representative_reasons(app(), TODAY) == []


def test_the_legal_representative_is_eighteen_on_the_day_of_application():
    def born(day: date):
        def change(raw):
            number = samples.person(44, day)
            raw["legal_representative"]["id_number"] = number
            raw["officers"][0]["id_number"] = number
            raw["shareholders"][0]["id_number"] = number
        return change

    assert rules.legal_representative_reasons(app(born(date(2008, 12, 2))), TODAY) == []  # the birthday
    [minor] = rules.legal_representative_reasons(app(born(date(2008, 12, 3))), TODAY)
    assert (minor.code, minor.field) == ("legal_representative_under_age", "application.legal_representative.id_number")
    assert "2008-12-03" in minor.message and "未满十八周岁" in minor.message
    # an eleven-year-old: refused whatever else is right
    assert codes(rules.legal_representative_reasons(app(born(date(2015, 6, 1))), TODAY)) == [
        ("legal_representative_under_age", "application.legal_representative.id_number")]


def test_an_invalid_id_number_is_not_also_given_an_age():
    def bad(raw):
        raw["legal_representative"]["id_number"] = "110105194912310021"

    assert codes(rules.legal_representative_reasons(app(bad), TODAY)) == [
        ("legal_representative_not_director_or_manager", "application.legal_representative.id_number")]


def test_a_supervisor_is_not_also_a_director_or_manager():
    def also(role: str):
        def change(raw):
            supervisor = raw["officers"][1]
            raw["officers"].append({"role": role, "name": supervisor["name"], "id_number": supervisor["id_number"]})
        return change

    for role, title in (("manager", "经理"), ("director", "董事")):
        [reason] = rules.supervisor_reasons(app(also(role)))
        assert (reason.code, reason.field) == ("supervisor_also_director_or_manager", "application.officers.1.id_number")
        assert f"监事李娜同时担任{title}" in reason.message

    def executive_supervises(raw):  # the executive director named as supervisor too
        raw["officers"][1]["id_number"] = raw["officers"][0]["id_number"]

    assert codes(rules.supervisor_reasons(app(executive_supervises))) == [
        ("supervisor_also_director_or_manager", "application.officers.1.id_number")]
    assert rules.supervisor_reasons(app()) == []


def sole_proprietorship(raw):
    raw["enterprise"].update(type="sole_proprietorship", name="嘉兴红船数字科技商行")
    raw["enterprise"]["name_parts"]["form"] = "商行"


def test_a_sole_proprietorship_has_exactly_one_natural_person_investor():
    def with_a_company(raw):
        sole_proprietorship(raw)
        raw["shareholders"][0]["subscribed_amount"] = "500000.00"
        raw["shareholders"].append({
            "kind": "entity", "name": "嘉兴禾丰投资有限公司", "uscc": "91350100M000100Y43",
            "subscribed_amount": "500000.00", "contribution_form": "currency", "contribution_deadline": "2030-12-31"})

    assert rules.investor_reasons(app(sole_proprietorship), TODAY) == []
    reasons = rules.investor_reasons(app(with_a_company), TODAY)
    assert codes(reasons) == [("sole_proprietorship_investors", "application.shareholders"),
                              ("sole_proprietorship_investors", "application.shareholders.1.kind")]
    assert "2 个投资人" in reasons[0].message and "嘉兴禾丰投资有限公司" in reasons[1].message
    assert rules.establishment_reasons(app(sole_proprietorship), TODAY) == []  # no company rules for it


def test_a_partnership_name_says_which_kind_of_partnership():
    def partnership(name: str, form: str):
        def change(raw):
            raw["enterprise"].update(type="partnership", name=name)
            raw["enterprise"]["name_parts"].update(industry="投资", form=form)
            raw["officers"] = [o for o in raw["officers"] if o["role"] != "supervisor"]
        return change

    for kind in ("普通合伙", "有限合伙", "特殊普通合伙"):
        form = f"合伙企业（{kind}）"
        assert rules.name_reasons(app(partnership(f"嘉兴红船投资{form}", form))) == []
    [missing] = rules.name_reasons(app(partnership("嘉兴红船投资合伙企业", "合伙企业")))
    assert (missing.code, missing.field) == ("partnership_kind_missing", "application.enterprise.name")
    assert "有限合伙" in missing.message
    assert codes(rules.name_reasons(app(partnership("嘉兴红船投资有限公司（有限合伙）", "有限公司（有限合伙）")))) == [
        ("name_form_mismatch", "application.enterprise.name_parts.form")]


def test_a_joint_stock_companys_promoters_pay_in_full_before_registration():
    def joint_stock(deadline: str):
        def change(raw):
            raw["enterprise"].update(type="joint_stock_company", name="嘉兴红船数字科技股份有限公司")
            raw["enterprise"]["name_parts"]["form"] = "股份有限公司"
            raw["shareholders"][0]["contribution_deadline"] = deadline
        return change

    assert rules.investor_reasons(app(joint_stock("2026-12-02")), TODAY) == []
    assert rules.investor_reasons(app(joint_stock("2026-11-02")), TODAY) == []  # paid last month
    [unpaid] = rules.investor_reasons(app(joint_stock("2031-01-01")), TODAY)
    assert (unpaid.code, unpaid.field) == ("promoter_shares_unpaid", "application.shareholders.0.contribution_deadline")
    assert "张伟" in unpaid.message and "2031-01-01" in unpaid.message
    # an LLC pays within five years: no such rule for it
    assert rules.investor_reasons(app(), TODAY) == []


def test_the_region_in_the_name_is_the_domiciles():
    def region(name: str, division: str = "330402"):
        def change(raw):
            parts = raw["enterprise"]["name_parts"]
            parts["region"] = name
            raw["enterprise"]["name"] = name + parts["trade_name"] + parts["industry"] + parts["form"]
            raw["enterprise"]["domicile"]["division_code"] = division
        return change

    for fitting in ("嘉兴", "嘉兴市", "浙江", "浙江省", "嘉兴南湖", "嘉兴市南湖区"):
        assert rules.region_reasons(app(region(fitting))) == [], fitting
    [beijing] = rules.region_reasons(app(region("北京")))
    assert (beijing.code, beijing.field) == ("name_region_mismatch", "application.enterprise.name_parts.region")
    assert "“北京”" in beijing.message and "浙江省嘉兴市南湖区" in beijing.message
    # a district only with its city; another city of the same province is another place
    assert codes(rules.region_reasons(app(region("南湖")))) == [
        ("name_region_mismatch", "application.enterprise.name_parts.region")]
    assert codes(rules.region_reasons(app(region("杭州")))) == [
        ("name_region_mismatch", "application.enterprise.name_parts.region")]
    # a county-level city on its own; a district of a 直辖市 with the city
    assert rules.region_reasons(app(region("海宁", "330481"))) == []
    assert rules.region_reasons(app(region("北京海淀", "110108"))) == []
    # where the table does not know the domicile's places, only a name it can place elsewhere is refused
    assert rules.region_reasons(app(region("温州", "330300"))) == []
    assert codes(rules.region_reasons(app(region("嘉兴", "330300")))) == [
        ("name_region_mismatch", "application.enterprise.name_parts.region")]
    assert codes(rules.name_reasons(app(region("北京")))) == [
        ("name_region_mismatch", "application.enterprise.name_parts.region")]


def test_names_are_compared_without_form_wording_or_punctuation():
    key = rules.name_key("嘉兴红船数字科技有限公司")
    assert rules.name_key("嘉兴红船数字科技有限责任公司") == key
    assert rules.name_key("嘉兴红船数字科技 有限公司") == key
    assert rules.name_key("嘉兴·红船数字科技有限公司") == key
    assert rules.name_key("嘉兴红船数字科技股份有限公司") == rules.name_key("嘉兴红船数字科技股份公司")
    assert rules.name_key("嘉兴红船数字科技股份有限公司") != key  # another form is another name
    assert rules.name_key("嘉兴红船投资合伙企业（有限合伙）") == rules.name_key("嘉兴红船投资合伙企业(有限合伙)")
    assert rules.name_key("嘉兴红船数字科技有限公司") != rules.name_key("嘉兴红帆数字科技有限公司")


def test_every_reason_a_registrar_gives_is_in_chinese():
    """Each rule made to fail at least once: its message names the field in Chinese, with no
    English word (a code from the application, such as a USCC, is quoted as given)."""
    def everything_wrong(raw):
        raw["enterprise"].update(type="joint_stock_company", name="红船嘉兴中国数字科技股份有限公司",
                                 business_scope=["炼金术"])
        raw["enterprise"]["name_parts"].update(region="北京", trade_name="红", form="有限公司")
        raw["legal_representative"]["id_number"] = "110105194912310021"
        raw["shareholders"][0].update(subscribed_amount="1.00", contribution_deadline="2031-12-03",
                                      nationality="USA")
        raw["shareholders"].append({
            "kind": "entity", "name": "嘉兴禾丰投资有限公司", "uscc": "91350100M000100Y43",
            "subscribed_amount": "1.00", "contribution_form": "currency", "contribution_deadline": "2030-12-31"})
        raw["officers"] = [{"role": "supervisor", "name": "李娜", "id_number": samples.person(5, date(2015, 1, 1))},
                           {"role": "manager", "name": "李娜", "id_number": samples.person(5, date(2015, 1, 1))}]

    wrong = app(everything_wrong)
    reasons = rules.establishment_reasons(wrong, TODAY) + rules.review_reasons(wrong, Decimal("0.01"))
    reasons += [rules.name_taken_reason()] + rules.deregistration_reasons(None) + rules.deregistration_reasons("revoked")
    reasons += rules.legal_representative_reasons(app(lambda raw: raw["legal_representative"].update(
        id_number=samples.person(6, date(2015, 1, 1)))), TODAY)
    reasons += rules.investor_reasons(app(lambda raw: (sole_proprietorship(raw), everything_wrong(raw),
                                                       raw["enterprise"].update(type="sole_proprietorship"))), TODAY)
    assert {r.code for r in reasons} >= {
        "name_structure", "trade_name_too_short", "name_form_mismatch", "prohibited_word", "name_region_mismatch",
        "invalid_id_number", "subscriptions_mismatch", "no_director", "legal_representative_not_director_or_manager",
        "legal_representative_under_age", "supervisor_also_director_or_manager", "promoter_shares_unpaid",
        "sole_proprietorship_investors", "unknown_scope_item", "foreign_investor", "entity_shareholder",
        "large_capital", "name_taken", "enterprise_unknown", "already_deregistered"}
    for reason in reasons:
        assert english_words(reason.message, machine=["91350100M000100Y43"]) == [], reason
