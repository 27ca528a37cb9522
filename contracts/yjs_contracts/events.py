"""The data of every event. Department events share one shape, StepReport: which step, how it
ended, its outputs and reasons; the typed outputs below say what each success carries."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from .api import CaseStatus, ListingKind, Reason, SealType, SupplementField, SupplementMaterial
from .codes import validate_uscc
from .catalogue import VERSION as CATALOGUE_VERSION, PermitMode
from .plans import MATTERS, PlanStep
from .steps import STEP_KINDS, StepStatus


class Signer(BaseModel):
    """Who signed a case's commitments (告知承诺): the verified person (实名认证) who submitted it."""

    name: str | None = None
    id_number: str


class CaseSubmitted(BaseModel):
    matter: str
    owner: str
    application: dict[str, Any]
    plan: list[PlanStep]
    submitted_at: datetime
    catalogue_version: str = CATALOGUE_VERSION  # the catalogue edition the case is planned and decided with
    signer: Signer | None = None  # None: submitted without a verified identity


class CaseFinished(BaseModel):
    """case.completed or case.rejected: 统一出件, every result in one place. A case partly done
    (`status` partially_completed) is announced case.completed: what took effect is issued, and
    `reasons` say, step by step, what was refused."""

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
    decided_by: str | None = None  # the department's staff member who decided (人工审核); None: its rules
    # an outcome the step had reached is undone: the case was withdrawn, or a 容缺受理 decision
    # was withdrawn because the materials never came
    undoes: bool = False
    materials_due: datetime | None = None  # 容缺受理: decided with materials missing, due by then


class CaseWithdrawn(BaseModel):
    """case.withdrawn (撤回): the applicant withdrew the case before it ended. Every department
    cancels or undoes its own steps of it and announces each."""

    matter: str
    owner: str
    reason: str
    steps: list[str]  # every step of the case's plan
    withdrawn_at: datetime


class WithdrawalRequested(BaseModel):
    """case.withdrawal_requested (申请撤回): the applicant asked to withdraw a case whose matter has
    a point of no return (`pivot`). The department owning the pivot step answers, under its case
    lock; only an accepted request makes the case withdrawn."""

    matter: str
    owner: str
    reason: str  # the applicant's
    pivot: str  # the step whose completion makes the case impossible to withdraw
    requested_at: datetime


class WithdrawalAnswered(BaseModel):
    """`<department>.withdrawal_accepted` or `<department>.withdrawal_refused`: the pivot's
    department's answer to a withdrawal request. Accepted, the pivot will never start or complete;
    refused, it had completed, and `reasons` say so in words the applicant reads."""

    pivot: str
    request_id: str  # the event_id of the case.withdrawal_requested answered
    withdrawal_reason: str  # the applicant's, carried back so the case is withdrawn with it
    reasons: list[Reason] = Field(default_factory=list)
    answered_at: datetime


class SupplementProvided(BaseModel):
    """case.supplement_provided (补正): what the applicant handed in, and the application as it
    now stands; the steps waiting for the applicant resume with it."""

    items: list[SupplementField | SupplementMaterial]
    application: dict[str, Any]
    revision: int  # grows with every supplement: a department keeps the latest application
    supplied_at: datetime


class StepOverdue(BaseModel):
    """case.step_overdue: a step passed its promised limit (承诺时限) undecided; announced once."""

    step: str
    department: str
    status: StepStatus
    deadline: datetime
    detected_at: datetime


def _uscc(code: str) -> str:
    validate_uscc(code)
    return code


#: a 统一社会信用代码 that passes its check characters (GB 32100)
Uscc = Annotated[str, AfterValidator(_uscc)]


class EnterpriseRegistered(BaseModel):
    uscc: Uscc
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


class DeregistrationAccepted(BaseModel):
    """注销受理: the enterprise may close by the route asked for."""

    uscc: str
    enterprise_name: str
    route: Literal["simple", "general"]
    accepted_at: datetime


