"""dead letters keep the raw body as bytes, its content type, where it arrived and why; the outbox
relay's leases, attempts and parked events; the inbox pruned by age

Revision ID: 40b07bf671d2
Revises: 5b1d7c2e9a40
Create Date: 2026-12-02 05:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '40b07bf671d2'
down_revision: Union[str, Sequence[str], None] = '5b1d7c2e9a40'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('kit_dead_letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('content_type', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('exchange', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='failed', nullable=False))
        batch_op.alter_column('body', existing_type=sa.Text(), nullable=True)

    with op.batch_alter_table('kit_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('parked_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('kit_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kit_inbox_applied_at'), ['applied_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('kit_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kit_inbox_applied_at'))

    with op.batch_alter_table('kit_outbox', schema=None) as batch_op:
        batch_op.drop_column('parked_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('attempts')
        batch_op.drop_column('claimed_until')

    with op.batch_alter_table('kit_dead_letters', schema=None) as batch_op:
        batch_op.alter_column('body', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('kind')
        batch_op.drop_column('exchange')
        batch_op.drop_column('content_type')
        batch_op.drop_column('payload')
