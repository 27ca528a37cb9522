"""Seal carving's steps: what happens when a case reaches them, and what undoing a carving does."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from yjs_contracts.api import DeregistrationApplication, signatory_of
from yjs_contracts.events import (CancelledSeal, CarvedSeal, EnterpriseChanged, RecarvedSeal, SealsCancelled,
                                  SealsCarved, SealsRecarved, StepReport, step_report)
from yjs_contracts.steps import StepStatus
from yjs_kit.steps import StepWork

from . import rules
from .models import seal_orders, seals


def carve(work: StepWork) -> StepReport:
    """公章刻制: carve the seals asked for, free of charge, and file each under its own 印章编码."""
    # the seal types are read raw: a type the API did not know must still be refused here
    requested = work.application.get("seals")
    registered = work.facts["registration.establish"]  # 材料共享: the registered name and code
    uscc, enterprise_name = registered["uscc"], registered["enterprise_name"]
    division = work.application["enterprise"]["domicile"]["division_code"]
    now = datetime.now(timezone.utc)
    reasons = rules.seal_type_reasons(requested)
    work.uow.insert(seal_orders,
        case_id=work.case_id, uscc=uscc, enterprise_name=enterprise_name, division_code=division,
        status="refused" if reasons else "carved", fee=rules.FEE, ordered_at=now)
    if reasons:
        return step_report(work.step, StepStatus.rejected, reasons=reasons)
    # the 名章 bears the legal representative's name, a 个体工商户's operator's
    legal_representative = signatory_of(work.application)["name"]
    carved, rows = [], []
    types = rules.seal_types(requested)
    # the counter rolls back with the step, so a retry files the same codes again; one number
    # per seal, all taken at once, and the seals filed in one statement
    for seal_type, number in zip(types, work.uow.next_numbers(f"seal:{division}", len(types))):
        code = rules.filing_code(division, number)
        name = rules.seal_name(seal_type, enterprise_name, uscc, legal_representative)
        rows.append(dict(filing_code=code, type=seal_type.value, name=name, uscc=uscc, case_id=work.case_id,
                         status="filed", filed_at=now))
        carved.append(CarvedSeal(type=seal_type, name=name, filing_code=code))
    work.uow.insert_many(seals, rows, later=True)
    return step_report(work.step, StepStatus.completed, SealsCarved(seals=carved, fee=rules.FEE))


def cancel(work: StepWork) -> StepReport:
    """公章缴销 once the registration is cancelled: every seal still filed for the enterprise is
    handed in and its filing cancelled; none filed here, nothing to cancel."""
    uscc = DeregistrationApplication.model_validate(work.application).uscc
    now = datetime.now(timezone.utc)
    filed = work.session.execute(select(seals.c.filing_code, seals.c.type).where(
        (seals.c.uscc == uscc) & (seals.c.status == "filed")).order_by(seals.c.filing_code).with_for_update()).all()
    if filed:
        work.session.execute(update(seals).where(seals.c.filing_code.in_([s.filing_code for s in filed])).values(
            status="cancelled", cancelled_at=now, cancellation_case_id=work.case_id))
    return step_report(work.step, StepStatus.completed, SealsCancelled(
        seals=[CancelledSeal(type=s.type, filing_code=s.filing_code) for s in filed], cancelled_at=now))


def void(work: StepWork) -> None:
    """What the seals were carved for is undone (the registration revoked, the case withdrawn):
    the order is undone and every filing it made is voided (作废), kept with when and why —
    a seal no longer stands for the enterprise. A refused order holds nothing; seals already
    handed in (公章缴销) stay as they are."""
    now = datetime.now(timezone.utc)
    if not work.session.execute(update(seal_orders).where(
            (seal_orders.c.case_id == work.case_id) & (seal_orders.c.status == "carved")).values(
            status="undone", undone_at=now, undo_reason=work.undo_reason)).rowcount:
        return
    work.session.execute(update(seals).where((seals.c.case_id == work.case_id) & (seals.c.status == "filed")).values(
        status="voided", cancelled_at=now))


def recarve(work: StepWork) -> StepReport:
    """印章重刻 after a change: each filed seal bearing the old name (or the old legal
    representative) is carved anew, free, under a new 印章编码 where the enterprise now is; the
    old filing is cancelled. An enterprise holding no such seal has nothing to re-carve."""
    changed = EnterpriseChanged.model_validate(work.facts["registration.change"])
    uscc, name = changed.uscc, changed.enterprise_name
    division = changed.domicile.get("division_code") or uscc[2:8]
    now = datetime.now(timezone.utc)
    filed = {row.type: row.filing_code for row in work.session.execute(
        select(seals.c.type, seals.c.filing_code).where((seals.c.uscc == uscc) & (seals.c.status == "filed"))
        .order_by(seals.c.filed_at, seals.c.filing_code).with_for_update()).all()}
    chosen = rules.seals_to_recarve(list(filed), {f.field for f in changed.changed_fields})
    work.session.execute(seal_orders.insert().values(
        case_id=work.case_id, uscc=uscc, enterprise_name=name, division_code=division, status="carved",
        fee=rules.FEE, ordered_at=now))
    recarved, cancelled = [], []
    for seal_type in chosen:
        old = filed[seal_type.value]
        work.session.execute(update(seals).where(seals.c.filing_code == old).values(
            status="cancelled", cancelled_at=now, cancellation_case_id=work.case_id))
        code = rules.filing_code(division, work.uow.next_number(f"seal:{division}"))
        text = rules.seal_name(seal_type, name, uscc, changed.legal_representative)
        work.session.execute(seals.insert().values(
            filing_code=code, type=seal_type.value, name=text, uscc=uscc, case_id=work.case_id, status="filed",
            filed_at=now))
        recarved.append(RecarvedSeal(type=seal_type, name=text, filing_code=code, replaces=old))
        cancelled.append(CancelledSeal(type=seal_type, filing_code=old))
    return step_report(work.step, StepStatus.completed, SealsRecarved(seals=recarved, cancelled=cancelled, fee=rules.FEE))


def unrecarve(work: StepWork) -> None:
    """A re-carving undone: the new filings are voided and the seals they replaced stand again."""
    void(work)
    work.session.execute(update(seals).where(
        (seals.c.cancellation_case_id == work.case_id) & (seals.c.status == "cancelled")).values(
        status="filed", cancelled_at=None, cancellation_case_id=None))


PERFORMERS = {"seal_carving.carve": carve, "seal_carving.cancel": cancel, "seal_carving.recarve": recarve}
COMPENSATORS = {"seal_carving.carve": void, "seal_carving.recarve": unrecarve}
