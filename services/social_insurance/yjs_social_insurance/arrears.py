"""欠缴社会保险费: what an employer owes, recorded by insurance staff or their collection system,
checked when the employer's registration is closed, and announced so deregistration refuses at
acceptance without asking."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select, update
from yjs_contracts.codes import validate_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import ContributionArrears
from yjs_kit.uow import UnitOfWork

from . import rules
from .models import contribution_arrears


def _set(uow: UnitOfWork, uscc: str, owed_of, note: str | None, event_type: str) -> ContributionArrears:
    validate_uscc(uscc)  # a CodeError (ValueError) names what is wrong
    uow.lock(f"contribution-arrears:{uscc}")
    now = datetime.now(timezone.utc)
    known = uow.session.execute(select(contribution_arrears.c.outstanding, contribution_arrears.c.revision).where(
        contribution_arrears.c.uscc == uscc)).first()
    owed = owed_of(known.outstanding if known else Decimal("0.00")).quantize(Decimal("0.01"))
    revision = (known.revision if known else 0) + 1
    values = dict(outstanding=owed, revision=revision, note=(note or "")[:200] or None, updated_at=now)
    if known is None:  # under the lock: no other writer of this employer's row
        uow.session.execute(contribution_arrears.insert().values(uscc=uscc, **values))
    else:
        uow.session.execute(update(contribution_arrears).where(contribution_arrears.c.uscc == uscc).values(**values))
    state = ContributionArrears(uscc=uscc, outstanding=owed, revision=revision, as_of=now)
    uow.announce(new_event(event_type, state, case_id=None))
    return state


def record(uow: UnitOfWork, uscc: str, amount: str, note: str | None = None) -> ContributionArrears:
    """`amount` (yuan) more is owed."""
    added = rules.recorded_amount(amount)
    return _set(uow, uscc, lambda owed: owed + added, note, "social_insurance.arrears_recorded")


def settle(uow: UnitOfWork, uscc: str, note: str | None = None) -> ContributionArrears:
    """Everything owed is paid (补缴到账)."""
    return _set(uow, uscc, lambda owed: Decimal("0.00"), note, "social_insurance.arrears_settled")


def outstanding(session, uscc: str) -> Decimal:
    return session.execute(select(contribution_arrears.c.outstanding).where(
        contribution_arrears.c.uscc == uscc)).scalar() or Decimal("0.00")
