"""dead letters keep the raw body as bytes, its content type, where it arrived and why

Revision ID: 7a86a95df9bd
Revises: c57bbdfe914a
Create Date: 2026-12-02 05:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7a86a95df9bd'
down_revision: Union[str, Sequence[str], None] = 'c57bbdfe914a'
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


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('kit_dead_letters', schema=None) as batch_op:
        batch_op.alter_column('body', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('kind')
        batch_op.drop_column('exchange')
        batch_op.drop_column('content_type')
        batch_op.drop_column('payload')
