"""What an evaluated unit sees of its own result (issue 32, point 1): after publication, every indicator's score and
maximum with the deductions behind it, photos, bonus items, veto findings, rank and points missing — read from the
round's last published version (services.readmodel), never from the live sheets, so a score changed after
publication (through the unlock path) shows only once a new version is published. Beside each final score, the
unit's own self-assessment (its submitted self sheet; the only live figures shown). A township's page adds its
villages' results as the version holds them.

One read-only transaction (readmodel.reading), a fixed number of statements whatever the catalogue: the version's
unit rows (kept per process by the read model, checked against their seals), the unit's indicator rows (checked
against its seal), the photos, the self sheet's scores.
"""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from ..domain.aggregation import Gap, RollUp, gap
from ..domain.scoring import Result
from ..extensions import db
from ..models import CatalogueVersion, EvidenceFile, Indicator, OrgUnit, Publication, Round, RoundUnit, Score, Sheet
from . import readmodel, seals
from .catalogues import cached_tree
from .results import UnitResult

ZERO = Decimal("0.00")
EVIDENCE_SHEETS = ("final", "inspector")  # the final sheet and its members' sheets: the evidence behind a score


@dataclass
class IndicatorLine:
    """One indicator as the version holds it, with the unit's self-assessed score beside it."""

    code: str
    title: str
    category: str
    max_points: Decimal
    points: Decimal | None          # the final score published; None: not scored
    reason: str                     # the leader's reason for the final score
    members: list[dict]             # each member's deductions: {"member", "points", "rules", "free", "reason"}
    photos: list[tuple[int, str]] = field(default_factory=list)  # (evidence id, name)
    self_points: Decimal | None = None
    gap: Gap | None = None
    photo_files: list[EvidenceFile] = field(default_factory=list)  # the same photos, with their provenance

    @property
    def lost(self) -> Decimal:
        return ZERO if self.points is None else self.max_points - self.points

    @property
    def deducted(self) -> bool:
        return self.points is not None and self.points < self.max_points

    @property
    def explained(self) -> list[dict]:
        """Each member's deductions as the version holds them, with points as Decimal: [{"member", "points",
        "rules": [(code, text, count, points taken | None for a void rule)], "free", "reason"}]."""
        return [{"member": m["member"], "points": Decimal(m["points"]),
                 "rules": [(code, text, count, None if per is None else Decimal(per) * count)
                           for code, text, count, per in m["rules"]],
                 "free": Decimal(m["free"]), "reason": m["reason"]} for m in self.members]


@dataclass
class UnitPage:
    """A unit's results page: `published` False before any version (no figures at all)."""

    round: Round
    unit: OrgUnit
    publication: Publication | None
    unit_row: UnitResult | None = None       # the unit's line of the version (rank, points missing, result)
    township_name: str = ""
    level_count: int = 0                     # units of its level in the version (the rank's "of N")
    score_sum: Decimal | None = None
    bonus_sum: Decimal | None = None
    bonus_cap: Decimal = ZERO
    bonus: list[list] = field(default_factory=list)     # [[code, text, points, note]]
    vetoes: list[list] = field(default_factory=list)    # [[code, text, finding]]
    indicators: list[IndicatorLine] = field(default_factory=list)   # catalogue order
    self_total: Decimal | None = None
    total_gap: Gap | None = None
    villages: list[UnitResult] = field(default_factory=list)        # a township's, as the version holds them
    village_names: dict[str, str] = field(default_factory=dict)
    rollup: RollUp | None = None             # a township's villages
    threshold: Decimal = ZERO

    @property
    def published(self) -> bool:
        return self.publication is not None

    @property
    def result(self) -> Result | None:
        return self.unit_row.result if self.unit_row else None

    @property
    def reached_line(self) -> bool:
        """At or above the line (已达合格线): a total, no points missing."""
        u = self.unit_row
        return u is not None and u.final_total is not None and not u.vetoed and (u.missing or ZERO) == ZERO

    @property
    def bonus_counted(self) -> Decimal:
        return min(self.bonus_sum or ZERO, self.bonus_cap)

    @property
    def problems(self) -> list[IndicatorLine]:
        """The 问题清单: the indicators that lost points, most lost first, then in code order."""
        return sorted((i for i in self.indicators if i.deducted), key=lambda i: (-i.lost, i.code))

    @property
    def lost_total(self) -> Decimal:
        return sum((i.lost for i in self.indicators), ZERO)

    @property
    def unscored(self) -> list[IndicatorLine]:
        return [i for i in self.indicators if i.points is None]


def in_round(round_: Round, unit: OrgUnit) -> bool:
    """Whether the unit is in the round's scope."""
    return db.session.scalar(select(RoundUnit.unit_id).where(RoundUnit.round_id == round_.id,
                                                            RoundUnit.unit_id == unit.id)) is not None


def last_version(round_: Round) -> Publication | None:
    """The version a unit sees: the round's last, once published (None before)."""
    return readmodel.latest(round_.id) if round_.status == "published" else None


def unit_page(round_: Round, unit: OrgUnit) -> UnitPage | None:
    """The unit's page in the round, in a read-only transaction of its own: as the last version holds it; a unit in
    the round's scope but in no version yet (before publication, or added to the scope since) gets the page
    without figures; None for a unit the round does not hold."""
    with readmodel.reading():
        # The round and unit as this transaction reads them; the page keeps the caller's (they stay in its session).
        pub = last_version(db.session.get(Round, round_.id))
        page = _published_page(round_, unit, pub) if pub is not None else None
        if page is None:  # not published yet — for this unit at least (one added to the scope since)
            return UnitPage(round_, unit, None) if in_round(round_, unit) else None
        return page


