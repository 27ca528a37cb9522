"""Every kind of step a plan can hold: which department performs it, which events announce
its outcome, and where its outputs go in the case's combined outputs (统一出件).

The case service and every department read this table; adding a department is adding rows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class StepStatus(StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    awaiting_review = "awaiting_review"
    awaiting_applicant = "awaiting_applicant"
    completed = "completed"
    rejected = "rejected"
    cancelled = "cancelled"
    not_required = "not_required"


FINAL_STEP_STATUSES = frozenset({StepStatus.completed, StepStatus.rejected, StepStatus.cancelled, StepStatus.not_required})


@dataclass(frozen=True)
class StepKind:
    step: str  # "<department>.<action>"
    completed_event: str  # full event type announcing success
    rejected_event: str  # full event type announcing refusal
    output_path: tuple[str, ...] = ()  # where outputs merge into the case's combined outputs
    title: str = ""

    @property
    def department(self) -> str:
        return self.step.split(".", 1)[0]

    @property
    def progress_event(self) -> str:
        """Every other status a step reaches (awaiting_review, cancelled, ...): one event type
        per department, the step and status in its data."""
        return f"{self.department}.step_updated"

    @property
    def events(self) -> tuple[str, ...]:
        return (self.completed_event, self.rejected_event, self.progress_event)


STEP_KINDS: dict[str, StepKind] = {
    kind.step: kind
    for kind in (
        StepKind("registration.establish", "registration.enterprise_registered",
                 "registration.establishment_refused", (), "设立登记"),
        StepKind("seal_carving.carve", "seal_carving.seals_carved",
                 "seal_carving.seal_order_refused", (), "公章刻制"),
        StepKind("tax.register", "tax.taxpayer_registered",
                 "tax.taxpayer_registration_refused", ("tax",), "新办纳税人"),
        StepKind("tax.grant_invoices", "tax.invoices_granted",
                 "tax.invoice_grant_refused", ("tax", "invoices"), "票种核定"),
        StepKind("bank_account.open", "bank_account.account_opened",
                 "bank_account.account_opening_refused", ("bank_account",), "基本存款账户开立"),
        StepKind("licensing.issue", "licensing.licences_issued",
                 "licensing.licensing_refused", ("licences",), "行业准营"),
        StepKind("tax.clear", "tax.tax_cleared", "tax.tax_clearance_refused", ("tax_clearance",), "清税"),
        StepKind("deregistration.accept", "deregistration.application_accepted",
                 "deregistration.application_refused", ("deregistration_application",), "注销受理"),
        StepKind("deregistration.notice", "deregistration.notice_period_ended",
                 "deregistration.notice_objected", ("notice",), "注销公告"),
        StepKind("deregistration.liquidation_report", "deregistration.liquidation_report_accepted",
                 "deregistration.liquidation_report_refused", ("liquidation_report",), "清算报告"),
        StepKind("registration.deregister", "registration.enterprise_deregistered",
                 "registration.deregistration_refused", ("deregistration",), "注销登记"),
        StepKind("bank_account.close", "bank_account.account_closed",
                 "bank_account.account_closing_refused", ("bank_account_closure",), "销户"),
        StepKind("seal_carving.cancel", "seal_carving.seals_cancelled",
                 "seal_carving.seal_cancellation_refused", ("seal_cancellation",), "公章缴销"),
        StepKind("licensing.revoke", "licensing.licences_revoked",
                 "licensing.revocation_refused", ("licence_revocation",), "许可注销"),
        StepKind("tax.equity_transfer", "tax.equity_transfer_tax_confirmed",
                 "tax.equity_transfer_tax_unsettled", ("equity_transfer_tax",), "股权转让完税确认"),
        StepKind("deregistration.reduction_notice", "deregistration.reduction_notice_ended",
                 "deregistration.reduction_notice_refused", ("reduction_notice",), "减资公告"),
        StepKind("registration.change", "registration.enterprise_changed",
                 "registration.change_refused", ("change",), "变更登记"),
        StepKind("seal_carving.recarve", "seal_carving.seals_recarved",
                 "seal_carving.recarving_refused", ("seal_recarving",), "印章重刻"),
        StepKind("tax.update", "tax.taxpayer_updated", "tax.taxpayer_update_refused", ("tax_update",), "税务信息变更"),
        StepKind("bank_account.update", "bank_account.account_updated",
                 "bank_account.account_update_refused", ("bank_account_update",), "账户信息变更"),
        StepKind("licensing.amend", "licensing.licences_amended",
                 "licensing.amendment_refused", ("licence_amendment",), "许可变更"),
        StepKind("social_insurance.register", "social_insurance.employer_registered",
                 "social_insurance.employer_registration_refused", ("social_insurance",), "社保医保登记"),
        StepKind("social_insurance.close", "social_insurance.employer_closed",
                 "social_insurance.closing_refused", ("social_insurance_closure",), "社保医保注销"),
    )
}

STEP_BY_EVENT: dict[str, tuple[StepKind, StepStatus]] = {}
for _kind in STEP_KINDS.values():
    STEP_BY_EVENT[_kind.completed_event] = (_kind, StepStatus.completed)
    STEP_BY_EVENT[_kind.rejected_event] = (_kind, StepStatus.rejected)

#: every event that carries a StepReport
REPORT_EVENTS: frozenset[str] = frozenset(e for _kind in STEP_KINDS.values() for e in _kind.events)

DEPARTMENTS: tuple[str, ...] = tuple(dict.fromkeys(kind.department for kind in STEP_KINDS.values()))


def department_of(step: str) -> str:
    return STEP_KINDS[step].department


@dataclass(frozen=True)
class Keep:
    """What a completed step's outputs do to the enterprise record (`GET /v1/enterprises/{uscc}`).

    `section` is the record's field. A section whose rows name a `key` holds many entries (a
    list, each named by that field); otherwise it holds one entry or None. `items` names the
    outputs' list of entries; None: the outputs are the entry. `action`:
      - `add`: the entry is kept (with `status` when given); an entry naming no key is named by its case
      - `mark`: a kept entry gets `status`; an entry naming no key marks every kept one
      - `update`: a kept entry takes the outputs' `fields` (all when empty), or all of them
        under `into`, when the outputs' `when` field is true (or no `when` is given)."""

    section: str
    action: Literal["add", "mark", "update"]
    key: str | None = None
    items: str | None = None
    status: str | None = None
    fields: tuple[str, ...] = ()
    into: str | None = None
    when: str | None = None


