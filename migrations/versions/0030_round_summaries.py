"""the 评估总结 to 市民政局 (issue 33, point 4): a round's narrative sections, 签发人 and 文号; the district's Word
templates

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 21:10:00

* round_summaries: one row per round — 做法和成效, 问题分析, 建议, the 签发人, the 文号 taken at the first generation.
* summary_templates: each uploaded template (its bytes and SHA-256); the newest not retired is in force.

(down_revision 0027 for testing on its own branch; the lead re-chains it after the lineage migration.)
"""
from alembic import op
import sqlalchemy as sa


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'round_summaries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('practice', sa.Text(), nullable=False),
        sa.Column('analysis', sa.Text(), nullable=False),
        sa.Column('advice', sa.Text(), nullable=False),
        sa.Column('signer', sa.String(length=50), nullable=False),
        sa.Column('doc_number', sa.String(length=60), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_summaries_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_round_summaries_updated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_round_summaries')),
        sa.UniqueConstraint('round_id', name=op.f('uq_round_summaries_round_id')),
    )
    op.create_table(
        'summary_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('retired_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_summary_templates_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_summary_templates')),
    )


def downgrade():
    op.drop_table('summary_templates')
    op.drop_table('round_summaries')
