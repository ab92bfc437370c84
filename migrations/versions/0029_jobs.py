"""Long work in a job queue (issue 34, point 2): the jobs table (kind, parameters, idempotency key, state, progress,
heartbeat, result file, expiry, error)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 21:10:00
"""
from alembic import op
import sqlalchemy as sa



revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
        sa.Column('result_key', sa.String(length=100), nullable=True),
        sa.Column('result_name', sa.String(length=255), nullable=True),
        sa.Column('result_sha256', sa.String(length=64), nullable=True),
        sa.Column('result_size', sa.BigInteger(), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed', 'expired')", name=op.f('ck_jobs_state')),
        sa.CheckConstraint('done >= 0 AND total >= 0', name=op.f('ck_jobs_progress')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_jobs_requested_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
        sa.UniqueConstraint('key', name=op.f('uq_jobs_key')),
    )


def downgrade():
    op.drop_table('jobs')
