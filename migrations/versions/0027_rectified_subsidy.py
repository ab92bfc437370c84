"""Money after rectification (issue 32, point 6): the share a 整改后通过 unit gets of what it would have had as 合格
(NULL: 暂缓)

Revision ID: 0027
Revises: 0022
Create Date: 2026-12-07 18:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subsidy_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rectified_percent', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            'rectified_percent', 'rectified_percent IS NULL OR (rectified_percent >= 0 AND rectified_percent <= 100)')


def downgrade():
    with op.batch_alter_table('subsidy_rules', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_subsidy_rules_rectified_percent'), type_='check')
        batch_op.drop_column('rectified_percent')
