"""整改, 复查 and 约谈 (issue 32, points 5 and 7)

Revision ID: 0023
Revises: 0026
Create Date: 2026-12-07 17:14:58

* rectifications: a 整改通知 per failing unit of a published version (deadlines, the unit's report, its status);
* rectification_extensions: asked with a reason, granted with a date or refused with why;
* rechecks, recheck_scores: the 复查 and what it found per indicator (a result beside the published one);
* interviews: 约谈 with requirements, the unit's report and the district's check, its frozen 通报;
* rectify_files: the files of both (checked by content, stored by generated names).
Points are integer hundredths (models.base.Points), as everywhere.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('interviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('participants', sa.Text(), nullable=False),
    sa.Column('points_raised', sa.Text(), nullable=False),
    sa.Column('requirements', sa.JSON(), nullable=False),
    sa.Column('report_due', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('report_text', sa.Text(), nullable=False),
    sa.Column('reported_at', sa.DateTime(), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('check_note', sa.Text(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('notice_published_at', sa.DateTime(), nullable=True),
    sa.Column('notice', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['checked_by_id'], ['users.id'], name=op.f('fk_interviews_checked_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_interviews_created_by_id_users')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_interviews_reported_by_id_users')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_interviews_round_id_rounds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_interviews_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interviews'))
    )
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interviews_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interviews_unit_id'), ['unit_id'], unique=False)

    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('unit_name', sa.String(length=200), nullable=False),
    sa.Column('unit_level', sa.String(length=16), nullable=False),
    sa.Column('township_name', sa.String(length=200), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('final_total', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('report_due', sa.Date(), nullable=False),
    sa.Column('complete_due', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('report_text', sa.Text(), nullable=False),
    sa.Column('reported_at', sa.DateTime(), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('rechecks_allowed', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('issued', 'reported', 'passed', 'failed')", name=op.f('ck_rectifications_status')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_rectifications_issued_by_id_users')),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_rectifications_publication_id_publications')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_rectifications_reported_by_id_users')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_rectifications_round_id_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_rectifications_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications')),
    sa.UniqueConstraint('round_id', 'unit_id', name=op.f('uq_rectifications_round_id_unit_id'))
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectifications_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectifications_unit_id'), ['unit_id'], unique=False)

    op.create_table('rechecks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=8), nullable=True),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('veto_resolved', sa.Boolean(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('passed', 'failed')", name=op.f('ck_rechecks_outcome')),
    sa.CheckConstraint("scope IN ('failed', 'all')", name=op.f('ck_rechecks_scope')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_rechecks_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_rechecks_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectifications.id'], name=op.f('fk_rechecks_rectification_id_rectifications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_rechecks_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rechecks')),
    sa.UniqueConstraint('rectification_id', 'attempt', name=op.f('uq_rechecks_rectification_id_attempt'))
    )
    with op.batch_alter_table('rechecks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rechecks_rectification_id'), ['rectification_id'], unique=False)

    op.create_table('rectification_extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.String(length=16), nullable=False),
    sa.Column('asked_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('granted_date', sa.Date(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("deadline IN ('report', 'complete')", name=op.f('ck_rectification_extensions_deadline')),
    sa.CheckConstraint("decision IS NULL OR decision IN ('granted', 'refused')", name=op.f('ck_rectification_extensions_decision')),
    sa.ForeignKeyConstraint(['asked_by_id'], ['users.id'], name=op.f('fk_rectification_extensions_asked_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_rectification_extensions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectifications.id'], name=op.f('fk_rectification_extensions_rectification_id_rectifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_extensions'))
    )
    with op.batch_alter_table('rectification_extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_extensions_rectification_id'), ['rectification_id'], unique=False)

    op.create_table('rectify_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=True),
    sa.Column('interview_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("purpose IN ('report', 'minutes', 'interview_report')", name=op.f('ck_rectify_files_purpose')),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_rectify_files_interview_id_interviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectifications.id'], name=op.f('fk_rectify_files_rectification_id_rectifications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_rectify_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectify_files'))
    )
    with op.batch_alter_table('rectify_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectify_files_interview_id'), ['interview_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectify_files_rectification_id'), ['rectification_id'], unique=False)

    op.create_table('recheck_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recheck_id', sa.Integer(), nullable=False),
    sa.Column('indicator_code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('max_points', sa.Integer(), nullable=False),
    sa.Column('published_points', sa.Integer(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['recheck_id'], ['rechecks.id'], name=op.f('fk_recheck_scores_recheck_id_rechecks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recheck_scores')),
    sa.UniqueConstraint('recheck_id', 'indicator_code', name=op.f('uq_recheck_scores_recheck_id_indicator_code'))
    )
    with op.batch_alter_table('recheck_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recheck_scores_recheck_id'), ['recheck_id'], unique=False)



def downgrade():
    with op.batch_alter_table('recheck_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recheck_scores_recheck_id'))

    op.drop_table('recheck_scores')
    with op.batch_alter_table('rectify_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectify_files_rectification_id'))
        batch_op.drop_index(batch_op.f('ix_rectify_files_interview_id'))

    op.drop_table('rectify_files')
    with op.batch_alter_table('rectification_extensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_extensions_rectification_id'))

    op.drop_table('rectification_extensions')
    with op.batch_alter_table('rechecks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rechecks_rectification_id'))

    op.drop_table('rechecks')
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectifications_unit_id'))
        batch_op.drop_index(batch_op.f('ix_rectifications_round_id'))

    op.drop_table('rectifications')
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interviews_unit_id'))
        batch_op.drop_index(batch_op.f('ix_interviews_round_id'))

    op.drop_table('interviews')
