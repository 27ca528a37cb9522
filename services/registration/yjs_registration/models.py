"""What registration keeps: the register of enterprises (and so of names taken)."""

from sqlalchemy import Column, Date, DateTime, MetaData, Numeric, String, Table
from yjs_kit.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)

enterprises = Table(
    "enterprises", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("name", String(60), nullable=False, unique=True),  # one name per register: the key refuses a second
    Column("licence_number", String(20), nullable=False, unique=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("type", String(40), nullable=False),
    Column("division_code", String(6), nullable=False),
    Column("registered_capital", Numeric(18, 2), nullable=False),
    Column("legal_representative", String(50), nullable=False),
    Column("status", String(20), nullable=False),
    Column("established_on", Date, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)
