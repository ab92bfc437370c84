"""Publication snapshots (issue 17): a round's results frozen in the publishing transaction, read by every official
output, checked by `verify-publication`.

`freeze` writes version N + 1 of a round: per unit its code, name, township and level as they were, self and final
totals, bonus items, veto findings, result, rank, points missing, the subsidy rule applied and the amount in fen;
per unit and indicator the final score, the leader's reason and the members' deductions behind it; the round's
threshold, catalogues, bonus caps, subsidy rules, who published and when — and a SHA-256 over `canonical(...)`.
Nothing here updates a snapshot row: a republication is a new version.

Reading a version is services.readmodel's (one read model of a round's results, live or as published).
"""
import hashlib
from dataclasses import dataclass
from types import SimpleNamespace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON, Column, Integer, MetaData, String, Table, Text, and_, func, insert, select, type_coerce, update,
)

from ..domain.aggregation import ROLLUP_RULE
from ..domain.numbers import hundredths_text as text_of
from ..domain.scoring import Line, Result, Sums, standing
from ..domain.subsidy import Candidate, SubsidyRule, allocate
from ..extensions import db
from ..models import (
    AuditEvent, Indicator, OrgUnit, Publication, PublishedScore, PublishedUnit, Round, RoundUnit, Score, Sheet, User,
)
from . import seals
from .readmodel import (
    PUBLISHED_UNITS, RoundResults, live_report, member_deductions, rectified_of, rules_of, score_rows, unit_rows,
)
from .results import UnitResult, place


def lines_of(publication: Publication) -> dict[str, Line]:
    """The line of each level as the version was computed under: its threshold, its catalogues' bonus caps, and
    their indicator counts (a catalogue used by a round is frozen: services.catalogue_io.is_frozen)."""
    counts = dict(db.session.execute(
        select(Indicator.catalogue_id, func.count(Indicator.id))
        .where(Indicator.catalogue_id.in_([c["id"] for c in publication.catalogues.values()]))
        .group_by(Indicator.catalogue_id)).all())
    return {level: Line(publication.threshold, Decimal(c["bonus_cap"]), counts.get(c["id"], 0))
            for level, c in publication.catalogues.items()}


# ---------------------------------------------------------------- canonical form


