"""The v1 API's request and response bodies. Field names are fixed: clients depend on them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .codes import MOBILE_PATTERN
from .steps import StepStatus

ID_NUMBER_SHAPE = r"^\d{17}[\dX]$"  # the check digit itself is a registration rule, refused with a reason
USCC_SHAPE = r"^[0-9A-HJ-NPQRTUWXY]{18}$"

Amount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2, examples=["1000000.00"])]
Mobile = Annotated[str, Field(pattern=MOBILE_PATTERN, examples=["13800000000"])]
IdNumber = Annotated[str, Field(pattern=ID_NUMBER_SHAPE, examples=["11010519491231002X"])]
PersonName = Annotated[str, Field(min_length=1, max_length=50)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnterpriseType(StrEnum):
    limited_liability_company = "limited_liability_company"
    joint_stock_company = "joint_stock_company"
    sole_proprietorship = "sole_proprietorship"
    partnership = "partnership"


class ContributionForm(StrEnum):
    currency = "currency"
    in_kind = "in_kind"
    intellectual_property = "intellectual_property"
    land_use_right = "land_use_right"
    equity = "equity"
    claim = "claim"


class OfficerRole(StrEnum):
    executive_director = "executive_director"
    director = "director"
    chairman = "chairman"
    supervisor = "supervisor"
    manager = "manager"


class SealType(StrEnum):
    official = "official"  # 公章
    finance = "finance"  # 财务专用章
    invoice = "invoice"  # 发票专用章
    contract = "contract"  # 合同专用章
    legal_representative = "legal_representative"  # 法定代表人名章


class TaxpayerType(StrEnum):
    small_scale = "small_scale"  # 小规模纳税人
    general = "general"  # 一般纳税人


class InvoiceKind(StrEnum):
    ordinary = "ordinary"  # 普票
    special = "special"  # 专票


class NameParts(Strict):
    region: str = Field(min_length=2, max_length=20, examples=["嘉兴"])
    trade_name: str = Field(min_length=1, max_length=20, examples=["红船"])
    industry: str = Field(min_length=1, max_length=20, examples=["数字科技"])
    form: str = Field(min_length=2, max_length=10, examples=["有限公司"])


class Domicile(Strict):
    address: str = Field(min_length=4, max_length=200)
    division_code: str = Field(pattern=r"^\d{6}$", examples=["330402"])


class Enterprise(Strict):
    name: str = Field(min_length=4, max_length=60)
    name_parts: NameParts
    type: EnterpriseType
    domicile: Domicile
    registered_capital: Amount
    business_scope: list[str] = Field(min_length=1, max_length=50)


class LegalRepresentative(Strict):
    name: PersonName
    id_number: IdNumber
    mobile: Mobile


class Shareholder(Strict):
    kind: Literal["natural_person", "entity"]
    name: str = Field(min_length=1, max_length=100)
    id_number: IdNumber | None = None
    uscc: str | None = Field(default=None, pattern=USCC_SHAPE)
    nationality: str = Field(default="CHN", pattern=r"^[A-Z]{3}$")
    subscribed_amount: Amount
    contribution_form: ContributionForm
    contribution_deadline: date

    @model_validator(mode="after")
    def _identified(self) -> "Shareholder":
        if self.kind == "natural_person" and not self.id_number:
            raise ValueError("a natural_person shareholder needs an id_number")
        if self.kind == "entity" and not self.uscc:
            raise ValueError("an entity shareholder needs a uscc")
        return self


class Officer(Strict):
    role: OfficerRole
    name: PersonName
    id_number: IdNumber


class Contact(Strict):
    name: PersonName
    mobile: Mobile
    id_number: IdNumber | None = None


class Contacts(Strict):
    liaison: Contact
    finance_officer: Contact | None = None
    tax_handler: Contact | None = None


class BankAccountRequest(Strict):
    bank: str = Field(min_length=2, max_length=50)
    branch: str = Field(min_length=2, max_length=50)


class TaxRequest(Strict):
    taxpayer_type: TaxpayerType = TaxpayerType.small_scale
    invoices: list[InvoiceKind] = Field(default_factory=lambda: [InvoiceKind.ordinary])


class EstablishmentApplication(Strict):
    """企业开办: one form for registration, seals, tax and bank account."""

    enterprise: Enterprise
    legal_representative: LegalRepresentative
    shareholders: list[Shareholder] = Field(min_length=1, max_length=50)
    officers: list[Officer] = Field(min_length=1, max_length=20)
    contacts: Contacts
    seals: list[SealType] = Field(default_factory=list)
    bank_account: BankAccountRequest | None = None
    tax: TaxRequest = Field(default_factory=TaxRequest)
    commitments: list[str] = Field(default_factory=list)


class LicensingApplication(Strict):
    """行业准营: the permits an existing enterprise's scope needs."""

    uscc: str = Field(pattern=USCC_SHAPE)
    business_scope: list[str] = Field(min_length=1, max_length=50)
    commitments: list[str] = Field(default_factory=list)


