"""Deregistration's rules, without broker or database."""

from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from yjs_contracts.api import DeregistrationApplication
from yjs_contracts.codes import make_uscc
from yjs_contracts.words import english_words
from yjs_deregistration import rules
from yjs_deregistration.config import NoticePeriods, notice_periods
from yjs_deregistration.rules import Standing

CHINA = ZoneInfo("Asia/Shanghai")
REGISTERED = Standing(status="registered")
LEGAL = NoticePeriods(days={"simple": 20, "general": 45})


def application(route="simple", debts_settled=True, investors_agree=True, group=()):
    return DeregistrationApplication.model_validate({
        "uscc": "91350100M000100Y43", "route": route, "reason": "决议解散",
        "commitments": {"debts_settled": debts_settled, "investors_agree": investors_agree},
        "liquidation_group": [{"name": name, "id_number": number} for name, number in group]})


def codes(reasons):
    return [(r.code, r.field) for r in reasons]


def test_a_registered_enterprise_with_both_commitments_may_close_by_the_simple_route():
    assert rules.eligibility_reasons(application(), REGISTERED) == []


def test_unknown_closed_or_closing_enterprises_are_refused_with_every_reason_at_once():
    assert codes(rules.eligibility_reasons(application(investors_agree=False), Standing(status=None))) == [
        ("enterprise_unknown", "application.uscc"), ("commitment_missing", "application.commitments.investors_agree")]
    assert codes(rules.eligibility_reasons(application(), Standing(status="deregistered"))) == [
        ("already_deregistered", "application.uscc")]
    [running] = rules.eligibility_reasons(application(), Standing(status="registered", running_case="YJS1"))
    assert running.code == "deregistration_in_progress" and "YJS1" in running.message
    # closed by a case whose end deregistration has not yet heard of: closed, not also closing
    assert codes(rules.eligibility_reasons(application(), Standing(status="deregistered", running_case="YJS1"))) == [
        ("already_deregistered", "application.uscc")]


def test_unpaid_tax_as_tax_announced_it_refuses_either_route():
    owing = Standing(status="registered", outstanding_tax=Decimal("1234.50"))
    for route in ("simple", "general"):
        app = application(route, group=[("张伟", "11010519491231002X")])
        [reason] = rules.eligibility_reasons(app, owing)
        assert reason.code == "unpaid_tax" and "1234.50" in reason.message


def test_unpaid_contributions_as_social_insurance_announced_them_refuse_either_route_beside_unpaid_tax():
    owing = Standing(status="registered", outstanding_contributions=Decimal("3200.50"))
    for route in ("simple", "general"):
        app = application(route, group=[("张伟", "11010519491231002X")])
        [reason] = rules.eligibility_reasons(app, owing)
        assert (reason.code, reason.field) == ("unpaid_contributions", "application.uscc")
        assert "欠缴社会保险费 3200.50 元" in reason.message
    both = Standing(status="registered", outstanding_tax=Decimal("1.00"), outstanding_contributions=Decimal("2.00"))
    assert [r.code for r in rules.eligibility_reasons(application(), both)] == ["unpaid_tax", "unpaid_contributions"]
    assert rules.eligibility_reasons(application(), Standing(status="registered",
                                                             outstanding_contributions=Decimal("0.00"))) == []


EVERY_LISTING = ("abnormal_operation", "serious_violation", "equity_frozen", "equity_pledged", "chattel_mortgage",
                 "under_investigation")


@pytest.mark.parametrize("kind", EVERY_LISTING)
def test_every_listing_bars_the_simple_route_with_its_kind_as_the_code(kind):
    [reason] = rules.eligibility_reasons(application(), Standing(status="registered", listings=(kind,)))
    assert (reason.code, reason.field) == (kind, "application.route")
    assert "不适用简易注销" in reason.message and not english_words(reason.message)


def test_only_frozen_equity_and_an_open_investigation_bar_the_general_route():
    group = [("张伟", "11010519491231002X")]
    barred = {kind for kind in EVERY_LISTING
              if rules.eligibility_reasons(application("general", group=group),
                                           Standing(status="registered", listings=(kind,)))}
    assert barred == {"equity_frozen", "under_investigation"}
    reasons = rules.listing_reasons("general", EVERY_LISTING)
    assert codes(reasons) == [("equity_frozen", "application.uscc"), ("under_investigation", "application.uscc")]
    assert all("不得办理注销登记" in r.message for r in reasons)


