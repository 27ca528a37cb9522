"""The working calendar at a process's start: HOLIDAYS_FILE loaded and checked, a warning for the
years ahead nobody loaded, and a metric for every deadline counted through one."""

from datetime import date, datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from yjs_contracts import calendar
from yjs_kit import holidays, serve
from yjs_kit.metrics import CALENDAR_LAST_KNOWN_YEAR, DEADLINES_IN_UNKNOWN_YEAR

EXAMPLE = str(Path(__file__).resolve().parents[3] / "examples" / "holidays-2027.txt")
TODAY = date(2026, 12, 2)


@pytest.fixture(autouse=True)
def clean_calendar(monkeypatch):
    monkeypatch.setattr(calendar, "_schedule", calendar.Schedule())
    monkeypatch.setattr(calendar, "_unknown_year_listeners", [])


def counted(service, year):
    return DEADLINES_IN_UNKNOWN_YEAR.labels(service, str(year))._value.get()


def test_without_a_file_the_start_warns_of_next_year_and_deadlines_there_are_counted():
    with capture_logs() as logs:
        assert holidays.configure("case", {}, TODAY) == [2027]
    [warning] = [entry for entry in logs if entry["log_level"] == "warning"]
    assert warning["years"] == [2027] and "HOLIDAYS_FILE" in warning["hint"]
    assert CALENDAR_LAST_KNOWN_YEAR.labels("case")._value.get() == 2026
    before = counted("case", 2027)
    with capture_logs() as logs:
        calendar.add_working_days(datetime(2026, 12, 31, 15, 0, tzinfo=calendar.CHINA), 1)
        calendar.add_working_days(datetime(2026, 12, 31, 15, 0, tzinfo=calendar.CHINA), 2)
    assert counted("case", 2027) == before + 2
    assert [entry["year"] for entry in logs if entry["log_level"] == "warning"] == [2027]  # once; the metric counts on


def test_with_the_file_loaded_the_year_is_known_and_nothing_is_reported():
    with capture_logs() as logs:
        assert holidays.configure("tax", {"HOLIDAYS_FILE": EXAMPLE}, TODAY) == []
    assert not [entry for entry in logs if entry["log_level"] == "warning"]
    [loaded] = [entry for entry in logs if entry["event"] == "holidays loaded"]
    assert loaded["years"] == [2027] and loaded["days_off"] == 1
    assert CALENDAR_LAST_KNOWN_YEAR.labels("tax")._value.get() == 2027
    before = counted("tax", 2027)
    assert calendar.add_working_days(datetime(2026, 12, 31, 15, 0, tzinfo=calendar.CHINA), 1).date() == date(2027, 1, 4)
    assert counted("tax", 2027) == before


def test_a_bad_file_stops_the_start_naming_the_file_line_and_field(tmp_path, monkeypatch):
    bad = tmp_path / "holidays.txt"
    bad.write_text("2027-01-01 放假 元旦\n2027-01-02 休息 元旦\n", encoding="utf-8")
    monkeypatch.setenv("HOLIDAYS_FILE", str(bad))
    with pytest.raises(SystemExit) as stopped:
        serve.main(["registration"])
    assert str(stopped.value) == f"HOLIDAYS_FILE: {bad} 第 2 行 kind：应为 放假 或 调休，实为 休息"
