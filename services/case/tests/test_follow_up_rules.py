"""差评督办's rules, pure: who follows up which rating, when it is due on China's calendar, when it
escalates, what the applicant's verdict does, and which ratings the figures count."""

from datetime import datetime, timedelta, timezone

import pytest
from yjs_case.follow_ups import (DEFAULT_WORKING_DAYS, after_verdict, bad_ratings, counted_ratings, due_at, overdue,
                                 parse_working_days)
from yjs_contracts.calendar import CHINA


def test_each_department_rated_bad_follows_up_its_own_and_a_bad_overall_rating_is_the_operators():
    assert bad_ratings(3, {"tax": 1, "registration": 5, "seal_carving": 2}) == {"seal_carving": 2, "tax": 1}
    assert bad_ratings(2, {"tax": 3}) == {"overall": 2}
    assert bad_ratings(1, {"tax": 2}) == {"overall": 1, "tax": 2}
    assert bad_ratings(3, {"tax": 3}) == {}  # 基本满意 is not a 差评


def test_a_follow_up_is_due_five_working_days_on_skipping_weekends_and_holidays():
    # Thursday 2026-11-26 10:00: Friday, then Monday to Thursday — due Thursday 2026-12-03 10:00
    assert due_at(datetime(2026, 11, 26, 10, 0, tzinfo=CHINA), 5) == datetime(2026, 12, 3, 10, 0, tzinfo=CHINA)
    # given on a Saturday evening, the days start on Monday at 9:00 and end the Friday after (7 hours a day)
    assert due_at(datetime(2026, 11, 28, 20, 0, tzinfo=CHINA), 5) == datetime(2026, 12, 4, 16, 0, tzinfo=CHINA)
    # Wednesday 2026-09-30 before 国庆: 10-01 to 10-07 are off, 10-10 (Saturday) is a 调休 working day
    assert due_at(datetime(2026, 9, 30, 9, 0, tzinfo=CHINA), 5) == datetime(2026, 10, 12, 16, 0, tzinfo=CHINA)
    # a moment in UTC counts in China's hours: 01:00 UTC is 09:00 in Beijing, a whole working day ahead
    assert due_at(datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc), 1) == datetime(2026, 11, 26, 16, 0, tzinfo=CHINA)


def test_the_working_days_are_configurable_and_must_be_positive():
    assert parse_working_days(None) == parse_working_days("  ") == DEFAULT_WORKING_DAYS == 5
    assert parse_working_days("3") == 3.0 and parse_working_days("0.001") == 0.001
    for bad in ("0", "-1", "nan"):
        with pytest.raises(ValueError):
            parse_working_days(bad)


def test_only_an_unanswered_follow_up_past_its_due_date_escalates():
    due = datetime(2026, 12, 3, 10, 0, tzinfo=CHINA)
    assert overdue("open", due, due) and overdue("open", due, due + timedelta(days=1))
    assert not overdue("open", due, due - timedelta(seconds=1))
    assert not overdue("answered", due, due + timedelta(days=9))  # the applicant's turn, not the department's
    assert not overdue("escalated", due, due + timedelta(days=9)) and not overdue("closed", due, due + timedelta(days=9))
    assert not overdue("open", None, due)  # opened before due dates existed


def test_a_confirmed_answer_closes_and_a_rejected_one_escalates():
    assert after_verdict("confirmed") == ("closed", None)
    assert after_verdict("rejected") == ("escalated", "rejected")


def test_an_upheld_appeal_takes_only_its_rating_out_of_the_figures():
    levels = [("C1", "tax", 1), ("C1", "registration", 5), ("C2", "tax", 2), ("C2", "overall", 2)]
    assert counted_ratings(levels, {("C1", "tax")}) == levels[1:]
    assert counted_ratings(levels, {("C2", "tax"), ("C9", "tax")}) == [levels[0], levels[1], levels[3]]
    assert counted_ratings(levels, set()) == levels
