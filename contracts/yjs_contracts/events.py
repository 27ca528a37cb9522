"""The data of every event. Department events share one shape, StepReport: which step, how it
ended, its outputs and reasons; the typed outputs below say what each success carries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from .api import CaseStatus, Reason, SealType
from .plans import PlanStep
from .steps import STEP_KINDS, StepStatus


class CaseSubmitted(BaseModel):
    matter: str
    owner: str
    application: dict[str, Any]
    plan: list[PlanStep]
    submitted_at: datetime


class CaseFinished(BaseModel):
    """case.completed or case.rejected: 统一出件, every result in one place."""

    matter: str
    owner: str
    status: CaseStatus
    outputs: dict[str, Any]
    reasons: list[Reason] = Field(default_factory=list)
    finished_at: datetime


class StepReport(BaseModel):
    step: str
    status: StepStatus
    outputs: dict[str, Any] = Field(default_factory=dict)
    reasons: list[Reason] = Field(default_factory=list)


class EnterpriseRegistered(BaseModel):
    uscc: str
    licence_number: str
    enterprise_name: str
    registered_at: datetime


class CarvedSeal(BaseModel):
    type: SealType
    name: str
    filing_code: str


class SealsCarved(BaseModel):
    seals: list[CarvedSeal]
    fee: Decimal = Decimal("0.00")  # 公章刻制政府买单


class TaxpayerRegistered(BaseModel):
    uscc: str
    tax_authority: str
    taxpayer_type: str
    tax_items: list[str]
    real_name_confirmed: list[str]


class InvoicesGranted(BaseModel):
    invoice_types: list[str]
    monthly_credit: Decimal
    uses_invoice_seal: bool


class AccountOpened(BaseModel):
    account_number: str
    bank: str
    branch: str
    account_type: str = "basic_deposit"
    specimen_seals: list[str] = Field(default_factory=list)


#: what the `outputs` of each completed step must look like
STEP_OUTPUTS: dict[str, type[BaseModel]] = {
    "registration.establish": EnterpriseRegistered,
    "seal_carving.carve": SealsCarved,
    "tax.register": TaxpayerRegistered,
    "tax.grant_invoices": InvoicesGranted,
    "bank_account.open": AccountOpened,
}

#: every event type with its data model
EVENT_MODELS: dict[str, type[BaseModel]] = {
    "case.submitted": CaseSubmitted,
    "case.completed": CaseFinished,
    "case.rejected": CaseFinished,
    **{event: StepReport for kind in STEP_KINDS.values() for event in kind.events},
}


def step_report(step: str, status: StepStatus, outputs: BaseModel | dict | None = None,
                reasons: list[Reason] | None = None) -> StepReport:
    """A department's report, its outputs checked against the step's output model."""
    if isinstance(outputs, BaseModel):
        outputs = outputs.model_dump(mode="json")
    outputs = outputs or {}
    model = STEP_OUTPUTS.get(step)
    if status == StepStatus.completed and model is not None:
        outputs = model.model_validate(outputs).model_dump(mode="json")
    return StepReport(step=step, status=status, outputs=outputs, reasons=reasons or [])


def event_type_for(report: StepReport) -> str:
    kind = STEP_KINDS[report.step]
    if report.status == StepStatus.completed:
        return kind.completed_event
    if report.status == StepStatus.rejected:
        return kind.rejected_event
    return kind.progress_event
