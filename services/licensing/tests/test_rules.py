"""Licensing's rules, without broker or database: each item by its mode, one permit per
industry, commitments and their fallbacks, numbers and terms."""

from dataclasses import replace
from datetime import date, datetime
from types import MappingProxyType

import pytest
from yjs_contracts.catalogue import CURRENT, PermitMode
from yjs_contracts.plans import CHINA
from yjs_licensing import rules

RESTAURANT = ["软件开发", "餐饮服务", "食品销售", "酒类经营"]


def by_name(grants):
    return {g.name: g for g in grants}


def test_a_restaurant_gets_one_comprehensive_permit_covering_its_items():
    decision = rules.decide(CURRENT, RESTAURANT, ["餐饮服务", "食品销售", "酒类经营"])
    assert decision.review == [] and decision.reasons == [] and decision.not_required == []
    [grant] = decision.issue
    assert grant.name == "饭店行业综合许可证" and grant.comprehensive and grant.industry.code == "restaurant"
    assert grant.items == ("餐饮服务", "食品销售", "酒类经营")
    assert [(p.permit.code, p.items, p.mode) for p in grant.parts] == [
        ("food_business", ("餐饮服务", "食品销售"), PermitMode.commitment),
        ("liquor_retail", ("酒类经营",), PermitMode.commitment)]
    assert grant.mode == PermitMode.commitment and grant.prefix == "ZH"


def test_each_item_outside_an_industry_is_handled_by_its_own_mode():
    scope = ["软件开发", "机动车修理和维护", "职业中介活动", "因私出入境中介服务"]
    decision = rules.decide(CURRENT, scope, ["职业中介活动"])
    issued = by_name(decision.issue)
    assert set(issued) == {"机动车维修经营备案", "人力资源服务许可证"}
    assert issued["机动车维修经营备案"].mode == PermitMode.filing and not issued["机动车维修经营备案"].comprehensive
    assert issued["人力资源服务许可证"].mode == PermitMode.commitment
    assert [(p.code, items) for p, items in decision.not_required] == [("exit_entry_agency", ("因私出入境中介服务",))]
    assert decision.review == []


def test_approval_mode_waits_for_staff_with_its_reason():
    decision = rules.decide(CURRENT, ["劳务派遣服务", "机动车修理和维护"], [], scope_field="application.business_scope")
    assert [g.name for g in decision.review] == ["劳务派遣经营许可证"]
    assert [g.name for g in decision.issue] == ["机动车维修经营备案"]  # a filing does not wait for the approval
    [reason] = decision.reasons
    assert reason.code == "approval_required" and reason.field == "application.business_scope.0"


def test_a_commitment_not_signed_for_every_item_falls_back_to_review_for_that_part_only():
    decision = rules.decide(CURRENT, RESTAURANT, ["餐饮服务", "酒类经营"])
    # 一业一证, each part on its own: the signed liquor part is issued now, in the industry's permit
    [issued] = decision.issue
    assert issued.name == "饭店行业综合许可证" and issued.comprehensive and issued.items == ("酒类经营",)
    assert [p.permit.code for p in issued.parts] == ["liquor_retail"] and issued.mode == PermitMode.commitment
    [grant] = decision.review
    assert grant.comprehensive and grant.needs_review and grant.items == ("餐饮服务", "食品销售")
    assert [p.permit.code for p in grant.parts] == ["food_business"]
    # approved, the permit is issued again covering every part
    assert grant.whole.items == ("餐饮服务", "食品销售", "酒类经营") and len(grant.whole.parts) == 2
    [reason] = decision.reasons
    assert reason.code == "commitment_missing" and "食品销售" in reason.message
    assert reason.field == "application.business_scope.2"


def test_a_past_false_promise_bars_commitment():
    decision = rules.decide(CURRENT, ["职业中介活动"], ["职业中介活动"], commitment_barred=True)
    assert decision.issue == [] and [r.code for r in decision.reasons] == ["commitment_barred"]


