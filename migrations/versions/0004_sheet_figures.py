"""sheet figures: each sheet keeps its score sum, count, bonus sum and veto flag

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:17:06.482971

Results at province scale read one row per sheet instead of summing ~80 score rows for every sheet (issue 9).
The services keep the columns in the transaction of every change; existing sheets are filled in here.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE sheets SET
    score_sum = COALESCE((SELECT SUM(s.points) FROM scores s WHERE s.sheet_id = sheets.id), 0),
    scored = (SELECT COUNT(*) FROM scores s WHERE s.sheet_id = sheets.id),
    bonus_sum = COALESCE((SELECT SUM(b.points) FROM sheet_bonuses sb JOIN bonus_items b ON b.id = sb.bonus_item_id
                          WHERE sb.sheet_id = sheets.id), 0),
    vetoed = EXISTS (SELECT 1 FROM sheet_vetoes v WHERE v.sheet_id = sheets.id)
"""


def upgrade():
    with op.batch_alter_table('sheets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score_sum', sa.Numeric(precision=9, scale=2), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('scored', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('bonus_sum', sa.Numeric(precision=9, scale=2), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('vetoed', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(BACKFILL)


def downgrade():
    with op.batch_alter_table('sheets', schema=None) as batch_op:
        batch_op.drop_column('vetoed')
        batch_op.drop_column('bonus_sum')
        batch_op.drop_column('scored')
        batch_op.drop_column('score_sum')
