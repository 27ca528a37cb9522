"""The v1 API's request and response bodies. Field names are fixed: clients depend on them."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt,
                      ValidationError, ValidationInfo, WithJsonSchema, field_validator, model_validator)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .codes import ISO3166_ALPHA3, MOBILE_PATTERN, CodeError, text_problem, validate_uscc
from .plans import CHINA
from .steps import StepStatus
from .words import DECISION_WORDS, ENTERPRISE_TYPE_TITLES, MATTER_TITLES, OFFICER_ROLE_WORDS, validation_reason

# ASCII digits only: pydantic's \d is Unicode-aware and would let full-width digits in
# the check digit itself is a registration rule, refused with a reason; an x is taken as X
ID_NUMBER_SHAPE = r"^[0-9]{17}[0-9Xx]$"
USCC_SHAPE = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
DIVISION_SHAPE = r"^[0-9]{6}$"
SUPPLEMENT_FIELD_SHAPE = r"^application(\.[A-Za-z0-9_]+)+$"
#: what a text refused by its pattern should look like, as the reason says it
SHAPE_WORDS = {
    ID_NUMBER_SHAPE: "应为 18 位公民身份号码：17 位数字和一位校验位（数字或 X）",
    USCC_SHAPE: "应为 18 位统一社会信用代码（数字和除 I、O、Z、S、V 外的大写字母）",
    DIVISION_SHAPE: "应为 6 位行政区划代码",
    MOBILE_PATTERN: "应为 11 位大陆手机号码",
    r"^[A-Z]{3}$": "应为 ISO 3166 三字母国家代码，如 CHN",
    SUPPLEMENT_FIELD_SHAPE: "应为 application. 开头的字段路径，如 application.enterprise.registered_capital",
}

#: Under a trillion yuan: larger is a typing error, and it keeps every amount exact in 14 digits.
MAX_AMOUNT = Decimal("999999999999.99")
_AMOUNT_TEXT = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Contribution deadlines outside this window are typing errors, not plans.
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2100, 12, 31)


def _amount_text(value: Any) -> Any:
    """Money arrives as a decimal string ("1000000.00"): a JSON number is binary floating point,
    and "500_000" or full-width digits are not what a clerk reads on the form."""
    if isinstance(value, Decimal):  # built in code, not read from a body
        return value
    if not isinstance(value, str) or not _AMOUNT_TEXT.fullmatch(value):
        raise ValueError('应为以元计、至多两位小数的数字文本，如 "1000000.00"')
    return Decimal(value)


def _date_text(value: Any) -> Any:
    """A date is "YYYY-MM-DD" (lax parsing would take a number as a timestamp)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
        raise ValueError("应为 YYYY-MM-DD 格式的日期")
    return value


def _line(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _text(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem:
        raise ValueError(problem)
    return value


def _comment(value: str) -> str:
    return _text(value) if value.strip() else value  # an optional comment may be left empty


def _uscc(value: str) -> str:
    try:
        validate_uscc(value)
    except CodeError as error:
        raise ValueError(f"不是有效的统一社会信用代码：{error}") from None
    return value


def _upper_x(value: str) -> str:
    """A check character written x is the X on the card: stored upper-case, as GB 11643 writes it."""
    return value[:-1] + "X" if value.endswith("x") else value


def _nationality(value: str) -> str:
    if value not in ISO3166_ALPHA3:
        raise ValueError("不是 ISO 3166 三字母国家代码")
    return value


def _deadline(value: date, info: ValidationInfo) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"应为 {EARLIEST_DATE} 至 {LATEST_DATE} 之间的日期")
    # only when an application is accepted (parse_submission passes today): a department that
    # reads the stored application later must not refuse what was accepted. A 股份有限公司's
    # promoters pay in full before registration: their date is when they paid, past or today.
    context = info.context or {}
    if context.get("today") is not None and value < context["today"] and not context.get("paid_before_registration"):
        raise ValueError("期限已过")
    return value


Amount = Annotated[Decimal, BeforeValidator(_amount_text),
                   Field(gt=0, le=MAX_AMOUNT, max_digits=14, decimal_places=2),
                   WithJsonSchema({"type": "string", "pattern": r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$",
                                   "examples": ["1000000.00"]})]
IsoDate = Annotated[date, BeforeValidator(_date_text)]
Deadline = Annotated[date, BeforeValidator(_date_text), AfterValidator(_deadline)]
Mobile = Annotated[str, Field(pattern=MOBILE_PATTERN, examples=["13800000000"])]
IdNumber = Annotated[str, Field(pattern=ID_NUMBER_SHAPE, examples=["11010519491231002X"]), AfterValidator(_upper_x)]
Uscc = Annotated[str, Field(pattern=USCC_SHAPE, examples=["91330402MA2CXXXX0X"]), AfterValidator(_uscc)]
Nationality = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["CHN"]), AfterValidator(_nationality)]
#: One line a person reads (names, addresses, scope items): no control, bidi or private-use
#: characters, not blank. CJK extension planes and the middle dot (·) are names like any other.
Line = Annotated[str, AfterValidator(_line)]
#: Free text that may run over several lines (reasons, reports, comments).
Text = Annotated[str, AfterValidator(_text)]
#: An optional remark: like Text, but may be empty.
Comment = Annotated[str, AfterValidator(_comment)]
PersonName = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_line)]
ScopeItem = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_line)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnterpriseType(StrEnum):
    limited_liability_company = "limited_liability_company"
    joint_stock_company = "joint_stock_company"
    sole_proprietorship = "sole_proprietorship"
    partnership = "partnership"
    individual_business = "individual_business"  # 个体工商户: an operator, no investors or officers
    farmers_cooperative = "farmers_cooperative"  # 农民专业合作社: members, at least five


