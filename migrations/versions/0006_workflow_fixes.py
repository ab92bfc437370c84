"""workflow fixes (issue 15): notes without a score, the members' scores a final value was decided from,
sheets closed unsubmitted, pilot and full-rollout rounds

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:30:00

* scores.points may be NULL: a row that holds only a note (or was cleared) is not a score. The sheet's `scored`
  counts rows with points.
* scores.basis (JSON): on a final sheet, the submitted member scores a value was decided from
  ([{"sheet_id", "version", "points"}]); a member change afterwards flags the row.
* sheets.status 'closed' (未提交): a member draft closed when the round moves on or the member leaves the team.
* rounds.rollout: 'pilot' (试点, the pilot-village rule applies) or 'full' (全面推行); existing rounds named
  全面推行 are full, the rest pilot.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_STATUS = "status IN ('draft', 'submitted', 'returned', 'approved')"
NEW_STATUS = "status IN ('draft', 'submitted', 'returned', 'approved', 'closed')"


def upgrade():
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.alter_column('points', existing_type=sa.Numeric(precision=7, scale=2), nullable=True)
        batch_op.add_column(sa.Column('basis', sa.JSON(), nullable=True))
    with op.batch_alter_table('sheets', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.create_check_constraint('status', NEW_STATUS)
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rollout', sa.String(length=8), server_default='pilot', nullable=False))
        batch_op.create_check_constraint('rollout', "rollout IN ('pilot', 'full')")
    op.execute("UPDATE rounds SET rollout = 'full' WHERE name LIKE '%全面推行%'")


def downgrade():
    op.execute("UPDATE sheets SET status = 'draft' WHERE status = 'closed'")
    op.execute("DELETE FROM scores WHERE points IS NULL")
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_constraint('rollout', type_='check')
        batch_op.drop_column('rollout')
    with op.batch_alter_table('sheets', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.create_check_constraint('status', OLD_STATUS)
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_column('basis')
        batch_op.alter_column('points', existing_type=sa.Numeric(precision=7, scale=2), nullable=False)
