"""Evidence provenance (issue 34, point 5): a photo's original upload kept privately beside its shown copy, the
hashes of the shown copy and thumbnail, and the capture time and place read from EXIF before it is stripped

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 21:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('original_deleted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('stored_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('thumb_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('captured_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('gps_lat_e6', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('gps_lon_e6', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_evidence_files_original_key'), ['original_key'])


def downgrade():
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_evidence_files_original_key'), type_='unique')
        for name in ('gps_lon_e6', 'gps_lat_e6', 'captured_at', 'thumb_sha256', 'stored_sha256',
                     'original_deleted_at', 'original_key'):
            batch_op.drop_column(name)