def test_listings_are_told_once_each_beside_every_other_reason():
    listed = Standing(status="registered", listings=("chattel_mortgage", "abnormal_operation", "abnormal_operation"))
    assert codes(rules.eligibility_reasons(application(investors_agree=False), listed)) == [
        ("abnormal_operation", "application.route"), ("chattel_mortgage", "application.route"),
        ("commitment_missing", "application.commitments.investors_agree")]
    assert rules.listing_reasons("simple", ()) == []


def test_the_simple_route_needs_both_commitments():
    assert codes(rules.route_reasons(application(debts_settled=False, investors_agree=False))) == [
        ("commitment_missing", "application.commitments.debts_settled"),
        ("commitment_missing", "application.commitments.investors_agree")]


def test_the_general_route_needs_a_liquidation_group_of_valid_identities_not_commitments():
    assert codes(rules.route_reasons(application("general", debts_settled=False))) == [
        ("liquidation_group_missing", "application.liquidation_group")]
    group = [("张伟", "11010519491231002X"), ("李娜", "110105194912310021")]
    assert codes(rules.route_reasons(application("general", group=group))) == [
        ("invalid_id_number", "application.liquidation_group.1.id_number")]
    [invalid] = rules.route_reasons(application("general", group=group))
    assert invalid.message == "清算组成员李娜的公民身份号码校验位应为 X，实为 1"


def test_a_notice_counts_calendar_days_from_the_next_day_and_ends_at_midnight_china_time():
    published = datetime(2026, 11, 2, 15, 30, tzinfo=CHINA)  # a Monday
    # 20 days from 11月3日: the last day is 11月22日, a Sunday, so the next working day 11月23日
    assert rules.notice_ends_at(published, "simple", LEGAL) == datetime(2026, 11, 24, 0, 0, tzinfo=CHINA)
    tuesday = datetime(2026, 11, 3, 9, 0, tzinfo=CHINA)  # the last day 11月23日 is a Monday
    assert rules.notice_ends_at(tuesday, "simple", LEGAL) == datetime(2026, 11, 24, 0, 0, tzinfo=CHINA)
    # 45 days from 8月18日 ends on 10月2日, in the National Day holiday: it runs to 10月8日
    assert rules.notice_ends_at(datetime(2026, 8, 18, 10, 0, tzinfo=CHINA), "general", LEGAL) == \
        datetime(2026, 10, 9, 0, 0, tzinfo=CHINA)


def test_the_day_counts_in_china_whatever_the_zone_of_the_clock():
    late_utc = datetime(2026, 11, 2, 17, 0, tzinfo=timezone.utc)  # already 11月3日 01:00 in China
    assert rules.notice_ends_at(late_utc, "simple", LEGAL) == datetime(2026, 11, 24, 0, 0, tzinfo=CHINA)


def test_notice_periods_in_seconds_for_tests_and_demos_and_never_shorter_than_the_law():
    start = datetime(2026, 11, 2, 15, 30, tzinfo=timezone.utc)
    fast = notice_periods({"NOTICE_PERIOD_SECONDS": "3"})
    assert rules.notice_ends_at(start, "general", fast) == datetime(2026, 11, 2, 15, 30, 3, tzinfo=timezone.utc)
    assert notice_periods({}).days == {"simple": 20, "general": 45, "reduction": 45}
    assert notice_periods({"NOTICE_DAYS_GENERAL": "60"}).days["general"] == 60
    with pytest.raises(ValueError, match="legal 45"):
        notice_periods({"NOTICE_DAYS_GENERAL": "30"})


def test_ids_and_the_objection_reason():
    day = datetime(2026, 11, 29).date()
    assert rules.notice_id(day, 7) == "ZXGG20261129000007"
    assert rules.objection_id(day, 12) == "YY20261129000012"
    reason = rules.objection_reason("某供应链公司", "尚欠货款未付")
    assert reason.code == "objection_raised" and "某供应链公司" in reason.message and "尚欠货款未付" in reason.message


def test_a_capital_reduction_is_announced_under_its_own_numbers():
    from datetime import date
    assert rules.notice_id(date(2026, 12, 2), 7, "reduction") == "JZGG20261202000007"
    assert rules.notice_id(date(2026, 12, 2), 7) == "ZXGG20261202000007"


def test_a_refusal_names_the_entity_its_code_says_it_is():
    for org_type, entity in (("1", "该企业"), ("2", "该个体工商户"), ("3", "该农民专业合作社")):
        app = application().model_copy(update={"uscc": make_uscc("330402", 7, org_type=org_type)})
        [reason] = rules.eligibility_reasons(app, Standing(status="registered", listings=("chattel_mortgage",)))
        assert reason.code == "chattel_mortgage" and reason.message == f"{entity}存在尚未注销的动产抵押，不适用简易注销程序"