#: the types that register investors (shareholders, promoters, partners) and officers
INVESTED_TYPES = (EnterpriseType.limited_liability_company, EnterpriseType.joint_stock_company,
                  EnterpriseType.sole_proprietorship, EnterpriseType.partnership)


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
    region: Line = Field(min_length=2, max_length=20, examples=["嘉兴"])
    trade_name: Line = Field(min_length=1, max_length=20, examples=["红船"])
    industry: Line = Field(min_length=1, max_length=20, examples=["数字科技"])
    # 合伙企业（特殊普通合伙）: a partnership says its kind after the form
    form: Line = Field(min_length=1, max_length=12, examples=["有限公司"])  # a 个体工商户 may be a 店


class Domicile(Strict):
    address: Line = Field(min_length=4, max_length=200)
    division_code: str = Field(pattern=DIVISION_SHAPE, examples=["330402"])


class Enterprise(Strict):
    name: Line = Field(min_length=4, max_length=60)
    name_parts: NameParts
    type: EnterpriseType
    domicile: Domicile
    #: 注册资本 (出资额 of a partnership); a 个体工商户's 资金数额 and a 合作社's 成员出资总额 may be left out
    registered_capital: Amount | None = None
    business_scope: list[ScopeItem] = Field(min_length=1, max_length=50)


class LegalRepresentative(Strict):
    name: PersonName
    id_number: IdNumber
    mobile: Mobile


class Shareholder(Strict):
    kind: Literal["natural_person", "entity"]
    name: Line = Field(min_length=1, max_length=100)
    id_number: IdNumber | None = None
    uscc: Uscc | None = None
    nationality: Nationality = "CHN"
    subscribed_amount: Amount
    contribution_form: ContributionForm
    contribution_deadline: Deadline

    @model_validator(mode="after")
    def _identified(self) -> "Shareholder":
        if self.kind == "natural_person" and not self.id_number:
            raise ValueError("自然人股东须填写公民身份号码（id_number）")
        if self.kind == "entity" and not self.uscc:
            raise ValueError("非自然人股东须填写统一社会信用代码（uscc）")
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
    bank: Line = Field(min_length=2, max_length=50)
    branch: Line = Field(min_length=2, max_length=50)


class SocialInsuranceRequest(Strict):
    """单位参保登记 and 医保登记 with the establishment: how many employees the employer insures
    from the start (参保人数; 0 when it has none yet)."""

    employees: int = Field(default=0, ge=0, le=100000)


class TaxRequest(Strict):
    taxpayer_type: TaxpayerType = TaxpayerType.small_scale
    invoices: list[InvoiceKind] = Field(default_factory=lambda: [InvoiceKind.ordinary], max_length=10)


class FamilyMember(Strict):
    name: PersonName
    id_number: IdNumber


class Operator(Strict):
    """经营者 of a 个体工商户: the person who runs it, alone (个人经营) or with family members who
    take part (家庭经营); the one who signs and holds its licence."""

    name: PersonName
    id_number: IdNumber
    mobile: Mobile
    operation: Literal["personal", "family"] = "personal"
    family_members: list[FamilyMember] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _family(self) -> "Operator":
        if self.operation == "family" and not self.family_members:
            raise _field_error("family_members", "家庭经营须填写参加经营的家庭成员")
        if self.operation == "personal" and self.family_members:
            raise _field_error("family_members", "个人经营不填写家庭成员；家庭经营请将 operation 填为 family")
        return self


class Member(Strict):
    """成员 of a 农民专业合作社: a farmer (by 公民身份号码) or another member — a person, or an
    enterprise, institution or organisation (by 统一社会信用代码); `contribution` its 出资额."""

    name: Line = Field(min_length=1, max_length=100)
    kind: Literal["farmer", "other"]
    id_number: IdNumber | None = None
    uscc: Uscc | None = None
    contribution: Amount | None = None

    @model_validator(mode="after")
    def _identified(self) -> "Member":
        if self.id_number and self.uscc:
            raise _field_error("uscc", "成员只填写公民身份号码或统一社会信用代码之一")
        if self.kind == "farmer" and not self.id_number:
            raise _field_error("id_number", "农民成员须填写公民身份号码（id_number）")
        if not (self.id_number or self.uscc):
            raise _field_error("id_number", "成员须填写公民身份号码（id_number）或统一社会信用代码（uscc）")
        return self


def _field_error(field: str, message: str) -> ValidationError:
    """A refusal a model's own check makes about one of its fields, reported at that field."""
    return ValidationError.from_exception_data("application", [InitErrorDetails(
        type=PydanticCustomError("value_error", "{error}", {"error": message}), loc=tuple(field.split(".")),
        input=None)])


