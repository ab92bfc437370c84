"""publications: each publication of a round frozen as it was, append-only (issue 17)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:00:00

A round published before this revision has no frozen version yet: `flask --app wsgi freeze-publications` writes
version 1 of each from the data as it stands (README, "Upgrading").
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'publications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('round_name', sa.String(length=200), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.Column('published_by_name', sa.String(length=100), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('tolerance', sa.Integer(), nullable=False),
        sa.Column('catalogues', sa.JSON(), nullable=False),
        sa.Column('rules', sa.JSON(), nullable=False),
        sa.Column('unit_count', sa.Integer(), nullable=False),
        sa.Column('total_fen', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_publications_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['published_by_id'], ['users.id'],
                                name=op.f('fk_publications_published_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_publications')),
        sa.UniqueConstraint('round_id', 'version', name=op.f('uq_publications_round_id_version')),
    )
    op.create_index(op.f('ix_publications_round_id'), 'publications', ['round_id'])
    op.create_table(
        'published_units',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('publication_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('township_code', sa.String(length=32), nullable=True),
        sa.Column('township_name', sa.String(length=200), nullable=False),
        sa.Column('self_sheet_id', sa.Integer(), nullable=True),
        sa.Column('final_sheet_id', sa.Integer(), nullable=True),
        sa.Column('final_status', sa.String(length=16), nullable=True),
        sa.Column('self_total', sa.Integer(), nullable=True),
        sa.Column('score_sum', sa.Integer(), nullable=True),
        sa.Column('bonus_sum', sa.Integer(), nullable=True),
        sa.Column('final_total', sa.Integer(), nullable=True),
        sa.Column('vetoed', sa.Boolean(), nullable=False),
        sa.Column('result', sa.String(length=16), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=True),
        sa.Column('missing', sa.Integer(), nullable=True),
        sa.Column('place', sa.Integer(), nullable=False),
        sa.Column('bonus_items', sa.JSON(), nullable=False),
        sa.Column('veto_findings', sa.JSON(), nullable=False),
        sa.Column('subsidy_basis', sa.Text(), nullable=False),
        sa.Column('subsidy_note', sa.Text(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['publication_id'], ['publications.id'],
                                name=op.f('fk_published_units_publication_id_publications'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_published_units')),
        sa.UniqueConstraint('publication_id', 'code', name=op.f('uq_published_units_publication_id_code')),
    )
    op.create_table(
        'published_scores',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('publication_id', sa.Integer(), nullable=False),
        sa.Column('unit_code', sa.String(length=32), nullable=False),
        sa.Column('indicator_code', sa.String(length=32), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('max_points', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('deductions', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['publication_id'], ['publications.id'],
                                name=op.f('fk_published_scores_publication_id_publications'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_published_scores')),
        sa.UniqueConstraint('publication_id', 'unit_code', 'indicator_code',
                            name=op.f('uq_published_scores_publication_id_unit_code_indicator_code')),
    )
    op.create_index(op.f('ix_published_scores_publication_id'), 'published_scores', ['publication_id'])


def downgrade():
    op.drop_index(op.f('ix_published_scores_publication_id'), table_name='published_scores')
    op.drop_table('published_scores')
    op.drop_table('published_units')
    op.drop_index(op.f('ix_publications_round_id'), table_name='publications')
    op.drop_table('publications')
