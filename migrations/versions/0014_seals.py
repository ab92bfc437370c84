"""seals on published versions (issue 28, point 2): the key id and HMAC of a version, and of each unit row with the
SHA-256 of its indicator rows

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('publications') as batch:
        batch.add_column(sa.Column('seal_key', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('seal', sa.String(length=64), nullable=True))
    with op.batch_alter_table('published_units') as batch:
        batch.add_column(sa.Column('scores_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('points_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('seal', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('published_units') as batch:
        batch.drop_column('seal')
        batch.drop_column('points_sha256')
        batch.drop_column('scores_sha256')
    with op.batch_alter_table('publications') as batch:
        batch.drop_column('seal')
        batch.drop_column('seal_key')