#: what each enterprise type's form holds (True) and may not hold (False); absent: optional
_TYPE_FIELDS: dict[EnterpriseType, dict[str, bool]] = {
    **{t: {"legal_representative": True, "shareholders": True, "officers": True, "operator": False,
           "members": False, "enterprise.registered_capital": True} for t in INVESTED_TYPES},
    EnterpriseType.individual_business: {"legal_representative": False, "shareholders": False, "officers": False,
                                         "operator": True, "members": False},
    EnterpriseType.farmers_cooperative: {"legal_representative": True, "shareholders": False, "operator": False,
                                         "members": True},
}
_FIELD_TITLES = {"legal_representative": "法定代表人", "shareholders": "股东（投资人）", "officers": "董事、监事、经理",
                 "operator": "经营者", "members": "成员", "enterprise.registered_capital": "注册资本"}


class EstablishmentApplication(Strict):
    """企业开办: one form for registration, seals, tax and bank account. A company, a 个人独资企业
    or a 合伙企业 names its investors and officers; a 个体工商户 its operator (经营者) instead; a
    农民专业合作社 its members and, among them, its legal representative (理事长)."""

    enterprise: Enterprise
    legal_representative: LegalRepresentative | None = None
    shareholders: list[Shareholder] | None = Field(default=None, min_length=1, max_length=50)
    officers: list[Officer] | None = Field(default=None, min_length=1, max_length=20)
    operator: Operator | None = None
    members: list[Member] | None = Field(default=None, min_length=1, max_length=1000)  # five or more: a registrar's rule
    contacts: Contacts
    seals: list[SealType] = Field(default_factory=list, max_length=5)
    bank_account: BankAccountRequest | None = None
    tax: TaxRequest = Field(default_factory=TaxRequest)
    commitments: list[ScopeItem] = Field(default_factory=list, max_length=50)
    #: registered unless the applicant opts out with null (an employer registers within 30 days
    #: of its first hire instead)
    social_insurance: SocialInsuranceRequest | None = Field(default_factory=SocialInsuranceRequest)

    @field_validator("shareholders")
    @classmethod
    def _distinct_shareholders(cls, shareholders: list[Shareholder] | None) -> list[Shareholder] | None:
        return None if shareholders is None else distinct_shareholders(shareholders)

    @field_validator("officers")
    @classmethod
    def _one_per_unique_role(cls, officers: list[Officer] | None) -> list[Officer] | None:
        return None if officers is None else one_per_unique_role(officers)

    @field_validator("members")
    @classmethod
    def _distinct_members(cls, members: list[Member] | None) -> list[Member] | None:
        seen: dict[str, int] = {}
        for i, m in enumerate(members or []):
            key = m.id_number or m.uscc or ""
            if key in seen:
                raise ValueError(f"第 {seen[key]} 与第 {i} 位成员是同一人")
            seen[key] = i
        return members

    @model_validator(mode="after")
    def _fields_of_its_type(self) -> "EstablishmentApplication":
        kind = self.enterprise.type
        details = []
        for field, required in _TYPE_FIELDS[kind].items():
            value = self
            for part in field.split("."):
                value = getattr(value, part)
            if required and value is None:
                message = f"{ENTERPRISE_TYPE_TITLES[kind]}须填写{_FIELD_TITLES[field]}（{field.split('.')[-1]}）"
            elif not required and value is not None:
                message = f"{ENTERPRISE_TYPE_TITLES[kind]}不填写{_FIELD_TITLES[field]}（{field.split('.')[-1]}）"
            else:
                continue
            details.append(InitErrorDetails(type=PydanticCustomError("value_error", "{error}", {"error": message}),
                                            loc=tuple(field.split(".")), input=None))
        if details:
            raise ValidationError.from_exception_data("application", details)
        return self

    @property
    def signatory(self) -> "LegalRepresentative | Operator":
        """Who acts for the entity, signs and holds its licence: the legal representative, or a
        个体工商户's operator (经营者)."""
        return self.legal_representative or self.operator  # type: ignore[return-value]


def signatory_of(application: dict[str, Any]) -> dict[str, Any]:
    """The stored application's signatory (see EstablishmentApplication.signatory), read raw."""
    return application.get("legal_representative") or application["operator"]


def distinct_shareholders(shareholders: list[Shareholder]) -> list[Shareholder]:
    seen: dict[str, int] = {}
    for i, s in enumerate(shareholders):
        key = s.id_number or s.uscc or ""
        if key in seen:
            raise ValueError(f"第 {seen[key]} 与第 {i} 位股东是同一出资人")
        seen[key] = i
    return shareholders


def one_per_unique_role(officers: list[Officer]) -> list[Officer]:
    # a company has one chairman, one executive director, one manager; directors and
    # supervisors may be several
    for role in (OfficerRole.executive_director, OfficerRole.chairman, OfficerRole.manager):
        if sum(o.role == role for o in officers) > 1:
            raise ValueError(f"{OFFICER_ROLE_WORDS[role.value]}只能有一名")
    return officers


class LicensingApplication(Strict):
    """行业准营: the permits an existing enterprise's scope needs."""

    uscc: Uscc
    business_scope: list[ScopeItem] = Field(min_length=1, max_length=50)
    commitments: list[ScopeItem] = Field(default_factory=list, max_length=50)