#: per step: what its completion keeps in the enterprise record, in order. Registration folds
#: the departments' reports by this table alone, so a department's outputs appear there by rows here.
ENTERPRISE_RECORD: dict[str, tuple[Keep, ...]] = {
    "seal_carving.carve": (Keep("seals", "add", "filing_code", "seals", "filed"),),
    "seal_carving.cancel": (Keep("seals", "mark", "filing_code", "seals", "cancelled"),),
    "seal_carving.recarve": (Keep("seals", "mark", "filing_code", "cancelled", "cancelled"),
                             Keep("seals", "add", "filing_code", "seals", "filed")),
    "tax.register": (Keep("taxpayer", "add", status="registered"),),
    "tax.grant_invoices": (Keep("taxpayer", "update", into="invoices"),),
    "tax.clear": (Keep("taxpayer", "mark", status="cleared"),),
    "tax.update": (Keep("taxpayer", "update", fields=("enterprise_name", "tax_authority"), when="taxpayer"),),
    "bank_account.open": (Keep("bank_accounts", "add", "account_number", status="open"),),
    "bank_account.close": (Keep("bank_accounts", "mark", "account_number", status="closed"),),
    "bank_account.update": (Keep("bank_accounts", "update", "account_number",
                                 fields=("account_name", "specimen_seals", "legal_representative"),
                                 when="account_number"),),
    "licensing.issue": (Keep("permits", "add", "permit_number", "permits"),),
    "licensing.revoke": (Keep("permits", "mark", "permit_number", "permits", "cancelled"),),
    "licensing.amend": (Keep("permits", "update", "permit_number", "permits"),
                        Keep("permits", "mark", "permit_number", "cancelled", "cancelled")),
    "social_insurance.register": (Keep("social_insurance", "add", status="registered"),),
    "social_insurance.close": (Keep("social_insurance", "mark", status="closed"),),
}

#: every section of the enterprise record the table fills: True for one holding many entries
RECORD_SECTIONS: dict[str, bool] = {}
for _keeps in ENTERPRISE_RECORD.values():
    for _keep in _keeps:
        RECORD_SECTIONS[_keep.section] = RECORD_SECTIONS.get(_keep.section, False) or _keep.key is not None
