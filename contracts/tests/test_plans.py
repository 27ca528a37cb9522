"""Matter plans as data, and deadlines on China's working calendar."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from yjs_contracts import samples
from yjs_contracts.calendar import add_working_days, is_working_day
from yjs_contracts.plans import MATTERS, PlanOptions, plan_for, with_deadlines
from yjs_contracts.steps import STEP_KINDS

CHINA = ZoneInfo("Asia/Shanghai")


def steps(plan):
    return {p.step: p.after for p in plan}


def test_the_full_establishment_plan():
    assert steps(plan_for("establishment", samples.establishment_application())) == {
        "registration.establish": [],
        "seal_carving.carve": ["registration.establish"],
        "tax.register": ["registration.establish"],
        "tax.grant_invoices": ["tax.register", "seal_carving.carve"],
        "bank_account.open": ["registration.establish", "seal_carving.carve"],
        "social_insurance.register": ["registration.establish"],
    }


def test_steps_nobody_asked_for_are_not_in_the_plan_nor_waited_for():
    plan = plan_for("establishment", samples.establishment_application(seals=(), bank_account=False,
                                                                       social_insurance=False))
    assert steps(plan) == {"registration.establish": [], "tax.register": ["registration.establish"],
                           "tax.grant_invoices": ["tax.register"]}


def test_social_insurance_is_registered_unless_the_applicant_opts_out_with_null():
    application = samples.establishment_application(seals=(), bank_account=False)
    assert steps(plan_for("establishment", application))["social_insurance.register"] == ["registration.establish"]
    del application["social_insurance"]  # not said: registered, as the form's default
    assert "social_insurance.register" in steps(plan_for("establishment", application))
    application["social_insurance"] = None
    assert "social_insurance.register" not in steps(plan_for("establishment", application))


def test_the_invoice_grant_waits_for_seals_only_when_an_invoice_seal_is_asked_and_the_region_needs_it():
    no_invoice_seal = samples.establishment_application(seals=("official", "finance"))
    assert steps(plan_for("establishment", no_invoice_seal))["tax.grant_invoices"] == ["tax.register"]
    with_seal = samples.establishment_application()
    digital = PlanOptions(invoice_grant_needs_invoice_seal=False)
    assert steps(plan_for("establishment", with_seal, digital))["tax.grant_invoices"] == ["tax.register"]


def test_licensed_scope_items_add_the_licensing_step():
    plan = plan_for("establishment", samples.establishment_application(scope=("软件开发", "餐饮服务")))
    assert steps(plan)["licensing.issue"] == ["registration.establish"]


def test_every_planned_step_is_a_known_step_kind_and_waits_only_on_earlier_steps():
    for matter in MATTERS.values():
        seen = set()
        for rule in matter.steps:
            assert rule.step in STEP_KINDS
            assert all(a.step in seen for a in rule.after), (matter.name, rule.step)
            seen.add(rule.step)


def test_working_days_skip_the_national_day_holiday_and_count_the_make_up_saturday():
    # 2026: 10月1日–7日 off; Saturday 10月10日 (调休) is a working day, Sunday 9月20日 too
    assert not is_working_day(datetime(2026, 10, 5).date())
    assert is_working_day(datetime(2026, 10, 10).date())
    start = datetime(2026, 9, 30, 15, 0, tzinfo=CHINA)  # one working hour before the holiday
    assert add_working_days(start, 1) == datetime(2026, 10, 8, 15, 0, tzinfo=CHINA)
    friday = datetime(2026, 10, 9, 15, 0, tzinfo=CHINA)
    assert add_working_days(friday, 0.5) == datetime(2026, 10, 10, 11, 30, tzinfo=CHINA)


def test_a_submission_after_hours_starts_counting_the_next_working_morning():
    evening = datetime(2026, 11, 27, 20, 0, tzinfo=CHINA)  # a Friday evening
    assert add_working_days(evening, 0.5) == datetime(2026, 11, 30, 12, 30, tzinfo=CHINA)


def test_deadlines_follow_the_plan_order():
    application = samples.establishment_application()
    start = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA)
    plan = {p.step: p.deadline for p in with_deadlines("establishment", plan_for("establishment", application), start)}
    assert plan["registration.establish"] == datetime(2026, 11, 30, 12, 30, tzinfo=CHINA)
    assert plan["seal_carving.carve"] == datetime(2026, 11, 30, 16, 0, tzinfo=CHINA)
    assert plan["bank_account.open"] == datetime(2026, 12, 1, 16, 0, tzinfo=CHINA)


@pytest.mark.parametrize("year", [2027, 2030])
def test_years_the_official_calendar_does_not_know_yet_fall_back_to_weekdays(year):
    assert is_working_day(datetime(year, 3, 3).date()) == (datetime(year, 3, 3).weekday() < 5)


def test_working_time_between_skips_the_holiday_and_counts_the_make_up_saturday():
    from datetime import timedelta

    from yjs_contracts.calendar import add_working_time, working_time_between

    start = datetime(2026, 9, 30, 15, 0, tzinfo=CHINA)  # one working hour left before the holiday
    end = datetime(2026, 10, 10, 10, 0, tzinfo=CHINA)  # the make-up Saturday, one hour in
    assert working_time_between(start, end) == timedelta(hours=1 + 7 + 7 + 1)  # 9/30, 10/8, 10/9, 10/10
    assert working_time_between(end, start) == timedelta(0)
    assert add_working_time(start, working_time_between(start, end)) == end
    # the same moments in UTC count the same China working hours
    assert working_time_between(start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))) == timedelta(hours=16)
    assert add_working_time(start.astimezone(ZoneInfo("UTC")), timedelta(hours=16)) == end


def test_configured_limits_move_a_deadline_across_the_holiday():
    from yjs_contracts.plans import parse_step_limits

    application = samples.establishment_application(seals=(), bank_account=False)
    start = datetime(2026, 9, 30, 9, 0, tzinfo=CHINA)
    limits = parse_step_limits('{"registration.establish": 2}')
    plan = {p.step: p.deadline for p in with_deadlines("establishment", plan_for("establishment", application),
                                                       start, limits)}
    # 9/30 (7h) then the National Day holiday, then 10/8 (7h): two working days end 10/8 16:00
    assert plan["registration.establish"] == datetime(2026, 10, 8, 16, 0, tzinfo=CHINA)
    assert plan["tax.register"] == datetime(2026, 10, 9, 12, 30, tzinfo=CHINA)  # its own half day after
    with pytest.raises(ValueError, match="unknown step"):
        parse_step_limits('{"registration.nothing": 1}')
    with pytest.raises(ValueError, match="positive"):
        parse_step_limits('{"tax.register": 0}')
    assert parse_step_limits("") == {}


def test_the_deregistration_plan_clears_tax_and_insurance_alongside_the_notice_and_closes_the_rest_after_the_register():
    simple = plan_for("deregistration", samples.deregistration_application("91350100M000100Y43"))
    assert steps(simple) == {
        "deregistration.accept": [],
        "deregistration.notice": ["deregistration.accept"],
        "tax.clear": ["deregistration.accept"],
        "social_insurance.close": ["deregistration.accept"],
        "registration.deregister": ["deregistration.notice", "tax.clear", "social_insurance.close"],
        "bank_account.close": ["registration.deregister"],
        "seal_carving.cancel": ["registration.deregister"],
        "licensing.revoke": ["registration.deregister"],
    }
    general = steps(plan_for("deregistration", samples.deregistration_application("91350100M000100Y43", "general")))
    assert general["deregistration.liquidation_report"] == ["deregistration.notice"]
    assert general["registration.deregister"] == ["deregistration.notice", "tax.clear", "social_insurance.close",
                                                  "deregistration.liquidation_report"]


def test_a_pivot_is_a_step_of_its_matter_that_every_plan_holds():
    """The point of no return must reach a department in every plan of its matter, or no one
    could answer a withdrawal request."""
    from yjs_contracts.events import EVENT_MODELS, withdrawal_answer_event
    from yjs_contracts.steps import department_of
    assert {name: matter.pivot for name, matter in MATTERS.items()} == {
        "establishment": "registration.establish", "licensing": "licensing.issue",
        "deregistration": "registration.deregister", "change": "registration.change"}
    for matter in MATTERS.values():
        rule = next(r for r in matter.steps if r.step == matter.pivot)
        assert rule.when(samples.establishment_application(), PlanOptions()) and rule.when({}, PlanOptions())
        for accepted in (True, False):
            assert withdrawal_answer_event(department_of(matter.pivot), accepted) in EVENT_MODELS


def test_a_change_starts_only_the_departments_holding_what_changed():
    def plan(**changes):
        return steps(plan_for("change", {"uscc": "91350100M000100Y43", "changes": changes}))

    assert plan(name={"name": "x"}, legal_representative={"name": "y"}) == {
        "registration.change": [], "seal_carving.recarve": ["registration.change"],
        "tax.update": ["registration.change"],
        "bank_account.update": ["registration.change", "seal_carving.recarve"],
        "licensing.amend": ["registration.change"]}
    # the capital is the register's and tax's alone
    assert plan(registered_capital="2000000.00") == {"registration.change": [], "tax.update": ["registration.change"]}
    # a move reaches the permits (their premises) but not the seals or the bank
    assert plan(domicile={"address": "a", "division_code": "330402"}) == {
        "registration.change": [], "tax.update": ["registration.change"], "licensing.amend": ["registration.change"]}
    # a new legal representative: his 名章 and the bank's specimen seals, not the permits
    assert set(plan(legal_representative={"name": "y"})) == {
        "registration.change", "seal_carving.recarve", "tax.update", "bank_account.update"}


def test_a_natural_persons_transfer_and_a_capital_reduction_come_before_the_register():
    person = {"transferor_kind": "natural_person"}
    plan = steps(plan_for("change", {"uscc": "91350100M000100Y43", "equity_transfers": [person],
                                     "capital_reduction_reason": "减资", "changes": {
                                         "registered_capital": "1.00", "shareholders": []}}))
    assert plan["registration.change"] == ["tax.equity_transfer", "deregistration.reduction_notice"]
    assert plan["tax.equity_transfer"] == plan["deregistration.reduction_notice"] == []
    # an entity's transfer is not tax's to confirm, and a capital raised is not announced
    plain = steps(plan_for("change", {"uscc": "91350100M000100Y43", "equity_transfers": [{"transferor_kind": "entity"}],
                                      "changes": {"registered_capital": "1.00", "shareholders": []}}))
    assert plain["registration.change"] == [] and "tax.equity_transfer" not in plain


def test_every_step_keeps_a_legal_limit_no_shorter_than_its_promise_and_matters_their_own_limit():
    from yjs_contracts.plans import parse_matter_limits, step_limits

    for matter in MATTERS.values():
        for rule in matter.steps:
            assert rule.legal_days >= rule.working_days > 0, rule.step
    assert MATTERS["establishment"].working_days == 1.0  # 一日办结
    limits = step_limits("establishment", {"tax.register": 0.25})
    assert limits["tax.register"] == (0.25, 20.0) and limits["registration.establish"] == (0.5, 3.0)
    assert parse_matter_limits('{"establishment": 0.5}') == {"establishment": 0.5} and parse_matter_limits(None) == {}
    for bad, message in (('{"opening": 1}', "unknown matter"), ('{"establishment": 0}', "positive"),
                         ('{"establishment": true}', "positive"), ("[1]", "JSON object")):
        with pytest.raises(ValueError, match=message):
            parse_matter_limits(bad)