def test_an_approval_part_does_not_hold_back_the_others_and_cancelled_parts_need_nothing():
    decision = rules.decide(CURRENT, ["药品零售", "第二类医疗器械销售"], [])
    [issued] = decision.issue
    assert issued.name == "药店行业综合许可证" and issued.items == ("第二类医疗器械销售",)
    assert {p.permit.code: p.mode for p in issued.parts} == {"medical_device_class2": PermitMode.filing}
    [grant] = decision.review
    assert grant.name == "药店行业综合许可证" and grant.items == ("药品零售",)
    assert {p.permit.code: p.mode for p in grant.parts} == {"drug_retail": PermitMode.approval}
    assert {p.permit.code: p.mode for p in grant.whole.parts} == {"drug_retail": PermitMode.approval,
                                                                  "medical_device_class2": PermitMode.filing}
    assert grant.whole.items == ("药品零售", "第二类医疗器械销售")
    assert [p.code for p, _ in decision.not_required] == ["drug_retail_preparation"]


def test_an_item_joins_the_first_industry_that_applies_only():
    # a restaurant selling tobacco: the convenience store's defining 食品销售 is the restaurant's already
    decision = rules.decide(CURRENT, ["餐饮服务", "食品销售", "烟草制品零售"], ["餐饮服务", "食品销售"])
    assert [g.name for g in decision.issue] == ["饭店行业综合许可证"]
    assert [g.name for g in decision.review] == ["烟草专卖零售许可证"]
    hotel = rules.decide(CURRENT, ["住宿服务", "餐饮服务"], [])
    assert [g.name for g in hotel.review] == ["旅馆行业综合许可证"]
    assert {p.permit.code for p in hotel.review[0].parts} == {"hotel_special_trade", "public_health", "food_business"}


def test_a_gym_with_a_pool_gets_its_comprehensive_permit_on_commitment():
    scope = ["健身休闲活动", "高危险性体育运动（游泳）", "食品销售（仅销售预包装食品）"]
    [grant] = rules.decide(CURRENT, scope, ["高危险性体育运动（游泳）"]).issue
    assert grant.name == "健身房行业综合许可证"
    assert {p.permit.code: p.mode for p in grant.parts} == {
        "high_risk_sports": PermitMode.commitment, "public_health": PermitMode.commitment,
        "prepackaged_food_filing": PermitMode.filing}


def test_the_same_permit_needed_by_two_items_outside_an_industry_is_one_permit():
    [grant] = rules.decide(CURRENT, ["食品销售"], ["食品销售"]).issue
    assert grant.name == "食品经营许可证" and not grant.comprehensive and grant.prefix == "JY"


def test_another_edition_decides_differently():
    strict = replace(CURRENT, version="test.strict", permits=MappingProxyType({
        **CURRENT.permits, "food_business": replace(CURRENT.permits["food_business"], mode=PermitMode.approval)}))
    assert rules.decide(CURRENT, ["食品销售"], ["食品销售"]).issue
    assert not rules.decide(strict, ["食品销售"], ["食品销售"]).issue


def test_unknown_items_and_unknown_or_closed_enterprises_are_refused_with_reasons():
    [reason] = rules.unknown_item_reasons(CURRENT, ["软件开发", "炼金术"], "application.business_scope")
    assert reason.code == "unknown_scope_item" and reason.field == "application.business_scope.1"
    assert [r.code for r in rules.enterprise_reasons("91350100M000100Y43", None)] == ["enterprise_unknown"]
    assert [r.code for r in rules.enterprise_reasons("91350100M000100Y43", "deregistered")] == ["enterprise_deregistered"]
    assert [r.code for r in rules.enterprise_reasons("91350100M000100Y43", "revoked")] == ["enterprise_revoked"]
    assert rules.enterprise_reasons("91350100M000100Y43", "registered") == []


