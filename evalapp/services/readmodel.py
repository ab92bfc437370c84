"""The read model of a round's results: one value every official face renders — the results page, the dashboard,
the 通报, the API, finance's page, the district workbook and the eligibility sheet.

`round_model(round_)` builds it once, inside one read-only transaction of its own (`reading`): units with totals,
results, ranks, points missing and awards; veto findings and bonus items; the sums each total adds up from; the
publication shown, the round's last one and what is pending against it. Once a round is published the value is its
last version as frozen (services.snapshots writes versions, from `build` in the publishing transaction); before
publication, or with `draft=True`, the data as it stands.

The live report is kept per process under the round's results version (services.versions) and a version's report
under its id and checksum (a version never changes), so a page that repeats costs a dictionary lookup.
"""
import itertools
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal

from flask import current_app
from sqlalchemy import Integer, and_, select, type_coerce

from ..domain.aggregation import ranking_key
from ..domain.numbers import hundredths_text as text_of
from ..domain.scoring import Result
from ..domain.subsidy import Award, Band, SubsidyRule
from ..extensions import db
from ..models import (
    AuditEvent, BonusItem, DeductionRule, Indicator, OrgUnit, Publication, PublishedScore, PublishedUnit, Round,
    RoundUnit, Score, ScoreDeduction, Sheet, SheetBonus, SheetVeto, User, VetoItem,
)
from . import seals
from .finals import COUNTED_STATUSES
from .results import Report, ReportRow, UnitResult, assemble_report, failing_list, round_report
from .subsidy import award_lines, load_rules, rectified_units
from .versions import results_version

LEVELS = ("township", "village")


# ---------------------------------------------------------------- one read-only transaction


@contextmanager
def reading():
    """A read-only transaction of its own for building a read model; the caller's session, and anything it holds
    uncommitted, is left exactly as it was (nothing here commits it, and nothing here sees it).

    Flask-SQLAlchemy scopes `db.session` to the application context, so a fresh application context gives the
    read its own session on its own connection; leaving the context closes that session, rolling back. On
    PostgreSQL the transaction is REPEATABLE READ and READ ONLY: every statement reads one snapshot. On SQLite it
    begins at once (BEGIN), so every statement reads the same WAL snapshot.
    """
    with current_app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                                     "postgresql_readonly": True})
        else:
            db.session.connection().exec_driver_sql("BEGIN")
        yield


# ---------------------------------------------------------------- published versions


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
PUBLISHED_UNITS, PUBLISHED_SCORES = PublishedUnit.__table__, PublishedScore.__table__


def unit_rows(publication_id: int) -> list:
    return db.session.execute(select(PUBLISHED_UNITS).where(PUBLISHED_UNITS.c.publication_id == publication_id)
                              .order_by(PUBLISHED_UNITS.c.position)).all()


def score_rows(publication_id: int) -> list:
    return db.session.execute(select(PUBLISHED_SCORES).where(PUBLISHED_SCORES.c.publication_id == publication_id)
                              .order_by(PUBLISHED_SCORES.c.unit_code, PUBLISHED_SCORES.c.indicator_code)).all()


def rule_of(data: dict | None) -> SubsidyRule | None:
    """A rule as the snapshot holds it, back as the domain's dataclass."""
    if not data:
        return None
    return SubsidyRule(data["mode"], data["amount_fen"], tuple(
        Band(Decimal(lo), None if hi is None else Decimal(hi), fen, label) for lo, hi, fen, label in data["bands"]),
        data.get("rectified_percent"))


def rules_of(publication: Publication) -> dict[str, SubsidyRule | None]:
    return {level: rule_of(publication.rules.get(level)) for level in LEVELS}


def rectified_of(publication: Publication) -> dict[str, dict]:
    """The 整改后通过 units a version carries (its rules' "rectified": none in a version written before issue 32)."""
    return (publication.rules or {}).get("rectified") or {}


def caps_of(publication: Publication) -> dict[str, Decimal]:
    return {level: Decimal(c["bonus_cap"]) for level, c in publication.catalogues.items()}


