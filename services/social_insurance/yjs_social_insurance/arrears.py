"""欠缴社会保险费: what an employer owes, recorded by insurance staff or their collection system
and checked when the employer's registration is closed."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select, update
from yjs_contracts.codes import validate_uscc
from yjs_kit.uow import UnitOfWork

from . import rules
from .models import contribution_arrears


def _view(uscc: str, outstanding: Decimal, at: datetime) -> dict:
    return {"uscc": uscc, "outstanding": f"{outstanding:.2f}", "as_of": at.isoformat()}


def _set(uow: UnitOfWork, uscc: str, owed_of, note: str | None) -> dict:
    validate_uscc(uscc)  # a CodeError (ValueError) names what is wrong
    uow.lock(f"contribution-arrears:{uscc}")
    now = datetime.now(timezone.utc)
    known = uow.session.execute(select(contribution_arrears.c.outstanding).where(
        contribution_arrears.c.uscc == uscc)).scalar()
    owed = owed_of(known or Decimal("0.00")).quantize(Decimal("0.01"))
    values = dict(outstanding=owed, note=(note or "")[:200] or None, updated_at=now)
    if known is None:  # under the lock: no other writer of this employer's row
        uow.session.execute(contribution_arrears.insert().values(uscc=uscc, **values))
    else:
        uow.session.execute(update(contribution_arrears).where(contribution_arrears.c.uscc == uscc).values(**values))
    return _view(uscc, owed, now)


def record(uow: UnitOfWork, uscc: str, amount: str, note: str | None = None) -> dict:
    """`amount` (yuan) more is owed."""
    added = rules.recorded_amount(amount)
    return _set(uow, uscc, lambda owed: owed + added, note)


def settle(uow: UnitOfWork, uscc: str, note: str | None = None) -> dict:
    """Everything owed is paid (补缴到账)."""
    return _set(uow, uscc, lambda owed: Decimal("0.00"), note)


def outstanding(session, uscc: str) -> Decimal:
    return session.execute(select(contribution_arrears.c.outstanding).where(
        contribution_arrears.c.uscc == uscc)).scalar() or Decimal("0.00")
