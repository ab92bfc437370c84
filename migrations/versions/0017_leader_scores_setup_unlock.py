"""组长是否评分 per team (issue 29, point 5); 解锁设置: a published round's set-up opened with a reason (point 2)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('teams') as batch:
        # Existing teams keep what they had: the leader scores as a member.
        batch.add_column(sa.Column('leader_scores', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        'setup_unlocks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('closed_by_version', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_setup_unlocks_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_setup_unlocks_opened_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_setup_unlocks')),
    )
    op.create_index(op.f('ix_setup_unlocks_round_id'), 'setup_unlocks', ['round_id'])


def downgrade():
    op.drop_index(op.f('ix_setup_unlocks_round_id'), table_name='setup_unlocks')
    op.drop_table('setup_unlocks')
    with op.batch_alter_table('teams') as batch:
        batch.drop_column('leader_scores')
