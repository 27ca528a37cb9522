"""When seal carving carves, why it refuses, and what each seal says. Pure functions: the
requested seal types in, reasons or seal names and filing codes out.

印章编码 (GA 241.1-2000《印章治安管理信息系统 第1部分：印章编码规则》): 13 digits, the 6-digit
administrative division code (GB/T 2260) of the place the seal is filed, then a 7-digit serial
(顺序码) the public security organ assigns in that division. There is no check digit."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from yjs_contracts.api import Reason, SealType
from yjs_contracts.words import SEAL_TITLES  # each seal type as the public security filing names it

#: 公章刻制政府买单: the government pays for the seals of a new enterprise
FEE = Decimal("0.00")
DIVISION = re.compile(r"^\d{6}$")
SERIAL_DIGITS = 7
MAX_SERIAL = 10**SERIAL_DIGITS - 1
APP = "application"


def _as_list(requested: Any) -> list[Any]:
    # the application arrives as raw JSON: a lone value is one request, nothing is none
    if requested is None:
        return []
    return list(requested) if isinstance(requested, (list, tuple)) else [requested]


def seal_type_reasons(requested: Any) -> list[Reason]:
    """Every requested seal type that is not one of the five, all at once (一次性告知)."""
    known = {t.value for t in SealType}
    return [Reason(code="unknown_seal_type",
                   message=f"“{value}”不是可刻制的印章类型（可刻制：{'、'.join(SEAL_TITLES.values())}）",
                   field=f"{APP}.seals.{i}")
            for i, value in enumerate(_as_list(requested)) if not (isinstance(value, str) and value in known)]


def seal_types(requested: Any) -> list[SealType]:
    """The seal types to carve, in the order asked, each once: an enterprise holds one seal of a
    type, so asking twice is still one seal. Call only when seal_type_reasons found none."""
    return list(dict.fromkeys(SealType(value) for value in _as_list(requested)))


def seal_name(seal_type: SealType, enterprise_name: str, uscc: str, legal_representative: str) -> str:
    """The text on the seal: the enterprise name on the 公章; the name and the seal's use on a
    专用章, the 发票专用章 also bearing the 统一社会信用代码; the person's name on the 名章."""
    if seal_type == SealType.official:
        return enterprise_name
    if seal_type == SealType.invoice:
        return f"{enterprise_name}发票专用章（{uscc}）"
    if seal_type == SealType.legal_representative:
        return legal_representative
    return f"{enterprise_name}{SEAL_TITLES[seal_type]}"


def filing_code(division_code: str, serial: int) -> str:
    """印章编码: the division where the seal is filed and its serial there, 13 digits."""
    if not DIVISION.match(division_code):
        raise ValueError(f"division code must be 6 digits, got {division_code!r}")
    if not 1 <= serial <= MAX_SERIAL:
        # a fault, not a refusal: the division's serials are used up and need an operator
        raise ValueError(f"seal serial {serial} out of range 1..{MAX_SERIAL} in division {division_code}")
    return f"{division_code}{serial:0{SERIAL_DIGITS}d}"


def is_filing_code(code: str) -> bool:
    return bool(re.fullmatch(r"\d{13}", code)) and code[6:] != "0" * SERIAL_DIGITS


def seals_to_recarve(filed: list[str], changed: set[str]) -> list[SealType]:
    """印章重刻 after a change: a new name re-carves every seal bearing it (all but the 名章); a
    new legal representative his 法定代表人名章. Only seals the enterprise holds, in the order filed."""
    bearing = set()
    if "name" in changed:
        bearing |= {t for t in SealType if t != SealType.legal_representative}
    if "legal_representative" in changed:
        bearing.add(SealType.legal_representative)
    return [SealType(t) for t in dict.fromkeys(filed) if t in {b.value for b in bearing}]
