"""When tax registers a taxpayer and what it grants. Pure functions: an application in, a
decision out; every reason with its code, its text and the field it is about."""

from __future__ import annotations

from decimal import Decimal

from yjs_contracts import divisions
from yjs_contracts.api import EnterpriseType, EquityTransfer, EstablishmentApplication, InvoiceKind, Reason, TaxpayerType

APP = "application"

REAL_NAME_ROLES = ("legal_representative", "finance_officer", "tax_handler")

#: 附加税费 levied on the VAT paid
SURCHARGES = ("城市维护建设税", "教育费附加", "地方教育附加")
#: companies and cooperatives are legal persons and pay 企业所得税; a 个人独资企业, a 合伙企业 or a
#: 个体工商户 is taxed through its owners (个人所得税, 经营所得)
CORPORATE_TYPES = (EnterpriseType.limited_liability_company, EnterpriseType.joint_stock_company,
                   EnterpriseType.farmers_cooperative)

#: 初始授信额度 of 数电发票 (CNY a month), by taxpayer type and whether 专票 is asked for
INITIAL_MONTHLY_CREDIT = {
    (TaxpayerType.small_scale, False): Decimal("100000.00"),
    (TaxpayerType.small_scale, True): Decimal("300000.00"),
    (TaxpayerType.general, False): Decimal("500000.00"),
    (TaxpayerType.general, True): Decimal("1000000.00"),
}


def _reason(code: str, message: str, field: str) -> Reason:
    return Reason(code=code, message=message, field=f"{APP}.{field}")


def tax_authority(division_code: str) -> str:
    """主管税务机关: the bureau of the domicile's division; an unknown district falls under its
    city's bureau, an unknown city under its province's."""
    for code in (division_code, division_code[:4] + "00", division_code[:2] + "0000"):
        name = divisions.local_name(code)
        if name:
            return f"国家税务总局{name}税务局"
    return f"国家税务总局{division_code}税务局"


def taxpayer_type(app: EstablishmentApplication) -> TaxpayerType:
    """小规模纳税人 unless 一般纳税人 is asked for."""
    return app.tax.taxpayer_type


def needs_review(app: EstablishmentApplication) -> list[Reason]:
    """What tax staff must look at before confirming: 一般纳税人登记 (the applicant's accounting
    must be sound enough to deduct input VAT). Any reason sends the taxpayer registration to the
    tax staff's review queue; once approved, the reasons are kept with the taxpayer."""
    if app.tax.taxpayer_type == TaxpayerType.general:
        return [_reason("general_taxpayer_review", "申请登记为一般纳税人，需税务人员审核", "tax.taxpayer_type")]
    return []


def real_name_confirmed(app: EstablishmentApplication) -> list[str]:
    """实名信息采集: the legal representative (a 个体工商户's operator, 业主), and the finance officer
    and tax handler when the application names them with an identity number to confirm against."""
    contacts = {"finance_officer": app.contacts.finance_officer, "tax_handler": app.contacts.tax_handler}
    confirmed = ["legal_representative" if app.legal_representative is not None else "operator"]
    confirmed += [role for role in REAL_NAME_ROLES[1:] if contacts[role] is not None and contacts[role].id_number]
    return confirmed


def tax_items(app: EstablishmentApplication) -> list[str]:
    """税费种认定 for a new enterprise: VAT and its surcharges, income tax (企业所得税 for a
    company, 个人所得税（经营所得） otherwise), withheld 个人所得税 on wages, and 印花税."""
    income = "企业所得税" if app.enterprise.type in CORPORATE_TYPES else "个人所得税（经营所得）"
    return ["增值税", *SURCHARGES, income, "个人所得税（代扣代缴）", "印花税"]


def invoice_types(app: EstablishmentApplication) -> list[str]:
    """票种核定 for 数电发票: the kinds asked for, each once, 普票 before 专票."""
    return [kind.value for kind in InvoiceKind if kind in app.tax.invoices]


def initial_monthly_credit(kind: TaxpayerType, types: list[str]) -> Decimal:
    """数电发票 have no per-invoice limit, only a monthly 授信额度 that the dynamic credit system
    raises as the taxpayer files and pays. A new taxpayer starts low; 专票 carry deductible VAT
    and serve business customers, so asking for them starts higher, and a 一般纳税人 (expected
    turnover over the small-scale threshold) higher still. Nothing asked, nothing granted."""
    if not types:
        return Decimal("0.00")
    return INITIAL_MONTHLY_CREDIT[(kind, InvoiceKind.special.value in types)]


def clearance_reasons(outstanding: Decimal) -> list[Reason]:
    """清税 is refused while anything is owed (欠税): it must be paid first."""
    if outstanding > 0:
        return [Reason(code="unpaid_tax", message=f"尚有欠缴税款 {outstanding} 元，结清后方可清税",
                       field=f"{APP}.uscc")]
    return []


def clearance_certificate_number(division_code: str, year: int, serial: int) -> str:
    """清税证明 number: the bureau's division, the year and its serial there, as a 税企清 document."""
    return f"{division_code}税企清〔{year}〕{serial}号"


def arrears_after(outstanding: Decimal, amount: Decimal) -> Decimal:
    """What is owed once `amount` more is recorded; only a positive amount can be recorded."""
    if amount <= 0:
        raise ValueError(f"an arrears amount must be positive, got {amount}")
    return (outstanding + amount).quantize(Decimal("0.01"))


def authority_after_change(current: str, domicile_changed: bool, division_code: str) -> str:
    """企业变更纳入税务环节: a domicile under another bureau moves the taxpayer there (跨区迁移);
    otherwise it stays where it is."""
    return tax_authority(division_code) if domicile_changed else current


def updated_items(changed: list[str], moved: bool) -> list[str]:
    """What the taxpayer record takes from a change: every registered change, in the form's
    order, and the move to another bureau when there is one."""
    return [*changed, *(["tax_authority"] if moved else [])]


def equity_transfer_reasons(transfers: list[EquityTransfer]) -> list[Reason]:
    """个人股东股权转让完税: each natural person's transfer is registered only once the individual
    income tax on it is settled, shown by its 完税凭证号; every one missing, all at once."""
    return [Reason(code="equity_transfer_tax_unsettled", field=f"{APP}.equity_transfers.{i}.tax_receipt",
                   message=f"自然人股东{t.transferor_name}股权转让的个人所得税尚未完税，请完税后再申请变更登记")
            for i, t in enumerate(transfers) if t.transferor_kind == "natural_person" and not t.tax_receipt]
