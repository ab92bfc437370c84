"""Across rounds (issue 33, points 2 and 3): a unit's history over every published version of every round it took
part in, and the district's year-over-year comparison with its 连续失分 list.

Everything is read from published versions (services.readmodel: each version's unit rows checked against their
seals; a unit's indicator rows against its seal), never from live sheets, in one read-only transaction
(readmodel.reading). Sums and counts are taken in SQL, a statement per question, never one per row. A unit is the
same unit across rounds by its id and its lineage (services.lineage: an official code imported or a code renamed
keeps it the same unit; a merged or split unit shows its predecessors' rows, labelled, and is not compared like
with like); an indicator is compared across versions only through "same" or "renamed" lineage, a category by its
code otherwise. Rounds are told in order of their 年度, then of their creation.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Integer, and_, case, func, literal, or_, select, type_coerce, union_all
from sqlalchemy.orm import selectinload

from ..domain import lineage as rules
from ..domain.numbers import q2
from ..domain.rectification import RectificationStatus
from ..domain.scoring import Result
from ..extensions import db
from ..models import Category, Indicator, Interview, OrgUnit, Publication, Rectification, Round
from . import lineage, readmodel, seals
from .errors import Text, _l

PU, PS = readmodel.PUBLISHED_UNITS, readmodel.PUBLISHED_SCORES
HUNDRED = Decimal(100)


def _int(column):
    """Points as stored (integer hundredths), for sums and comparisons in SQL."""
    return type_coerce(column, Integer)


def _points(hundredths) -> Decimal | None:
    return None if hundredths is None else (Decimal(int(hundredths)) / HUNDRED).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class VersionRef:
    """One published version, as history names it: "2021 第2版"."""

    publication_id: int
    round_id: int
    round_name: str
    year: int
    version: int
    threshold: Decimal
    catalogues: dict  # level → catalogue version id

    @property
    def label(self) -> Text:
        return _l("%(year)s 第%(version)s版", year=self.year, version=self.version)

    @property
    def label_zh(self) -> str:
        """The same in Chinese whatever the interface's language (official paper: the 评估总结)."""
        return f"{self.year} 第{self.version}版"


def _ref(pub: Publication, round_: Round) -> VersionRef:
    return VersionRef(pub.id, round_.id, pub.round_name, round_.year, pub.version, pub.threshold,
                      {level: c["id"] for level, c in (pub.catalogues or {}).items()})


def pair_label(before: VersionRef, after: VersionRef) -> Text:
    return _l("%(before)s vs %(after)s", before=before.label, after=after.label)


def pair_label_zh(before: VersionRef, after: VersionRef) -> str:
    return f"{before.label_zh} vs {after.label_zh}"


def _published_rounds() -> list[tuple[Publication, Round]]:
    """Every version of every published round, rounds in order (年度, then creation), versions in order."""
    return db.session.execute(select(Publication, Round).join(Round, Round.id == Publication.round_id)
                              .where(Round.status == "published")
                              .order_by(Round.year, Round.id, Publication.version)).all()


def _mapping_cte(pairs: list[tuple], names: tuple[str, ...], name: str):
    """A small table of literal rows as a CTE (both databases); a row that matches nothing when there is none."""
    rows = pairs or [tuple(-1 for _ in names)]
    selects = [select(*(literal(v).label(n) for v, n in zip(row, names))) for row in rows]
    return (union_all(*selects) if len(selects) > 1 else selects[0]).cte(name)


@dataclass
class Rate:
    code: str
    name: str
    points: Decimal | None
    maximum: Decimal
    category: str = ""

    @property
    def rate(self) -> Decimal | None:
        return rules.rate(self.points, self.maximum)


@dataclass
class Entry:
    """The unit (or a predecessor) in one published version."""

    ref: VersionRef
    code: str
    name: str
    level: str
    township_name: str
    total: Decimal | None
    result: Result
    rank: int | None
    level_count: int
    relation: str                 # "" the unit itself; else the change (domain.lineage.UnitChange) that links it
    catalogue_id: int
    categories: list[Rate] = field(default_factory=list)
    indicators: list[Rate] = field(default_factory=list)
    sealed: object = field(default=None, repr=False)  # its unit row as the version's seal checked it

    @property
    def relation_label(self) -> str:
        return rules.UnitChange.label_of(self.relation) if self.relation else ""