class NameChange(Strict):
    name: Line = Field(min_length=4, max_length=60)
    name_parts: NameParts


class EnterpriseChanges(Strict):
    """变更事项: any non-empty subset; `shareholders` and `officers` are the full lists after the
    change. Each part is checked as in an establishment; what needs the register (a name taken,
    a capital reduced, the legal representative among the officers) registration checks."""

    name: NameChange | None = None
    domicile: Domicile | None = None
    legal_representative: LegalRepresentative | None = None
    registered_capital: Amount | None = None
    business_scope: list[ScopeItem] | None = Field(default=None, min_length=1, max_length=50)
    shareholders: list[Shareholder] | None = Field(default=None, min_length=1, max_length=50)
    officers: list[Officer] | None = Field(default=None, min_length=1, max_length=20)

    @field_validator("shareholders")
    @classmethod
    def _distinct_shareholders(cls, shareholders: list[Shareholder] | None) -> list[Shareholder] | None:
        return None if shareholders is None else distinct_shareholders(shareholders)

    @field_validator("officers")
    @classmethod
    def _one_per_unique_role(cls, officers: list[Officer] | None) -> list[Officer] | None:
        return None if officers is None else one_per_unique_role(officers)

    @model_validator(mode="after")
    def _something(self) -> "EnterpriseChanges":
        if not self.fields():
            raise ValueError("a change names at least one of " + ", ".join(CHANGE_FIELDS))
        return self

    def fields(self) -> list[str]:
        """What changes, in the order the form lists it."""
        return [f for f in CHANGE_FIELDS if getattr(self, f) is not None]


CHANGE_FIELDS = ("name", "domicile", "legal_representative", "registered_capital", "business_scope",
                 "shareholders", "officers")


class EquityTransfer(Strict):
    """股权转让 behind a change of shareholders: who transfers how much subscribed capital to whom,
    at what price. A natural person's transfer is registered only once tax confirms the
    individual income tax on it settled (个人股东股权转让完税): `tax_receipt` is the 完税凭证号."""

    transferor_kind: Literal["natural_person", "entity"]
    transferor_name: Line = Field(min_length=1, max_length=100)
    transferor_id_number: IdNumber | None = None
    transferee_name: Line = Field(min_length=1, max_length=100)
    amount: Amount
    price: Amount
    tax_receipt: Line | None = Field(default=None, min_length=4, max_length=40)

    @model_validator(mode="after")
    def _identified(self) -> "EquityTransfer":
        if self.transferor_kind == "natural_person" and not self.transferor_id_number:
            raise ValueError("a natural_person transferor needs a transferor_id_number")
        return self


class ChangeApplication(Strict):
    """变更登记: what changes about an existing enterprise; the departments follow (seals, tax,
    bank, permits). A capital reduction (减资) says why, and is announced to creditors first."""

    uscc: Uscc
    changes: EnterpriseChanges
    capital_reduction_reason: Text | None = Field(default=None, min_length=2, max_length=500)
    equity_transfers: list[EquityTransfer] = Field(default_factory=list, max_length=50)
    commitments: list[ScopeItem] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _transfers_change_shareholders(self) -> "ChangeApplication":
        if self.equity_transfers and self.changes.shareholders is None:
            raise ValueError("equity_transfers need changes.shareholders: the full list after the transfer")
        if self.capital_reduction_reason and self.changes.registered_capital is None:
            raise ValueError("a capital_reduction_reason needs changes.registered_capital")
        return self


class RevocationRequest(Strict):
    """撤销 of a permit issued on a commitment (告知承诺) that its post-issuance check found false."""

    finding: Text = Field(min_length=2, max_length=1000, examples=["现场核查：经营场所无油烟净化设施，与承诺不符"])


class PermitRevocation(BaseModel):
    permit_number: str
    status: Literal["revoked"] = "revoked"
    case_id: str
    uscc: str
    finding: str
    revoked_at: datetime


class DeregistrationCommitments(Strict):
    debts_settled: StrictBool  # a signed commitment is true, not "yes" or 1
    investors_agree: StrictBool


class LiquidationMember(Strict):
    name: PersonName
    id_number: IdNumber


class DeregistrationApplication(Strict):
    """注销: 简易注销 (simple) or 一般注销 (general)."""

    uscc: Uscc
    route: Literal["simple", "general"]
    reason: Text = Field(min_length=2, max_length=200)
    commitments: DeregistrationCommitments
    liquidation_group: list[LiquidationMember] = Field(default_factory=list, max_length=50)


class NoticeSummary(BaseModel):
    """An open public notice: a deregistration's (注销公告 or 债权人公告) or a capital reduction's
    (减资公告, route `reduction`)."""

    notice_id: str
    uscc: str
    enterprise_name: str
    route: Literal["simple", "general", "reduction"]
    starts_at: datetime
    ends_at: datetime


class NoticeList(BaseModel):
    items: list[NoticeSummary]
    next: str | None = None  # the `after` of the next page


