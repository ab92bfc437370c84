"""a township lead may fill in (代填) the self-assessment of a village without an account (issue 29 point 6): the
sheet keeps who filled it in

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-07 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sheets') as batch:
        batch.add_column(sa.Column('proxy_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_sheets_proxy_by_id_users'), 'users', ['proxy_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('sheets') as batch:
        batch.drop_constraint(op.f('fk_sheets_proxy_by_id_users'), type_='foreignkey')
        batch.drop_column('proxy_by_id')