@dataclass
class Compared:
    code: str
    title: str
    relation: str           # the newer version's relation to its predecessor ("" where none is recorded)
    before: Rate | None     # None: not compared at indicator level
    after: Rate | None

    @property
    def delta(self) -> Decimal | None:
        if self.before is None or self.after is None or self.before.rate is None or self.after.rate is None:
            return None
        return self.after.rate - self.before.rate

    @property
    def relation_label(self) -> str:
        return rules.Relation.label_of(self.relation) if self.relation else ""


@dataclass
class Comparison:
    before: Entry
    after: Entry
    linked: bool                                   # a lineage leads from one catalogue version to the other
    indicators: list[Compared] = field(default_factory=list)
    categories: list[Compared] = field(default_factory=list)

    @property
    def label(self) -> Text:
        return pair_label(self.before.ref, self.after.ref)


@dataclass
class UnitHistory:
    unit: OrgUnit
    entries: list[Entry]
    comparisons: list[Comparison]

    @property
    def chart(self) -> dict:
        """What the page's chart draws (static/js/history.js): per version its total and its own line, and the
        categories' 得分率 by category code."""
        names: dict[str, str] = {}
        for e in self.entries:
            names.update({c.code: c.name for c in e.categories})
        return {
            "labels": [str(e.ref.label) for e in self.entries],
            "totals": [None if e.total is None else float(e.total) for e in self.entries],
            "lines": [float(e.ref.threshold) for e in self.entries],
            "categories": [{"code": code, "name": name, "rates": [
                next((float(c.rate) for c in e.categories if c.code == code and c.rate is not None), None)
                for e in self.entries]} for code, name in names.items()],
        }


def unit_history(unit: OrgUnit) -> UnitHistory:
    """Every published version of every round the unit (or a predecessor) took part in, oldest first, with the
    comparison of each with the one before; in a read-only transaction of its own."""
    with readmodel.reading():
        return _unit_history(db.session.get(OrgUnit, unit.id), unit)


def _unit_history(current: OrgUnit, unit: OrgUnit) -> UnitHistory:
    ids = lineage.ancestry(current.id)
    held = {(pid, code): uid for pid, code, uid in db.session.execute(
        select(PU.c.publication_id, PU.c.code, PU.c.unit_id).where(PU.c.unit_id.in_(list(ids))))}
    pubs = [(p, r) for p, r in _published_rounds() if any(pid == p.id for pid, _c in held)]
    entries: list[Entry] = []
    for pub, round_ in pubs:
        report, extras = readmodel.published(pub, None)  # the version's unit rows, checked against their seals
        ref = _ref(pub, round_)
        for row in report.rows:
            u = row.unit
            if (pub.id, u.code) not in held:
                continue
            entries.append(Entry(ref, u.code, u.name, u.level, row.township_name, u.final_total, u.result, u.rank,
                                 sum(1 for r in report.rows if r.unit.level == u.level), ids[held[(pub.id, u.code)]],
                                 ref.catalogues.get(u.level, 0), sealed=extras.rows[u.code]))
    if not entries:
        return UnitHistory(unit, [], [])
    _fill_rates(entries, {p.id: p for p, _r in pubs})
    # Each version with the one before it — where each holds one row of the unit's line (a merged unit's several
    # predecessors in one version are shown, labelled, but not compared one with another).
    groups: list[list[Entry]] = []
    for e in entries:
        if groups and groups[-1][0].ref.publication_id == e.ref.publication_id:
            groups[-1].append(e)
        else:
            groups.append([e])
    comparisons = [_compare(a[0], b[0]) for a, b in zip(groups, groups[1:]) if len(a) == len(b) == 1]
    return UnitHistory(unit, entries, comparisons)