class NoticePublished(BaseModel):
    """注销公告 (simple route: 20 days, objections open to anyone) or 债权人公告 (general route:
    at least 45 days, after the 清算组 is filed), or a 减资公告 (route `reduction`, 45 days); the
    outputs of the notice step while it runs."""

    notice_id: str
    route: Literal["simple", "general", "reduction"]
    starts_at: datetime
    ends_at: datetime
    liquidation_group_filed_at: datetime | None = None  # 清算组备案, general route


class NoticePeriodEnded(NoticePublished):
    """The notice ran its full period without objection."""

    ended_at: datetime


class LiquidationReportAccepted(BaseModel):
    """清算报告, confirmed by the investors and filed by the applicant."""

    approved_on: date
    submitted_at: datetime


class TaxCleared(BaseModel):
    """清税: arrears none, the taxpayer record closed. An enterprise that never did tax business
    needs no 清税证明: `certificate_number` is then None and tax confirms at once."""

    uscc: str
    tax_authority: str | None
    certificate_number: str | None
    cleared_at: datetime


class EmployerInsured(BaseModel):
    """单位参保登记 (人力资源和社会保障局: 养老、失业、工伤) and 医保登记 (医疗保障局: 医疗、生育) of a new
    employer, under one 社保登记编号."""

    uscc: str
    registration_number: str
    insurance_types: list[str]
    social_insurance_agency: str
    medical_insurance_agency: str
    employees: int
    registered_at: datetime


class EmployerInsuranceClosed(BaseModel):
    """注销社会保险登记 and 医保登记: nothing owed, the employer's registration closed.
    `registration_number` None when the enterprise never registered here."""

    uscc: str
    registration_number: str | None
    deregistered_at: datetime


class EnterpriseDeregistered(BaseModel):
    """注销登记: the enterprise is struck off the register and its name is free again."""

    uscc: str
    enterprise_name: str
    licence_number: str
    deregistered_at: datetime


class AccountClosed(BaseModel):
    """销户 of the basic deposit account; `account_number` None when the enterprise had none."""

    account_number: str | None
    bank: str | None = None
    closed_at: datetime


class CancelledSeal(BaseModel):
    type: SealType
    filing_code: str


class SealsCancelled(BaseModel):
    """公章缴销: every filed seal of the enterprise handed in and its filing cancelled."""

    seals: list[CancelledSeal]
    cancelled_at: datetime


class RevokedPermit(BaseModel):
    permit_number: str
    name: str
    items: list[str]


class ChangedField(BaseModel):
    """One 变更事项 as registered: the value before and after (people by name, amounts as text)."""

    field: str
    old: Any = None
    new: Any = None


class EnterpriseChanged(BaseModel):
    """变更登记: the change is on the register, the licence reissued under the same code; the
    enterprise as it now stands, for the departments that follow."""

    uscc: Uscc
    licence_number: str
    enterprise_name: str
    changed_fields: list[ChangedField]
    legal_representative: str  # the name, after the change
    domicile: dict[str, Any]
    business_scope: list[str]
    changed_at: datetime


class RecarvedSeal(CarvedSeal):
    replaces: str  # the filing code of the seal it replaces, now cancelled


class SealsRecarved(BaseModel):
    """印章重刻: each seal bearing what changed is carved anew (still free) and filed under a
    new 印章编码; the old filings are cancelled. None held: nothing to re-carve."""

    seals: list[RecarvedSeal]
    cancelled: list[CancelledSeal]
    fee: Decimal = Decimal("0.00")


class TransferTaxSettled(BaseModel):
    transferor_name: str
    amount: Decimal
    price: Decimal
    tax_receipt: str


class EquityTransferTaxConfirmed(BaseModel):
    """个人股东股权转让完税: tax confirms the individual income tax on each natural person's transfer settled."""

    uscc: str
    transfers: list[TransferTaxSettled]
    confirmed_at: datetime