class Objection(Strict):
    """异议 to a 简易注销: anyone may raise one while the notice runs, without a token."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Line = Field(min_length=1, max_length=100, examples=["某某供应链有限公司"])
    contact: Line = Field(min_length=5, max_length=100, examples=["13900000000"])
    reason: Text = Field(min_length=2, max_length=1000, examples=["尚欠我司货款 12 万元未结清"])


class ObjectionAccepted(BaseModel):
    objection_id: str
    notice_id: str
    status: Literal["accepted"] = "accepted"


class LiquidationReport(Strict):
    """清算报告 of a general-route deregistration, confirmed by the investors (股东会确认) on
    `approved_on`; filed once the creditors' claim period is over."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    report: Text = Field(min_length=10, max_length=20000)
    approved_on: IsoDate

    @field_validator("approved_on")
    @classmethod
    def _not_in_the_future(cls, approved_on: date) -> date:
        if approved_on > datetime.now(CHINA).date():
            raise ValueError("投资人确认日期不能晚于今天")
        return approved_on


class LiquidationReportReceived(BaseModel):
    case_id: str
    status: Literal["accepted"] = "accepted"


APPLICATION_MODELS: dict[str, type[Strict]] = {
    "establishment": EstablishmentApplication,
    "licensing": LicensingApplication,
    "deregistration": DeregistrationApplication,
    "change": ChangeApplication,
}

#: matters about an enterprise that exists: only its legal representative or an agent it
#: authorised for the matter may submit them
ENTERPRISE_MATTERS: tuple[str, ...] = tuple(m for m in APPLICATION_MODELS if m != "establishment")


class SubmitCase(Strict):
    matter: str = Field(max_length=40)
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
        # a key the client made up is echoed back, but never at any length
        path = ".".join(str(part)[:100] for part in item["loc"])[:300]
        field = ".".join(p for p in (prefix, path) if p)
        details.append(ErrorDetail(field=field or prefix or "body", reason=validation_reason(item, SHAPE_WORDS)))
    return details


def parse_submission(body: Any) -> tuple[str, Strict]:
    """The matter and its typed application, or InvalidApplication naming every bad field."""
    try:
        submission = SubmitCase.model_validate(body)
    except ValidationError as error:
        raise InvalidApplication(validation_details(error)) from None
    model = APPLICATION_MODELS.get(submission.matter)
    if model is None:
        known = "、".join(f"'{m}'（{MATTER_TITLES.get(m, m)}）" for m in sorted(APPLICATION_MODELS))
        raise InvalidApplication([ErrorDetail(field="matter", reason=f"未知事项；可办理：{known}")])
    try:
        # today: a deadline already past is refused at acceptance, never again afterwards
        enterprise = submission.application.get("enterprise")
        paid = isinstance(enterprise, dict) and enterprise.get("type") == EnterpriseType.joint_stock_company
        return submission.matter, model.model_validate(submission.application, context={
            "today": datetime.now(CHINA).date(), "paid_before_registration": paid})
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
    overdue: bool = False  # past its promised limit (承诺时限) undecided; announced once as case.step_overdue
    decided_by: str | None = None  # the staff member who decided (人工审核); None when the rules did
    paused_at: datetime | None = None  # waiting for the applicant (补正) since then: the clock is stopped
    materials_due: datetime | None = None  # 容缺受理: decided with materials missing, due by then
    # its department dead-lettered an event of the case: the step waits for an operator's replay
    stalled: bool = False
    stalled_reason: str | None = None
    promised_days: float | None = None  # 承诺时限 in working days (`deadline` is where it ends)
    legal_days: float | None = None  # 法定时限 in working days from the step's start
    legal_deadline: datetime | None = None  # where the legal limit ends, moved by the 补正 pauses
    promised_kept: bool | None = None  # once decided: by its deadline; None before
    legal_kept: bool | None = None  # once decided: within its legal limit, pauses excluded
    paused_working_hours: float = 0  # 补正 pauses resumed so far, in working hours


class TimelineEntry(BaseModel):
    at: datetime
    event_type: str
    summary: str


class CaseStatus(StrEnum):
    submitted = "submitted"
    in_progress = "in_progress"
    awaiting_applicant = "awaiting_applicant"
    completed = "completed"
    #: the matter's essential step took effect, some other step was refused (证照分离: the
    #: company is registered, a permit refused); the record says what was issued and what not
    partially_completed = "partially_completed"
    rejected = "rejected"
    withdrawn = "withdrawn"


class Withdrawal(BaseModel):
    """The applicant's withdrawal (撤回) as it stands: `requested` while the department owning the
    matter's point of no return decides, then `accepted` (the case is withdrawn) or `refused`
    (`reason` says why; the case goes on)."""

    status: Literal["requested", "accepted", "refused"]
    requested_at: datetime | None = None
    answered_at: datetime | None = None
    reason: Reason | None = None


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
    withdrawal: Withdrawal | None = None  # None: never asked for
    follow_ups: list[FollowUp] = Field(default_factory=list)  # 差评督办 of its rating, with the answers
    promised_days: float | None = None  # the matter's promised limit end to end (企业开办: 1)
    promised_deadline: datetime | None = None  # where it ends, moved by the 补正 pauses
    working_hours: float | None = None  # once finished: submission to finish in working hours, pauses excluded
    paused_working_hours: float = 0
    promised_kept: bool | None = None  # once finished (not withdrawn): within the matter's promised limit


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
    kind: Literal["failed", "unreadable", "provenance", "invalid"] = "failed"  # why it is a dead letter
    event_type: str | None
    event_id: str | None
    case_id: str | None
    reason: str
    attempts: int
    failed_at: datetime
    replayed_at: datetime | None = None
    content_type: str | None = None
    publisher: str | None = None  # the broker user that published it, as the broker vouched
    body: str | None = None  # the message exactly as it arrived
    body_encoding: Literal["utf-8", "base64"] | None = None