def test_permit_numbers_have_the_food_licence_shape_and_a_check_digit():
    number = rules.permit_number("JY", "330402", 1)
    assert number == "JY3304020000001" + rules.luhn_digit("3304020000001") and len(number) == 16
    assert rules.luhn_digit("7992739871") == "3"  # the textbook Luhn example
    assert rules.permit_number("JY", "330402", 2) != number
    with pytest.raises(ValueError):
        rules.permit_number("JY", "3304", 1)
    assert len(rules.permit_number("JY", "330402", 9_999_999)) == 16  # the largest seven-digit serial
    for serial in (0, 10**7):
        with pytest.raises(ValueError):
            rules.permit_number("JY", "330402", serial)


def test_a_term_ends_the_day_before_its_anniversary_and_a_leap_day_start_on_the_28th():
    assert rules._years_later(date(2026, 3, 1), 3) == date(2029, 2, 28)
    assert rules._years_later(date(2028, 2, 29), 4) == date(2032, 2, 28)  # 2032 has a 29th
    assert rules._years_later(date(2028, 2, 29), 5) == date(2033, 2, 27)  # 2033 has none: anniversary the 28th


def test_terms_take_the_shortest_validity_and_the_earliest_check_on_working_days():
    [grant] = rules.decide(CURRENT, RESTAURANT, ["餐饮服务", "食品销售", "酒类经营"]).issue
    issued = datetime(2026, 9, 29, 10, 0, tzinfo=CHINA)  # the National Day holiday follows
    terms = rules.terms(grant, issued)
    assert terms.valid_from == date(2026, 9, 29)
    assert terms.valid_until == date(2029, 9, 28)  # 酒类 3 years, shorter than 食品经营 5
    # 20 working days on from 29 Sep: 30 Sep, then 8 Oct onwards, 10 Oct a make-up Saturday
    assert terms.check_due == date(2026, 11, 2)
    [filing] = rules.decide(CURRENT, ["机动车修理和维护"], []).issue
    assert rules.terms(filing, issued) == rules.Terms(date(2026, 9, 29), None, None)
    # the same permits issued after staff review, nothing promised: nothing to check afterwards
    [reviewed] = rules.decide(CURRENT, RESTAURANT, []).review
    assert {p.permit.check_days for p in reviewed.parts} == {20}
    assert rules.terms(reviewed, issued).check_due is None


def test_a_missing_commitment_points_at_the_first_item_left_unsigned():
    decision = rules.decide(CURRENT, RESTAURANT, ["酒类经营"])
    [reason] = [r for r in decision.reasons if r.code == "commitment_missing"]
    assert reason.field == "application.business_scope.1" and "餐饮服务、食品销售" in reason.message


def test_every_permit_number_passes_the_luhn_check():
    def luhn_valid(digits: str) -> bool:  # the check itself, written independently
        total = 0
        for i, d in enumerate(reversed(digits)):
            n = int(d) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        return total % 10 == 0

    numbers = [rules.permit_number("JY", "330402", serial) for serial in range(1, 60)]
    assert all(luhn_valid(n[2:]) for n in numbers)
    assert {n[-1] for n in numbers} == set("0123456789")


def test_grants_are_values_that_cannot_be_changed():
    import dataclasses

    [grant] = rules.decide(CURRENT, RESTAURANT, ["餐饮服务", "食品销售", "酒类经营"]).issue
    with pytest.raises(dataclasses.FrozenInstanceError):
        grant.items = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        grant.parts[0].mode = PermitMode.approval


def test_a_permit_follows_a_change_of_name_or_address_and_ends_with_its_scope():
    number = rules.permit_number("JY", "330402", 1)
    amend = rules.amendment
    assert amend(number, ["餐饮服务"], {"name"}, ["餐饮服务"], "330402") == (rules.AMEND, [])
    assert amend(number, ["餐饮服务"], {"domicile"}, ["餐饮服务"], "330411") == (rules.AMEND, [])  # same city
    action, [reason] = amend(number, ["餐饮服务"], {"domicile"}, ["餐饮服务"], "330106")
    assert reason.code == "permit_outside_jurisdiction" and reason.field == "application.changes.domicile"
    assert amend(number, ["餐饮服务"], {"business_scope", "name"}, ["软件开发"], "330402") == (rules.CANCEL, [])
    assert amend(number, ["餐饮服务", "食品销售"], {"business_scope"}, ["食品销售"], "330402") == (rules.KEEP, [])
    assert amend(number, ["餐饮服务"], {"registered_capital"}, ["餐饮服务"], "330402") == (rules.KEEP, [])


