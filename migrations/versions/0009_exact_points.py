"""exact points: every points column as integer hundredths (issue 16)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 13:45:00

SQLite keeps NUMERIC values as binary floating point, so a stored sum could read 0.7900000000000003; integer
hundredths add up exactly on SQLite and PostgreSQL alike (evalapp.models.base.Points).
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = {
    'catalogue_versions': ('total', 'bonus_cap'),
    'categories': ('points',),
    'indicators': ('points',),
    'deduction_rules': ('per',),
    'bonus_items': ('points',),
    'rounds': ('threshold', 'tolerance'),
    'subsidy_bands': ('min_total', 'max_total'),
    'sheets': ('score_sum', 'bonus_sum'),
    'scores': ('points', 'direct_score', 'free_deduction'),
}


# What each column was before: NUMERIC(7, 2), the sheets' sums NUMERIC(9, 2) (the downgrade puts them back).
WIDE = {('sheets', 'score_sum'), ('sheets', 'bonus_sum')}


def _numeric(table: str, column: str) -> sa.Numeric:
    return sa.Numeric(9, 2) if (table, column) in WIDE else sa.Numeric(7, 2)


def _convert(to_hundredths: bool):
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, columns in COLUMNS.items():
        if sqlite:
            # Types are per value on SQLite: the values are rewritten first, then the table is copied with the
            # new column types (batch mode), which keeps them as they are.
            factor = '* 100' if to_hundredths else '/ 100.0'
            op.execute(f"UPDATE {table} SET " + ", ".join(
                f"{c} = ROUND({c} {factor}" + (")" if to_hundredths else ", 2)") for c in columns))
            with op.batch_alter_table(table) as batch:
                for c in columns:
                    batch.alter_column(c, type_=sa.Integer() if to_hundredths else _numeric(table, c))
        else:
            for c in columns:
                if to_hundredths:
                    op.alter_column(table, c, type_=sa.Integer(), postgresql_using=f"round({c} * 100)::integer")
                else:
                    op.alter_column(table, c, type_=_numeric(table, c), postgresql_using=f"{c} / 100.0")


def upgrade():
    _convert(True)


def downgrade():
    _convert(False)
