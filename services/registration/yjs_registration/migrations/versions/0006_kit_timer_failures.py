"""kit timer failures: a timer's row that keeps failing is counted and parked

Revision ID: 717300000005
Revises: 40b07bf671d2
Create Date: 2026-12-02 06:15:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '717300000005'
down_revision: Union[str, Sequence[str], None] = '40b07bf671d2'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('kit_timer_failures',
    sa.Column('timer', sa.String(length=60), nullable=False),
    sa.Column('row_key', sa.String(length=100), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('parked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('timer', 'row_key')
    )


def downgrade() -> None:
    op.drop_table('kit_timer_failures')
