"""What tax keeps: the taxpayers it registered and the invoices it granted them."""

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, MetaData, Numeric, String, Table
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
    # what staff review would look at (一般纳税人登记); kept for the review queue
    Column("review_reasons", JSON, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
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
)
