"""欠税: what an enterprise owes, recorded by tax staff and systems, and announced so other
departments (deregistration) know it without asking."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, update
from yjs_contracts.codes import validate_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import TaxArrears
from yjs_kit.uow import UnitOfWork

from . import rules
from .models import arrears


def _valid_uscc(uscc: str) -> str:
    validate_uscc(uscc)  # a CodeError (ValueError) names what is wrong
    return uscc


def _change(uow: UnitOfWork, uscc: str, outstanding_of, note: str | None, event_type: str) -> TaxArrears:
    uow.lock(f"arrears:{uscc}")
    row = uow.session.execute(select(arrears).where(arrears.c.uscc == uscc)).mappings().first()
    now = datetime.now(timezone.utc)
    outstanding = outstanding_of(row["outstanding"] if row else Decimal("0.00"))
    revision = (row["revision"] if row else 0) + 1
    values = dict(outstanding=outstanding, revision=revision, note=(note or "")[:200] or None, updated_at=now)
    if row is None:
        uow.session.execute(arrears.insert().values(uscc=uscc, **values))
    else:
        uow.session.execute(update(arrears).where(arrears.c.uscc == uscc).values(**values))
    state = TaxArrears(uscc=uscc, outstanding=outstanding, revision=revision, as_of=now)
    uow.announce(new_event(event_type, state, case_id=None))
    return state


def record(uow: UnitOfWork, uscc: str, amount: str, note: str | None = None) -> TaxArrears:
    """Add `amount` (CNY, a decimal string) to what the enterprise owes."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None
    return _change(uow, _valid_uscc(uscc), lambda owed: rules.arrears_after(owed, value), note,
                   "tax.arrears_recorded")


def settle(uow: UnitOfWork, uscc: str, note: str | None = None) -> TaxArrears:
    """Everything owed is paid (税款入库)."""
    return _change(uow, _valid_uscc(uscc), lambda owed: Decimal("0.00"), note, "tax.arrears_settled")


def outstanding(session, uscc: str) -> Decimal:
    return session.execute(select(arrears.c.outstanding).where(arrears.c.uscc == uscc)).scalar() or Decimal("0.00")
