"""The printed 评分表 of a unit's final sheet: from a published version (services.snapshots) once the round is
published, else from the data as it stands (a 草稿). One shape for both, so the page does not know which it has.

Each indicator's 扣分情况 lists what is behind its final score: every counted member's rules applied with counts and
points, free deductions with their reasons, void rules, and the leader's reason where the final differs from the
members' mean.
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from ..domain.scoring import Result
from ..domain.vocabulary import UnitLevel
from ..extensions import db
from ..models import (
    Publication, PublishedScore, PublishedUnit, RoundUnit, Sheet, SheetTransition, Team, User,
)
from . import proxy, readmodel, seals
from .catalogues import cached_tree
from .compare import self_for


@dataclass
class PaperLine:
    code: str
    title: str
    max_points: Decimal
    points: Decimal | None
    notes: list[str]


@dataclass
class PaperCategory:
    code: str
    name: str
    points: Decimal
    lines: list[PaperLine]


@dataclass
class Paper:
    round_name: str
    unit_name: str
    unit_code: str
    level: str
    catalogue: str          # "code 第N版"
    threshold: Decimal
    bonus_cap: Decimal
    categories: list[PaperCategory]
    bonuses: list[tuple[str, str, str]]   # (code, text, points)
    vetoes: list[tuple[str, str, str]]    # (code, text, finding)
    total: Decimal | None
    result: str                           # Chinese: an official document
    missing: Decimal | None
    rank: int | None
    vetoed: bool
    members: list[str]
    publication: Publication | None = None  # the version it is read from; None: a 草稿
    leader: str = ""                              # the team's leader (组长), signs the final sheet
    approved_by: tuple[str, datetime] | None = None  # the district's approval of the final sheet: who, when
    signing: object = None  # services.signatures.Signing: the signatures, against this paper's content
    # 代填: the township lead who filled in the unit's self-assessment for it (services.proxy.ProxyMark), or None.
    # Read from the self sheet, which no one changes once self-assessment has closed: a version's paper too.
    proxy: object = None

    @property
    def level_label(self) -> str:
        return UnitLevel.zh_of(self.level)


def _signers(sheet: Sheet, before: datetime | None) -> tuple[str, tuple[str, datetime] | None]:
    """The team leader's name, and the district's last approval of the final sheet (at or before `before`: the
    approval a version was published on)."""
    team_id = db.session.scalar(select(RoundUnit.team_id).where(RoundUnit.round_id == sheet.round_id,
                                                                RoundUnit.unit_id == sheet.unit_id))
    from .signatures import leader_at

    # The leader then, for a version's paper (one replaced since does not rename the version's signer).
    found = (leader_at(team_id, before) if before is not None else db.session.execute(
        select(User.id, User.display_name).join(Team, Team.leader_id == User.id).where(Team.id == team_id)).first()
        ) if team_id is not None else None
    leader = found[1] if found else ""
    query = (select(User.display_name, SheetTransition.at).join(User, User.id == SheetTransition.actor_id)
             .where(SheetTransition.sheet_id == sheet.id, SheetTransition.to_status == "approved")
             .order_by(SheetTransition.at.desc(), SheetTransition.id.desc()).limit(1))
    if before is not None:
        query = query.where(SheetTransition.at <= before)
    approval = db.session.execute(query).first()
    return leader, (approval[0], approval[1]) if approval else None


def _notes(points: Decimal | None, reason: str, members: list[dict], max_points: Decimal) -> list[str]:
    """The 扣分情况 of one indicator: each member's deductions, then the leader's reason for the final score."""
    out = []
    for m in members:
        parts = []
        for code, text, count, per in m["rules"]:  # a void rule (per None) takes the whole indicator, as the review
            parts.append(f"{code} {text}（该项不得分）" if per is None  # page says
                         else f"{code} {text} ×{count}，扣{Decimal(per) * count:.2f}分")
        if Decimal(m["free"]) > 0:
            parts.append(f"其他扣{m['free']}分：{m['reason']}")
        elif not m["rules"]:  # typed directly: the reason the member gave for it (required below the maximum)
            parts.append(f"直接评分：{m['reason']}" if m["reason"] else "直接评分")
        elif m["reason"]:
            parts.append(f"说明：{m['reason']}")
        out.append(f"{m['member']}（{m['points']}分）：" + "；".join(parts))
    if reason and (members or points is None or points != max_points):  # a reason where nothing was lost: not shown
        out.append(f"组长确定{'' if points is None else f'{points:.2f}分'}：{reason}")
    return out


def _categories(catalogue, scores: dict[str, tuple[Decimal | None, str, list]]) -> list[PaperCategory]:
    return [PaperCategory(cat.code, cat.name, cat.points, [
        PaperLine(ind.code, ind.title, ind.points, scores.get(ind.code, (None, "", []))[0],
                  _notes(*scores[ind.code], ind.points) if ind.code in scores else [])
        for ind in cat.indicators]) for cat in catalogue.categories]


def published_paper(sheet: Sheet, publication: Publication) -> Paper | None:
    """The 评分表 as the version holds it (None: the unit is not in that version)."""
    unit = db.session.scalar(select(PublishedUnit).where(PublishedUnit.publication_id == publication.id,
                                                         PublishedUnit.final_sheet_id == sheet.id))
    if unit is None:
        return None
    rows = db.session.scalars(select(PublishedScore).where(PublishedScore.publication_id == publication.id,
                                                           PublishedScore.unit_code == unit.code)).all()
    seals.check_units(publication, [unit], whole=False)  # what the paper prints is what was sealed
    seals.check_scores(publication, unit, rows)
    scores = {s.indicator_code: (s.points, s.reason, s.deductions) for s in rows}
    catalogue = cached_tree(sheet.round.catalogue_for(unit.level))
    meta = publication.catalogues[unit.level]
    from .finals import member_sheets

    # Who signs: the team's members (the people, not a figure of the version), with any member named in the
    # version's deductions who has left the team since.
    members = [m.inspector.display_name for m in member_sheets(sheet)
               if m.inspector is not None and m.status != "closed"]  # (未提交: they do not sign)
    members += sorted({m["member"] for _p, _r, found in scores.values() for m in found} - set(members))
    leader, approved = _signers(sheet, publication.published_at)
    return Paper(publication.round_name, unit.name, unit.code, unit.level, f"{meta['code']} 第{meta['version']}版",
                 publication.threshold, Decimal(meta["bonus_cap"]), _categories(catalogue, scores),
                 [(c, t, p) for c, t, p, _note in unit.bonus_items], [tuple(v) for v in unit.veto_findings],
                 unit.final_total, Result.zh_of(unit.result), unit.missing, unit.rank, unit.vetoed,
                 members, publication, leader, approved)


def live_paper(sheet: Sheet, standing=None) -> Paper:
    """The 评分表 from the data as it stands (a 草稿); `standing` (a callable giving services.results.standing_of,
    called only here) adds the rank and points missing for those who see the round's results."""
    from .finals import member_sheets
    from .sheet_views import sheet_view

    view = sheet_view(sheet)
    deductions = readmodel.member_deductions(sheet.round_id, [sheet.unit_id])
    by_id = {ind.id: ind.code for ind in view.indicators}
    scores: dict[str, tuple] = {}
    for indicator_id, score in view.scores.items():
        code = by_id.get(indicator_id)
        if code is not None and score.points is not None:
            scores[code] = (score.points, score.reason or "", deductions.get((sheet.unit.code, code), []))
    approved_now = sheet.status == "approved"
    standing = standing() if standing is not None else None
    leader, approved = _signers(sheet, None)
    return Paper(sheet.round.name, sheet.unit.name, sheet.unit.code, sheet.unit.level,
                 f"{view.catalogue.code} 第{view.catalogue.version}版", sheet.round.threshold, view.catalogue.bonus_cap,
                 _categories(view.catalogue, scores),
                 [(b.item.code, b.item.text, f"{b.item.points:.2f}") for b in sheet.bonuses],
                 [(v.item.code, v.item.text, v.description) for v in sheet.vetoes],
                 view.total, view.result.zh if approved_now else Result.INCOMPLETE.zh,
                 standing.missing if standing else None, standing.rank if standing else None,
                 bool(standing and standing.vetoed),
                 [m.inspector.display_name for m in member_sheets(sheet)
                  if m.inspector is not None and m.status != "closed"], None,
                 leader, approved if approved_now else None)


def paper_for(sheet: Sheet, *, draft: bool = False, standing=None) -> Paper:
    """The published version's 评分表 of a published round (unless `draft`), else the live one (`standing`: see
    live_paper)."""
    from .signatures import signing_for_paper

    last = readmodel.latest(sheet.round_id) if sheet.round.status == "published" and not draft else None
    paper = published_paper(sheet, last) if last is not None else None
    if paper is None:
        paper = live_paper(sheet, standing)
    paper.signing = signing_for_paper(sheet, paper.publication, paper.members)
    paper.proxy = proxy.mark_of(self_for(sheet))
    return paper

