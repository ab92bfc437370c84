"""Publication snapshots (issue 17): a round's results frozen in the publishing transaction, read by every official
output, checked by `verify-publication`.

`freeze` writes version N + 1 of a round: per unit its code, name, township and level as they were, self and final
totals, bonus items, veto findings, result, rank, points missing, the subsidy rule applied and the amount in fen;
per unit and indicator the final score, the leader's reason and the members' deductions behind it; the round's
threshold, catalogues, bonus caps, subsidy rules, who published and when — and a SHA-256 over `canonical(...)`.
Nothing here updates a snapshot row: a republication is a new version.

`report_of(publication)` gives the results as the version holds them, in the shape the live report has
(services.results.Report), so the pages and exports take either; a version never changes, so its report is kept
per process by the publication's id without any version check.
"""
import hashlib
import json
import threading
from dataclasses import dataclass, replace
from types import SimpleNamespace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, insert, select, update

from ..domain.scoring import Line, Result, Sums, standing
from ..domain.subsidy import Award, Band, Candidate, SubsidyRule, allocate
from ..extensions import db
from ..models import (
    BonusItem, DeductionRule, Indicator, OrgUnit, Publication, PublishedScore, PublishedUnit, Round, RoundUnit, Score,
    ScoreDeduction, Sheet, SheetBonus, SheetVeto, User, VetoItem,
)
from .results import (
    Report, UnitResult, assemble_report, cached_round_report, failing_list, new_serial, place, round_report,
)

COUNTED_STATUSES = ("submitted", "approved")  # the members' sheets a final score is decided from (services.reconcile)


# ---------------------------------------------------------------- reading


def latest(round_id: int) -> Publication | None:
    """The round's newest published version, or None."""
    return db.session.scalars(select(Publication).where(Publication.round_id == round_id)
                              .order_by(Publication.version.desc()).limit(1)).first()


def version_of(round_id: int, version: int) -> Publication | None:
    return db.session.scalars(select(Publication).where(Publication.round_id == round_id,
                                                        Publication.version == version)).first()


def versions(round_id: int) -> list[Publication]:
    return db.session.scalars(select(Publication).where(Publication.round_id == round_id)
                              .order_by(Publication.version)).all()


# A version's rows are read as plain rows (attribute access by column name, the columns' types applied), not as ORM
# objects: a province's version is 31,500 unit rows and some 800,000 score rows, and nothing changes them.
_UNITS, _SCORES = PublishedUnit.__table__, PublishedScore.__table__


def unit_rows(publication_id: int) -> list:
    return db.session.execute(select(_UNITS).where(_UNITS.c.publication_id == publication_id)
                              .order_by(_UNITS.c.position)).all()


def score_rows(publication_id: int) -> list:
    return db.session.execute(select(_SCORES).where(_SCORES.c.publication_id == publication_id)
                              .order_by(_SCORES.c.unit_code, _SCORES.c.indicator_code)).all()


def awards_of(publication: Publication) -> dict[str, Award]:
    """Each unit's award as the version holds it, by code."""
    return {code: Award(code, fen, basis, note) for code, fen, basis, note in db.session.execute(
        select(PublishedUnit.code, PublishedUnit.amount_fen, PublishedUnit.subsidy_basis, PublishedUnit.subsidy_note)
        .where(PublishedUnit.publication_id == publication.id))}


def vetoes_of(publication: Publication) -> dict[str, list[tuple[str, str]]]:
    """Unit code → [(veto item, finding)] as the version holds them."""
    return {code: [(text, finding) for _code, text, finding in found] for code, found in db.session.execute(
        select(PublishedUnit.code, PublishedUnit.veto_findings)
        .where(PublishedUnit.publication_id == publication.id)) if found}


def rule_of(data: dict | None) -> SubsidyRule | None:
    """A rule as the snapshot holds it, back as the domain's dataclass."""
    if not data:
        return None
    return SubsidyRule(data["mode"], data["amount_fen"], tuple(
        Band(Decimal(lo), None if hi is None else Decimal(hi), fen, label) for lo, hi, fen, label in data["bands"]))


def rules_of(publication: Publication) -> dict[str, SubsidyRule | None]:
    return {level: rule_of(publication.rules.get(level)) for level in ("township", "village")}


