"""What social and medical insurance keep: the employers registered, each deregistration's
decision, and what employers owe in contributions."""

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, MetaData, Numeric, String, Table
from yjs_kit.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)

# 单位参保登记 and 医保登记: one registration per employer, whatever is redelivered
employers = Table(
    "employers", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("case_id", String(40), nullable=False, unique=True),
    Column("registration_number", String(20), nullable=False, unique=True),  # 社保登记编号
    Column("enterprise_name", String(60), nullable=False),
    Column("social_insurance_agency", String(60), nullable=False),
    Column("medical_insurance_agency", String(60), nullable=False),
    Column("insurance_types", JSON, nullable=False),
    Column("employees", Integer, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    # registered, closed (注销, the enterprise closing), cancelled (its registration undone)
    Column("status", String(20), nullable=False, server_default="registered"),
    Column("closed_at", DateTime(timezone=True)),
    Column("closing_case_id", String(40)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("undo_reason", String(40)),  # withdrawn, refused, prerequisite_undone
)

# 社保、医保注销: one decision per deregistration case
closures = Table(
    "closures", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("outcome", String(20), nullable=False),  # closed, not_registered, refused, undone (case withdrawn)
    Column("outstanding", Numeric(18, 2), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

# 欠缴社会保险费: what an employer owes now, as the insurance staff or their collection system
# recorded it (registered here or not: arrears follow the USCC); every change is announced with
# a growing revision (social_insurance.arrears_recorded / _settled)
contribution_arrears = Table(
    "contribution_arrears", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("outstanding", Numeric(18, 2), nullable=False),
    Column("revision", BigInteger, nullable=False, server_default="0"),
    Column("note", String(200)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
