"""principals, agents and the enterprise record

Revision ID: 5b1d7c2e9a40
Revises: 9ec696bc6252
Create Date: 2026-12-02 05:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5b1d7c2e9a40'
down_revision: Union[str, Sequence[str], None] = '9ec696bc6252'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('domicile', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('business_scope', sa.JSON(), nullable=True))
    op.create_table('principals',
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('uscc', 'role', 'id_number')
    )
    op.create_table('agents',
    sa.Column('agent_id', sa.String(length=20), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('matters', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('appointed_by', sa.String(length=18), nullable=False),
    sa.Column('appointed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('agent_id')
    )
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agents_uscc'), ['uscc'], unique=False)
        batch_op.create_index('ix_agents_person', ['uscc', 'id_number'], unique=False)
    op.create_table('enterprise_cases',
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('matter', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('enterprise_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_cases_uscc'), ['uscc'], unique=False)
    op.create_table('department_reports',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('step', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('outputs', sa.JSON(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('department_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_reports_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('department_reports')
    op.drop_table('enterprise_cases')
    op.drop_table('agents')
    op.drop_table('principals')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_column('business_scope')
        batch_op.drop_column('domicile')
