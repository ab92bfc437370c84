"""A tamper-evident audit trail (issue 34, point 6): each audit row's chain, links, key id and HMAC, the checkpoint
that sealed it; audit_checkpoints (services.audit_trail)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 21:30:00

Rows already in the log keep NULL in the new columns: the key is in the app's configuration, not here, so
`flask --app wsgi backfill-audit` MACs and links them after the upgrade (then `flask seal-audit` seals them).
"""
from alembic import op
import sqlalchemy as sa


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.String(length=48), nullable=True))
        batch_op.add_column(sa.Column('prev_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seen_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mac_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sealed_in', sa.Integer(), nullable=True))
    op.create_index('ix_audit_events_chain_id', 'audit_events', ['chain', 'id'], unique=False)
    op.create_index('ix_audit_events_unsealed', 'audit_events', ['id'], unique=False,
                    postgresql_where=sa.text('sealed_in IS NULL'), sqlite_where=sa.text('sealed_in IS NULL'))
    op.create_table(
        'audit_checkpoints',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('first_id', sa.Integer(), nullable=False),
        sa.Column('last_id', sa.Integer(), nullable=False),
        sa.Column('row_count', sa.Integer(), nullable=False),
        sa.Column('ids', sa.Text(), nullable=False),
        sa.Column('mac_key', sa.String(length=32), nullable=False),
        sa.Column('mac', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    )


def downgrade():
    op.drop_table('audit_checkpoints')
    op.drop_index('ix_audit_events_unsealed', table_name='audit_events')
    op.drop_index('ix_audit_events_chain_id', table_name='audit_events')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('sealed_in')
        batch_op.drop_column('mac')
        batch_op.drop_column('mac_key')
        batch_op.drop_column('seen_id')
        batch_op.drop_column('prev_id')
        batch_op.drop_column('chain')