def unit_result(row, tolerance: Decimal) -> UnitResult:
    """A snapshot row as the live report's UnitResult."""
    return UnitResult(row.unit_id, row.code, row.name, row.level, row.township_code, row.self_total, row.final_total,
                      row.final_status, Result(row.result), tolerance, row.final_sheet_id, row.self_sheet_id, row.rank,
                      row.missing, row.vetoed, row.place)


@dataclass(frozen=True)
class Extras:
    """What a version's unit rows hold beyond its report: awards, veto findings, bonus items, sums."""

    awards: dict[str, Award]
    vetoes: dict[str, list[list]]             # unit code → [[item code, item, finding]]
    bonus: dict[str, list]                    # unit code → [[code, text, points, note]]
    sums: dict[str, tuple]                    # unit code → (score sum, bonus sum)
    # A version's: unit code → its unit row, checked against its seal (to check its indicator rows: seals.check_scores)
    rows: dict[str, object] = field(default_factory=dict)
    # 整改后通过 units (issue 32, point 6): code → {"recorded_at", "total"} of the 复查 (a version's: as frozen)
    rectified: dict[str, dict] = field(default_factory=dict)


_serials = itertools.count(1)
clock = time.monotonic  # when a kept version's rows were last checked against their seals (tests set it)
_lock = threading.Lock()
_live: dict[tuple[str, int], tuple[int, Report]] = {}
_published: dict[tuple, tuple[Report, Extras, float]] = {}
_pending: dict[tuple, int] = {}
LIVE_SIZE, PUBLISHED_SIZE, PENDING_SIZE = 4, 8, 8


def new_serial() -> int:
    """A number unique to one computed report in this process (Report.serial)."""
    return next(_serials)


def _keep(cache: dict, key, value, size: int) -> None:
    with _lock:
        cache[key] = value
        while len(cache) > size:
            cache.pop(next(iter(cache)))


def clear_cache() -> None:
    with _lock:
        _live.clear()
        _published.clear()
        _pending.clear()


def published(publication: Publication, round_: Round | None, *, fresh: bool = False) -> tuple[Report, Extras]:
    """The results as the version holds it, with its extras, its seal checked (services.seals: SealBroken when what
    would be shown is not what was sealed).

    Kept per process: the version's row is checked on every call (one HMAC), its unit rows when they are read — at
    the latest SEAL_RECHECK_SECONDS after the last check, at once with `fresh` (the official downloads), so a row
    altered behind the app's back after this process read it shows as the alarm within that time."""
    seals.check_units(publication, [], whole=False)
    # (its checksum too: a database restored under the same URL may hold another publication with this id)
    key = (db.engine.url.render_as_string(), publication.id, publication.sha256, publication.seal)
    now = clock()
    with _lock:
        hit = _published.get(key)
    if hit is None or fresh or now - hit[2] > current_app.config["SEAL_RECHECK_SECONDS"]:
        rows = unit_rows(publication.id)
        seals.check_units(publication, rows)
        units = [unit_result(r, publication.tolerance) for r in rows]
        names = {r.code: r.name for r in rows if r.level == "township"}
        names.update({r.township_code: r.township_name for r in rows if r.level == "village" and r.township_code})
        # A version never changes: its report has a version and a serial, so the results page may keep its rows.
        report = replace(assemble_report(None, units, names, publication.figures_rule),
                         version=publication.version, serial=new_serial())
        rectified = rectified_of(publication)
        extras = Extras(
            awards={r.code: Award(r.code, r.amount_fen, r.subsidy_basis, r.subsidy_note,
                                  rectified.get(r.code, {}).get("withheld_fen", 0)) for r in rows},
            vetoes={r.code: r.veto_findings for r in rows if r.veto_findings},
            bonus={r.code: r.bonus_items for r in rows if r.bonus_items},
            sums={r.code: (r.score_sum, r.bonus_sum) for r in rows},
            rows={r.code: r for r in rows}, rectified=rectified)
        hit = (report, extras, now)
        _keep(_published, key, hit, PUBLISHED_SIZE)
    return replace(hit[0], round=round_), hit[1]


