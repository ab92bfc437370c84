"""Province-scale demo data, written with bulk inserts (for benchmarks: never on a production database)."""
import random
from datetime import date
from decimal import Decimal

from sqlalchemy import insert, select, text

from ..extensions import db
from ..models import (
    BonusItem, OrgUnit, Round, RoundUnit, Score, ScoreDeduction, Sheet, SheetBonus, SheetVeto, Team, TeamMember, User,
    VetoItem,
)
from ..models.base import utcnow
from .accounts import hash_password
from .catalogues import indicators_of, load_tree
from . import versions
from .seed import seed_catalogues
from .figures import refresh_figures

CHUNK = 20_000


def _bulk(table, rows: list[dict]) -> None:
    """Insert many rows: COPY on PostgreSQL (several times faster than batched INSERTs), executemany elsewhere."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        columns = list(rows[0])
        # Values as the column types bind them (points as hundredths: models.base.Points), as an INSERT would.
        binds = [table.c[c].type.bind_processor(connection.dialect) or (lambda v: v) for c in columns]
        raw = connection.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([bind(row[c]) for bind, c in zip(binds, columns)])
        return
    for i in range(0, len(rows), CHUNK):
        db.session.execute(insert(table), rows[i:i + CHUNK])


def generate(townships: int, villages_per_township: int, seed: int = 1) -> Round:
    """A district of `townships` × `villages_per_township` units with self, two inspector and an approved final
    sheet each, random but valid scores, some bonus items and a few vetoes."""
    rng = random.Random(seed)
    now = utcnow()
    cats = seed_catalogues()
    trees = {level: load_tree(c.id) for level, c in cats.items()}
    name = f"规模测试{townships}x{villages_per_township}-{seed}"
    district = OrgUnit(code=f"9{seed % 100000:05d}", name=f"规模测试区{seed}", level="district", kind="区")
    db.session.add(district)
    db.session.flush()
    base = int(district.code) * 1000
    _bulk(OrgUnit.__table__, [dict(code=f"{base + t:09d}", name=f"测试镇{t}", level="township", kind="镇",
                                   parent_id=district.id, active=True, position=t) for t in range(1, townships + 1)])
    towns = dict(db.session.execute(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.parent_id == district.id)).all())
    _bulk(OrgUnit.__table__, [dict(code=f"{code}{v:03d}", name=f"测试村{code[-4:]}-{v}", level="village", kind="村",
                                   parent_id=tid, active=True, position=v)
                              for code, tid in towns.items() for v in range(1, villages_per_township + 1)])
    units = db.session.execute(select(OrgUnit.id, OrgUnit.level).where(
        (OrgUnit.parent_id == district.id) | OrgUnit.parent_id.in_(towns.values()))).all()
    round_ = Round(name=name, status="review", township_catalogue_id=cats["township"].id,
                   village_catalogue_id=cats["village"].id, self_due=date(2021, 11, 25))
    db.session.add(round_)
    pw = hash_password(f"scale-{seed}-{rng.random()}")
    inspectors = [User(username=f"scale{seed}-{i}", display_name=f"规模评估员{i}", role="inspector", password_hash=pw)
                  for i in (1, 2)]
    db.session.add_all(inspectors)
    db.session.flush()
    team = Team(round_id=round_.id, name="规模工作组", leader_id=inspectors[0].id)
    db.session.add(team)
    db.session.flush()
    db.session.add_all([TeamMember(round_id=round_.id, team_id=team.id, user_id=u.id) for u in inspectors])
    _bulk(RoundUnit.__table__, [dict(round_id=round_.id, unit_id=uid, team_id=team.id) for uid, _ in units])
    sheet_rows = []
    for uid, _level in units:
        common = dict(round_id=round_.id, unit_id=uid, version=1, summary="", late=False, unlocked=False,
                      created_at=now, updated_at=now, submitted_at=now)
        sheet_rows.append(dict(common, kind="self", slot=0, inspector_id=None, status="submitted"))
        for u in inspectors:
            sheet_rows.append(dict(common, kind="inspector", slot=u.id, inspector_id=u.id, status="submitted"))
        sheet_rows.append(dict(common, kind="final", slot=0, inspector_id=None, status="approved"))
    _bulk(Sheet.__table__, sheet_rows)
    level_of = dict(units)
    sheets = db.session.execute(select(Sheet.id, Sheet.unit_id, Sheet.kind).where(Sheet.round_id == round_.id)).all()
    indicators = {level: indicators_of(tree) for level, tree in trees.items()}
    scores, deductions = [], []
    for sid, uid, kind in sheets:
        for ind in indicators[level_of[uid]]:
            rules = [r for r in ind.rules if not r.void]
            points = ind.points
            if rules and rng.random() < 0.15:
                rule = rng.choice(rules)
                count = rng.randint(1, 2)
                points = max(ind.points - rule.per * count, Decimal(0))
                deductions.append((sid, ind.id, rule.id, count))
            scores.append(dict(sheet_id=sid, indicator_id=ind.id, points=points, free_deduction=Decimal(0),
                               reason="", note="", version=1, updated_at=now))
    _bulk(Score.__table__, scores)
    if deductions:
        ids = {(s, i): sc for s, i, sc in db.session.execute(
            select(Score.sheet_id, Score.indicator_id, Score.id).join(Sheet, Sheet.id == Score.sheet_id)
            .where(Sheet.round_id == round_.id, Score.points < 1000))}
        _bulk(ScoreDeduction.__table__, [dict(score_id=ids[(s, i)], rule_id=r, count=c) for s, i, r, c in deductions])
    finals = [(sid, uid) for sid, uid, kind in sheets if kind == "final"]
    bonus = {level: db.session.scalars(select(BonusItem.id).where(BonusItem.catalogue_id == cats[level].id)).all()
             for level in cats}
    veto = {level: db.session.scalars(select(VetoItem.id).where(VetoItem.catalogue_id == cats[level].id)).first()
            for level in cats}
    _bulk(SheetBonus.__table__, [dict(sheet_id=sid, bonus_item_id=rng.choice(bonus[level_of[uid]]), note="")
                                 for sid, uid in finals if rng.random() < 0.1])
    _bulk(SheetVeto.__table__, [dict(sheet_id=sid, veto_item_id=veto[level_of[uid]], description="规模测试否决")
                                for sid, uid in finals if rng.random() < 0.01])
    refresh_figures(Sheet.round_id == round_.id)
    versions.bump(round_.id)
    db.session.commit()
    settle()
    return round_


def settle() -> None:
    """Leave the database as it would be a while after the load, not in the middle of digesting it.

    PostgreSQL: VACUUM ANALYZE now, as autovacuum would later. Without the statistics the planner joins a
    million-row table by nested loops (round results took 119 s instead of 1 s at 1,500 × 20); without the vacuum,
    autovacuum starts on the new rows while the pages are being measured. SQLite: statistics, and the write-ahead
    log folded into the database file (after a bulk load it is larger than the database, and every read looks
    through it until the next checkpoint). On a connection of its own, in autocommit: call it once the load is
    committed (generate commits first).
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
