"""a subsidy rule may say 本批次不设奖补资金 (mode 'none', issue 29 point 1): chosen and recorded, not a rule left unset

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 06:50:00
"""
from alembic import op


revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subsidy_rules') as batch:
        batch.drop_constraint(op.f('ck_subsidy_rules_mode'), type_='check')
        batch.create_check_constraint('mode', "mode IN ('fixed', 'bands', 'pool', 'none')")


def downgrade():
    op.execute("DELETE FROM subsidy_rules WHERE mode = 'none'")
    with op.batch_alter_table('subsidy_rules') as batch:
        batch.drop_constraint(op.f('ck_subsidy_rules_mode'), type_='check')
        batch.create_check_constraint('mode', "mode IN ('fixed', 'bands', 'pool')")