def _fill_rates(entries: list[Entry], pubs: dict[int, Publication]) -> None:
    """Each entry's indicators (its rows, checked against the unit's seal) and categories (sums in SQL)."""
    wanted = or_(*(and_(PS.c.publication_id == e.ref.publication_id, PS.c.unit_code == e.code) for e in entries))
    rows: dict[tuple[int, str], list] = {}
    for r in db.session.execute(select(PS).where(wanted).order_by(PS.c.indicator_code)):
        rows.setdefault((r.publication_id, r.unit_code), []).append(r)
    catalogue_ids = {e.catalogue_id for e in entries}
    placed = {(cid, code): (cat_code, cat_pos, pos) for cid, code, cat_code, cat_pos, pos in db.session.execute(
        select(Indicator.catalogue_id, Indicator.code, Category.code, Category.position, Indicator.position)
        .join(Category, Category.id == Indicator.category_id).where(Indicator.catalogue_id.in_(catalogue_ids)))}
    mapping = _mapping_cte([(e.ref.publication_id, e.code, e.catalogue_id) for e in entries],
                           ("pid", "ucode", "cid"), "wanted")
    sums: dict[tuple[int, str], list[Rate]] = {}
    for pid, ucode, code, name, _pos, points, maximum in db.session.execute(
            select(mapping.c.pid, mapping.c.ucode, Category.code, Category.name, Category.position,
                   func.sum(_int(PS.c.points)),
                   func.sum(case((PS.c.points.is_not(None), _int(PS.c.max_points)), else_=0)))
            .select_from(mapping)
            .join(PS, and_(PS.c.publication_id == mapping.c.pid, PS.c.unit_code == mapping.c.ucode))
            .join(Indicator, and_(Indicator.catalogue_id == mapping.c.cid, Indicator.code == PS.c.indicator_code))
            .join(Category, Category.id == Indicator.category_id)
            .group_by(mapping.c.pid, mapping.c.ucode, Category.code, Category.name, Category.position)
            .order_by(mapping.c.pid, Category.position)):
        sums.setdefault((pid, ucode), []).append(Rate(code, name, _points(points), _points(maximum) or Decimal(0)))
    for e in entries:
        mine = rows.get((e.ref.publication_id, e.code), [])
        seals.check_scores(pubs[e.ref.publication_id], e.sealed, mine)
        e.indicators = sorted(
            (Rate(r.indicator_code, r.title, r.points, r.max_points,
                  placed.get((e.catalogue_id, r.indicator_code), ("", 0, 0))[0]) for r in mine),
            key=lambda rate: placed.get((e.catalogue_id, rate.code), ("", 0, 0))[1:] + (rate.code,))
        e.categories = sums.get((e.ref.publication_id, e.code), [])


def _relations(catalogue_id: int) -> dict[str, str]:
    found = lineage.lineage_of(catalogue_id)
    return {new: relation for _old, new, relation in lineage.links_of(found) if new} if found else {}


def _compare(before: Entry, after: Entry) -> Comparison:
    mapping = lineage.comparable_between(before.catalogue_id, after.catalogue_id)
    same_version = before.catalogue_id == after.catalogue_id
    relations = {} if same_version else _relations(after.catalogue_id)
    back = {new: old for old, new in (mapping or {}).items()}
    old_rates = {r.code: r for r in before.indicators}
    out = Comparison(before, after, mapping is not None)
    for rate in after.indicators:
        old = back.get(rate.code)
        out.indicators.append(Compared(rate.code, rate.name, "same" if same_version else relations.get(rate.code, ""),
                                       old_rates.get(old) if old else None, rate))
    old_cats = {c.code: c for c in before.categories}
    out.categories = [Compared(c.code, c.name, "", old_cats.get(c.code), c) for c in after.categories]
    return out


# ---------------------------------------------------------------- across the district


@dataclass
class TownshipLine:
    township: str
    level: str
    n: int
    passed_before: int
    passed_after: int
    sum_before: int   # hundredths
    sum_after: int

    @staticmethod
    def _pct(part: int, n: int) -> Decimal | None:
        return q2(Decimal(part) * 100 / n) if n else None

    @property
    def rate_before(self) -> Decimal | None:
        return self._pct(self.passed_before, self.n)

    @property
    def rate_after(self) -> Decimal | None:
        return self._pct(self.passed_after, self.n)

    @property
    def mean_before(self) -> Decimal | None:
        return q2(Decimal(self.sum_before) / 100 / self.n) if self.n else None

    @property
    def mean_after(self) -> Decimal | None:
        return q2(Decimal(self.sum_after) / 100 / self.n) if self.n else None

    @property
    def rate_change(self) -> Decimal | None:
        """Percentage points, later minus earlier (over the same n units)."""
        return self.rate_after - self.rate_before if self.n else None

    @property
    def mean_change(self) -> Decimal | None:
        return self.mean_after - self.mean_before if self.n else None


