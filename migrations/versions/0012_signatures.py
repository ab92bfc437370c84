"""signatures on the 评分表 (issue 19, point 6); an index on audit_events.round_id (the log's round filter)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'signatures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sheet_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('signer_id', sa.Integer(), nullable=True),
        sa.Column('signer_name', sa.String(length=100), nullable=False),
        sa.Column('strokes', sa.JSON(), nullable=False),
        sa.Column('image', sa.LargeBinary(), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('signed_at', sa.DateTime(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('superseded_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("role IN ('inspector', 'leader', 'representative')", name=op.f('ck_signatures_role')),
        sa.CheckConstraint("(role = 'representative') = (signer_id IS NULL)", name=op.f('ck_signatures_signer')),
        sa.ForeignKeyConstraint(['sheet_id'], ['sheets.id'], name=op.f('fk_signatures_sheet_id_sheets'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_signatures_signer_id_users')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_signatures_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signatures')),
    )
    op.create_index(op.f('ix_signatures_sheet_id'), 'signatures', ['sheet_id'])
    op.create_index(op.f('ix_audit_events_round_id'), 'audit_events', ['round_id'])


def downgrade():
    op.drop_index(op.f('ix_audit_events_round_id'), table_name='audit_events')
    op.drop_index(op.f('ix_signatures_sheet_id'), table_name='signatures')
    op.drop_table('signatures')
