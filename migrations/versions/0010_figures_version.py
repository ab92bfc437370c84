"""figures version: a sheet's stored figures carry a number that goes up with every recomputation

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:30:00

Two autosaves of one sheet can answer out of order; each answer carries the sheet's total as its transaction left
it. The number (incremented in the same UPDATE, under the row's lock, so in commit order) tells the page which
answer is the newer.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sheets') as batch:
        batch.add_column(sa.Column('figures_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('sheets') as batch:
        batch.drop_column('figures_version')