def _p(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _round_part(publication: Publication) -> dict:
    return {"id": publication.round_id, "name": publication.round_name, "version": publication.version,
            "published_at": publication.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "published_by": publication.published_by_name, "threshold": _p(publication.threshold),
            "tolerance": _p(publication.tolerance), "catalogues": publication.catalogues,
            "rules": publication.rules, "unit_count": publication.unit_count, "total_fen": publication.total_fen}


def _unit_item(u) -> list:
    return [u.position, u.code, u.name, u.level, u.township_code, u.township_name, u.final_status, _p(u.self_total),
            _p(u.score_sum), _p(u.bonus_sum), _p(u.final_total), u.vetoed, u.result, u.rank, _p(u.missing), u.place,
            u.bonus_items, u.veto_findings, u.subsidy_basis, u.subsidy_note, u.amount_fen]


def canonical(publication: Publication, units: list[PublishedUnit], scores: list[PublishedScore]) -> bytes:
    """The version as canonical JSON (sorted keys, no spaces, UTF-8, points as two-decimal strings, times in UTC
    ISO 8601): what its SHA-256 is taken over. Ids of rows that exist only in this database are left out.

    {"round": {…}, "scores": [[unit code, indicator code, title, max, points, reason, deductions], … in unit code,
    indicator code order], "units": [[position, code, …], … in position order]} — assembled from each unit's
    serialised score items (`assemble`), the same bytes as one json.dumps of the whole."""
    chunks = score_chunks(scores)
    return assemble(publication, units, [chunks[code] for code in sorted(chunks)])


def score_chunks(scores: list[PublishedScore]) -> dict[str, bytes]:
    """Unit code → its canonical score items serialised (what its `scores_sha256` digests)."""
    by_unit: dict[str, list] = {}
    for s in scores:
        by_unit.setdefault(s.unit_code, []).append(
            [s.unit_code, s.indicator_code, s.title, _p(s.max_points), _p(s.points), s.reason, s.deductions])
    return {code: seals.dump(sorted(items, key=lambda item: item[1])) for code, items in by_unit.items()}


def assemble(publication: Publication, units: list, chunks: list[bytes]) -> bytes:
    """The canonical form from its parts: `chunks` are the units' serialised score lists in unit code order."""
    scores = b"[" + b",".join(chunk[1:-1] for chunk in chunks if len(chunk) > 2) + b"]"
    return (b'{"round":' + seals.dump(_round_part(publication)) + b',"scores":' + scores + b',"units":'
            + seals.dump([_unit_item(u) for u in sorted(units, key=lambda u: u.position)]) + b"}")


def checksum(publication: Publication, units: list[PublishedUnit], scores: list[PublishedScore]) -> str:
    return hashlib.sha256(canonical(publication, units, scores)).hexdigest()


# ---------------------------------------------------------------- writing


# published_scores as its columns are stored: points in integer hundredths (models.base.Points), for writing the
# values freeze read raw without a Decimal each way.
RAW_SCORES = Table("published_scores", MetaData(), Column("id", Integer, primary_key=True),
                   Column("publication_id", Integer), Column("unit_code", String), Column("indicator_code", String),
                   Column("title", String), Column("max_points", Integer), Column("points", Integer),
                   Column("reason", Text), Column("deductions", JSON))


def _rule_data(rule: SubsidyRule | None) -> dict | None:
    if rule is None:
        return None
    data = {"mode": rule.mode, "amount_fen": rule.amount_fen,
            "bands": [[_p(b.min_total), _p(b.max_total), b.amount_fen, b.label] for b in rule.bands]}
    if rule.rectified_percent is not None:  # (absent: 暂缓, as in every version written before issue 32)
        data["rectified_percent"] = rule.rectified_percent
    return data


def _rules_data(rules: dict, extras) -> dict:
    """The version's subsidy rules and — only when there are any — the 整改后通过 units they were applied to, with
    what each would have had as 合格 and what is withheld: frozen in the version and covered by its checksum and
    seal as the rules are (a version with none is written as before issue 32)."""
    data = {level: _rule_data(rules[level]) for level in ("township", "village")}
    if extras.rectified:
        data["rectified"] = {code: {**info, "full_fen": extras.awards[code].amount_fen + extras.awards[code].withheld_fen,
                                    "withheld_fen": extras.awards[code].withheld_fen}
                             for code, info in extras.rectified.items() if code in extras.awards}
    return data


def _catalogue(round_: Round, level: str) -> dict:
    c = round_.catalogue_for(level)
    return {"id": c.id, "code": c.code, "name": c.name, "version": c.version, "bonus_cap": _p(c.bonus_cap)}


def freeze(round_: Round, user: User | None, at: datetime, model: RoundResults) -> Publication:
    """Write the round's next version from `model` — the round's results as they stand, built in the caller's
    transaction after lock_round (readmodel.build with extras) — in that transaction."""
    report, extras, rules = model.report, model.extras, model.rules
    key_id, secret = seals.current_key()  # before anything is written: no key, no version
    awards = extras.awards
    version = (db.session.scalar(select(func.max(Publication.version))
                                 .where(Publication.round_id == round_.id)) or 0) + 1
    pub = Publication(round_id=round_.id, version=version, round_name=round_.name, published_at=at,
                      published_by_id=user.id if user is not None else None,
                      published_by_name=user.display_name if user is not None else "",
                      threshold=round_.threshold, tolerance=round_.tolerance,
                      catalogues={level: _catalogue(round_, level) for level in ("township", "village")},
                      rules=_rules_data(rules, extras),
                      unit_count=len(report.rows), total_fen=sum(a.amount_fen for a in awards.values()), sha256="",
                      figures_rule=ROLLUP_RULE)
    db.session.add(pub)
    db.session.flush()  # its id; a second publisher of the same version fails here on (round_id, version)
    units = []
    for position, row in enumerate(report.rows, start=1):
        u, award = row.unit, awards[row.unit.code]
        items = extras.bonus.get(u.code, [])
        scored = u.final_total is not None
        units.append(SimpleNamespace(
            publication_id=pub.id, position=position, unit_id=u.unit_id, code=u.code, name=u.name, level=u.level,
            township_code=u.township_code, township_name=row.township_name, self_sheet_id=u.self_sheet_id,
            final_sheet_id=u.final_sheet_id, final_status=u.final_status, self_total=u.self_total,
            score_sum=extras.sums[u.code][0] if scored else None,
            bonus_sum=sum((Decimal(i[2]) for i in items), Decimal("0.00")) if scored else None,
            final_total=u.final_total, vetoed=u.vetoed,
            result=u.result.value, rank=u.rank, missing=u.missing, place=u.place, bonus_items=items,
            veto_findings=extras.vetoes.get(u.code, []), subsidy_basis=award.basis,
            subsidy_note=award.note, amount_fen=award.amount_fen))
    # The final scores read raw (integer hundredths, models.base.Points) and written raw; each row serialised once,
    # in its unit's chunk of the canonical form, which is also what the unit's seal digests.
    deductions = member_deductions(round_.id)
    by_unit: dict[str, list] = {}
    for row in db.session.connection().execute(
            select(OrgUnit.code, Indicator.code, Indicator.title, type_coerce(Indicator.points, Integer),
                   type_coerce(Score.points, Integer), Score.reason)
            .select_from(Score)
            .join(Sheet, Sheet.id == Score.sheet_id)
            .join(OrgUnit, OrgUnit.id == Sheet.unit_id)
            .join(RoundUnit, and_(RoundUnit.round_id == round_.id, RoundUnit.unit_id == Sheet.unit_id))
            .join(Indicator, Indicator.id == Score.indicator_id)
            .where(Sheet.round_id == round_.id, Sheet.kind == "final")):
        by_unit.setdefault(row[0], []).append(row)
    pub.seal_key = key_id
    chunks, rows = [], []
    for code in sorted(by_unit):
        found = sorted(by_unit[code], key=lambda r: r[1])
        items = [[code, ind, title, text_of(max_h), text_of(points_h), reason or "", deductions.get((code, ind), [])]
                 for _c, ind, title, max_h, points_h, reason in found]
        chunk = seals.dump(items)
        chunks.append(chunk)
        by_unit[code] = (seals.chunk_digest(chunk), seals.points_digest((r[1], r[3], r[4]) for r in found))
        rows += [{"publication_id": pub.id, "unit_code": code, "indicator_code": r[1], "title": r[2],
                  "max_points": r[3], "points": r[4], "reason": item[5], "deductions": item[6]}
                 for r, item in zip(found, items)]
    pub.sha256 = hashlib.sha256(assemble(pub, units, chunks)).hexdigest()
    # The seal (services.seals): each unit row with the digests of its indicator rows, then the version's row.
    empty = (seals.chunk_digest(b"[]"), seals.points_digest(()))
    for u in units:
        u.scores_sha256, u.points_sha256 = by_unit.get(u.code, empty)
        u.seal = seals.seal_unit(secret, pub, u)
    pub.seal = seals.seal_header(secret, pub)
    # Core inserts of plain values in bulk (executemany), no ORM objects; the points as the hundredths they were read.
    if units:
        db.session.execute(insert(PUBLISHED_UNITS), [vars(u) for u in units])
    if rows:
        db.session.execute(insert(RAW_SCORES), rows)
    db.session.flush()
    return pub


# ---------------------------------------------------------------- checking


@dataclass
class Verification:
    publication: Publication
    stored: str
    computed: str
    problems: list[str]       # inside the version: checksum, figures that do not follow from its inputs
    live_changes: list[str]   # for information: where today's data differs from the version

    @property
    def ok(self) -> bool:
        return not self.problems


def recompute(publication: Publication, units: list[PublishedUnit], scores: list[PublishedScore]) -> list[str]:
    """Every unit's figures recomputed from the inputs the version holds (indicator scores, bonus items, veto
    findings, the threshold, the caps, the subsidy rules): a description of each difference."""
    problems = []
    lines = lines_of(publication)
    by_unit: dict[str, list[PublishedScore]] = {}
    for s in scores:
        by_unit.setdefault(s.unit_code, []).append(s)
    recomputed: dict[str, tuple[Decimal | None, Result]] = {}
    mirrored = []
    for u in units:
        found = [s.points for s in by_unit.get(u.code, []) if s.points is not None]
        score_sum = sum(found, Decimal("0.00"))
        bonus_sum = sum((Decimal(i[2]) for i in u.bonus_items), Decimal("0.00"))
        now = standing(Sums(score_sum, len(found), bonus_sum, bool(u.veto_findings)) if u.final_sheet_id else None,
                       lines[u.level], decided=u.final_status == "approved")
        if now.total is not None:
            if u.score_sum != score_sum:
                problems.append(f"{u.code} {u.name}：指标得分合计 {score_sum}，版本记为 {u.score_sum}")
            if u.bonus_sum != bonus_sum:
                problems.append(f"{u.code} {u.name}：加分合计 {bonus_sum}，版本记为 {u.bonus_sum}")
        if now.total != u.final_total:
            problems.append(f"{u.code} {u.name}：评估得分应为 {now.total}，版本记为 {u.final_total}")
        recomputed[u.code] = (now.total, now.result)
        if now.result.value != u.result:
            problems.append(f"{u.code} {u.name}：结果应为 {now.result.zh}，版本记为 {Result.zh_of(u.result)}")
        mirrored.append(UnitResult(u.unit_id, u.code, u.name, u.level, u.township_code, u.self_total, now.total,
                                   u.final_status, now.result, publication.tolerance, missing=now.missing))
    # Ranks, points missing and places from the recomputed results, level by level.
    place(mirrored)
    for u, m in zip(units, mirrored):
        if (u.rank, u.missing, u.vetoed, u.place) != (m.rank, m.missing, m.vetoed, m.place):
            problems.append(f"{u.code} {u.name}：名次、距合格线或一票否决应为 {m.rank} / {m.missing} / {m.vetoed}，"
                            f"版本记为 {u.rank} / {u.missing} / {u.vetoed}")
    rules = rules_of(publication)
    rectified = rectified_of(publication)
    for level in ("township", "village"):
        of_level = [u for u in units if u.level == level]
        awards = allocate(rules[level], [Candidate(u.code, *recomputed[u.code], u.code in rectified)
                                         for u in of_level])
        for u, a in zip(of_level, awards):
            # The amount, not the basis's wording: the checksum holds the text, and a band's wording may have been
            # improved since the version was written (it was, on 2026-12-01: "…(含)至…(不含)").
            if a.amount_fen != u.amount_fen:
                problems.append(f"{u.code} {u.name}：奖补金额应为 {a.amount_fen} 分（{a.basis}），"
                                f"版本记为 {u.amount_fen} 分（{u.subsidy_basis}）")
            if u.code in rectified and a.withheld_fen != rectified[u.code].get("withheld_fen"):
                problems.append(f"{u.code} {u.name}：整改后通过暂缓或结余金额应为 {a.withheld_fen} 分，"
                                f"版本记为 {rectified[u.code].get('withheld_fen')} 分")
    if sum(u.amount_fen for u in units) != publication.total_fen:
        problems.append(f"奖补总额应为 {sum(u.amount_fen for u in units)} 分，版本记为 {publication.total_fen} 分")
    if len(units) != publication.unit_count:
        problems.append(f"单位数应为 {len(units)}，版本记为 {publication.unit_count}")
    return problems


def verify(publication: Publication) -> Verification:
    """Check a version against itself (its seal, services.seals; its checksum; every unit's figures from its
    inputs) and report, separately, where today's live results differ from it."""
    units, scores = unit_rows(publication.id), score_rows(publication.id)
    chunks = score_chunks(scores)
    computed = hashlib.sha256(assemble(publication, units, [chunks[code] for code in sorted(chunks)])).hexdigest()
    problems = [] if computed == publication.sha256 else [
        f"校验值不符：记录为 {publication.sha256}，按版本内容计算为 {computed}"]
    problems += seal_problems(publication, units, scores, chunks)
    problems += recompute(publication, units, scores)
    round_ = db.session.get(Round, publication.round_id)
    return Verification(publication, publication.sha256, computed, problems,
                        live_differences(round_, units, since=publication.published_at))


def seal_problems(publication: Publication, units: list, scores: list, chunks: dict[str, bytes]) -> list[str]:
    """Where the version's rows do not carry its seal (none at all: a version from before seals, not yet sealed by
    `flask seal-publications`). `chunks`: score_chunks(scores)."""
    problems = seals.problems_of(publication, units, whole=True)
    if publication.seal_key is None or problems:
        return [f"防篡改印记：{p}" for p in problems]
    points: dict[str, list] = {}
    for s in scores:
        points.setdefault(s.unit_code, []).append(
            (s.indicator_code, seals.hundredths(s.max_points), seals.hundredths(s.points)))
    empty = seals.dump([])
    for u in units:
        if (u.scores_sha256 != seals.chunk_digest(chunks.pop(u.code, empty))
                or u.points_sha256 != seals.points_digest(points.get(u.code, ()))):
            problems.append(f"防篡改印记：{u.code} {u.name}：指标得分与印记不符")
    problems += [f"防篡改印记：指标得分行 {code} 不属于该版本的任何单位" for code in sorted(chunks)]
    return problems


def seal(publication: Publication) -> None:
    """Seal a version written before seals existed (`flask seal-publications`), with the current key, after it
    passed verify. Not a change of the version: its rows and checksum stay as they are."""
    key_id, secret = seals.current_key()
    units, scores = unit_rows(publication.id), score_rows(publication.id)
    chunks = score_chunks(scores)
    by_unit: dict[str, list] = {}
    for s in scores:
        by_unit.setdefault(s.unit_code, []).append(s)
    publication.seal_key = key_id
    for u in units:
        mine = by_unit.get(u.code, [])
        values = dict(u._mapping, scores_sha256=seals.chunk_digest(chunks.get(u.code, seals.dump([]))),
                      points_sha256=seals.points_digest((s.indicator_code, seals.hundredths(s.max_points),
                                                         seals.hundredths(s.points)) for s in mine))
        db.session.execute(update(PUBLISHED_UNITS).where(PUBLISHED_UNITS.c.id == u.id).values(
            scores_sha256=values["scores_sha256"], points_sha256=values["points_sha256"],
            seal=seals.seal_unit(secret, publication, SimpleNamespace(**values))))
    publication.seal = seals.seal_header(secret, publication)


def unlocks_since(round_id: int, since: datetime) -> dict[int, str]:
    """unit id → who unlocked its final sheet and when, for the unlocks recorded after `since` (the last one)."""
    return {unit_id: f"{at:%Y-%m-%d %H:%M} UTC {name or ''}".strip() for unit_id, at, name in db.session.execute(
        select(AuditEvent.unit_id, AuditEvent.at, User.display_name).outerjoin(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.round_id == round_id, AuditEvent.action == "sheet.unlock", AuditEvent.at >= since)
        .order_by(AuditEvent.at, AuditEvent.id))}


def live_differences(round_: Round, units: list, *, since: datetime | None = None) -> list[str]:
    """Units whose total, result or name differ between a version (its unit rows) and today's data. A different
    total or result is called an unlock's only where an unlock of that unit was recorded after the version (`since`,
    its publication); otherwise it is named as unexplained — today's data changed without the recorded path."""
    live = {r.unit.code: r for r in live_report(round_).rows}
    unlocked = unlocks_since(round_.id, since) if since is not None else {}
    out = []
    for u in units:
        now = live.pop(u.code, None)
        if now is None:
            out.append(f"{u.code} {u.name}：已不在批次范围内")
            continue
        if (now.unit.final_total, now.unit.result.value) != (u.final_total, u.result):
            why = (f"（{unlocked[u.unit_id]} 解锁后修改）" if u.unit_id in unlocked
                   else "（没有解锁记录：当前数据未经解锁而改变，请核查）")
            out.append(f"{u.code} {u.name}：{_p(u.final_total) or '—'} {Result.zh_of(u.result)} → "
                       f"{_p(now.unit.final_total) or '—'} {now.unit.result.zh}{why}")
        if now.unit.name != u.name or now.township_name != u.township_name:
            out.append(f"{u.code}：名称或所属镇(街道)已改为 {now.township_name} {now.unit.name}")
    out += [f"{code} {r.unit.name}：公布后加入批次范围" for code, r in live.items()]
    return out
