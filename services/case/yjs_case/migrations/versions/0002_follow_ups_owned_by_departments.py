"""follow-ups owned by departments: one per department rated 不满意 or worse (and one for the
overall rating, the operators'), each due by a date, answered, judged by the applicant, escalated
and appealed. Follow-ups opened before stay the operators' ("overall"), without a due date.

Revision ID: 1c088e8ca0c0
Revises: fb3be7076b6a
Create Date: 2026-12-02 14:43:29.922068

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1c088e8ca0c0'
down_revision: Union[str, Sequence[str], None] = 'fb3be7076b6a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


#: the one-per-case unique constraint was created unnamed: PostgreSQL named it, SQLite did not
UNNAMED = {"uq": "%(table_name)s_%(column_0_name)s_key"}


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('follow_ups', schema=None, naming_convention=UNNAMED) as batch_op:
        batch_op.drop_constraint('follow_ups_case_id_key', type_='unique')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=40), server_default='overall', nullable=False))
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('verdict', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('verdict_comment', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('verdict_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalation', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('resolution', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('appeal_status', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('appeal_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('appealed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('appealed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('appeal_decision', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('appeal_decided_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('appeal_decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_follow_ups_appeal_status'), ['appeal_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_due_at'), ['due_at'], unique=False)
        batch_op.create_unique_constraint('uq_follow_ups_case_department', ['case_id', 'department'])



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint('uq_follow_ups_case_department', type_='unique')
        batch_op.drop_index(batch_op.f('ix_follow_ups_due_at'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_case_id'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_appeal_status'))
        batch_op.drop_column('appeal_decided_at')
        batch_op.drop_column('appeal_decided_by')
        batch_op.drop_column('appeal_decision')
        batch_op.drop_column('appealed_at')
        batch_op.drop_column('appealed_by')
        batch_op.drop_column('appeal_reason')
        batch_op.drop_column('appeal_status')
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('resolution')
        batch_op.drop_column('escalation')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('verdict_at')
        batch_op.drop_column('verdict_comment')
        batch_op.drop_column('verdict')
        batch_op.drop_column('responded_at')
        batch_op.drop_column('due_at')
        batch_op.drop_column('department')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_unique_constraint('follow_ups_case_id_key', ['case_id'])