@dataclass
class LostLine:
    level: str
    code: str
    title: str
    units: int                 # units that lost points on it
    scored: int                # units scored on it
    points: Decimal            # points lost, summed
    before_code: str | None = None
    before_units: int | None = None
    before_scored: int | None = None


@dataclass
class Step:
    ref: VersionRef
    code: str
    title: str
    points: Decimal
    maximum: Decimal

    @property
    def rate(self) -> Decimal | None:
        return rules.rate(self.points, self.maximum)


@dataclass
class Outcome:
    """A rectification (整改) of the unit and where it stands, or a 约谈 it was called to."""

    kind: str            # "rectify" or "interview"
    id: int
    round_name: str
    number: str
    status: str          # the status's label in the interface's language
    total: Decimal | None = None  # the last 复查's total, where one was recorded
    status_zh: str = ""  # the status's Chinese label (official paper)


def _rect_outcome(rect: Rectification, names: dict[int, str]) -> Outcome:
    done = [c for c in rect.rechecks if c.outcome]
    last = done[-1] if done else None
    return Outcome("rectify", rect.id, names.get(rect.round_id, ""), rect.number or "",
                   RectificationStatus.label_of(rect.status), last.total if last else None,
                   RectificationStatus.zh_of(rect.status))


@dataclass
class StreakLine:
    unit_id: int
    code: str
    name: str
    township: str
    level: str
    steps: list[Step]
    proposal: str             # "rectify" (整改) or "interview" (约谈)
    last_round_id: int
    rectifications: list[Outcome] = field(default_factory=list)
    interviews: list[Interview] = field(default_factory=list)


@dataclass
class District:
    rounds: list[VersionRef]          # each published round's last version, in order
    before: VersionRef | None
    after: VersionRef | None
    below: int                        # the 得分率 threshold (percent) of the 连续失分 list
    townships: list[TownshipLine] = field(default_factory=list)
    total: TownshipLine | None = None
    only_before: int = 0              # units of the earlier version not in the later one (not compared)
    only_after: int = 0
    lost: list[LostLine] = field(default_factory=list)
    streaks: list[StreakLine] = field(default_factory=list)

    @property
    def label(self) -> Text | None:
        return pair_label(self.before, self.after) if self.before and self.after else None


LOST_TOP = 20


def last_versions() -> list[VersionRef]:
    """Each published round's last version, rounds in order."""
    last: dict[int, VersionRef] = {}
    for pub, round_ in _published_rounds():
        last[round_.id] = _ref(pub, round_)
    return list(last.values())


def district(before_round: int | None = None, after_round: int | None = None, below: int = 60) -> District:
    """The district across two published rounds (default: the last two), and the 连续失分 list over every published
    round up to the later one; in a read-only transaction of its own."""
    with readmodel.reading():
        refs = last_versions()
        by_round = {r.round_id: r for r in refs}
        after = by_round.get(after_round) if after_round else (refs[-1] if refs else None)
        if before_round:
            before = by_round.get(before_round)
        else:
            earlier = [r for r in refs if after is not None and refs.index(r) < refs.index(after)]
            before = earlier[-1] if earlier else None
        out = District(refs, before, after, below)
        if after is None:
            return out
        pubs = {p.id: p for p in db.session.scalars(select(Publication).where(
            Publication.id.in_([r.publication_id for r in refs])))}
        for ref in (before, after):
            if ref is not None:
                readmodel.published(pubs[ref.publication_id], None)  # its unit rows checked against their seals
        same = lineage.same_unit_map()
        if before is not None and before.round_id != after.round_id:
            _township_lines(out, before, after, same)
            _lost(out, before, after)
        else:
            _lost(out, None, after)
        upto = [r for r in refs if (r.year, r.round_id) <= (after.year, after.round_id)]
        _streaks(out, upto, below, same)
        return out


def version_ref(publication: Publication, round_: Round) -> VersionRef:
    """A given published version (not necessarily its round's last) as history names it."""
    return _ref(publication, round_)


def earlier_than(round_: Round) -> VersionRef | None:
    """The last version of the nearest round before `round_` that has a published version (rounds in order of their
    年度, then of their creation, as everything here orders them), or None; in the caller's transaction."""
    earlier = [r for r in last_versions() if (r.year, r.round_id) < (round_.year, round_.id)]
    return earlier[-1] if earlier else None


