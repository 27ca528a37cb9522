"""无感监测's arithmetic, pure: working time on China's calendar with 补正 pauses excluded, limits
kept or not, percentiles, and the figures per matter and department over cases of known durations."""

from datetime import datetime, timedelta

import pytest
from yjs_case.limits import due, kept, merged, net_working_time, percentile, total_paused
from yjs_case.report import CaseFacts, InvalidPeriod, StepFacts, figures, period, recent
from yjs_contracts.calendar import CHINA


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of the week of Monday 2026-11-30, in Beijing (the working day runs 9:00 for 7 hours)."""
    return datetime(2026, 11, 30, hour, minute, tzinfo=CHINA) + timedelta(days=day)


MON, TUE, WED, FRI, NEXT_MON = 0, 1, 2, 4, 7
H = timedelta(hours=1)


def test_working_time_skips_nights_weekends_and_pauses_and_two_pauses_at_once_count_once():
    assert net_working_time(at(MON, 9), at(MON, 12)) == 3 * H
    assert net_working_time(at(FRI, 15), at(NEXT_MON, 14)) == 6 * H  # Friday's last hour, Monday's first five
    paused = [(at(MON, 10), at(TUE, 10))]  # 6 hours on Monday, 1 on Tuesday
    assert net_working_time(at(MON, 9), at(TUE, 12), paused) == 3 * H
    overlapping = [(at(MON, 10), at(MON, 12)), (at(MON, 11), at(MON, 13)), (at(TUE, 9), at(TUE, 10))]
    assert merged(overlapping) == [(at(MON, 10), at(MON, 13)), (at(TUE, 9), at(TUE, 10))]
    assert total_paused(overlapping) == 4 * H
    # a limit counts from the start and moves by the pauses: one working day, paused for one, ends Tuesday 16:00
    assert due(at(MON, 9), 1, paused) == at(TUE, 16)
    assert due(at(MON, 9), 0.5) == at(MON, 12, 30)


def test_a_limit_is_kept_up_to_its_last_moment_and_unknown_without_an_end_or_a_limit():
    assert kept(7 * H, 1) is True and kept(7 * H + timedelta(seconds=1), 1) is False
    assert kept(None, 1) is None and kept(3 * H, None) is None


def test_percentiles_interpolate_between_the_nearest_ranks():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 90) == pytest.approx(3.7)
    assert percentile([5], 90) == 5 and percentile([], 50) is None
    assert percentile([3, 3, 6, 16], 0) == 3 and percentile([3, 3, 6, 16], 100) == 16


def step(case_id, department, started, finished, deadline, legal_days, status="completed", pauses=()):
    return StepFacts(case_id, f"{department}.x", department, status, started, finished, deadline, legal_days,
                     list(pauses))


def test_the_figures_of_cases_of_known_durations():
    paused = [(at(MON, 10), at(TUE, 10))]
    cases = [
        CaseFacts("A", "establishment", "completed", at(MON, 9), at(MON, 12), 1.0),  # 3 h
        CaseFacts("B", "establishment", "completed", at(MON, 9), at(TUE, 12), 1.0, paused),  # 10 h, 7 paused: 3 h
        CaseFacts("C", "establishment", "partially_completed", at(FRI, 15), at(NEXT_MON, 14), 1.0),  # 6 h
        CaseFacts("D", "establishment", "rejected", at(MON, 9), at(WED, 11), 1.0),  # 16 h: past the day promised
        CaseFacts("E", "establishment", "withdrawn", at(MON, 9), at(MON, 10), 1.0),
        CaseFacts("L", "licensing", "completed", at(MON, 9), at(MON, 10), None),  # submitted before limits were kept
    ]
    steps = [
        step("A", "registration", at(MON, 9), at(MON, 10), at(MON, 12, 30), 3.0),
        step("B", "registration", at(MON, 9), at(TUE, 11), at(TUE, 16), 3.0, pauses=paused),  # 2 h net, in time
        step("D", "registration", at(MON, 9), at(MON, 11), at(MON, 12, 30), 3.0),
        step("D", "tax", at(MON, 11), at(WED, 11), at(WED, 12), 2.0, status="rejected"),  # 14 h: at its legal limit
        step("C", "tax", at(FRI, 15), at(NEXT_MON, 14), at(NEXT_MON, 9, 30), 0.5),  # 6 h: late, past 3.5 h legal
        step("C", "seal_carving", None, None, None, 1.0, status="cancelled"),
    ]
    rated = [("A", "overall", 5), ("A", "tax", 1), ("B", "overall", 2), ("B", "tax", 2), ("L", "overall", 4)]
    [establishment, licensing] = figures(cases, steps, rated, upheld={("A", "tax")},
                                         open_follow_ups=[("B", "overall"), ("B", "tax")])
    assert establishment["matter"] == "establishment" and establishment["title"] == "企业开办"
    assert (establishment["cases_finished"], establishment["withdrawn"]) == (4, 1)
    assert establishment["outcomes"] == {"completed": 2, "partially_completed": 1, "rejected": 1}
    assert establishment["within_promised_limit"] == 0.75  # A, B, C within 7 working hours; D not
    # [3, 3, 6, 16]: the median between 3 and 6, the 90th percentile 70 % of the way from 6 to 16
    assert (establishment["median_working_hours"], establishment["p90_working_hours"]) == (4.5, 13.0)
    assert (establishment["pauses"], establishment["paused_working_hours"]) == (1, 7.0)
    assert establishment["steps_past_legal_limit"] == 1  # C's tax step; D's took exactly its 14 hours
    assert establishment["ratings"] == {"count": 2, "average": 3.5, "levels": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}}
    assert establishment["open_follow_ups"] == 2
    by_department = {d["department"]: d for d in establishment["departments"]}
    registration, tax = by_department["registration"], by_department["tax"]
    assert (registration["steps_decided"], registration["within_promised_limit"]) == (3, 1.0)
    assert (registration["median_working_hours"], registration["p90_working_hours"]) == (2.0, 2.0)
    assert (registration["pauses"], registration["paused_working_hours"]) == (1, 7.0)
    assert (tax["steps_decided"], tax["within_promised_limit"], tax["steps_past_legal_limit"]) == (2, 0.5, 1)
    assert (tax["median_working_hours"], tax["p90_working_hours"]) == (10.0, 13.2)
    # A's 非常不满意 of tax was appealed and upheld: it stays on record, not in the figures
    assert tax["ratings"]["count"] == 1 and tax["ratings"]["levels"]["2"] == 1 and tax["open_follow_ups"] == 1
    assert by_department["seal_carving"]["steps_decided"] == 0
    assert by_department["seal_carving"]["median_working_hours"] is None
    assert licensing["within_promised_limit"] is None and licensing["ratings"]["average"] == 4


def test_a_period_is_whole_days_in_beijing_and_at_most_a_year():
    assert period("2026-12-01", "2026-12-01") == (datetime(2026, 12, 1, tzinfo=CHINA), datetime(2026, 12, 2, tzinfo=CHINA))
    assert period("2028-01-01", "2028-12-31")[1] == datetime(2029, 1, 1, tzinfo=CHINA)  # a leap year, whole
    with pytest.raises(InvalidPeriod):
        period("2026-12-02", "2026-12-01")
    with pytest.raises(InvalidPeriod):
        period("2026-01-01", "2027-01-02")


def test_the_recent_window_is_thirty_beijing_days_ending_today():
    # 2026-12-01 17:00 UTC is already 2 December in Beijing
    assert recent(datetime.fromisoformat("2026-12-01T17:00:00+00:00")) == (
        datetime(2026, 11, 3).date(), datetime(2026, 12, 2).date())
    assert recent(datetime.fromisoformat("2026-12-01T15:00:00+00:00"))[1] == datetime(2026, 12, 1).date()
