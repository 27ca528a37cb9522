"""An arrears ledger (欠税, 欠缴社会保险费): what an enterprise owes a department, one row per USCC
with a growing revision, changed under a lock on that USCC and announced with every change, so
other departments (deregistration) know it without asking. Each department keeps its own rule
for what an amount entered adds, and its own table and event model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from nameko.rpc import rpc
from pydantic import BaseModel
from sqlalchemy import Table, select, update
from yjs_contracts.codes import validate_uscc
from yjs_contracts.envelope import new_event

from .uow import UnitOfWork

NOTHING_OWED = Decimal("0.00")


@dataclass(frozen=True)
class ArrearsLedger:
    table: Table  # uscc (key), outstanding, revision, note, updated_at
    lock_prefix: str
    event_model: type[BaseModel]  # uscc, outstanding, revision, as_of
    service: str  # events are <service>.arrears_recorded / <service>.arrears_settled
    owed_after: Callable[[Decimal, str], Decimal]  # (owed, amount as entered) -> owed now; ValueError if refused

    def record(self, uow: UnitOfWork, uscc: str, amount: str, note: str | None = None) -> BaseModel:
        """`amount` (yuan, as entered) more is owed."""
        return self._change(uow, uscc, lambda owed: self.owed_after(owed, amount), note,
                            f"{self.service}.arrears_recorded")

    def settle(self, uow: UnitOfWork, uscc: str, note: str | None = None) -> BaseModel:
        """Everything owed is paid."""
        return self._change(uow, uscc, lambda owed: NOTHING_OWED, note, f"{self.service}.arrears_settled")

    def lock(self, uow: UnitOfWork, uscc: str) -> None:
        """Held until the unit of work ends: nothing is recorded or settled for `uscc` meanwhile."""
        uow.lock(f"{self.lock_prefix}:{uscc}")

    def outstanding(self, session, uscc: str) -> Decimal:
        column = self.table.c
        return session.execute(select(column.outstanding).where(column.uscc == uscc)).scalar() or NOTHING_OWED

    def _change(self, uow: UnitOfWork, uscc: str, owed_of: Callable[[Decimal], Decimal], note: str | None,
                event_type: str) -> BaseModel:
        validate_uscc(uscc)  # a CodeError (ValueError) names what is wrong
        column = self.table.c
        self.lock(uow, uscc)
        known = uow.session.execute(select(column.outstanding, column.revision).where(column.uscc == uscc)).first()
        now = datetime.now(timezone.utc)
        owed = owed_of(known.outstanding if known else NOTHING_OWED).quantize(Decimal("0.01"))
        revision = (known.revision if known else 0) + 1
        values = dict(outstanding=owed, revision=revision, note=(note or "")[:200] or None, updated_at=now)
        if known is None:  # under the lock: no other writer of this enterprise's row
            uow.session.execute(self.table.insert().values(uscc=uscc, **values))
        else:
            uow.session.execute(update(self.table).where(column.uscc == uscc).values(**values))
        state = self.event_model(uscc=uscc, outstanding=owed, revision=revision, as_of=now)
        uow.announce(new_event(event_type, state, case_id=None))
        return state


def find_ledger(service) -> ArrearsLedger:
    ledger = getattr(type(service), "arrears_ledger", None)
    if not isinstance(ledger, ArrearsLedger):
        raise LookupError(f"{type(service).__name__} has no ArrearsLedger as `arrears_ledger`")
    return ledger


class ArrearsRpc:
    """Mixed into a department service (with a DepartmentRpc, a `db` and an `arrears_ledger`):
    its own staff (or their system, with a staff token) or an operator record and settle what
    an enterprise owes; each change is announced."""

    @rpc
    def record_arrears(self, uscc: str, amount: str, note: str | None = None) -> dict:
        """`amount` (yuan) more is owed; announced as <service>.arrears_recorded."""
        self.staff_or_operator()
        with self.db.unit_of_work() as uow:
            return find_ledger(self).record(uow, uscc, amount, note).model_dump(mode="json")

    @rpc
    def settle_arrears(self, uscc: str, note: str | None = None) -> dict:
        """Everything owed is paid; announced as <service>.arrears_settled."""
        self.staff_or_operator()
        with self.db.unit_of_work() as uow:
            return find_ledger(self).settle(uow, uscc, note).model_dump(mode="json")
