"""Registration's rules, without broker or database: each rule's code, field and text."""

from datetime import date
from decimal import Decimal

from yjs_contracts import samples
from yjs_contracts.api import EstablishmentApplication
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
    assert rules.id_number_reasons(app(bad))[0].message.startswith("居民身份证号码无效：")


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