class ReductionNoticeEnded(BaseModel):
    """减资公告 ran its period (45 days); creditors' `objections` (异议), if any, go to registration
    staff before the reduction is registered."""

    notice_id: str
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime
    objections: list[dict[str, Any]] = Field(default_factory=list)  # {"objection_id", "name", "reason"}


class TaxpayerUpdated(BaseModel):
    """税务登记信息变更: the taxpayer record follows the register; a domicile under another
    bureau moves the taxpayer there. `taxpayer` False: not a taxpayer here, nothing to update."""

    uscc: str
    taxpayer: bool
    enterprise_name: str
    tax_authority: str | None
    previous_tax_authority: str | None = None
    updated: list[str]
    updated_at: datetime


class AccountUpdated(BaseModel):
    """账户信息变更: the account's name, legal representative and specimen seals (预留印鉴) after the
    change; `account_number` None when the enterprise holds no account here."""

    account_number: str | None
    bank: str | None = None
    branch: str | None = None
    account_name: str
    legal_representative: str
    specimen_seals: list[str] = Field(default_factory=list)
    updated_at: datetime


class AmendedPermit(BaseModel):
    """A permit reissued under the enterprise's new name or address (许可变更): same number, new issue date."""

    permit_number: str
    name: str
    items: list[str]
    enterprise_name: str
    address: str | None = None
    valid_from: date
    valid_until: date | None = None


class AmendmentRefused(BaseModel):
    permit_number: str  # empty for a permit the new scope asked for and staff refused
    name: str
    reasons: list[Reason]


class LicencesAmended(BaseModel):
    """许可变更秒办: every permit the enterprise holds, reissued at once; permits whose items left
    the scope are cancelled; licensed items the change adds are handled by their modes (`issued`,
    or `awaiting_review` with licensing's staff). `refused` non-empty: the step took effect only in part."""

    uscc: str
    permits: list[AmendedPermit] = Field(default_factory=list)
    cancelled: list[RevokedPermit] = Field(default_factory=list)
    issued: list["IssuedPermit"] = Field(default_factory=list)
    awaiting_review: list["PermitAwaitingReview"] = Field(default_factory=list)
    refused: list[AmendmentRefused] = Field(default_factory=list)
    amended_at: datetime


class TaxArrears(BaseModel):
    """tax.arrears_recorded / tax.arrears_settled: what an enterprise owes now (欠税). `revision`
    grows with every change, so a consumer keeps the latest whatever order events arrive in."""

    uscc: str
    outstanding: Decimal
    revision: int
    as_of: datetime


class ContributionArrears(TaxArrears):
    """social_insurance.arrears_recorded / social_insurance.arrears_settled: what an employer owes
    now in social and medical insurance contributions (欠缴社会保险费), with a growing `revision`."""


class ListedEntry(BaseModel):
    listing_id: str
    kind: ListingKind


class EnterpriseListings(BaseModel):
    """registration.listings_changed: the enterprise's listings now in force, all of them.
    `revision` grows with every change, so a consumer keeps the latest whatever order events
    arrive in."""

    uscc: str
    listings: list[ListedEntry]
    revision: int
    as_of: datetime


class PermitPart(BaseModel):
    """One permit item inside an issued permit: the permit itself, or one of those a
    comprehensive permit merges, with the mode it was decided in."""

    code: str
    name: str
    department: str
    mode: PermitMode
    items: list[str]
    commitment_notice: "SignedNotice | None" = None  # a commitment part: the 告知承诺书 the applicant signed


class SignedNotice(BaseModel):
    """告知承诺书 as signed, kept with the permit: the conditions promised and the liability."""

    conditions: list[str]
    liability: str
    check_days: int | None = None


