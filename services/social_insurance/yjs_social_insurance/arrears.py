"""欠缴社会保险费: what an employer owes, recorded by insurance staff or their collection system,
checked when the employer's registration is closed, and announced so deregistration refuses at
acceptance without asking."""

from __future__ import annotations

from decimal import Decimal

from yjs_contracts.events import ContributionArrears
from yjs_kit.arrears import ArrearsLedger

from . import rules
from .models import contribution_arrears


def _owed_after(owed: Decimal, amount: str) -> Decimal:
    return owed + rules.recorded_amount(amount)


LEDGER = ArrearsLedger(contribution_arrears, "contribution-arrears", ContributionArrears, "social_insurance",
                       _owed_after)
