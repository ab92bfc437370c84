"""Rounds: phases and the sheets each phase needs."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..domain.workflow import next_round_status
from ..extensions import db
from ..models import Round, RoundUnit, Sheet, Team, User
from ..models.round import ROUND_STATUS_LABELS
from . import audit
from .errors import Conflict


def _existing_keys(round_id: int) -> set[tuple[int, str, int]]:
    return set(tuple(row) for row in db.session.execute(
        select(Sheet.unit_id, Sheet.kind, Sheet.slot).where(Sheet.round_id == round_id)
    ))


def create_self_sheets(round_: Round) -> int:
    """A draft self sheet for every unit in scope that has none yet; returns how many were made."""
    existing = _existing_keys(round_.id)
    unit_ids = db.session.scalars(select(RoundUnit.unit_id).where(RoundUnit.round_id == round_.id))
    new = [dict(round_id=round_.id, unit_id=uid, kind="self", slot=0, inspector_id=None)
           for uid in unit_ids if (uid, "self", 0) not in existing]
    if new:
        db.session.execute(Sheet.__table__.insert(), [dict(r, status="draft", version=1, summary="", late=False)
                                                      for r in _with_times(new)])
    return len(new)


def _with_times(rows: list[dict]) -> list[dict]:
    from ..models.base import utcnow

    now = utcnow()
    return [dict(r, created_at=now, updated_at=now) for r in rows]


def inspection_problems(round_: Round) -> list[str]:
    """What stops inspection from opening: units without a team, teams without a leader or members."""
    problems = []
    unassigned = db.session.scalars(
        select(RoundUnit).where(RoundUnit.round_id == round_.id, RoundUnit.team_id.is_(None))
        .options(selectinload(RoundUnit.unit))
    ).all()
    if unassigned:
        names = "、".join(ru.unit.name for ru in unassigned[:10])
        more = f"等{len(unassigned)}个单位" if len(unassigned) > 10 else ""
        problems.append(f"以下单位尚未分配工作组：{names}{more}")
    for team in db.session.scalars(select(Team).where(Team.round_id == round_.id).options(
            selectinload(Team.members))):
        if team.leader_id is None:
            problems.append(f"{team.name}尚未指定组长")
        if not team.members:
            problems.append(f"{team.name}没有成员")
    return problems


def create_inspection_sheets(round_: Round) -> int:
    """An inspector sheet per team member per assigned unit, and a final sheet per unit; returns how many."""
    existing = _existing_keys(round_.id)
    new = []
    teams = db.session.scalars(select(Team).where(Team.round_id == round_.id).options(
        selectinload(Team.members), selectinload(Team.units)))
    for team in teams:
        for ru in team.units:
            for member in team.members:
                if (ru.unit_id, "inspector", member.user_id) not in existing:
                    new.append(dict(round_id=round_.id, unit_id=ru.unit_id, kind="inspector",
                                    slot=member.user_id, inspector_id=member.user_id))
            if (ru.unit_id, "final", 0) not in existing:
                new.append(dict(round_id=round_.id, unit_id=ru.unit_id, kind="final", slot=0, inspector_id=None))
    if new:
        db.session.execute(Sheet.__table__.insert(), [dict(r, status="draft", version=1, summary="", late=False)
                                                      for r in _with_times(new)])
    return len(new)


def advance(round_: Round, user: User | None) -> str:
    """Move a round to its next phase after the guard checks; makes the sheets the new phase needs."""
    target = next_round_status(round_.status)
    if target is None:
        raise Conflict("该批次已公布，不能再推进")
    if target == "inspection":
        problems = inspection_problems(round_)
        if problems:
            raise Conflict("不能开始实地评估：" + "；".join(problems))
    old = round_.status
    round_.status = target
    if target == "self_assessment":
        create_self_sheets(round_)
    elif target == "inspection":
        create_self_sheets(round_)
        create_inspection_sheets(round_)
    audit.record("round.advance", user=user, obj=round_, round_id=round_.id,
                 old={"status": old}, new={"status": target},
                 detail=f"{ROUND_STATUS_LABELS[old]} → {ROUND_STATUS_LABELS[target]}")
    db.session.commit()
    return target
