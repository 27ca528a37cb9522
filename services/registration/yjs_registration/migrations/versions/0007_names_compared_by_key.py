"""names compared by key: a name differing only in punctuation or 有限公司/有限责任公司 is the same name

Revision ID: 0007a1e2b3c4
Revises: 717300000005
Create Date: 2026-12-02 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from yjs_registration.rules import name_key


# revision identifiers, used by Alembic.
revision: str = '0007a1e2b3c4'
down_revision: Union[str, Sequence[str], None] = '717300000005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

REGISTERED = sa.text("status = 'registered'")


def _fill_keys(table: str, key_column: str) -> None:
    """The names already held get their keys as the service computes them."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT {key_column}, name FROM {table}")).all()
    for key, name in rows:
        bind.execute(sa.text(f"UPDATE {table} SET name_key = :k WHERE {key_column} = :v"),
                     {"k": name_key(name), "v": key})


def upgrade() -> None:
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=60), nullable=True))
    with op.batch_alter_table('name_reservations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=60), nullable=True))
    _fill_keys('enterprises', 'uscc')
    _fill_keys('name_reservations', 'name')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=60), nullable=False)
        batch_op.drop_index('uq_enterprises_registered_name', postgresql_where=REGISTERED, sqlite_where=REGISTERED)
        batch_op.create_index('uq_enterprises_registered_name', ['name_key'], unique=True,
                              postgresql_where=REGISTERED, sqlite_where=REGISTERED)
    with op.batch_alter_table('name_reservations', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=60), nullable=False)
        batch_op.create_unique_constraint('name_reservations_name_key_key', ['name_key'])


def downgrade() -> None:
    with op.batch_alter_table('name_reservations', schema=None) as batch_op:
        batch_op.drop_constraint('name_reservations_name_key_key', type_='unique')
        batch_op.drop_column('name_key')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index('uq_enterprises_registered_name', postgresql_where=REGISTERED, sqlite_where=REGISTERED)
        batch_op.create_index('uq_enterprises_registered_name', ['name'], unique=True,
                              postgresql_where=REGISTERED, sqlite_where=REGISTERED)
        batch_op.drop_column('name_key')