# ---------------------------------------------------------------- the data as it stands


def live_report(round_: Round) -> Report:
    """round_report, kept per process under the round's results version (services.versions) until a service bumps it.

    The version is read first, then the data: the report kept under a version holds data at least that new. It holds
    data only (no rendered markup); the round itself is the caller's. A province's report (31,500 units) takes about
    a second to compute and a dictionary lookup to reuse.
    """
    version = results_version(round_.id)
    if version is None:  # no version row: nothing would ever tell a kept report it is stale
        return round_report(round_)
    key = (db.engine.url.render_as_string(), round_.id)  # one process may serve more than one database
    with _lock:
        hit = _live.get(key)
    if hit is not None and hit[0] == version:
        return replace(hit[1], round=round_)
    report = replace(round_report(round_), version=version, serial=new_serial())
    _keep(_live, key, (version, replace(report, round=None)), LIVE_SIZE)
    return report


def veto_items(round_id: int) -> dict[int, list[list]]:
    """The veto findings of the round's final sheets: sheet id → [[item code, item text, finding]]."""
    found: dict[int, list] = {}
    for sheet_id, code, text, finding in db.session.execute(
            select(SheetVeto.sheet_id, VetoItem.code, VetoItem.text, SheetVeto.description)
            .join(VetoItem, VetoItem.id == SheetVeto.veto_item_id)
            .join(Sheet, Sheet.id == SheetVeto.sheet_id)
            .where(Sheet.round_id == round_id, Sheet.kind == "final").order_by(VetoItem.position, VetoItem.code)):
        found.setdefault(sheet_id, []).append([code, text, finding])
    return found


def bonus_items(round_id: int) -> dict[int, list[list]]:
    """The bonus items of the round's final sheets: sheet id → [[code, text, points as text, note]]."""
    found: dict[int, list] = {}
    for sheet_id, code, text, points, note in db.session.execute(
            select(SheetBonus.sheet_id, BonusItem.code, BonusItem.text, BonusItem.points, SheetBonus.note)
            .join(BonusItem, BonusItem.id == SheetBonus.bonus_item_id)
            .join(Sheet, Sheet.id == SheetBonus.sheet_id)
            .where(Sheet.round_id == round_id, Sheet.kind == "final").order_by(BonusItem.position, BonusItem.code)):
        found.setdefault(sheet_id, []).append([code, text, f"{points:.2f}", note or ""])
    return found


def failing_rectified(round_: Round, report: Report) -> dict[str, dict]:
    """The units that passed their 复查 and still do not pass in the data as it stands (one corrected since to pass
    on its own is simply 合格)."""
    failing = {r.unit.code for r in report.rows if r.unit.result is not Result.PASS}
    return {code: info for code, info in rectified_units(round_.id).items() if code in failing}


def live_extras(round_: Round, report: Report, rules: dict[str, SubsidyRule | None]) -> Extras:
    """Awards under today's rules, veto findings, bonus items and the final sheets' sums, by unit code."""
    by_sheet = {r.unit.final_sheet_id: r.unit.code for r in report.rows if r.unit.final_sheet_id}
    vetoes, bonus = veto_items(round_.id), bonus_items(round_.id)
    sums = {by_sheet[sheet_id]: (score_sum, bonus_sum) for sheet_id, score_sum, bonus_sum in db.session.execute(
        select(Sheet.id, Sheet.score_sum, Sheet.bonus_sum).where(Sheet.round_id == round_.id, Sheet.kind == "final"))
        if sheet_id in by_sheet}
    rectified = failing_rectified(round_, report)
    return Extras(
        awards=award_lines(rules, report.rows, rectified),
        vetoes={code: vetoes[sheet_id] for sheet_id, code in by_sheet.items() if sheet_id in vetoes},
        bonus={code: bonus[sheet_id] for sheet_id, code in by_sheet.items() if sheet_id in bonus},
        sums=sums, rectified=rectified)