def compare_versions(before: VersionRef, after: VersionRef) -> District:
    """The district comparison between two given published versions — year-over-year by township, like with like,
    and the indicators lost most often in the later one with the earlier count beside each — without the 连续失分
    list; in the caller's transaction (the 评估总结 reads it in the same snapshot as the version it is generated
    from). Both versions' unit rows are checked against their seals."""
    pubs = {p.id: p for p in db.session.scalars(select(Publication).where(
        Publication.id.in_([before.publication_id, after.publication_id])))}
    for ref in (before, after):
        readmodel.published(pubs[ref.publication_id], None)
    out = District([before, after], before, after, 0)
    _township_lines(out, before, after, lineage.same_unit_map())
    _lost(out, before, after)
    return out


def _township_lines(out: District, before: VersionRef, after: VersionRef, same: dict[int, int]) -> None:
    """Year-over-year by township, like with like: the units in both versions (the same unit by id or lineage) with a
    total in both; pass rate and mean on each side over those n units. Sums in SQL."""
    ident = _mapping_cte(list(same.items()), ("old_id", "new_id"), "same_unit")
    a, b = PU.alias("a"), PU.alias("b")
    ma, mb = ident.alias("ma"), ident.alias("mb")
    key_a = func.coalesce(ma.c.new_id, a.c.unit_id)
    key_b = func.coalesce(mb.c.new_id, b.c.unit_id)
    passed = Result.PASS.value
    query = (select(b.c.level, b.c.township_name, func.count(),
                    func.sum(case((a.c.result == passed, 1), else_=0)),
                    func.sum(case((b.c.result == passed, 1), else_=0)),
                    func.sum(_int(a.c.final_total)), func.sum(_int(b.c.final_total)))
             .select_from(a).outerjoin(ma, ma.c.old_id == a.c.unit_id)
             .join(b, b.c.publication_id == after.publication_id)
             .outerjoin(mb, mb.c.old_id == b.c.unit_id)
             .where(a.c.publication_id == before.publication_id, key_a == key_b,
                    a.c.final_total.is_not(None), b.c.final_total.is_not(None))
             .group_by(b.c.level, b.c.township_name)
             .order_by(b.c.level, b.c.township_name))
    for level, township, n, pa, pb, sa, sb in db.session.execute(query):
        out.townships.append(TownshipLine(township, level, n, int(pa), int(pb), int(sa or 0), int(sb or 0)))
    out.total = TownshipLine("", "", sum(t.n for t in out.townships),
                             sum(t.passed_before for t in out.townships), sum(t.passed_after for t in out.townships),
                             sum(t.sum_before for t in out.townships), sum(t.sum_after for t in out.townships))
    keyed = select(key_a.label("k")).select_from(a).outerjoin(ma, ma.c.old_id == a.c.unit_id) \
        .where(a.c.publication_id == before.publication_id)
    keyed_b = select(key_b.label("k")).select_from(b).outerjoin(mb, mb.c.old_id == b.c.unit_id) \
        .where(b.c.publication_id == after.publication_id)
    out.only_before = db.session.scalar(select(func.count()).select_from(keyed.except_(keyed_b).subquery()))
    out.only_after = db.session.scalar(select(func.count()).select_from(keyed_b.except_(keyed).subquery()))


def _lost_counts(publication_id: int, limit: int | None = None) -> list[LostLine]:
    lost = _int(PS.c.max_points) - _int(PS.c.points)
    units = func.sum(case((_int(PS.c.points) < _int(PS.c.max_points), 1), else_=0))
    query = (select(PU.c.level, PS.c.indicator_code, func.max(PS.c.title), units, func.count(PS.c.points),
                    func.sum(case((PS.c.points.is_not(None), lost), else_=0)))
             .join(PU, and_(PU.c.publication_id == PS.c.publication_id, PU.c.code == PS.c.unit_code))
             .where(PS.c.publication_id == publication_id)
             .group_by(PU.c.level, PS.c.indicator_code)
             .order_by(units.desc(), func.sum(case((PS.c.points.is_not(None), lost), else_=0)).desc(),
                       PU.c.level, PS.c.indicator_code))
    if limit:
        query = query.limit(limit)
    return [LostLine(level, code, title, int(n or 0), int(scored or 0), _points(points or 0))
            for level, code, title, n, scored, points in db.session.execute(query)]