class DeadLetterList(BaseModel):
    items: list[DeadLetter]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]
    # per service: how long its oldest stored event has waited to be published
    oldest_unsent_seconds: dict[str, float] = Field(default_factory=dict)


class SupplementField(Strict):
    """A corrected or added value, at the path a reason named (`application.…`)."""

    field: str = Field(pattern=SUPPLEMENT_FIELD_SHAPE, max_length=300, examples=["application.enterprise.registered_capital"])
    value: Any


class SupplementMaterial(Strict):
    """A material handed in, by the id of the document already uploaded."""

    material: Line = Field(min_length=1, max_length=100, examples=["住所使用证明"])
    document_id: Line = Field(min_length=1, max_length=200)


class Supplements(Strict):
    """补正: everything the one notice (一次性告知) asked for, or the materials a 容缺受理 left
    outstanding, in one go."""

    items: list[SupplementField | SupplementMaterial] = Field(min_length=1, max_length=100)


class SupplementAccepted(BaseModel):
    case_id: str
    status: CaseStatus
    revision: int  # the application's revision after this supplement
    resumed: list[str]  # the steps waiting for the applicant that now resume


class WithdrawalRequest(Strict):
    reason: Text = Field(min_length=1, max_length=500, examples=["经营计划调整，暂不设立"])


class WithdrawalAccepted(BaseModel):
    """`withdrawn` at once where the matter has no point of no return; otherwise the case goes on
    (`status` as it stands) with `withdrawal.status` `requested` until its pivot's department
    answers — the record then shows `accepted` (and the case `withdrawn`) or `refused`."""

    case_id: str
    status: CaseStatus = CaseStatus.withdrawn
    withdrawn_at: datetime | None = None
    withdrawal: Withdrawal | None = None


class RatingRequest(Strict):
    """好差评 of an ended case: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意 — overall and,
    optionally, per department of the case."""

    overall: StrictInt = Field(ge=1, le=5)  # 5, not 5.0, "5" or true
    departments: dict[Annotated[str, Field(max_length=40)], Annotated[StrictInt, Field(ge=1, le=5)]] = Field(
        default_factory=dict, max_length=20)
    comment: Comment | None = Field(default=None, max_length=1000)


class RatingAccepted(BaseModel):
    case_id: str
    overall: int
    departments: dict[str, int]
    #: one follow-up (差评督办) per bad rating (不满意 or worse): each rated department's, and the
    #: operators' for a bad overall rating
    follow_ups: list[str] = Field(default_factory=list)


class FollowUpStatus(StrEnum):
    open = "open"  # waiting for its department's answer (an overall rating's: for operators)
    answered = "answered"  # waiting for the applicant to confirm or reject the answer
    escalated = "escalated"  # overdue or the answer rejected: operators supervise it
    closed = "closed"


class Appeal(BaseModel):
    """申诉: the rated department holds the rating wrong. `upheld`: the rating stays in the record
    and leaves the figures; `dismissed`: the follow-up goes on."""

    status: Literal["pending", "upheld", "dismissed"]
    reason: str
    appealed_by: str
    appealed_at: datetime
    decision: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


class FollowUp(BaseModel):
    """差评督办 of one bad rating: owned by the rated department (`overall`: by operators), due by
    `due_at` (working days on China's calendar), answered with what was done, confirmed or
    rejected by the applicant once, escalated to operators when overdue or rejected."""

    follow_up_id: str
    case_id: str
    department: str  # the rated department, or "overall"
    owner: str
    ratings: dict[str, int]  # {department or "overall": level}
    comment: str | None
    status: FollowUpStatus
    opened_at: datetime
    due_at: datetime | None = None
    response: str | None = None  # the department's answer
    responded_by: str | None = None
    responded_at: datetime | None = None
    verdict: Literal["confirmed", "rejected"] | None = None  # the applicant's
    verdict_comment: str | None = None
    verdict_at: datetime | None = None
    escalation: Literal["overdue", "rejected"] | None = None
    escalated_at: datetime | None = None
    resolution: str | None = None  # the operator's, closing an escalated one
    resolved_by: str | None = None
    closed_at: datetime | None = None
    appeal: Appeal | None = None


class FollowUpList(BaseModel):
    items: list[FollowUp]
    next: str | None = None


class FollowUpResponse(Strict):
    response: Text = Field(min_length=2, max_length=2000, examples=["已电话回访，补正告知不清的问题已整改"])


class FollowUpVerdict(Strict):
    """The applicant's word on the department's answer, once: `rejected` sends it to operators."""

    verdict: Literal["confirmed", "rejected"]
    comment: Comment | None = Field(default=None, max_length=1000)


