"""What the bank keeps: the basic deposit accounts it has opened (filed, 备案制) and closed."""

from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table
from yjs_kit.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)

accounts = Table(
    "accounts", metadata,
    Column("account_number", String(19), primary_key=True),
    # one basic deposit account per enterprise (人民币银行结算账户管理办法): the key refuses a second
    Column("uscc", String(18), nullable=False, unique=True),
    Column("case_id", String(40), nullable=False, unique=True),  # one opening per case, whatever is redelivered
    Column("bank", String(50), nullable=False),
    Column("branch", String(50), nullable=False),
    Column("account_type", String(20), nullable=False),
    Column("specimen_seals", JSON, nullable=False),  # 预留印鉴: filing codes of the seals the bank checks
    # the name and legal representative the account stands in after a change (None: as opened)
    Column("account_name", String(60)),
    Column("legal_representative", String(50)),
    Column("status", String(20), nullable=False),  # open, closed (销户, or its opening undone)
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("closing_case_id", String(40)),
    Column("undo_reason", String(40)),  # closed because its opening was undone: withdrawn, prerequisite_undone
)

# 账户信息变更: one per change case, the account as it was before and after, so an undone
# change restores it
account_updates = Table(
    "account_updates", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("account_number", String(19), nullable=False, index=True),
    Column("before", JSON, nullable=False),  # {"account_name", "legal_representative", "specimen_seals"}
    Column("after", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
