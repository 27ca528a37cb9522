"""Tax's steps: what happens when a case reaches them, and what undoing each does."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from yjs_contracts.api import ChangeApplication, DeregistrationApplication, EstablishmentApplication, SealType, TaxpayerType
from yjs_contracts.events import (EnterpriseChanged, EnterpriseRegistered, EquityTransferTaxConfirmed, InvoicesGranted,
                                  SealsCarved, StepReport, TaxCleared, TaxpayerRegistered, TaxpayerUpdated,
                                  TransferTaxSettled, step_report)
from yjs_contracts.plans import CHINA
from yjs_contracts.steps import StepStatus
from yjs_kit.steps import StepWork

from . import arrears, rules
from .models import clearances, equity_transfer_checks, invoice_grants, taxpayer_changes, taxpayers


def register(work: StepWork) -> StepReport:
    """新办纳税人套餐: 登记信息确认 under the 统一社会信用代码 registration issued, 实名信息采集,
    纳税人类型 and 税费种认定 — nothing the applicant already gave is asked again."""
    app = EstablishmentApplication.model_validate(work.application)
    enterprise = EnterpriseRegistered.model_validate(work.facts["registration.establish"])
    now = datetime.now(timezone.utc)
    registered = TaxpayerRegistered(
        uscc=enterprise.uscc,
        tax_authority=rules.tax_authority(app.enterprise.domicile.division_code),
        taxpayer_type=rules.taxpayer_type(app).value,
        tax_items=rules.tax_items(app),
        real_name_confirmed=rules.real_name_confirmed(app))
    # 一般纳税人登记 goes to tax staff first (人工审核); once they approve, it is confirmed here
    # and what they looked at is kept with the taxpayer
    review = rules.needs_review(app)
    if review and not work.approved:
        return step_report(work.step, StepStatus.awaiting_review, reasons=review)
    work.uow.insert(taxpayers,
        uscc=registered.uscc, case_id=work.case_id, enterprise_name=enterprise.enterprise_name,
        tax_authority=registered.tax_authority, taxpayer_type=registered.taxpayer_type,
        tax_items=registered.tax_items, real_name_confirmed=registered.real_name_confirmed,
        review_reasons=[r.model_dump() for r in review], registered_at=now)
    return step_report(work.step, StepStatus.completed, registered)


def grant_invoices(work: StepWork) -> StepReport:
    """票种核定 for 数电发票, with its initial monthly credit. When the plan made the grant wait for
    the seals, the 发票专用章 is filed with it."""
    app = EstablishmentApplication.model_validate(work.application)
    taxpayer = TaxpayerRegistered.model_validate(work.facts["tax.register"])
    types = rules.invoice_types(app)
    credit = rules.initial_monthly_credit(TaxpayerType(taxpayer.taxpayer_type), types)
    seals = work.facts.get("seal_carving.carve")
    seal_code = None
    if seals is not None:
        seal_code = next((s.filing_code for s in SealsCarved.model_validate(seals).seals
                          if s.type == SealType.invoice), None)
    work.uow.insert(invoice_grants,
        uscc=taxpayer.uscc, case_id=work.case_id, invoice_types=types, monthly_credit=credit,
        uses_invoice_seal=seals is not None, invoice_seal_filing_code=seal_code,
        granted_at=datetime.now(timezone.utc))
    return step_report(work.step, StepStatus.completed, InvoicesGranted(
        invoice_types=types, monthly_credit=credit, uses_invoice_seal=seals is not None))


def clear(work: StepWork) -> StepReport:
    """清税 for a deregistration, alongside its public notice: refused while anything is owed;
    otherwise the taxpayer record is closed with a 清税证明. An enterprise that never did tax
    business here is confirmed at once, without a certificate."""
    app = DeregistrationApplication.model_validate(work.application)
    now = datetime.now(timezone.utc)
    owed = arrears.LEDGER.outstanding(work.session, app.uscc)
    reasons = rules.clearance_reasons(owed)
    taxpayer = work.session.execute(select(taxpayers).where(taxpayers.c.uscc == app.uscc)
                                    .with_for_update()).mappings().first()
    division = app.uscc[2:8]  # the 登记管理机关行政区划码 inside the 统一社会信用代码
    certificate = None
    if reasons:
        outcome = "refused"
    elif taxpayer is None:
        outcome = "no_tax_business"
    else:
        outcome = "cleared"
        year = now.astimezone(CHINA).year
        certificate = rules.clearance_certificate_number(
            division, year, work.uow.next_number(f"clearance:{division}:{year}"))
        work.session.execute(update(taxpayers).where(taxpayers.c.uscc == app.uscc).values(
            status="cleared", cleared_at=now))
    work.session.execute(clearances.insert().values(
        case_id=work.case_id, uscc=app.uscc, outcome=outcome, certificate_number=certificate,
        outstanding=owed, decided_at=now))
    if reasons:
        return step_report(work.step, StepStatus.rejected, reasons=reasons)
    return step_report(work.step, StepStatus.completed, TaxCleared(
        uscc=app.uscc, tax_authority=taxpayer["tax_authority"] if taxpayer else rules.tax_authority(division),
        certificate_number=certificate, cleared_at=now))


def undo_clearance(work: StepWork) -> None:
    """A deregistration withdrawn after 清税: the clearance is undone and the taxpayer is active
    again, as if it had never been asked for."""
    cleared = work.session.execute(select(clearances).where(clearances.c.case_id == work.case_id)
                                   .with_for_update()).mappings().first()
    if cleared is None:
        return
    if cleared["outcome"] == "cleared":
        work.session.execute(update(taxpayers).where(
            (taxpayers.c.uscc == cleared["uscc"]) & (taxpayers.c.status == "cleared")).values(
            status="registered", cleared_at=None))
    work.session.execute(update(clearances).where(clearances.c.case_id == work.case_id).values(outcome="undone"))


def cancel_registration(work: StepWork) -> None:
    """What the taxpayer was registered on is undone (the registration revoked, the case
    withdrawn): the taxpayer registration is cancelled, kept with when and why. A registration
    still with tax staff holds nothing."""
    work.session.execute(update(taxpayers).where(
        (taxpayers.c.case_id == work.case_id) & (taxpayers.c.status == "registered")).values(
        status="cancelled", cancelled_at=datetime.now(timezone.utc), undo_reason=work.undo_reason))


def revoke_grant(work: StepWork) -> None:
    """What the invoice grant rested on is undone (the taxpayer, the 发票专用章): the grant is
    revoked and no invoice may be issued under it; kept with when and why."""
    work.session.execute(update(invoice_grants).where(
        (invoice_grants.c.case_id == work.case_id) & (invoice_grants.c.status == "granted")).values(
        status="revoked", revoked_at=datetime.now(timezone.utc), undo_reason=work.undo_reason))


def update_taxpayer(work: StepWork) -> StepReport:
    """税务登记信息变更 (企业变更纳入税务环节): the taxpayer record takes every registered change,
    nothing asked again; a domicile under another bureau moves the taxpayer. An enterprise that
    is no taxpayer here has nothing to update."""
    changed = EnterpriseChanged.model_validate(work.facts["registration.change"])
    now = datetime.now(timezone.utc)
    taxpayer = work.session.execute(select(taxpayers).where(taxpayers.c.uscc == changed.uscc)
                                    .with_for_update()).mappings().first()
    fields = [f.field for f in changed.changed_fields]
    previous = taxpayer["tax_authority"] if taxpayer else None
    authority = previous
    if taxpayer is not None:
        authority = rules.authority_after_change(previous, "domicile" in fields,
                                                 changed.domicile.get("division_code") or changed.uscc[2:8])
        work.session.execute(update(taxpayers).where(taxpayers.c.uscc == changed.uscc).values(
            enterprise_name=changed.enterprise_name, tax_authority=authority))
    work.session.execute(taxpayer_changes.insert().values(
        case_id=work.case_id, uscc=changed.uscc, changed_fields=[f.model_dump(mode="json") for f in changed.changed_fields],
        previous_tax_authority=previous, tax_authority=authority, changed_at=now))
    moved = authority != previous
    return step_report(work.step, StepStatus.completed, TaxpayerUpdated(
        uscc=changed.uscc, taxpayer=taxpayer is not None, enterprise_name=changed.enterprise_name,
        tax_authority=authority, previous_tax_authority=previous if moved else None,
        updated=rules.updated_items(fields, moved) if taxpayer is not None else [], updated_at=now))


def undo_update(work: StepWork) -> None:
    """A change undone: the taxpayer returns to the name and bureau it had before it."""
    row = work.session.execute(select(taxpayer_changes).where(taxpayer_changes.c.case_id == work.case_id)
                               ).mappings().first()
    if row is None or row["previous_tax_authority"] is None:
        return
    old_name = next((f["old"] for f in row["changed_fields"] if f["field"] == "name"), None)
    values = {"tax_authority": row["previous_tax_authority"]} | ({"enterprise_name": old_name} if old_name else {})
    work.session.execute(update(taxpayers).where(taxpayers.c.uscc == row["uscc"]).values(**values))


def confirm_equity_transfer(work: StepWork) -> StepReport:
    """个人股东股权转让完税, before registration records the change: confirmed when every natural
    person's transfer shows its tax settled; refused, with each one missing, otherwise."""
    app = ChangeApplication.model_validate(work.application)
    reasons = rules.equity_transfer_reasons(app.equity_transfers)
    now = datetime.now(timezone.utc)
    natural = [t for t in app.equity_transfers if t.transferor_kind == "natural_person"]
    work.session.execute(equity_transfer_checks.insert().values(
        case_id=work.case_id, uscc=app.uscc, transfers=[t.model_dump(mode="json") for t in natural],
        outcome="unsettled" if reasons else "confirmed", decided_at=now))
    if reasons:
        return step_report(work.step, StepStatus.rejected, reasons=reasons)
    return step_report(work.step, StepStatus.completed, EquityTransferTaxConfirmed(
        uscc=app.uscc, confirmed_at=now, transfers=[TransferTaxSettled(
            transferor_name=t.transferor_name, amount=t.amount, price=t.price, tax_receipt=t.tax_receipt)
            for t in natural]))


PERFORMERS = {"tax.register": register, "tax.grant_invoices": grant_invoices, "tax.clear": clear,
              "tax.update": update_taxpayer, "tax.equity_transfer": confirm_equity_transfer}
COMPENSATORS = {"tax.register": cancel_registration, "tax.grant_invoices": revoke_grant, "tax.clear": undo_clearance,
                "tax.update": undo_update}
