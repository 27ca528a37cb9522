"""When social and medical insurance register an employer and when they close it. Pure
functions; every reason with its code, its text and the field it is about."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from yjs_contracts import divisions
from yjs_contracts.api import Reason

#: 单位参保登记 at 人力资源和社会保障局: the three insurances it administers
SOCIAL_INSURANCE_TYPES = ("企业职工基本养老保险", "失业保险", "工伤保险")
#: 医保登记 at 医疗保障局: medical insurance, with maternity insurance merged into it (生育保险合并实施)
MEDICAL_INSURANCE_TYPES = ("职工基本医疗保险", "生育保险")


def agencies(division_code: str) -> tuple[str, str]:
    """The 人力资源和社会保障局 and 医疗保障局 of the domicile's division (or the nearest one the
    division table knows): an employer registers where it is."""
    place = divisions.nearest_local_name(division_code)
    return f"{place}人力资源和社会保障局", f"{place}医疗保障局"


def insurance_types() -> list[str]:
    """Every employer insures its employees under all five (社会保险法 art. 10, 23, 33, 44, 53),
    whatever its form or size: social insurance first, then medical."""
    return [*SOCIAL_INSURANCE_TYPES, *MEDICAL_INSURANCE_TYPES]


def registration_number(division_code: str, year: int, serial: int) -> str:
    """社保登记编号: the registering division, the year and its serial there (16 digits)."""
    if not 0 < serial < 1_000_000:
        raise ValueError(f"serial out of range: {serial}")
    return f"{division_code}{year:04d}{serial:06d}"


def closing_reasons(outstanding: Decimal) -> list[Reason]:
    """注销 of the registration is refused while contributions are owed (欠缴社会保险费)."""
    if outstanding > 0:
        return [Reason(code="unpaid_contributions", field="application.uscc",
                       message=f"尚有欠缴社会保险费 {outstanding} 元，缴清后方可注销社保、医保登记")]
    return []


def recorded_amount(amount: str) -> Decimal:
    """An arrears amount as staff enter it: a positive number of yuan, at most to the fen."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"欠费金额应为数字，实为 {amount!r}") from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"欠费金额应为正数，最多两位小数，实为 {amount}")
    return value