# -- 告知承诺's post-issuance check -------------------------------------------------------------

def test_a_check_falls_due_at_the_start_of_its_day_in_china_and_is_overdue_the_day_after():
    issued = datetime(2026, 3, 2, 9, 30, tzinfo=CHINA)
    times = rules.check_times(date(2026, 3, 30), issued)
    assert times.due_at == datetime(2026, 3, 30, 0, 0, tzinfo=CHINA)
    assert times.overdue_at == datetime(2026, 3, 31, 0, 0, tzinfo=CHINA)
    seconds = rules.check_times(date(2026, 3, 30), issued, period_seconds=5)
    assert (seconds.due_at - issued).total_seconds() == 5 and (seconds.overdue_at - issued).total_seconds() == 10


@pytest.mark.parametrize("status, result, after", [
    ("open", "verified", "verified"), ("open", "rectify", "rectifying"), ("open", "false_commitment", "revoked"),
    ("rectifying", "verified", "verified"), ("rectifying", "false_commitment", "revoked"),
    ("rectifying", "rectify", None),  # a deadline once set is not moved
    ("verified", "false_commitment", None), ("revoked", "verified", None), ("verified", "verified", None),
])
def test_a_checks_result_moves_it_on_only_from_an_open_or_rectifying_state(status, result, after):
    assert rules.next_check_status(status, result) == after


def test_a_rectification_deadline_lies_ahead_and_within_the_permits_validity():
    now = datetime(2026, 3, 2, 9, 30, tzinfo=CHINA)
    assert rules.rectify_problems(None, now, None) == []
    assert rules.rectify_problems(now.replace(day=20), now, date(2030, 1, 1)) == []
    [past] = rules.rectify_problems(now, now, None)
    assert past.field == "rectify_by" and "晚于现在" in past.reason
    [late] = rules.rectify_problems(datetime(2031, 1, 1, tzinfo=CHINA), now, date(2030, 12, 31))
    assert late.field == "rectify_by" and "2030-12-31" in late.reason


def test_a_rectification_lapses_at_its_deadline_and_only_an_open_check_is_overdue():
    now = datetime(2026, 3, 2, 9, 30, tzinfo=CHINA)
    assert rules.rectification_lapsed("rectifying", now, now)
    assert not rules.rectification_lapsed("rectifying", now.replace(hour=10), now)
    assert not rules.rectification_lapsed("verified", now, now) and not rules.rectification_lapsed("open", None, now)
    assert rules.check_overdue("open", now, now) and not rules.check_overdue("open", now.replace(hour=10), now)
    assert not rules.check_overdue("rectifying", now, now)  # its deadline revokes it instead


def test_a_credit_record_bars_the_enterprise_and_the_signer_until_it_runs_out():
    now = datetime(2026, 3, 2, 9, 30, tzinfo=CHINA)
    later, earlier = now.replace(year=2027), now.replace(year=2025)
    bars = [("91330402MA0000001X", "330402198506150119", later)]
    assert rules.barred_by_credit_record(bars, "91330402MA0000001X", None, now)  # the enterprise
    assert rules.barred_by_credit_record(bars, "91330402MA0000002X", "330402198506150119", now)  # the signer, elsewhere
    assert not rules.barred_by_credit_record(bars, "91330402MA0000002X", "330402198506150224", now)
    assert not rules.barred_by_credit_record(bars, "91330402MA0000002X", None, now)
    assert not rules.barred_by_credit_record([("91330402MA0000001X", None, earlier)], "91330402MA0000001X", None, now)
    assert not rules.barred_by_credit_record([("X", None, later)], "Y", None, now)  # no signer matches no signer
    assert not rules.barred_by_credit_record([("91330402MA0000009X", None, later)], "91330402MA0000002X", None, now)
