"""What the bank files when it opens a basic deposit account, and what its staff would look at.
Pure functions: the application and the seal step's outputs in; numbers, seals and reasons out."""

from __future__ import annotations

import os
from typing import Any, Iterable, Mapping

from yjs_contracts.api import EstablishmentApplication, Reason, SealType
from yjs_contracts.events import SealsCarved, SealsRecarved

ACCOUNT_TYPE = "basic_deposit"  # 基本存款账户

#: 账号 prefix of each bank (its head-office code in the number); a bank not listed uses OTHER_BANK_PREFIX
BANK_PREFIXES: Mapping[str, str] = {
    "中国工商银行": "1204",
    "中国建设银行": "3305",
    "中国农业银行": "1936",
    "中国银行": "3601",
}
OTHER_BANK_PREFIX = "6222"
DIVISION_DIGITS = 6
SERIAL_DIGITS = 9
#: 19 digits = bank prefix (4) + administrative division of the domicile (6) + serial (9),
#: e.g. 中国工商银行, 嘉兴南湖 330402, the 1st account: 1204 330402 000000001
ACCOUNT_NUMBER_LENGTH = 4 + DIVISION_DIGITS + SERIAL_DIGITS

#: 预留印鉴: the seals the bank keeps specimens of and checks on every payment order
SPECIMEN_SEAL_TYPES: tuple[SealType, ...] = (SealType.finance, SealType.legal_representative)

#: comma-separated ID numbers whose holders' accounts the bank's staff should look at
WATCH_LIST_ENV = "BANK_WATCH_LIST"
APP = "application"


def _reason(code: str, message: str, field: str) -> Reason:
    return Reason(code=code, message=message, field=f"{APP}.{field}")


def bank_prefix(bank: str) -> str:
    return BANK_PREFIXES.get(bank.strip(), OTHER_BANK_PREFIX)


def counter_name(bank: str, division_code: str) -> str:
    """The serial counter an account number draws from: banks sharing a prefix share it, so
    no two banks can issue the same number."""
    return f"account:{bank_prefix(bank)}{division_code}"


def account_number(bank: str, division_code: str, serial: int) -> str:
    """The 账号 of the `serial`-th account of this prefix in this division (see ACCOUNT_NUMBER_LENGTH)."""
    if len(division_code) != DIVISION_DIGITS or not division_code.isdigit():
        raise ValueError(f"division code must be {DIVISION_DIGITS} digits, got {division_code!r}")
    if not 0 < serial < 10 ** SERIAL_DIGITS:
        raise ValueError(f"serial out of range: {serial}")
    return f"{bank_prefix(bank)}{division_code}{serial:0{SERIAL_DIGITS}d}"


def specimen_seals(carved: Mapping[str, Any] | None) -> list[str]:
    """预留印鉴: filing codes of the 财务专用章 and the 法定代表人名章 among the seals carved, in
    that order; none when no seals were carved."""
    if not carved:
        return []
    seals = SealsCarved.model_validate(carved).seals
    return [seal.filing_code for kind in SPECIMEN_SEAL_TYPES for seal in seals if seal.type == kind]


def watch_list(environ: Mapping[str, str] = os.environ) -> frozenset[str]:
    """The configured watch list (env BANK_WATCH_LIST, comma-separated ID numbers); empty by default."""
    return frozenset(item.strip().upper() for item in environ.get(WATCH_LIST_ENV, "").split(",") if item.strip())


def review_reasons(app: EstablishmentApplication, watched: Iterable[str] = ()) -> list[Reason]:
    """What bank staff must look at before the account is opened: a legal representative on the
    watch list (风险监控名单). Any reason sends the opening to the bank staff's review queue."""
    signatory = app.signatory  # a 个体工商户's operator
    if signatory.id_number.upper() in {number.upper() for number in watched}:
        field, title = ("operator", "经营者") if app.legal_representative is None else ("legal_representative", "法定代表人")
        return [_reason("watch_list", f"{title}在风险监控名单中，需人工审核", f"{field}.id_number")]
    return []


def account_exists_reason() -> Reason:
    return Reason(code="basic_account_exists", message="一个单位只能开立一个基本存款账户，该企业已开立",
                  field="registration.uscc")


def specimen_seals_after(current: list[str], recarved: Mapping[str, Any] | None) -> list[str]:
    """预留印鉴 after a change: each specimen seal that was re-carved is replaced by its new
    filing, the others stay as they are, in their order."""
    if not recarved:
        return list(current)
    replaced = {seal.replaces: seal.filing_code for seal in SealsRecarved.model_validate(recarved).seals}
    return [replaced.get(code, code) for code in current]
