"""results versions: one explicit version per round, bumped by the services (issue 16)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:00:00

Replaces `data_versions`, a single counter driven by matching SQL text on every statement: each round now has a row
in `results_versions` that the service changing its results bumps in the same transaction.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'results_versions',
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_results_versions_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('round_id', name=op.f('pk_results_versions')),
    )
    op.execute("INSERT INTO results_versions (round_id, n) SELECT id, 0 FROM rounds")
    op.drop_table('data_versions')


def downgrade():
    table = op.create_table(
        'data_versions',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions')),
    )
    op.bulk_insert(table, [{'name': 'results', 'n': 0}])
    op.drop_table('results_versions')
