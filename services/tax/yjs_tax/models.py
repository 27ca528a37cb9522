"""What tax keeps: the taxpayers it registered and the invoices it granted them."""

from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, MetaData, Numeric, String, Table
from yjs_kit.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)

# an enterprise's 纳税人识别号 is its 统一社会信用代码: the key makes one taxpayer per enterprise
taxpayers = Table(
    "taxpayers", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("enterprise_name", String(60), nullable=False),
    Column("tax_authority", String(60), nullable=False),
    Column("taxpayer_type", String(20), nullable=False),
    Column("tax_items", JSON, nullable=False),
    Column("real_name_confirmed", JSON, nullable=False),
    # what tax staff looked at before approving (一般纳税人登记)
    Column("review_reasons", JSON, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    # registered, cleared (清税), cancelled (its registration undone: the enterprise revoked)
    Column("status", String(20), nullable=False, server_default="registered"),
    Column("cleared_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("undo_reason", String(40)),  # withdrawn, refused, prerequisite_undone
)

# 票种核定: one grant per taxpayer
invoice_grants = Table(
    "invoice_grants", metadata,
    Column("uscc", String(18), ForeignKey("taxpayers.uscc"), primary_key=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("invoice_types", JSON, nullable=False),
    Column("monthly_credit", Numeric(18, 2), nullable=False),
    Column("uses_invoice_seal", Boolean, nullable=False),
    # the 发票专用章 whose impression is filed with tax, when the grant waited for it
    Column("invoice_seal_filing_code", String(40)),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False, server_default="granted"),  # granted, revoked
    Column("revoked_at", DateTime(timezone=True)),
    Column("undo_reason", String(40)),
)

# 欠税: what an enterprise owes now, whether or not it registered here as a taxpayer; every
# change is announced with a growing revision (tax.arrears_recorded / tax.arrears_settled)
arrears = Table(
    "arrears", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("outstanding", Numeric(18, 2), nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("note", String(200)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# 清税: one decision per deregistration case
clearances = Table(
    "clearances", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("outcome", String(20), nullable=False),  # cleared, no_tax_business, refused, undone (case withdrawn)
    Column("certificate_number", String(40), unique=True),  # 清税证明; none without tax business or when refused
    Column("outstanding", Numeric(18, 2), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

# 税务登记信息变更: one per change case, with what the taxpayer record took from it
taxpayer_changes = Table(
    "taxpayer_changes", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("changed_fields", JSON, nullable=False),  # [{"field", "old", "new"}] as registered
    Column("previous_tax_authority", String(60)),
    Column("tax_authority", String(60)),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# 个人股东股权转让完税: one decision per change case with natural persons' transfers
equity_transfer_checks = Table(
    "equity_transfer_checks", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("transfers", JSON, nullable=False),
    Column("outcome", String(20), nullable=False),  # confirmed, unsettled
    Column("decided_at", DateTime(timezone=True), nullable=False),
)
