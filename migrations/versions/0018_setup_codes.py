"""one-time set-up codes (issue 29, point 6): imported users set their own first password with a code

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-07 14:20:00

* setup_codes: one code per user handed out by an administrator (a keyed hash only), spent once, until it expires.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'setup_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_setup_codes_user_id_users')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_setup_codes_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_setup_codes')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_setup_codes_code_hash')),
    )
    with op.batch_alter_table('setup_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_setup_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('setup_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_setup_codes_user_id'))
    op.drop_table('setup_codes')
