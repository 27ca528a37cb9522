"""欠税: what an enterprise owes, recorded by tax staff and systems, and announced so other
departments (deregistration) know it without asking."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from yjs_kit.arrears import ArrearsLedger
from yjs_contracts.events import TaxArrears

from . import rules
from .models import arrears


def _owed_after(owed: Decimal, amount: str) -> Decimal:
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None
    return rules.arrears_after(owed, value)


LEDGER = ArrearsLedger(arrears, "arrears", TaxArrears, "tax", _owed_after)
