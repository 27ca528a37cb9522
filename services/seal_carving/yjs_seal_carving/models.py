"""What seal carving keeps: each case's seal order and the filing record (印章备案) of every seal."""

from sqlalchemy import Column, DateTime, MetaData, Numeric, String, Table, UniqueConstraint
from yjs_kit.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)

seal_orders = Table(
    "seal_orders", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("enterprise_name", String(60), nullable=False),
    Column("division_code", String(6), nullable=False),
    Column("status", String(20), nullable=False),  # carved, refused, undone (its filings voided)
    Column("fee", Numeric(10, 2), nullable=False),
    Column("ordered_at", DateTime(timezone=True), nullable=False),
    Column("undone_at", DateTime(timezone=True)),
    Column("undo_reason", String(40)),  # withdrawn, prerequisite_undone
)

seals = Table(
    "seals", metadata,
    Column("filing_code", String(13), primary_key=True),  # 印章编码: the key refuses a code issued twice
    Column("type", String(30), nullable=False),
    Column("name", String(120), nullable=False),
    Column("uscc", String(18), nullable=False, index=True),
    Column("case_id", String(40), nullable=False),
    Column("status", String(20), nullable=False),  # filed, cancelled (公章缴销), voided (its order undone)
    Column("filed_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancellation_case_id", String(40)),
    # one seal of each type per order, whatever the retries
    UniqueConstraint("case_id", "type", name="uq_seals_case_type"),
)