class DeregistrationCommitments(Strict):
    debts_settled: bool
    investors_agree: bool


class LiquidationMember(Strict):
    name: PersonName
    id_number: IdNumber


class DeregistrationApplication(Strict):
    """注销: 简易注销 (simple) or 一般注销 (general)."""

    uscc: str = Field(pattern=USCC_SHAPE)
    route: Literal["simple", "general"]
    reason: str = Field(min_length=2, max_length=200)
    commitments: DeregistrationCommitments
    liquidation_group: list[LiquidationMember] = Field(default_factory=list)


APPLICATION_MODELS: dict[str, type[Strict]] = {
    "establishment": EstablishmentApplication,
    "licensing": LicensingApplication,
    "deregistration": DeregistrationApplication,
}


class SubmitCase(Strict):
    matter: str
    application: dict[str, Any]


class ErrorDetail(BaseModel):
    field: str
    reason: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorBody(BaseModel):
    error: ErrorInfo


class InvalidApplication(ValueError):
    """A submission that fails validation; `details` names every offending field."""

    def __init__(self, details: list[ErrorDetail]):
        super().__init__("; ".join(f"{d.field}: {d.reason}" for d in details))
        self.details = details


def validation_details(error: ValidationError, prefix: str = "") -> list[ErrorDetail]:
    details = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        field = ".".join(p for p in (prefix, path) if p)
        details.append(ErrorDetail(field=field or prefix or "body", reason=item["msg"]))
    return details


def parse_submission(body: Any) -> tuple[str, Strict]:
    """The matter and its typed application, or InvalidApplication naming every bad field."""
    try:
        submission = SubmitCase.model_validate(body)
    except ValidationError as error:
        raise InvalidApplication(validation_details(error)) from None
    model = APPLICATION_MODELS.get(submission.matter)
    if model is None:
        known = ", ".join(sorted(APPLICATION_MODELS))
        raise InvalidApplication([ErrorDetail(field="matter", reason=f"unknown matter; known: {known}")])
    try:
        return submission.matter, model.model_validate(submission.application)
    except ValidationError as error:
        raise InvalidApplication(validation_details(error, "application")) from None


class CaseAccepted(BaseModel):
    case_id: str
    status: str


class Reason(BaseModel):
    code: str
    message: str
    field: str | None = None


class StepRecord(BaseModel):
    step: str
    department: str
    status: StepStatus
    after: list[str]
    deadline: datetime | None
    outputs: dict[str, Any] = Field(default_factory=dict)
    reasons: list[Reason] = Field(default_factory=list)


class TimelineEntry(BaseModel):
    at: datetime
    event_type: str
    summary: str


class CaseStatus(StrEnum):
    submitted = "submitted"
    in_progress = "in_progress"
    awaiting_applicant = "awaiting_applicant"
    completed = "completed"
    rejected = "rejected"
    withdrawn = "withdrawn"


class CaseRecord(BaseModel):
    case_id: str
    matter: str
    status: CaseStatus
    submitted_at: datetime
    finished_at: datetime | None
    steps: list[StepRecord]
    outputs: dict[str, Any]
    reasons: list[Reason] = Field(default_factory=list)
    timeline: list[TimelineEntry]


class CaseSummary(BaseModel):
    case_id: str
    matter: str
    status: CaseStatus
    submitted_at: datetime
    finished_at: datetime | None


class CaseList(BaseModel):
    items: list[CaseSummary]
    next: str | None = None


class DeadLetter(BaseModel):
    dead_letter_id: str  # "<service>:<number>", unique across the system
    service: str
    queue: str
    event_type: str | None
    event_id: str | None
    case_id: str | None
    reason: str
    attempts: int
    failed_at: datetime
    replayed_at: datetime | None = None


class DeadLetterList(BaseModel):
    items: list[DeadLetter]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]