# ---------------------------------------------------------------- the model


@dataclass
class EligibilityLine:
    row: ReportRow
    award: Award


@dataclass
class RoundResults:
    """A round's results as every official face shows them: its last published version (official), or the data as
    it stands (a draft: before publication, or asked for)."""

    round: Round
    report: Report
    publication: Publication | None  # the version shown; None: the data as it stands
    last: Publication | None         # the round's last version, whether shown or not
    pending: int | None              # while sheets are unlocked: units whose total, result or amount would change
    threshold: Decimal
    caps: dict[str, Decimal]               # asked for with extras, else empty
    rules: dict[str, SubsidyRule | None]   # asked for with extras, else empty
    extras: Extras | None  # asked for (`build`'s `extras`): awards, findings, bonus items, sums
    lines: list[EligibilityLine] = field(default_factory=list)
    by_township: list[dict] = field(default_factory=list)
    failing: list = field(default_factory=list)  # asked for: the 通报 list (`failing_of`)
    changes: tuple[list["Change"], str] | None = None  # asked for: `changes_of`

    @property
    def official(self) -> bool:
        return self.publication is not None

    # The names finance's page and sheet read (正式 / 草稿; the version a 正式 sheet is read from).
    final = official

    @property
    def last_publication(self) -> Publication | None:
        return self.last

    @property
    def vetoes(self) -> dict[str, list[tuple[str, str]]]:
        """Unit code → [(veto item, finding)]."""
        return {code: [(text, finding) for _c, text, finding in found] for code, found in self.extras.vetoes.items()}

    @property
    def total_fen(self) -> int:
        return sum(line.award.amount_fen for line in self.lines)

    @property
    def round_name(self) -> str:
        return self.publication.round_name if self.publication is not None else self.round.name


def failing_of(model: RoundResults) -> list:
    """The 通报 list: units that did not pass, in ranking order, each with its three weakest indicators and any veto
    finding (the model's extras)."""
    ordered = sorted((r.unit for r in model.report.rows), key=lambda u: ranking_key(u.level, u.place))
    if model.publication is not None:
        # The failing units' indicator rows, each unit's checked against its seal before any is shown.
        failing = [u.code for u in ordered if u.result is not Result.PASS]
        by_unit: dict[str, list] = {}
        for row in db.session.execute(select(PUBLISHED_SCORES).where(
                PUBLISHED_SCORES.c.publication_id == model.publication.id,
                PUBLISHED_SCORES.c.unit_code.in_(select(PUBLISHED_UNITS.c.code).where(
                    PUBLISHED_UNITS.c.publication_id == model.publication.id,
                    PUBLISHED_UNITS.c.result != Result.PASS.value)))):
            by_unit.setdefault(row.unit_code, []).append(row)
        for code in failing:
            seals.check_scores(model.publication, model.extras.rows[code], by_unit.get(code, []))
        losses = ((r.unit_code, r.indicator_code, r.title, r.max_points - r.points)
                  for code in failing for r in by_unit.get(code, [])
                  if r.points is not None and r.points < r.max_points)
    else:
        # The round's final sheets as a subquery, not a list of ids: a province has more failing units than a
        # statement may carry parameters.
        losses = ((code, ind_code, title, lost) for code, ind_code, title, lost in db.session.execute(
            select(OrgUnit.code, Indicator.code, Indicator.title, (Indicator.points - Score.points))
            .select_from(Score)
            .join(Indicator, Indicator.id == Score.indicator_id)
            .join(Sheet, Sheet.id == Score.sheet_id)
            .join(OrgUnit, OrgUnit.id == Sheet.unit_id)
            .where(Sheet.round_id == model.round.id, Sheet.kind == "final", Indicator.points > Score.points)))
    return failing_list(ordered, losses, model.vetoes, key=lambda u: u.code)