def caps_of(publication: Publication) -> dict[str, Decimal]:
    return {level: Decimal(c["bonus_cap"]) for level, c in publication.catalogues.items()}


def lines_of(publication: Publication) -> dict[str, Line]:
    """The line of each level as the version was computed under: its threshold, its catalogues' bonus caps, and
    their indicator counts (a catalogue used by a round is frozen: services.catalogue_io.is_frozen)."""
    counts = dict(db.session.execute(
        select(Indicator.catalogue_id, func.count(Indicator.id))
        .where(Indicator.catalogue_id.in_([c["id"] for c in publication.catalogues.values()]))
        .group_by(Indicator.catalogue_id)).all())
    return {level: Line(publication.threshold, Decimal(c["bonus_cap"]), counts.get(c["id"], 0))
            for level, c in publication.catalogues.items()}


def unit_result(row: PublishedUnit, tolerance: Decimal) -> UnitResult:
    """A snapshot row as the live report's UnitResult."""
    return UnitResult(row.unit_id, row.code, row.name, row.level, row.township_code, row.self_total, row.final_total,
                      row.final_status, Result(row.result), tolerance, row.final_sheet_id, row.self_sheet_id, row.rank,
                      row.missing, row.vetoed, row.place)


_reports: dict[tuple[str, int, str], Report] = {}
_reports_lock = threading.Lock()
REPORT_CACHE_SIZE = 8


def report_of(publication: Publication, round_: Round) -> Report:
    """The results as the version holds them (kept per process: a version never changes)."""
    # (its checksum too: a database restored under the same URL may hold another publication with this id)
    key = (db.engine.url.render_as_string(), publication.id, publication.sha256)
    with _reports_lock:
        hit = _reports.get(key)
    if hit is None:
        rows = unit_rows(publication.id)
        units = [unit_result(r, publication.tolerance) for r in rows]
        names = {r.code: r.name for r in rows if r.level == "township"}
        names.update({r.township_code: r.township_name for r in rows if r.level == "village" and r.township_code})
        # A version never changes: its report has a version and a serial, so the results page may keep its rows.
        hit = replace(assemble_report(None, units, names), version=publication.version, serial=new_serial())
        with _reports_lock:
            _reports[key] = hit
            while len(_reports) > REPORT_CACHE_SIZE:
                _reports.pop(next(iter(_reports)))
    return replace(hit, round=round_)


def clear_cache() -> None:
    with _reports_lock:
        _reports.clear()
    with _pending_lock:
        _pending.clear()


# ---------------------------------------------------------------- canonical form


