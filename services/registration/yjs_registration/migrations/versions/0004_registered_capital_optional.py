"""registered capital optional: a 个体工商户's 资金数额 and a 农民专业合作社's 成员出资总额 may be left out

Revision ID: a74904850c1c
Revises: a955bae59552
Create Date: 2026-12-02 14:42:53.226313

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'a74904850c1c'
down_revision: Union[str, Sequence[str], None] = 'a955bae59552'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.alter_column('registered_capital',
               existing_type=sa.NUMERIC(precision=18, scale=2),
               nullable=True)


def downgrade() -> None:
    """Downgrade schema (fails while an entity without a capital is on the register)."""
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.alter_column('registered_capital',
               existing_type=sa.NUMERIC(precision=18, scale=2),
               nullable=False)
