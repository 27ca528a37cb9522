"""Tax's steps: what happens when a case reaches them."""

from __future__ import annotations

from datetime import datetime, timezone

from yjs_contracts.api import EstablishmentApplication, SealType, TaxpayerType
from yjs_contracts.events import (EnterpriseRegistered, InvoicesGranted, SealsCarved, StepReport, TaxpayerRegistered,
                                  step_report)
from yjs_contracts.steps import StepStatus
from yjs_kit.steps import StepWork

from . import rules
from .models import invoice_grants, taxpayers


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
    # needs_review(app) names what staff would check (一般纳税人); until the review queue
    # exists the registration is confirmed at once and the reasons are kept for it
    review = rules.needs_review(app)
    work.session.execute(taxpayers.insert().values(
        uscc=registered.uscc, case_id=work.case_id, enterprise_name=enterprise.enterprise_name,
        tax_authority=registered.tax_authority, taxpayer_type=registered.taxpayer_type,
        tax_items=registered.tax_items, real_name_confirmed=registered.real_name_confirmed,
        review_reasons=[r.model_dump() for r in review], registered_at=now))
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
    work.session.execute(invoice_grants.insert().values(
        uscc=taxpayer.uscc, case_id=work.case_id, invoice_types=types, monthly_credit=credit,
        uses_invoice_seal=seals is not None, invoice_seal_filing_code=seal_code,
        granted_at=datetime.now(timezone.utc)))
    return step_report(work.step, StepStatus.completed, InvoicesGranted(
        invoice_types=types, monthly_credit=credit, uses_invoice_seal=seals is not None))


PERFORMERS = {"tax.register": register, "tax.grant_invoices": grant_invoices}