def build(round_: Round, *, draft: bool = False, extras: bool = False, failing: bool = False,
          changes: bool = False, fresh: bool = False) -> RoundResults:
    """The round's results in the caller's transaction (`round_model` gives it one of its own; a publication builds
    it under the round's lock, once). Reads the round's status and settings as this transaction sees them.

    What a face needs beyond the units' results is asked for: `extras` (awards with the eligibility lines and the
    summary by township, veto findings, bonus items, sums), `failing` (the 通报 list; implies extras), `changes`
    (against the version before or the last one). `fresh`: a version's rows read and checked against their seals
    now, whatever this process checked before (the official downloads)."""
    extras = extras or failing
    # The round as this transaction reads it: a read's own session loads it afresh; a publication has just read it
    # again under its lock (locks.lock_round).
    row = db.session.get(Round, round_.id)
    last = latest(row.id) if row.status == "published" else None
    shown = last if last is not None and not draft else None
    live = live_report(round_) if shown is None or row.changed_since_publication else None
    # The subsidy rules and bonus caps only where a face asks for extras (the pages that list units read neither).
    rules, caps = {}, {}
    if shown is not None:
        report, kept = published(shown, round_, fresh=fresh)
        threshold = shown.threshold
        if extras:
            rules, caps = rules_of(shown), caps_of(shown)
    else:
        report, kept, threshold = live, None, row.threshold
        if extras:
            rules = load_rules(row)
            caps = {level: row.catalogue_for(level).bonus_cap for level in LEVELS}
            kept = live_extras(row, live, rules)
    pending = pending_count(row, last, live) if last is not None and row.changed_since_publication else None
    model = RoundResults(round_, report, shown, last, pending, threshold, caps, rules, kept if extras else None)
    if failing:
        model.failing = failing_of(model)
    if changes:
        model.changes = changes_of(model)
    if not extras:
        return model
    model.lines = [EligibilityLine(r, kept.awards[r.unit.code]) for r in report.rows]  # township, its villages
    groups: dict[tuple[str, str], dict] = {}
    for line in model.lines:
        key = (line.row.township_name, line.row.unit.level)
        g = groups.setdefault(key, {"township": key[0], "level": key[1], "in_scope": 0, "passed": 0,
                                    "amount_fen": 0})
        g["in_scope"] += 1
        g["passed"] += line.row.unit.result is Result.PASS
        g["amount_fen"] += line.award.amount_fen
    model.by_township = list(groups.values())
    return model


def round_model(round_: Round, *, draft: bool = False, **asked: bool) -> RoundResults:
    """What the results page, the dashboard, the 通报, the workbook, finance and the API show of a round, built once
    in a read-only transaction of its own: once published, its last version (whatever was unlocked since);
    `draft=True` or before publication, the data as it stands. `asked`: what beyond the units (`build`)."""
    with reading():
        return build(round_, draft=draft, **asked)


def standing_of(final_sheet: Sheet) -> UnitResult | None:
    """The unit of a final sheet as the round's results show it today (rank, points missing, veto), from the kept
    live report; None when the unit is not in the round's scope."""
    report = live_report(final_sheet.round)
    return next((r.unit for r in report.rows if r.unit.final_sheet_id == final_sheet.id), None)


