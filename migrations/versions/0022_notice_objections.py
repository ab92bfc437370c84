"""公示, 异议, 复核 (issue 32, points 2–4): the working-day calendar, notice periods, objections and re-check groups, reminders

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-07 17:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'calendar_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('note', sa.String(length=100), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f('ck_calendar_days_kind')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_days')),
        sa.UniqueConstraint('day', name=op.f('uq_calendar_days_day')),
    )
    op.create_table(
        'notice_periods',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('start', sa.Date(), nullable=False),
        sa.Column('length', sa.Integer(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('answer_days', sa.Integer(), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('settled_at', sa.DateTime(), nullable=True),
        sa.Column('settled_version', sa.Integer(), nullable=True),
        sa.CheckConstraint('answer_days >= 1', name=op.f('ck_notice_periods_answer_days')),
        sa.CheckConstraint('length >= 1', name=op.f('ck_notice_periods_length')),
        sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_notice_periods_opened_by_id_users')),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_notice_periods_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_periods')),
        sa.UniqueConstraint('round_id', name=op.f('uq_notice_periods_round_id')),
    )
    op.create_table(
        'objections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('target', sa.String(length=16), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('filed_by_id', sa.Integer(), nullable=False),
        sa.Column('filed_at', sa.DateTime(), nullable=False),
        sa.Column('on_paper', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('objector', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('assigned_at', sa.DateTime(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('leader_id', sa.Integer(), nullable=True),
        sa.Column('final_sheet_id', sa.Integer(), nullable=True),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('new_value', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'assigned', 'upheld', 'changed')", name=op.f('ck_objections_status')),
        sa.CheckConstraint("target IN ('indicator', 'bonus', 'veto')", name=op.f('ck_objections_target')),
        sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_objections_filed_by_id_users')),
        sa.ForeignKeyConstraint(['final_sheet_id'], ['sheets.id'], name=op.f('fk_objections_final_sheet_id_sheets')),
        sa.ForeignKeyConstraint(['leader_id'], ['users.id'], name=op.f('fk_objections_leader_id_users')),
        sa.ForeignKeyConstraint(['notice_id'], ['notice_periods.id'],
                                name=op.f('fk_objections_notice_id_notice_periods'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_objections_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_objections_unit_id_org_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_objections')),
        sa.UniqueConstraint('round_id', 'number', name=op.f('uq_objections_round_id_number')),
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_unit_id'), ['unit_id'], unique=False)
    op.create_table(
        'objection_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('objection_id', sa.Integer(), nullable=False),
        sa.Column('storage_key', sa.String(length=100), nullable=False),
        sa.Column('original_name', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['objection_id'], ['objections.id'],
                                name=op.f('fk_objection_files_objection_id_objections'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_objection_files_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_objection_files')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_objection_files_storage_key')),
    )
    with op.batch_alter_table('objection_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objection_files_objection_id'), ['objection_id'], unique=False)
    op.create_table(
        'objection_reviewers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('objection_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('is_leader', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['objection_id'], ['objections.id'],
                                name=op.f('fk_objection_reviewers_objection_id_objections'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_objection_reviewers_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_objection_reviewers')),
        sa.UniqueConstraint('objection_id', 'user_id', name=op.f('uq_objection_reviewers_objection_id_user_id')),
    )
    with op.batch_alter_table('objection_reviewers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objection_reviewers_objection_id'), ['objection_id'], unique=False)
    op.create_table(
        'reminders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=True),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('sent_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_reminders_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminders_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
        sa.UniqueConstraint('user_id', 'key', 'sent_on', name=op.f('uq_reminders_user_id_key_sent_on')),
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminders_user_id'))
    op.drop_table('reminders')
    with op.batch_alter_table('objection_reviewers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objection_reviewers_objection_id'))
    op.drop_table('objection_reviewers')
    with op.batch_alter_table('objection_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objection_files_objection_id'))
    op.drop_table('objection_files')
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_unit_id'))
        batch_op.drop_index(batch_op.f('ix_objections_round_id'))
    op.drop_table('objections')
    op.drop_table('notice_periods')
    op.drop_table('calendar_days')
