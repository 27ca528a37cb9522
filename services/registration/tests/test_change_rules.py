"""变更登记's rules, pure: the enterprise as registered and a change in, reasons and changed fields out."""

from datetime import date
from decimal import Decimal

from yjs_contracts import samples
from yjs_contracts.api import ChangeApplication
from yjs_registration import changes

USCC = "91350100M000100Y43"
LEGAL, SUPERVISOR = samples.LEGAL_REPRESENTATIVE_ID, samples.person(22, date(1990, 2, 28))
NEW_LEGAL = samples.NEW_LEGAL_REPRESENTATIVE_ID
TODAY = date(2026, 12, 2)


def current(**overrides) -> changes.Registered:
    row = {"name": "嘉兴红船数字科技有限公司", "type": "limited_liability_company",
           "domicile": {"address": "浙江省嘉兴市南湖区广益路1号", "division_code": "330402"}, "division_code": "330402",
           "registered_capital": Decimal("1000000.00"), "legal_representative": "张伟",
           "business_scope": ["软件开发"],
           "shareholders": [{"kind": "natural_person", "name": "张伟", "id_number": LEGAL,
                             "subscribed_amount": "1000000.00"}],
           "officers": [{"role": "executive_director", "name": "张伟", "id_number": LEGAL},
                        {"role": "supervisor", "name": "李娜", "id_number": SUPERVISOR}]}
    return changes.registered({**row, **overrides}, LEGAL)


def change(trade_name=None, legal=True, **others) -> ChangeApplication:
    body = samples.change_application(USCC, trade_name, new_legal_representative=legal, **others)
    reason = body["changes"].pop("capital_reduction_reason", None)
    return ChangeApplication.model_validate({**body, "capital_reduction_reason": reason})


def codes(reasons):
    return [(r.code, r.field) for r in reasons]


def test_a_rename_and_a_new_legal_representative_who_is_the_new_director_pass_and_say_what_changed():
    app = change("新禾")
    assert changes.change_reasons(current(), app, TODAY) == []
    fields = {f.field: (f.old, f.new) for f in changes.changed_fields(current(), app)}
    assert fields["name"] == ("嘉兴红船数字科技有限公司", "嘉兴新禾餐饮管理有限公司")
    assert fields["legal_representative"] == ("张伟", "陈静")
    assert fields["officers"][1][0] == {"role": "executive_director", "name": "陈静"}
    assert "id_number" not in str(fields)  # the record names people, it does not print their ID numbers
    after = changes.after(current(), app)
    assert (after.name, after.legal_representative_id, after.registered_capital) == (
        "嘉兴新禾餐饮管理有限公司", NEW_LEGAL, Decimal("1000000.00"))


def test_a_new_name_passes_the_establishment_name_rules_at_its_place_in_the_change():
    app = change("中国", legal=False)
    assert ("prohibited_word", "application.changes.name.name") in codes(changes.change_reasons(current(), app, TODAY))
    one = change("禾", legal=False)
    assert codes(changes.change_reasons(current(), one, TODAY)) == [
        ("trade_name_too_short", "application.changes.name.name_parts.trade_name")]


def test_the_legal_representative_must_direct_or_manage_after_the_change():
    # a new legal representative, the officers unchanged: 陈静 is not among them
    app = ChangeApplication.model_validate({"uscc": USCC, "changes": {
        "legal_representative": {"name": "陈静", "id_number": NEW_LEGAL, "mobile": "13600000000"}}})
    assert codes(changes.change_reasons(current(), app, TODAY)) == [
        ("legal_representative_not_director_or_manager", "application.changes.legal_representative")]
    # new officers that drop the legal representative as director
    officers = ChangeApplication.model_validate({"uscc": USCC, "changes": {"officers": [
        {"role": "executive_director", "name": "陈静", "id_number": NEW_LEGAL},
        {"role": "supervisor", "name": "张伟", "id_number": LEGAL}]}})
    assert codes(changes.change_reasons(current(), officers, TODAY)) == [
        ("legal_representative_not_director_or_manager", "application.changes.legal_representative")]


def test_a_capital_reduction_needs_a_reason_and_the_subscriptions_follow_the_capital():
    reduced = ChangeApplication.model_validate({"uscc": USCC, "changes": {
        "registered_capital": "500000.00", "shareholders": [
            {"kind": "natural_person", "name": "张伟", "id_number": LEGAL, "subscribed_amount": "500000.00",
             "contribution_form": "currency", "contribution_deadline": "2030-12-31"}]}})
    assert codes(changes.change_reasons(current(), reduced, TODAY)) == [
        ("capital_reduction_reason_missing", "application.capital_reduction_reason")]
    explained = reduced.model_copy(update={"capital_reduction_reason": "经营规模调整，股东会决议减资"})
    assert changes.change_reasons(current(), explained, TODAY) == []
    alone = ChangeApplication.model_validate({"uscc": USCC, "changes": {"registered_capital": "2000000.00"}})
    assert codes(changes.change_reasons(current(), alone, TODAY)) == [
        ("subscriptions_mismatch", "application.changes.registered_capital")]


def test_a_change_that_restates_the_register_changes_nothing_and_is_refused():
    same = ChangeApplication.model_validate({"uscc": USCC, "changes": {"business_scope": ["软件开发"]}})
    assert changes.changed_fields(current(), same) == []
    assert codes(changes.change_reasons(current(), same, TODAY)) == [("nothing_changed", "application.changes")]


def test_unknown_scope_items_and_an_enterprise_off_the_register_are_refused():
    scope = ChangeApplication.model_validate({"uscc": USCC, "changes": {"business_scope": ["软件开发", "炼金术"]}})
    assert codes(changes.change_reasons(current(), scope, TODAY)) == [
        ("unknown_scope_item", "application.changes.business_scope.1")]
    assert codes(changes.enterprise_reasons(None)) == [("enterprise_unknown", "application.uscc")]
    assert codes(changes.enterprise_reasons("deregistered")) == [("enterprise_not_registered", "application.uscc")]
    assert changes.enterprise_reasons("registered") == []


def test_creditors_objections_to_a_reduction_go_to_registration_staff():
    assert changes.objection_reasons(None) == [] == changes.objection_reasons({"objections": []})
    [reason] = changes.objection_reasons({"objections": [{"objection_id": "YY1", "name": "某某供应链有限公司",
                                                          "reason": "货款 12 万元未清偿"}]})
    assert reason.code == "creditor_objection" and "某某供应链有限公司" in reason.message
