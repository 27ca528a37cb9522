"""The working calendar past the package's last year: the State Council's schedule loaded from
a file (HOLIDAYS_FILE), checked line by line, and deadlines in years nobody knows reported."""

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from yjs_contracts import calendar
from yjs_contracts.calendar import ScheduleError, parse_schedule
from yjs_contracts import samples
from yjs_contracts.plans import plan_for, with_deadlines

CHINA = ZoneInfo("Asia/Shanghai")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "holidays-2027.txt"


@pytest.fixture(autouse=True)
def clean_calendar(monkeypatch):
    """Each test starts from the package alone, with no one listening."""
    monkeypatch.setattr(calendar, "_schedule", calendar.Schedule())
    monkeypatch.setattr(calendar, "_unknown_year_listeners", [])


@pytest.fixture
def heard():
    years = []
    calendar.on_unknown_year(years.append)
    return years


def test_new_years_day_2027_is_a_working_day_until_the_schedule_is_loaded():
    assert calendar.is_working_day(date(2027, 1, 1))  # the package stops at 2026: Monday–Friday
    calendar.use_schedule(calendar.load_schedule(EXAMPLE))
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 4))  # a Monday the file does not name
    assert calendar.knows_year(2027) and not calendar.knows_year(2028)


def test_a_deadline_across_new_years_day_2027_skips_it_with_the_file_loaded(heard):
    start = datetime(2026, 12, 31, 15, 0, tzinfo=CHINA)  # Thursday, one working hour left (9:00–16:00)
    assert calendar.add_working_days(start, 1) == datetime(2027, 1, 1, 15, 0, tzinfo=CHINA)
    assert heard == [2027]
    calendar.use_schedule(calendar.load_schedule(EXAMPLE))
    # Friday 1 January off, the weekend, then Monday
    assert calendar.add_working_days(start, 1) == datetime(2027, 1, 4, 15, 0, tzinfo=CHINA)
    assert heard == [2027]  # 2027 is known now: nothing more reported


def test_a_plans_deadlines_skip_the_loaded_holiday():
    submitted = datetime(2026, 12, 31, 16, 0, tzinfo=CHINA)
    plan = plan_for("establishment", samples.establishment_application())
    before = {p.step: p.deadline for p in with_deadlines("establishment", plan, submitted)}
    calendar.use_schedule(calendar.load_schedule(EXAMPLE))
    after = {p.step: p.deadline for p in with_deadlines("establishment", plan, submitted)}
    assert all(after[step] > before[step] for step in before)


def test_make_up_days_are_worked_and_days_off_are_not():
    schedule = parse_schedule("""
        # 2027 年春节（示意）
        2027-02-08\t放假\t春节   # a Monday
        2027-02-20  调休  春节   # a Saturday
    """)
    calendar.use_schedule(schedule)
    assert not calendar.is_working_day(date(2027, 2, 8))
    assert calendar.is_working_day(date(2027, 2, 20))
    assert not calendar.is_working_day(date(2027, 2, 21))  # the Sunday after stays off
    assert schedule.names[date(2027, 2, 20)] == "春节" and schedule.years == {2027}


def test_the_file_is_the_later_word_on_a_year_the_package_knows():
    assert not calendar.is_working_day(date(2026, 10, 1))
    calendar.use_schedule(parse_schedule("2026-10-10 放假 示例"))  # a Saturday the package has as 调休
    assert not calendar.is_working_day(date(2026, 10, 10))


@pytest.mark.parametrize("text, line, field, words", [
    ("2027-01-01 放假 元旦\n2027-13-01 放假 元旦", 2, "date", "没有这一天"),
    ("2027/01/01 放假 元旦", 1, "date", "YYYY-MM-DD"),
    ("\n\n2027-01-01 休息 元旦", 3, "kind", "应为 放假 或 调休，实为 休息"),
    ("2027-01-04 调休 春节", 1, "kind", "周六或周日"),
    ("2027-01-01 放假", 1, "line", "三项"),
    ("2027-01-01 放假 元旦\n# 注释\n2027-01-01 放假 元旦", 3, "date", "已在第 1 行列出"),
    ("# 只有注释\n", 1, "line", "没有任何日期"),
])
def test_every_problem_names_the_file_the_line_and_the_field(text, line, field, words):
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(text, "holidays-2027.txt")
    error = raised.value
    assert (error.source, error.line, error.field) == ("holidays-2027.txt", line, field)
    assert words in str(error) and str(error).startswith(f"holidays-2027.txt 第 {line} 行 {field}：")


def test_a_file_that_cannot_be_read_is_named(tmp_path):
    with pytest.raises(ScheduleError) as raised:
        calendar.load_schedule(tmp_path / "missing.txt")
    assert raised.value.field == "file" and "missing.txt" in str(raised.value)


def test_a_notice_period_ending_on_a_loaded_holiday_moves_to_the_next_working_day(heard):
    assert calendar.working_day_on_or_after(date(2027, 1, 1)) == date(2027, 1, 1)
    assert heard == [2027]
    calendar.use_schedule(calendar.load_schedule(EXAMPLE))
    assert calendar.working_day_on_or_after(date(2027, 1, 1)) == date(2027, 1, 4)
    assert heard == [2027]
