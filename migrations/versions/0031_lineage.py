"""Lineage across rounds (issue 33, point 1): a catalogue version's relations to the version before it, per
indicator (same, renamed, split, merged, new, retired), confirmed by an admin and frozen once a 评估总结 uses them;
a unit's changes of code and its mergers and splits.

Revision ID: 0031
Revises: 0030 (for the helper's testing; the lead re-chains it after the other migrations of the day)
Create Date: 2026-12-07 21:01:25
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalogue_lineages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('catalogue_id', sa.Integer(), nullable=False),
    sa.Column('predecessor_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['catalogue_id'], ['catalogue_versions.id'], name=op.f('fk_catalogue_lineages_catalogue_id_catalogue_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_catalogue_lineages_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['predecessor_id'], ['catalogue_versions.id'], name=op.f('fk_catalogue_lineages_predecessor_id_catalogue_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_lineages')),
    sa.UniqueConstraint('catalogue_id', name=op.f('uq_catalogue_lineages_catalogue_id'))
    )
    with op.batch_alter_table('catalogue_lineages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_lineages_predecessor_id'), ['predecessor_id'], unique=False)

    op.create_table('unit_lineages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('predecessor_id', sa.Integer(), nullable=True),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('old_code', sa.String(length=32), nullable=True),
    sa.Column('new_code', sa.String(length=32), nullable=True),
    sa.Column('old_name', sa.String(length=100), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("change IN ('official_code', 'renamed', 'merged', 'split')", name=op.f('ck_unit_lineages_change')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_unit_lineages_by_id_users')),
    sa.ForeignKeyConstraint(['predecessor_id'], ['org_units.id'], name=op.f('fk_unit_lineages_predecessor_id_org_units')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_unit_lineages_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_lineages'))
    )
    with op.batch_alter_table('unit_lineages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_lineages_predecessor_id'), ['predecessor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_lineages_unit_id'), ['unit_id'], unique=False)

    op.create_table('indicator_lineages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lineage_id', sa.Integer(), nullable=False),
    sa.Column('old_code', sa.String(length=32), nullable=True),
    sa.Column('new_code', sa.String(length=32), nullable=True),
    sa.Column('relation', sa.String(length=8), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("relation IN ('same', 'renamed', 'split', 'merged', 'new', 'retired')", name=op.f('ck_indicator_lineages_relation')),
    sa.CheckConstraint('old_code IS NOT NULL OR new_code IS NOT NULL', name=op.f('ck_indicator_lineages_a_side')),
    sa.ForeignKeyConstraint(['lineage_id'], ['catalogue_lineages.id'], name=op.f('fk_indicator_lineages_lineage_id_catalogue_lineages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_lineages'))
    )
    with op.batch_alter_table('indicator_lineages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_lineages_lineage_id'), ['lineage_id'], unique=False)



def downgrade():
    with op.batch_alter_table('indicator_lineages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_lineages_lineage_id'))

    op.drop_table('indicator_lineages')
    with op.batch_alter_table('unit_lineages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_lineages_unit_id'))
        batch_op.drop_index(batch_op.f('ix_unit_lineages_predecessor_id'))

    op.drop_table('unit_lineages')
    with op.batch_alter_table('catalogue_lineages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_lineages_predecessor_id'))

    op.drop_table('catalogue_lineages')
