"""document numbers (issue 30, point 2): rounds get a 年度; 文号 sequences per issuing office, kind and year; a
version keeps its 通报's number and why it replaces the version before

Revision ID: 0026
Revises: 0018
Create Date: 2026-12-07 17:30:00

* rounds.year: filled from the name's leading four-digit year (2021年度…), else the year the round was created.
* doc_sequences: the last number given out per (office, kind, year), taken under the row's lock.
* publications.doc_number, publications.replaces_reason: written with the version, never changed.
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0018'
branch_labels = None
depends_on = None


def _year(name, created):
    m = re.match(r"^\s*(\d{4})(?!\d)", name or "")
    if m and 2000 <= int(m.group(1)) <= 2099:
        return int(m.group(1))
    if created is not None:
        if isinstance(created, str):
            return int(created[:4])
        return created.year
    return 2026


def upgrade():
    with op.batch_alter_table('rounds') as batch:
        batch.add_column(sa.Column('year', sa.Integer(), nullable=True))
    conn = op.get_bind()
    rounds = sa.table('rounds', sa.column('id', sa.Integer), sa.column('name', sa.String),
                      sa.column('created_at', sa.DateTime), sa.column('year', sa.Integer))
    for id_, name, created in conn.execute(sa.select(rounds.c.id, rounds.c.name, rounds.c.created_at)).all():
        conn.execute(rounds.update().where(rounds.c.id == id_).values(year=_year(name, created)))
    with op.batch_alter_table('rounds') as batch:
        batch.alter_column('year', existing_type=sa.Integer(), nullable=False)

    op.create_table(
        'doc_sequences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.CheckConstraint('last >= 0', name=op.f('ck_doc_sequences_last')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_doc_sequences')),
        sa.UniqueConstraint('office', 'kind', 'year', name=op.f('uq_doc_sequences_office_kind_year')),
    )
    with op.batch_alter_table('publications') as batch:
        batch.add_column(sa.Column('doc_number', sa.String(length=60), nullable=True))
        batch.add_column(sa.Column('replaces_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('publications') as batch:
        batch.drop_column('replaces_reason')
        batch.drop_column('doc_number')
    op.drop_table('doc_sequences')
    with op.batch_alter_table('rounds') as batch:
        batch.drop_column('year')
