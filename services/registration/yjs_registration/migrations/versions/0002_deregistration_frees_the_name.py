"""deregistration frees the name: a name is unique only among enterprises still registered

Revision ID: 9e434267f5f6
Revises: 40da24ef803f
Create Date: 2026-11-29 13:30:22.704007

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9e434267f5f6'
down_revision: Union[str, Sequence[str], None] = '40da24ef803f'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

REGISTERED = sa.text("status = 'registered'")
# SQLite keeps the old unique constraint unnamed: batch mode names it by this convention to drop it
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('enterprises', naming_convention=SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint('uq_enterprises_name', type_='unique')
    else:
        op.drop_constraint('enterprises_name_key', 'enterprises', type_='unique')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deregistered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deregistration_case_id', sa.String(length=40), nullable=True))
        batch_op.create_index('uq_enterprises_registered_name', ['name'], unique=True,
                              postgresql_where=REGISTERED, sqlite_where=REGISTERED)


def downgrade() -> None:
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index('uq_enterprises_registered_name', postgresql_where=REGISTERED, sqlite_where=REGISTERED)
        batch_op.drop_column('deregistration_case_id')
        batch_op.drop_column('deregistered_at')
        batch_op.create_unique_constraint('enterprises_name_key', ['name'])