class IssuedPermit(BaseModel):
    """A permit, a filing (备案) or a 行业综合许可证 (`comprehensive`, one number for every
    permit of its industry). `check_due`: the post-issuance check of a commitment (告知承诺).
    `status`: valid, revoked (撤销, a commitment found false) or cancelled (注销, the enterprise
    closed)."""

    permit_number: str
    name: str
    mode: PermitMode
    items: list[str]
    comprehensive: bool = False
    industry: str | None = None
    parts: list[PermitPart]
    valid_from: date
    valid_until: date | None = None  # None: does not expire
    check_due: date | None = None
    # superseded: 换发, a comprehensive permit issued again covering the parts staff approved since
    status: Literal["valid", "revoked", "cancelled", "superseded"] = "valid"
    revoked_at: datetime | None = None
    revocation_reason: str | None = None


class PermitNotRequired(BaseModel):
    """A permit whose approval was cancelled (直接取消审批): nothing to do for its items."""

    code: str
    name: str
    items: list[str]


class PermitAwaitingReview(BaseModel):
    """A permit (or a whole industry's comprehensive permit) that department staff decide."""

    name: str
    items: list[str]
    comprehensive: bool = False
    industry: str | None = None
    parts: list[PermitPart]


class PermitRefused(PermitAwaitingReview):
    """A permit (or a comprehensive permit's parts) staff refused, and why."""

    reasons: list[Reason] = Field(default_factory=list)


class LicencesIssued(BaseModel):
    """行业准营: every permit the scope needs, each handled by its mode, decided with the
    catalogue edition the case was planned with. `refused` non-empty: the step took effect
    only in part (the permits issued stand, those refused are listed with their reasons)."""

    uscc: str
    catalogue_version: str
    permits: list[IssuedPermit] = Field(default_factory=list)
    not_required: list[PermitNotRequired] = Field(default_factory=list)
    awaiting_review: list[PermitAwaitingReview] = Field(default_factory=list)
    refused: list[PermitRefused] = Field(default_factory=list)


class LicencesRevoked(BaseModel):
    """许可注销 on deregistration: every permit the enterprise still held."""

    uscc: str
    permits: list[RevokedPermit]
    revoked_at: datetime


class CaseNotice(BaseModel):
    """What a department learns about a case after one of its steps ended (a permit revoked at
    its post-issuance check): the case's timeline shows `summary`, and `outputs`, when given,
    restates the step's outputs as they now stand."""

    step: str
    summary: str
    outputs: dict[str, Any] | None = None


class PermitRevoked(CaseNotice):
    """撤销: a commitment (告知承诺) found false at the post-issuance check revokes its permit
    (`ground` false_commitment: the enterprise and `signer` go on registration's credit record),
    or a rectification (整改) ordered at the check was not done by its deadline (not_rectified)."""

    uscc: str
    permit_number: str
    finding: str
    actor: str
    revoked_at: datetime
    ground: Literal["false_commitment", "not_rectified"] = "false_commitment"
    check_id: str | None = None
    signer: Signer | None = None


class CommitmentChecked(CaseNotice):
    """The post-issuance check of a 告知承诺 permit recorded by the issuing department's staff:
    licensing.commitment_verified (the promise holds; the check closes) or
    licensing.rectification_ordered (责令整改 by `rectify_by`, else the permit is revoked)."""

    check_id: str
    uscc: str
    permit_number: str
    result: Literal["verified", "rectify"]
    reasons: list[Reason] = Field(default_factory=list)
    rectify_by: datetime | None = None
    actor: str
    checked_at: datetime


class CreditRecorded(BaseModel):
    """registration.credit_recorded: a promise found false (虚假承诺) on the credit record that
    registration keeps. The enterprise and the person who signed may not use 告知承诺 in any
    department until `barred_until`: their commitment items go to staff review instead."""

    record_id: str
    uscc: str
    enterprise_name: str | None = None
    signer: Signer | None = None
    permit_number: str
    finding: str
    recorded_at: datetime
    barred_until: datetime