def _p(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def canonical(publication: Publication, units: list[PublishedUnit], scores: list[PublishedScore]) -> bytes:
    """The version as canonical JSON (sorted keys, no spaces, UTF-8, points as two-decimal strings, times in UTC
    ISO 8601): what its SHA-256 is taken over. Ids of rows that exist only in this database are left out."""
    doc = {
        "round": {"id": publication.round_id, "name": publication.round_name, "version": publication.version,
                  "published_at": publication.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "published_by": publication.published_by_name, "threshold": _p(publication.threshold),
                  "tolerance": _p(publication.tolerance), "catalogues": publication.catalogues,
                  "rules": publication.rules, "unit_count": publication.unit_count,
                  "total_fen": publication.total_fen},
        "units": [[u.position, u.code, u.name, u.level, u.township_code, u.township_name, u.final_status,
                   _p(u.self_total), _p(u.score_sum), _p(u.bonus_sum), _p(u.final_total), u.vetoed, u.result, u.rank,
                   _p(u.missing), u.place, u.bonus_items, u.veto_findings, u.subsidy_basis, u.subsidy_note,
                   u.amount_fen] for u in sorted(units, key=lambda u: u.position)],
        "scores": [[s.unit_code, s.indicator_code, s.title, _p(s.max_points), _p(s.points), s.reason, s.deductions]
                   for s in sorted(scores, key=lambda s: (s.unit_code, s.indicator_code))],
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def checksum(publication: Publication, units: list[PublishedUnit], scores: list[PublishedScore]) -> str:
    return hashlib.sha256(canonical(publication, units, scores)).hexdigest()


# ---------------------------------------------------------------- writing


def lock_round(round_: Round) -> None:
    """Take the round's write lock before reading what a publication decides on: PostgreSQL's row lock, or on
    SQLite the database's write lock (a no-op UPDATE: Python's sqlite3 begins a transaction at the first write, and
    reads before it see every commit) — then read the round again under it. Of two publishers, the second waits here
    and then sees the first one's publication."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(Round.id).where(Round.id == round_.id).with_for_update())
    else:
        db.session.execute(update(Round).where(Round.id == round_.id).values(status=Round.status))
    db.session.refresh(round_)


def _rule_data(rule: SubsidyRule | None) -> dict | None:
    if rule is None:
        return None
    return {"mode": rule.mode, "amount_fen": rule.amount_fen,
            "bands": [[_p(b.min_total), _p(b.max_total), b.amount_fen, b.label] for b in rule.bands]}


def _catalogue(round_: Round, level: str) -> dict:
    c = round_.catalogue_for(level)
    return {"id": c.id, "code": c.code, "name": c.name, "version": c.version, "bonus_cap": _p(c.bonus_cap)}


def _bonus_items(round_id: int) -> dict[int, list]:
    found: dict[int, list] = {}
    for sheet_id, code, text, points, note in db.session.execute(
            select(SheetBonus.sheet_id, BonusItem.code, BonusItem.text, BonusItem.points, SheetBonus.note)
            .join(BonusItem, BonusItem.id == SheetBonus.bonus_item_id)
            .join(Sheet, Sheet.id == SheetBonus.sheet_id)
            .where(Sheet.round_id == round_id, Sheet.kind == "final").order_by(BonusItem.position, BonusItem.code)):
        found.setdefault(sheet_id, []).append([code, text, _p(points), note or ""])
    return found


def _veto_findings(round_id: int) -> dict[int, list]:
    found: dict[int, list] = {}
    for sheet_id, code, text, finding in db.session.execute(
            select(SheetVeto.sheet_id, VetoItem.code, VetoItem.text, SheetVeto.description)
            .join(VetoItem, VetoItem.id == SheetVeto.veto_item_id)
            .join(Sheet, Sheet.id == SheetVeto.sheet_id)
            .where(Sheet.round_id == round_id, Sheet.kind == "final").order_by(VetoItem.position, VetoItem.code)):
        found.setdefault(sheet_id, []).append([code, text, finding])
    return found


def member_deductions(round_id: int, unit_ids: list[int] | None = None) -> dict[tuple[str, str], list]:
    """(unit code, indicator code) → each counted member's deductions on that indicator, where the member took any
    points off: the rules applied with counts, a free deduction with its reason (of the given units, else all)."""
    query = (
        select(OrgUnit.code, Indicator.code, Indicator.points, Sheet.inspector_id, User.display_name,
               Score.points, Score.free_deduction, Score.reason,
               DeductionRule.code, DeductionRule.text, ScoreDeduction.count, DeductionRule.per, DeductionRule.void)
        .select_from(Score)
        .join(Sheet, Sheet.id == Score.sheet_id)
        .join(OrgUnit, OrgUnit.id == Sheet.unit_id)
        .join(RoundUnit, and_(RoundUnit.round_id == round_id, RoundUnit.unit_id == Sheet.unit_id))
        .join(Indicator, Indicator.id == Score.indicator_id)
        .join(User, User.id == Sheet.inspector_id)
        .outerjoin(ScoreDeduction, ScoreDeduction.score_id == Score.id)
        .outerjoin(DeductionRule, DeductionRule.id == ScoreDeduction.rule_id)
        .where(Sheet.round_id == round_id, Sheet.kind == "inspector", Sheet.status.in_(COUNTED_STATUSES),
               Score.points.is_not(None), Score.points < Indicator.points)
        .order_by(OrgUnit.code, Indicator.code, Sheet.inspector_id, DeductionRule.position, DeductionRule.code)
    )
    if unit_ids is not None:
        query = query.where(Sheet.unit_id.in_(unit_ids))
    out: dict[tuple[str, str], dict[int, dict]] = {}
    for (unit_code, ind_code, _max, member_id, member, points, free, reason, rule_code, rule_text, count, per,
         void) in db.session.execute(query):
        members = out.setdefault((unit_code, ind_code), {})
        entry = members.get(member_id)
        if entry is None:
            entry = members[member_id] = {"member": member, "points": _p(points), "rules": [],
                                          "free": _p(free or Decimal(0)), "reason": reason or ""}
        if rule_code is not None:
            entry["rules"].append([rule_code, rule_text, count, None if void else _p(per)])
    return {key: list(members.values()) for key, members in out.items()}


def freeze(round_: Round, user: User | None, at: datetime) -> Publication:
    """Write the round's next version from the data as it stands, in the caller's transaction (after lock_round)."""
    from .subsidy import award_lines, load_rules

    report = round_report(round_)
    rules = load_rules(round_)
    awards = award_lines(rules, report.rows)
    bonus = _bonus_items(round_.id)
    vetoes = _veto_findings(round_.id)
    sums = dict(db.session.execute(
        select(Sheet.id, Sheet.score_sum).where(Sheet.round_id == round_.id, Sheet.kind == "final")).all())
    version = (db.session.scalar(select(func.max(Publication.version))
                                 .where(Publication.round_id == round_.id)) or 0) + 1
    pub = Publication(round_id=round_.id, version=version, round_name=round_.name, published_at=at,
                      published_by_id=user.id if user is not None else None,
                      published_by_name=user.display_name if user is not None else "",
                      threshold=round_.threshold, tolerance=round_.tolerance,
                      catalogues={level: _catalogue(round_, level) for level in ("township", "village")},
                      rules={level: _rule_data(rules[level]) for level in ("township", "village")},
                      unit_count=len(report.rows), total_fen=sum(a.amount_fen for a in awards.values()), sha256="")
    db.session.add(pub)
    db.session.flush()  # its id; a second publisher of the same version fails here on (round_id, version)
    units = []
    for position, row in enumerate(report.rows, start=1):
        u, award = row.unit, awards[row.unit.code]
        sheet = u.final_sheet_id
        items = bonus.get(sheet, []) if sheet else []
        units.append(SimpleNamespace(
            publication_id=pub.id, position=position, unit_id=u.unit_id, code=u.code, name=u.name, level=u.level,
            township_code=u.township_code, township_name=row.township_name, self_sheet_id=u.self_sheet_id,
            final_sheet_id=sheet, final_status=u.final_status, self_total=u.self_total,
            score_sum=sums.get(sheet) if u.final_total is not None else None,
            bonus_sum=sum((Decimal(i[2]) for i in items), Decimal("0.00")) if u.final_total is not None else None,
            final_total=u.final_total, vetoed=u.vetoed,
            result=u.result.value, rank=u.rank, missing=u.missing, place=u.place, bonus_items=items,
            veto_findings=vetoes.get(sheet, []) if sheet else [], subsidy_basis=award.basis,
            subsidy_note=award.note, amount_fen=award.amount_fen))
    deductions = member_deductions(round_.id)
    scores = [SimpleNamespace(publication_id=pub.id, unit_code=unit_code, indicator_code=ind_code, title=title,
                              max_points=max_points, points=points, reason=reason or "",
                              deductions=deductions.get((unit_code, ind_code), []))
              for unit_code, ind_code, title, max_points, points, reason in db.session.execute(
                  select(OrgUnit.code, Indicator.code, Indicator.title, Indicator.points, Score.points, Score.reason)
                  .select_from(Score)
                  .join(Sheet, Sheet.id == Score.sheet_id)
                  .join(OrgUnit, OrgUnit.id == Sheet.unit_id)
                  .join(RoundUnit, and_(RoundUnit.round_id == round_.id, RoundUnit.unit_id == Sheet.unit_id))
                  .join(Indicator, Indicator.id == Score.indicator_id)
                  .where(Sheet.round_id == round_.id, Sheet.kind == "final"))]
    pub.sha256 = checksum(pub, units, scores)
    # Core inserts of plain values in bulk (executemany), no ORM objects.
    if units:
        db.session.execute(insert(_UNITS), [vars(u) for u in units])
    if scores:
        db.session.execute(insert(_SCORES), [vars(s) for s in scores])
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
    for level in ("township", "village"):
        of_level = [u for u in units if u.level == level]
        awards = allocate(rules[level], [Candidate(u.code, *recomputed[u.code]) for u in of_level])
        for u, a in zip(of_level, awards):
            # The amount, not the basis's wording: the checksum holds the text, and a band's wording may have been
            # improved since the version was written (it was, on 2026-12-01: "…(含)至…(不含)").
            if a.amount_fen != u.amount_fen:
                problems.append(f"{u.code} {u.name}：奖补金额应为 {a.amount_fen} 分（{a.basis}），"
                                f"版本记为 {u.amount_fen} 分（{u.subsidy_basis}）")
    if sum(u.amount_fen for u in units) != publication.total_fen:
        problems.append(f"奖补总额应为 {sum(u.amount_fen for u in units)} 分，版本记为 {publication.total_fen} 分")
    if len(units) != publication.unit_count:
        problems.append(f"单位数应为 {len(units)}，版本记为 {publication.unit_count}")
    return problems


def verify(publication: Publication) -> Verification:
    """Check a version against itself (its checksum; every unit's figures from its inputs) and report, separately,
    where today's live results differ from it."""
    units, scores = unit_rows(publication.id), score_rows(publication.id)
    computed = checksum(publication, units, scores)
    problems = [] if computed == publication.sha256 else [
        f"校验值不符：记录为 {publication.sha256}，按版本内容计算为 {computed}"]
    problems += recompute(publication, units, scores)
    round_ = db.session.get(Round, publication.round_id)
    return Verification(publication, publication.sha256, computed, problems, live_differences(publication, round_))


def live_differences(publication: Publication, round_: Round) -> list[str]:
    """Units whose total, result or name differ between the version and today's data (expected after an unlock)."""
    live = {r.unit.code: r for r in round_report(round_).rows}
    out = []
    for u in unit_rows(publication.id):
        now = live.pop(u.code, None)
        if now is None:
            out.append(f"{u.code} {u.name}：已不在批次范围内")
            continue
        if (now.unit.final_total, now.unit.result.value) != (u.final_total, u.result):
            out.append(f"{u.code} {u.name}：{_p(u.final_total) or '—'} {Result.zh_of(u.result)} → "
                       f"{_p(now.unit.final_total) or '—'} {now.unit.result.zh}")
        if now.unit.name != u.name or now.township_name != u.township_name:
            out.append(f"{u.code}：名称或所属镇(街道)已改为 {now.township_name} {now.unit.name}")
    out += [f"{code} {r.unit.name}：公布后加入批次范围" for code, r in live.items()]
    return out


# ---------------------------------------------------------------- what the pages show


@dataclass
class Shown:
    """The results a page shows: a published round's last version (official), or the data as it stands (draft)."""

    report: Report
    publication: Publication | None  # the version shown; None: the live data
    last: Publication | None         # the round's last version, whether shown or not
    pending: int | None              # while sheets are unlocked: units whose total, result or amount would change

    @property
    def official(self) -> bool:
        return self.publication is not None


def shown(round_: Round, *, draft: bool = False) -> Shown:
    """What the results page, the dashboard, the 通报, the workbook and the API show of a round: once published, its
    last version (whatever was unlocked since); `draft=True` or before publication, the data as it stands."""
    last = latest(round_.id) if round_.status == "published" else None
    live = cached_round_report(round_) if last is None or draft or round_.changed_since_publication else None
    pending = pending_count(round_, last, live) if last is not None and round_.changed_since_publication else None
    if last is not None and not draft:
        return Shown(report_of(last, round_), last, last, pending)
    return Shown(live, None, last, pending)


_pending: dict[tuple, int] = {}
_pending_lock = threading.Lock()
PENDING_SIZE = 8


def pending_count(round_: Round, last: Publication, live: Report) -> int:
    """How many units republication would change against `last`: their total, result or amount.

    Reading the version's lines and awarding today's took half a second at 1,500 townships, on every official view
    while a sheet is unlocked; it is a function of the version (which never changes), of the live report (its
    results version: services.versions) and of the subsidy rules (locked once a round is published), so it is
    counted once per version and results version and kept per process under both — a report without a results
    version keeps nothing."""
    key = (db.engine.url.render_as_string(), round_.id, live.version, last.id, last.sha256)
    if live.version is not None:
        with _pending_lock:
            found = _pending.get(key)
        if found is not None:
            return found
    count = len(diff(published_lines(last), live_lines(round_, live)))
    if live.version is not None:
        with _pending_lock:
            _pending[key] = count
            while len(_pending) > PENDING_SIZE:
                _pending.pop(next(iter(_pending)))
    return count


# ---------------------------------------------------------------- changes between versions


@dataclass
class Change:
    unit_id: int
    code: str
    name: str
    township_name: str
    old_total: Decimal | None
    new_total: Decimal | None
    old_result: str | None
    new_result: str | None
    old_fen: int
    new_fen: int
    unlocks: list[tuple[str, str, datetime]] | None = None  # (who, reason, when): the unlocks behind the change

    @property
    def delta_fen(self) -> int:
        """Money to add (> 0, 追加) or recover (< 0, 收回)."""
        return self.new_fen - self.old_fen


Lines = dict[str, tuple]  # unit code → (unit id, name, township name, total, result, fen)


def published_lines(publication: Publication) -> Lines:
    return {code: tuple(rest) for code, *rest in db.session.execute(
        select(PublishedUnit.code, PublishedUnit.unit_id, PublishedUnit.name, PublishedUnit.township_name,
               PublishedUnit.final_total, PublishedUnit.result, PublishedUnit.amount_fen)
        .where(PublishedUnit.publication_id == publication.id))}


def live_lines(round_: Round, report: Report | None = None) -> Lines:
    """Today's lines, from the report given (the one a page already holds) or the round's cached report (computed
    only when a service has changed what results read since: services.versions)."""
    from .subsidy import award_lines, load_rules

    report = report or cached_round_report(round_)
    awards = award_lines(load_rules(round_), report.rows)
    return {r.unit.code: (r.unit.unit_id, r.unit.name, r.township_name, r.unit.final_total, r.unit.result.value,
                          awards[r.unit.code].amount_fen) for r in report.rows}


def diff(old: Lines, new: Lines) -> list[Change]:
    """Each unit whose total, result or amount differs between two sets of lines (a unit only in one: 0 fen on the
    other side), in unit code order."""
    out = []
    for code in sorted(set(old) | set(new)):
        o, n = old.get(code), new.get(code)
        if o is not None and n is not None and o[3:] == n[3:]:
            continue
        ref = n or o
        out.append(Change(ref[0], code, ref[1], ref[2], o[3] if o else None, n[3] if n else None,
                          o[4] if o else None, n[4] if n else None, o[5] if o else 0, n[5] if n else 0))
    return out


def changes(old: Publication, round_: Round, new: Publication | None = None, *,
            live: Report | None = None) -> list[Change]:
    """What changed from version `old` to version `new` — or, without `new`, to today's data (the changes pending
    republication: from `live`, the live report the caller holds, else the cached one) — each with the unlocks of
    its unit in between (who, reason, when)."""
    from ..models import AuditEvent

    after = published_lines(new) if new is not None else live_lines(round_, live)
    found = diff(published_lines(old), after)
    query = (select(AuditEvent.unit_id, User.display_name, AuditEvent.detail, AuditEvent.at)
             .outerjoin(User, User.id == AuditEvent.user_id)
             .where(AuditEvent.round_id == round_.id, AuditEvent.action == "sheet.unlock",
                    AuditEvent.at >= old.published_at).order_by(AuditEvent.id))
    if new is not None:
        query = query.where(AuditEvent.at <= new.published_at)
    unlocks: dict[int, list] = {}
    for unit_id, who, reason, at in db.session.execute(query):
        unlocks.setdefault(unit_id, []).append((who or "", reason or "", at))
    for change in found:
        change.unlocks = unlocks.get(change.unit_id, [])
    return found


def failing_of(publication: Publication, units: list[UnitResult]) -> list:
    """The 通报 list of a published version: of `units` (its report's, in the order wanted), those that did not
    pass, each with its three weakest indicators and any veto finding, as the version holds them
    (services.results.failing_units for the live data; both through results.failing_list)."""
    vetoes = vetoes_of(publication)
    losses = ((code, ind_code, title, max_points - points) for code, ind_code, title, max_points, points in
              db.session.execute(
                  select(PublishedScore.unit_code, PublishedScore.indicator_code, PublishedScore.title,
                         PublishedScore.max_points, PublishedScore.points)
                  .where(PublishedScore.publication_id == publication.id, PublishedScore.points.is_not(None),
                         PublishedScore.points < PublishedScore.max_points)))
    return failing_list(units, losses, vetoes, key=lambda u: u.code)
