"""figures rule: each published version names the rule its roll-ups are read by (issue 29 point 9)

Revision ID: 0021
Revises: 0016
Create Date: 2026-12-07 14:30:00

Mean, lowest and (new) highest of a roll-up are computed when a version is read, from its unit rows. Rule 2 keeps a
vetoed unit's total out of them; a version written before this migration keeps rule 1 (its figures as published),
and its seal, which covers the rule only when it is not 1, still verifies.
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('publications') as batch:
        batch.add_column(sa.Column('figures_rule', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    with op.batch_alter_table('publications') as batch:
        batch.drop_column('figures_rule')