def member_deductions(round_id: int, unit_ids: list[int] | None = None) -> dict[tuple[str, str], list]:
    """(unit code, indicator code) → each counted member's deductions on that indicator, where the member took any
    points off: the rules applied with counts, a free deduction with its reason (of the given units, else all)."""
    query = (
        # Points read raw (integer hundredths, models.base.Points) and written as text by integer arithmetic.
        select(OrgUnit.code, Indicator.code, Sheet.inspector_id, User.display_name,
               type_coerce(Score.points, Integer), type_coerce(Score.free_deduction, Integer), Score.reason,
               DeductionRule.code, DeductionRule.text, ScoreDeduction.count, type_coerce(DeductionRule.per, Integer),
               DeductionRule.void)
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
    # A Core execution: plain rows, without the ORM's per-row bookkeeping (a province's members' scores).
    for (unit_code, ind_code, member_id, member, points, free, reason, rule_code, rule_text, count, per,
         void) in db.session.connection().execute(query):
        members = out.setdefault((unit_code, ind_code), {})
        entry = members.get(member_id)
        if entry is None:
            entry = members[member_id] = {"member": member, "points": text_of(points), "rules": [],
                                          "free": text_of(free or 0), "reason": reason or ""}
        if rule_code is not None:
            entry["rules"].append([rule_code, rule_text, count, None if void else text_of(per)])
    return {key: list(members.values()) for key, members in out.items()}


def _p(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


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
    old_rectified: str = ""  # when the unit's 复查 found it 整改后通过 (UTC ISO), "" if not, on either side
    new_rectified: str = ""

    @property
    def rectified_at(self) -> datetime | None:
        """When the 复查 that made the unit 整改后通过 in the newer version was recorded (aware UTC), or None."""
        if not self.new_rectified:
            return None
        return datetime.strptime(self.new_rectified, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    @property
    def delta_fen(self) -> int:
        """Money to add (> 0, 追加) or recover (< 0, 收回)."""
        return self.new_fen - self.old_fen


Lines = dict[str, tuple]  # unit code → (unit id, name, township name, total, result, fen, 整改后通过 recorded at or "")


def published_lines(publication: Publication) -> Lines:
    """A version's lines, from its rows as checked against their seal (`published`)."""
    report, kept = published(publication, None)
    return {r.unit.code: (r.unit.unit_id, r.unit.name, r.township_name, r.unit.final_total, r.unit.result.value,
                          kept.awards[r.unit.code].amount_fen,
                          kept.rectified.get(r.unit.code, {}).get("recorded_at", "")) for r in report.rows}


def live_lines(round_: Round, report: Report | None = None) -> Lines:
    """Today's lines, from the report given (the one a page already holds) or the round's kept live report."""
    report = report or live_report(round_)
    rectified = failing_rectified(round_, report)
    awards = award_lines(load_rules(round_), report.rows, rectified)
    return {r.unit.code: (r.unit.unit_id, r.unit.name, r.township_name, r.unit.final_total, r.unit.result.value,
                          awards[r.unit.code].amount_fen, rectified.get(r.unit.code, {}).get("recorded_at", ""))
            for r in report.rows}


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
                          o[4] if o else None, n[4] if n else None, o[5] if o else 0, n[5] if n else 0,
                          old_rectified=o[6] if o else "", new_rectified=n[6] if n else ""))
    return out


def pending_count(round_: Round, last: Publication, live: Report) -> int:
    """How many units republication would change against `last`: their total, result or amount.

    A function of the version (which never changes), of the live report (its results version: services.versions)
    and of the subsidy rules (locked once a round is published), so it is counted once per version and results
    version and kept per process under both — a report without a results version keeps nothing."""
    key = (db.engine.url.render_as_string(), round_.id, live.version, last.id, last.sha256)
    if live.version is not None:
        with _lock:
            found = _pending.get(key)
        if found is not None:
            return found
    count = len(diff(published_lines(last), live_lines(round_, live)))
    if live.version is not None:
        _keep(_pending, key, count, PENDING_SIZE)
    return count


def changes(old: Publication, round_: Round, new: Publication | None = None, *,
            live: Report | None = None) -> list[Change]:
    """What changed from version `old` to version `new` — or, without `new`, to today's data (the changes pending
    republication: from `live`, the live report the caller holds, else the kept one) — each with the unlocks of
    its unit in between (who, reason, when)."""
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


def changes_of(model: RoundResults) -> tuple[list[Change], str] | None:
    """What the shown version changed against the one before, or — a draft while sheets are unlocked — what
    republication would change against the last version; with the words naming the two (None: nothing to
    compare)."""
    pub, last = model.publication, model.last
    if pub is not None and pub.version > 1:
        since = version_of(model.round.id, pub.version - 1)
        return changes(since, model.round, pub), f"第{since.version}版 → 第{pub.version}版"
    if pub is None and last is not None:
        return changes(last, model.round, live=model.report), f"第{last.version}版 → 草稿（待重新公布）"
    return None