def _published_page(round_: Round, unit: OrgUnit, pub: Publication) -> UnitPage | None:
    report, extras = readmodel.published(pub, round_)  # the version's unit rows, checked against their seals
    row = next((r for r in report.rows if r.unit.unit_id == unit.id), None)
    if row is None:
        return None
    u = row.unit
    page = UnitPage(round_, unit, pub, u, row.township_name, threshold=pub.threshold,
                    level_count=sum(1 for r in report.rows if r.unit.level == u.level),
                    bonus_cap=readmodel.caps_of(pub).get(u.level, ZERO),
                    bonus=extras.bonus.get(u.code, []), vetoes=extras.vetoes.get(u.code, []))
    page.score_sum, page.bonus_sum = extras.sums.get(u.code, (None, None))
    if u.level == "township":
        page.villages = [r.unit for r in report.rows if r.unit.level == "village" and r.unit.township_code == u.code]
        page.rollup = next((t.villages for t in report.townships
                            if t.township is not None and t.township.unit.code == u.code), None)
    scores = db.session.execute(select(readmodel.PUBLISHED_SCORES).where(
        readmodel.PUBLISHED_SCORES.c.publication_id == pub.id,
        readmodel.PUBLISHED_SCORES.c.unit_code == u.code)).all()
    seals.check_scores(pub, extras.rows[u.code], scores)  # what the page shows is what was sealed
    by_code = {s.indicator_code: s for s in scores}
    photos = _photos(round_.id, unit.id, pub.published_at)
    own = _self_scores(u.self_sheet_id)
    catalogue = cached_tree(db.session.get(CatalogueVersion, pub.catalogues[u.level]["id"]))
    for cat in catalogue.categories:
        for ind in cat.indicators:
            s = by_code.get(ind.code)
            line = IndicatorLine(ind.code, s.title if s else ind.title, cat.name,
                                 s.max_points if s else ind.points, s.points if s else None,
                                 (s.reason or "") if s else "", (s.deductions or []) if s else [],
                                 [(ev.id, ev.original_name) for ev in photos.get(ind.code, [])], own.get(ind.code),
                                 photo_files=photos.get(ind.code, []))
            line.gap = gap(line.self_points, line.points, pub.tolerance)
            page.indicators.append(line)
    page.self_total = u.self_total
    page.total_gap = gap(u.self_total, u.final_total, pub.tolerance)
    return page


def _photos(round_id: int, unit_id: int, published_at: datetime) -> dict[str, list[EvidenceFile]]:
    """Indicator code → the photos behind the unit's final scores as the version was published: on its final and
    members' sheets, taken before publication and not withdrawn (access.can_view_published_evidence, the same);
    their sheets, round and uploaders loaded with them (shown under each photo: templates/_provenance.html)."""
    found: dict[str, list] = {}
    for ev, code in db.session.execute(
            select(EvidenceFile, Indicator.code)
            .join(Sheet, Sheet.id == EvidenceFile.sheet_id)
            .join(Indicator, Indicator.id == EvidenceFile.indicator_id)
            .where(Sheet.round_id == round_id, Sheet.unit_id == unit_id, Sheet.kind.in_(EVIDENCE_SHEETS),
                   Sheet.status != "closed", EvidenceFile.kind == "photo", EvidenceFile.deleted_at.is_(None),
                   EvidenceFile.uploaded_at <= published_at)
            .options(joinedload(EvidenceFile.uploaded_by), joinedload(EvidenceFile.sheet).joinedload(Sheet.round))
            .order_by(Indicator.code, EvidenceFile.id)):
        found.setdefault(code, []).append(ev)
    return found


def _self_scores(self_sheet_id: int | None) -> dict[str, Decimal]:
    """Indicator code → the unit's self-assessed score (its own submitted sheet)."""
    if self_sheet_id is None:
        return {}
    return dict(db.session.execute(
        select(Indicator.code, Score.points).join(Indicator, Indicator.id == Score.indicator_id)
        .where(and_(Score.sheet_id == self_sheet_id, Score.points.is_not(None)))).all())


def units_of(user) -> list[OrgUnit]:
    """The units whose results a township or village lead sees: a village its own; a township its own and its
    villages (township first, villages in code order)."""
    if user.unit_id is None:
        return []
    if user.role == "village":
        return [db.session.get(OrgUnit, user.unit_id)]
    if user.role == "township":
        return db.session.scalars(select(OrgUnit).where(
            (OrgUnit.id == user.unit_id) | ((OrgUnit.parent_id == user.unit_id) & (OrgUnit.level == "village")))
            .order_by(OrgUnit.level != "township", OrgUnit.code)).all()
    return []


@dataclass
class RoundLine:
    round: Round
    publication: Publication | None
    units: list[OrgUnit]


def rounds_of(user) -> list[RoundLine]:
    """The rounds the user's units are in, newest first, each with its last version (None: not yet published) and
    which of the user's units it holds — three statements."""
    units = {u.id: u for u in units_of(user)}
    if not units:
        return []
    scope: dict[int, list[int]] = {}
    for round_id, unit_id in db.session.execute(select(RoundUnit.round_id, RoundUnit.unit_id)
                                                .where(RoundUnit.unit_id.in_(list(units)))):
        scope.setdefault(round_id, []).append(unit_id)
    if not scope:
        return []
    rounds = db.session.scalars(select(Round).where(Round.id.in_(list(scope))).order_by(Round.id.desc())).all()
    latest: dict[int, Publication] = {}
    for pub in db.session.scalars(select(Publication).where(Publication.round_id.in_(list(scope)))
                                  .order_by(Publication.version)):
        latest[pub.round_id] = pub
    order = list(units)
    return [RoundLine(r, latest.get(r.id) if r.status == "published" else None,
                      [units[i] for i in sorted(scope[r.id], key=order.index)]) for r in rounds]