class RatingAppeal(Strict):
    reason: Text = Field(min_length=2, max_length=2000, examples=["申请人评价的是银行网点排队，不属本部门办理事项"])


class AppealDecision(Strict):
    decision: Literal["upheld", "dismissed"]
    reason: Text = Field(min_length=2, max_length=2000, examples=["经核实，差评所涉事项不属该部门"])


CaseRecord.model_rebuild()  # its follow-ups are declared after it


class DepartmentFigures(BaseModel):
    department: str
    steps_decided: int
    within_promised_limit: float | None  # the share decided by their deadline; None of none
    median_working_hours: float | None
    p90_working_hours: float | None
    pauses: int  # 补正 pauses of its steps
    paused_working_hours: float
    steps_past_legal_limit: int
    ratings: "RatingFigures"
    open_follow_ups: int


class RatingFigures(BaseModel):
    """好差评 counted: an appeal upheld takes its rating out."""

    count: int
    average: float | None
    levels: dict[str, int]  # "1" to "5"


class MatterFigures(BaseModel):
    matter: str
    title: str
    promised_days: float | None
    cases_finished: int  # completed, partially_completed or rejected in the period
    withdrawn: int
    outcomes: dict[str, int]
    within_promised_limit: float | None  # the share of finished cases within the promised limit
    median_working_hours: float | None  # submission to finish, China's working hours, 补正 excluded
    p90_working_hours: float | None
    pauses: int
    paused_working_hours: float
    steps_past_legal_limit: int
    ratings: RatingFigures  # overall ratings of these cases
    open_follow_ups: int
    departments: list[DepartmentFigures]