def _lost(out: District, before: VersionRef | None, after: VersionRef) -> None:
    """The indicators lost most often in the later version, with the earlier version's count beside each (through
    same / renamed lineage)."""
    out.lost = [line for line in _lost_counts(after.publication_id, LOST_TOP) if line.units]
    if before is None:
        return
    earlier = {(line.level, line.code): line for line in _lost_counts(before.publication_id)}
    for level in {line.level for line in out.lost}:
        mapping = lineage.comparable_between(before.catalogues.get(level, 0), after.catalogues.get(level, 0))
        back = {new: old for old, new in (mapping or {}).items()}
        for line in out.lost:
            if line.level == level and line.code in back and (level, back[line.code]) in earlier:
                old = earlier[(level, back[line.code])]
                line.before_code, line.before_units, line.before_scored = old.code, old.units, old.scored


def _streaks(out: District, refs: list[VersionRef], below: int, same: dict[int, int]) -> None:
    """连续失分: units under `below` percent on an indicator in two or more consecutive published rounds (each round's
    last version; the unit through its lineage, the indicator through same / renamed lineage), each with what is
    proposed (整改, or 约谈 after three rounds or a 整改 already issued) and its rectifications and 约谈."""
    if len(refs) < 2:
        return
    index = {r.publication_id: i for i, r in enumerate(refs)}
    low: list[set] = [set() for _ in refs]
    found: dict[tuple[int, int, str], tuple] = {}
    for pid, unit_id, level, code, title, points, maximum in db.session.execute(
            select(PS.c.publication_id, PU.c.unit_id, PU.c.level, PS.c.indicator_code, PS.c.title, PS.c.points,
                   PS.c.max_points)
            .join(PU, and_(PU.c.publication_id == PS.c.publication_id, PU.c.code == PS.c.unit_code))
            .where(PS.c.publication_id.in_(list(index)), PS.c.points.is_not(None),
                   _int(PS.c.points) * 100 < below * _int(PS.c.max_points))):
        i, key = index[pid], same.get(unit_id, unit_id)
        low[i].add((key, f"{level}:{code}"))
        found[(i, key, f"{level}:{code}")] = (title, points, maximum, level)
    maps = []
    for a, b in zip(refs, refs[1:]):
        step = {}
        for level in ("township", "village"):
            mapping = lineage.comparable_between(a.catalogues.get(level, 0), b.catalogues.get(level, 0)) or {}
            step.update({f"{level}:{old}": f"{level}:{new}" for old, new in mapping.items()})
        maps.append(step)
    streaks = rules.streaks(low, maps)
    if not streaks:
        return
    unit_ids = {s.unit for s in streaks}
    every = unit_ids | {old for old, new in same.items() if new in unit_ids}
    units = {u.id: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(unit_ids))
                                                .options(selectinload(OrgUnit.parent)))}
    rects: dict[int, list[Rectification]] = {}
    for rect in db.session.scalars(select(Rectification).where(Rectification.unit_id.in_(every))
                                   .options(selectinload(Rectification.rechecks)).order_by(Rectification.id)):
        rects.setdefault(same.get(rect.unit_id, rect.unit_id), []).append(rect)
    talks: dict[int, list[Interview]] = {}
    for talk in db.session.scalars(select(Interview).where(Interview.unit_id.in_(every)).order_by(Interview.id)):
        talks.setdefault(same.get(talk.unit_id, talk.unit_id), []).append(talk)
    names = {r.round_id: r.round_name for r in refs}
    for s in streaks:
        unit = units.get(s.unit)
        if unit is None:
            continue
        steps = []
        for i, code in zip(s.rounds, s.codes):
            title, points, maximum, level = found[(i, s.unit, code)]
            steps.append(Step(refs[i], code.split(":", 1)[1], title, points, maximum))
        in_streak = {refs[i].round_id for i in s.rounds}
        told = any(r.round_id in in_streak for r in rects.get(s.unit, []))
        out.streaks.append(StreakLine(unit.id, unit.code, unit.name, unit.parent.name if unit.parent else "",
                                      unit.level, steps, rules.proposal(s.length, told), refs[s.rounds[-1]].round_id,
                                      [_rect_outcome(r, names) for r in rects.get(s.unit, [])],
                                      talks.get(s.unit, [])))