class EventDeadLettered(BaseModel):
    """`<department>.event_dead_lettered`: the department could not handle an event about a case,
    even after its retries; its steps of the case stall until an operator replays the dead letter."""

    dead_letter_id: str  # "<service>:<number>", as operators list and replay it
    event_type: str | None
    event_id: str | None
    kind: str  # failed, unreadable, provenance, invalid
    reason: str


class DeadLetterCleared(BaseModel):
    """`<department>.dead_letter_cleared`: a replayed dead letter was handled; the steps it stalled go on."""

    dead_letter_id: str
    event_type: str | None


#: per department: its announcements about its own dead letters
DEAD_LETTER_EVENTS: dict[str, type[BaseModel]] = {
    event: model
    for department in sorted({kind.department for kind in STEP_KINDS.values()})
    for event, model in ((f"{department}.event_dead_lettered", EventDeadLettered),
                         (f"{department}.dead_letter_cleared", DeadLetterCleared))
}

def withdrawal_answer_event(department: str, accepted: bool) -> str:
    return f"{department}.withdrawal_{'accepted' if accepted else 'refused'}"


#: per department owning some matter's pivot: its answers to withdrawal requests
WITHDRAWAL_ANSWERS: dict[str, type[BaseModel]] = {
    withdrawal_answer_event(department, accepted): WithdrawalAnswered
    for department in sorted({STEP_KINDS[matter.pivot].department for matter in MATTERS.values() if matter.pivot})
    for accepted in (True, False)
}

#: events about a case after a step of it ended; the case service folds them without knowing them
NOTICE_EVENTS: dict[str, type[CaseNotice]] = {
    "licensing.permit_revoked": PermitRevoked,
    "licensing.commitment_verified": CommitmentChecked,
    "licensing.rectification_ordered": CommitmentChecked,
}

#: what the `outputs` of each completed step must look like
STEP_OUTPUTS: dict[str, type[BaseModel]] = {
    "registration.establish": EnterpriseRegistered,
    "seal_carving.carve": SealsCarved,
    "tax.register": TaxpayerRegistered,
    "tax.grant_invoices": InvoicesGranted,
    "bank_account.open": AccountOpened,
    "deregistration.accept": DeregistrationAccepted,
    "deregistration.notice": NoticePeriodEnded,
    "deregistration.liquidation_report": LiquidationReportAccepted,
    "tax.clear": TaxCleared,
    "registration.deregister": EnterpriseDeregistered,
    "bank_account.close": AccountClosed,
    "seal_carving.cancel": SealsCancelled,
    "licensing.issue": LicencesIssued,
    "licensing.revoke": LicencesRevoked,
    "registration.change": EnterpriseChanged,
    "tax.equity_transfer": EquityTransferTaxConfirmed,
    "deregistration.reduction_notice": ReductionNoticeEnded,
    "seal_carving.recarve": SealsRecarved,
    "tax.update": TaxpayerUpdated,
    "bank_account.update": AccountUpdated,
    "licensing.amend": LicencesAmended,
    "social_insurance.register": EmployerInsured,
    "social_insurance.close": EmployerInsuranceClosed,
}

#: every event type with its data model
EVENT_MODELS: dict[str, type[BaseModel]] = {
    "case.submitted": CaseSubmitted,
    "case.completed": CaseFinished,
    "case.rejected": CaseFinished,
    "case.withdrawn": CaseWithdrawn,
    "case.withdrawal_requested": WithdrawalRequested,
    "case.supplement_provided": SupplementProvided,
    "case.step_overdue": StepOverdue,
    "tax.arrears_recorded": TaxArrears,
    "tax.arrears_settled": TaxArrears,
    "social_insurance.arrears_recorded": ContributionArrears,
    "social_insurance.arrears_settled": ContributionArrears,
    "registration.listings_changed": EnterpriseListings,
    "registration.credit_recorded": CreditRecorded,
    **{event: StepReport for kind in STEP_KINDS.values() for event in kind.events},
    **NOTICE_EVENTS,
    **DEAD_LETTER_EVENTS,
    **WITHDRAWAL_ANSWERS,
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