class MatterReport(BaseModel):
    """无感监测: the cases finished from `from` to `to` (whole days, Beijing time)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    matters: list[MatterFigures]


DepartmentFigures.model_rebuild()


class MissingMaterial(Strict):
    """One material a 容缺受理 lets the applicant hand in later: what and in which form."""

    material: Line = Field(min_length=1, max_length=100, examples=["住所使用证明"])
    message: Text = Field(min_length=1, max_length=500, examples=["租赁合同复印件并加盖出租方公章"])


class ReviewDecision(Strict):
    """A department's decision on a step sent to its staff (人工审核). `approve` with
    `missing_materials` is a 容缺受理: the step proceeds, the materials are due by
    `materials_due` (at most the step's promised limit from now), else the decision is withdrawn.
    `refuse` and `request_corrections` name every reason at once (一次性告知); a correction's
    reason names the field (`application.…`) or the material (`material:…`) to correct."""

    decision: Literal["approve", "refuse", "request_corrections"]
    reasons: list[Reason] = Field(default_factory=list, max_length=100)
    comment: Comment | None = Field(default=None, max_length=2000)
    missing_materials: list[MissingMaterial] = Field(default_factory=list, max_length=50)
    materials_due: datetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "ReviewDecision":
        if self.decision != "approve" and not self.reasons:
            raise ValueError(f"{DECISION_WORDS[self.decision]}须写明理由")
        if self.decision == "request_corrections" and any(not r.field for r in self.reasons):
            raise ValueError("每项补正须写明要更正的字段或材料")
        if self.missing_materials and self.decision != "approve":
            raise ValueError("只有通过的决定才能容缺受理")
        if self.materials_due is not None:
            if not self.missing_materials:
                raise ValueError("有补交期限（materials_due）须列明所缺材料（missing_materials）")
            if self.materials_due.tzinfo is None:
                raise ValueError("补交期限（materials_due）须带时区")
        return self


CHECK_RESULT_WORDS = {"verified": "核查属实", "rectify": "责令整改", "false_commitment": "承诺不实"}


class CheckResult(Strict):
    """The outcome of the post-issuance check (事后核查) of a 告知承诺 permit, recorded by the
    issuing department's staff: `verified` closes the check; `rectify` (责令整改) gives the
    enterprise until `rectify_by` (a moment with its zone), after which a permit not found
    rectified is revoked; `false_commitment` revokes the permit at once and puts the enterprise
    and the signer on the credit record. Every result but `verified` says why."""

    result: Literal["verified", "rectify", "false_commitment"]
    reasons: list[Reason] = Field(default_factory=list, max_length=100, validate_default=True)
    rectify_by: datetime | None = Field(default=None, validate_default=True)

    @field_validator("reasons")
    @classmethod
    def _reasons_given(cls, reasons: list[Reason], info: ValidationInfo) -> list[Reason]:
        result = info.data.get("result")
        if result in ("rectify", "false_commitment") and not reasons:
            raise ValueError(f"{CHECK_RESULT_WORDS[result]}须写明理由")
        return reasons

    @field_validator("rectify_by")
    @classmethod
    def _deadline(cls, rectify_by: datetime | None, info: ValidationInfo) -> datetime | None:
        result = info.data.get("result")
        if result == "rectify" and rectify_by is None:
            raise ValueError("责令整改须写明整改期限（rectify_by）")
        if result is not None and result != "rectify" and rectify_by is not None:
            raise ValueError("只有责令整改才有整改期限")
        if rectify_by is not None and rectify_by.tzinfo is None:
            raise ValueError("整改期限须带时区")
        return rectify_by


class CommitmentCheck(BaseModel):
    """One post-issuance check in a department's check queue. `status`: open (not yet checked),
    rectifying (整改 ordered, due by `due`, its `rectify_by`), verified, revoked."""

    check_id: str
    department: str
    uscc: str
    case_id: str
    permit: dict[str, Any]  # {"permit_number", "name", "items", "conditions"}
    due: datetime
    overdue: bool
    status: Literal["open", "rectifying", "verified", "revoked"]
    result: str | None = None
    reasons: list[Reason] = Field(default_factory=list)
    rectify_by: datetime | None = None
    checked_by: str | None = None
    checked_at: datetime | None = None


class CatalogueAnswer(BaseModel):
    """GET /v1/catalogue: the edition in force, every permit with its mode and, for a
    commitment, the 告知承诺书 an applicant reads before it signs (Catalogue.described)."""

    version: str
    items: list[dict[str, Any]]
    permits: list[dict[str, Any]]
    industries: list[dict[str, Any]]


class CheckList(BaseModel):
    items: list[CommitmentCheck]
    next: str | None = None


class ReviewItem(BaseModel):
    """A step waiting for a department's staff, with the case data they need to decide."""

    review_id: str
    case_id: str
    step: str
    department: str
    status: Literal["waiting", "decided", "closed"]
    reasons: list[Reason]  # why the rules sent it to staff
    data: dict[str, Any]  # the application, and what the steps it waited for produced (材料共享)
    created_at: datetime
    decision: str | None = None
    decision_reasons: list[Reason] = Field(default_factory=list)
    comment: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    revision: int | None = None  # the application's revision staff see (or decided on)
    #: a step back from 补正: what the applicant changed ({"field", "old", "new"}) and handed in ({"material", "document_id"})
    corrections: list[dict[str, Any]] = Field(default_factory=list)


class ReviewList(BaseModel):
    items: list[ReviewItem]
    next: str | None = None  # the `after` of the next page


class ReviewDecided(BaseModel):
    review_id: str
    case_id: str
    step: str
    decision: str
    step_status: StepStatus  # where the step is now
    decided_by: str
    decided_at: datetime
    revision: int | None = None  # the application's revision the decision was made on
    materials_due: datetime | None = None


class AgentAppointment(Strict):
    """授权经办: the legal representative authorises a person, by name and ID number, for some
    matters until a date (at most a year); withdrawn at any time."""

    name: PersonName
    id_number: IdNumber
    matters: list[str] = Field(min_length=1, max_length=10, examples=[["licensing", "deregistration"]])
    valid_until: date


class Agent(BaseModel):
    agent_id: str
    name: str
    id_number: str  # masked
    matters: list[str]
    valid_from: date
    valid_until: date
    status: Literal["valid", "expired", "withdrawn"]
    appointed_at: datetime
    withdrawn_at: datetime | None = None


class AgentList(BaseModel):
    items: list[Agent]


class ListingKind(StrEnum):
    """What registration lists an enterprise on, each deciding which deregistration routes stay
    open (经营异常名录, 严重违法失信名单, 股权冻结, 股权出质, 动产抵押, 立案调查)."""

    abnormal_operation = "abnormal_operation"
    serious_violation = "serious_violation"
    equity_frozen = "equity_frozen"
    equity_pledged = "equity_pledged"
    chattel_mortgage = "chattel_mortgage"
    under_investigation = "under_investigation"


class ListingRequest(Strict):
    """Registration staff list an enterprise: the kind and why; the deciding authority and the
    date of the decision default to registration and today."""

    kind: ListingKind
    reason: Text = Field(min_length=2, max_length=200)
    authority: PersonName | None = Field(default=None, examples=["嘉兴市南湖区市场监督管理局"])
    decided_on: IsoDate | None = None


class Listing(BaseModel):
    listing_id: str
    kind: ListingKind
    kind_text: str
    authority: str
    decided_on: date
    reason: str
    listed_by: str
    listed_at: datetime


class EnterpriseHistoryEntry(BaseModel):
    at: datetime
    case_id: str
    matter: str
    summary: str


class EnterpriseRecord(BaseModel):
    """The enterprise as the departments know it (registration folds their reports)."""

    uscc: str
    name: str
    type: str
    status: str  # registered, deregistered, revoked
    status_text: str
    licence_number: str
    legal_representative: dict[str, Any]  # {"name"}
    domicile: dict[str, Any]
    registered_capital: str | None  # None: a 个体工商户's 资金数额 or a 合作社's 成员出资总额 not given
    business_scope: list[str]
    established_on: date
    deregistered_at: datetime | None = None
    seals: list[dict[str, Any]]
    taxpayer: dict[str, Any] | None = None
    bank_accounts: list[dict[str, Any]]
    permits: list[dict[str, Any]]
    #: 社保医保登记: the employer's 社保登记编号 and agencies, `status` registered or closed
    social_insurance: dict[str, Any] | None = None
    agents: list[Agent]
    listings: list[Listing]  # current ones; a removed listing no longer shows
    #: 信用记录: promises found false (虚假承诺); each bars 告知承诺 until its `barred_until`
    credit_records: list[dict[str, Any]] = Field(default_factory=list)
    history: list[EnterpriseHistoryEntry]
