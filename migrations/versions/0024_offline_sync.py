"""offline tablets (issue 31): sync operations applied once per id, devices' unsent changes, offline signatures

Revision ID: 0024
Revises: 0018
Create Date: 2026-12-07 17:30:00

* sync_operations: each operation id a user's device sent (unique per user) with the answer it got;
* device_pending: per user, device and sheet, the changes the device reported it still holds unsent;
* refresh_tokens, api_tokens.family: a refresh token rotated on use, a reused one revoking its family;
* signatures: device_time, seen_versions and changed_after (drawn offline, the content moved before it arrived).
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sync_operations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('op_id', sa.String(length=36), nullable=False),
        sa.Column('device_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('sheet_id', sa.Integer(), nullable=True),
        sa.Column('indicator', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('http', sa.Integer(), nullable=False),
        sa.Column('answer', sa.JSON(), nullable=False),
        sa.Column('device_time', sa.DateTime(), nullable=True),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sync_operations_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_operations')),
        sa.UniqueConstraint('user_id', 'op_id', name=op.f('uq_sync_operations_user_id_op_id')),
    )
    with op.batch_alter_table('sync_operations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_operations_sheet_id'), ['sheet_id'], unique=False)
    op.create_table(
        'device_pending',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.String(length=64), nullable=False),
        sa.Column('sheet_id', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('reported_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_device_pending_user_id_users')),
        sa.ForeignKeyConstraint(['sheet_id'], ['sheets.id'], name=op.f('fk_device_pending_sheet_id_sheets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_device_pending')),
        sa.UniqueConstraint('user_id', 'device_id', 'sheet_id', name=op.f('uq_device_pending_user_id_device_id_sheet_id')),
    )
    with op.batch_alter_table('device_pending', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_pending_sheet_id'), ['sheet_id'], unique=False)
    op.create_table(
        'refresh_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('family', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_refresh_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_refresh_tokens_token_hash')),
    )
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_tokens_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refresh_tokens_family'), ['family'], unique=False)
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_api_tokens_family'), ['family'], unique=False)
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_time', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('seen_versions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('changed_after', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('changed_after')
        batch_op.drop_column('seen_versions')
        batch_op.drop_column('device_time')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_family'))
        batch_op.drop_column('family')
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_family'))
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_user_id'))
    op.drop_table('refresh_tokens')
    with op.batch_alter_table('device_pending', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_pending_sheet_id'))
    op.drop_table('device_pending')
    with op.batch_alter_table('sync_operations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_operations_sheet_id'))
    op.drop_table('sync_operations')
