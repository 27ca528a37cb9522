"""Social and medical insurance's rules, without a database."""

from decimal import Decimal

import pytest
from yjs_contracts import divisions
from yjs_social_insurance import rules


def test_an_employer_registers_with_the_bureaus_of_its_district_or_the_nearest_one_known():
    assert rules.agencies("330402") == ("嘉兴市南湖区人力资源和社会保障局", "嘉兴市南湖区医疗保障局")
    assert rules.agencies("330421") == ("嘉善县人力资源和社会保障局", "嘉善县医疗保障局")
    # a district the table does not know falls under its city, an unknown city under its province
    assert not divisions.knows("330499")
    assert rules.agencies("330499") == ("嘉兴市人力资源和社会保障局", "嘉兴市医疗保障局")
    assert rules.agencies("339999")[0] == "浙江省人力资源和社会保障局"


def test_every_employer_is_insured_for_all_five_social_ones_first():
    assert rules.insurance_types() == ["企业职工基本养老保险", "失业保险", "工伤保险", "职工基本医疗保险", "生育保险"]


def test_the_registration_number_is_the_division_the_year_and_a_six_digit_serial():
    assert rules.registration_number("330402", 2026, 17) == "3304022026000017"
    assert rules.registration_number("330402", 2026, 1) == "3304022026000001"
    assert len(rules.registration_number("110105", 2027, 999_999)) == 16
    for serial in (-1, 0, 1_000_000, 1_000_001):
        with pytest.raises(ValueError):
            rules.registration_number("330402", 2026, serial)


def test_closing_is_refused_while_anything_is_owed_naming_the_amount():
    assert rules.closing_reasons(Decimal("0.00")) == []
    assert rules.closing_reasons(Decimal("-5.00")) == []  # paid ahead: nothing owed
    [reason] = rules.closing_reasons(Decimal("0.01"))
    assert (reason.code, reason.field) == ("unpaid_contributions", "application.uscc")
    assert "0.01 元" in reason.message and "缴清" in reason.message


@pytest.mark.parametrize("amount", ["0", "-5", "12.345", "12.346", "abc", "NaN", "Infinity", ""])
def test_only_a_positive_amount_to_the_fen_is_recorded(amount):
    with pytest.raises(ValueError, match="欠费金额应为"):
        rules.recorded_amount(amount)


def test_an_amount_is_kept_as_given():
    assert rules.recorded_amount("3200.5") == Decimal("3200.5")
    assert rules.recorded_amount("1") == Decimal("1")
