"""legal and promised limits and pauses: each step's promised (承诺) and legal (法定) limits and
the case's promised limit as configured when it was submitted, and every 补正 pause once resumed.
Cases submitted before keep none: the figures leave them out of the shares kept in time.

Revision ID: 39747ae0ca31
Revises: 1c088e8ca0c0
Create Date: 2026-12-02 14:52:38.531692

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '39747ae0ca31'
down_revision: Union[str, Sequence[str], None] = '1c088e8ca0c0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('case_pauses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('step', sa.String(length=60), nullable=False),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resumed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.case_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_pauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_pauses_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promised_days', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('legal_days', sa.Float(), nullable=True))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promised_days', sa.Float(), nullable=True))



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('promised_days')

    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.drop_column('legal_days')
        batch_op.drop_column('promised_days')

    with op.batch_alter_table('case_pauses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_pauses_case_id'))

    op.drop_table('case_pauses')
