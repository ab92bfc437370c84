"""Rounds: phases and the sheets each phase needs."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..domain.workflow import next_round_status
from ..extensions import db
from ..models import Round, RoundUnit, Score, Sheet, Team, User
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


def pilot_warnings(round_: Round) -> list[str]:
    """The notice asks for one or two pilot villages per township: warn outside that (never block)."""
    from ..models import OrgUnit

    in_scope = set(db.session.scalars(select(RoundUnit.unit_id).where(RoundUnit.round_id == round_.id)))
    warnings = []
    for township in db.session.scalars(select(OrgUnit).where(OrgUnit.level == "township", OrgUnit.active.is_(True))
                                       .order_by(OrgUnit.code).options(selectinload(OrgUnit.children))):
        if township.id not in in_scope:
            continue
        n = sum(1 for v in township.children if v.id in in_scope)
        if n not in (1, 2):
            warnings.append(f"{township.name}：试点村(社区){n}个（通知要求每个镇(街道)1至2个）")
    return warnings


def _parse_settings(form: dict) -> dict:
    from datetime import date

    from ..domain.numbers import parse_points
    from .errors import Invalid

    errors, values = {}, {}
    for key, label in (("threshold", "合格线"), ("tolerance", "分差容许值")):
        try:
            values[key] = parse_points(form.get(key, ""))
        except ValueError as exc:
            errors[key] = f"{label}：{exc}"
    if "threshold" in values and not (0 < values["threshold"] <= 200):
        errors["threshold"] = "合格线须在0到200之间"
    for key in ("self_due", "township_due", "inspection_start", "inspection_end"):
        raw = (form.get(key) or "").strip()
        try:
            values[key] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[key] = f"日期“{raw[:20]}”无效，格式为 2021-11-25"
    if not errors and values.get("inspection_start") and values.get("inspection_end") \
            and values["inspection_end"] < values["inspection_start"]:
        errors["inspection_end"] = "评估结束日期不能早于开始日期"
    if errors:
        raise Invalid("；".join(errors.values()), errors)
    return values


def create_round(form: dict, user: User) -> Round:
    """A new round in set-up, from a township and a village catalogue version."""
    from ..models import CatalogueVersion
    from .errors import Invalid

    name = (form.get("name") or "").strip()[:200]
    if not name:
        raise Invalid("请填写批次名称", {"name": "请填写批次名称"})
    if db.session.scalar(select(Round).where(Round.name == name)):
        raise Invalid(f"批次“{name}”已存在", {"name": "名称已存在"})
    cats = {}
    for level in ("township", "village"):
        try:
            cat = db.session.get(CatalogueVersion, int(form.get(f"{level}_catalogue_id") or 0))
        except ValueError:
            cat = None
        if cat is None or cat.level != level:
            raise Invalid("请选择镇(街道)和村(社区)的指标体系版本", {f"{level}_catalogue_id": "请选择"})
        cats[level] = cat
    values = _parse_settings(form)
    round_ = Round(name=name, township_catalogue=cats["township"], village_catalogue=cats["village"], **values)
    db.session.add(round_)
    db.session.flush()
    audit.record("round.create", user=user, obj=round_, round_id=round_.id, new={"name": name})
    db.session.commit()
    return round_


def update_settings(round_: Round, form: dict, user: User) -> None:
    from .errors import Conflict

    if round_.status == "published":
        raise Conflict("已公布的批次不能修改设置")
    values = _parse_settings(form)
    old = {k: str(getattr(round_, k)) for k in values}
    for k, v in values.items():
        setattr(round_, k, v)
    audit.record("round.settings", user=user, obj=round_, round_id=round_.id, old=old,
                 new={k: str(v) for k, v in values.items()})
    db.session.commit()


def set_scope(round_: Round, unit_ids: set[int], user: User) -> None:
    """The units in scope (townships and pilot villages); only before inspection opens."""
    from ..models import OrgUnit
    from .errors import Conflict

    if round_.status not in ("setup", "self_assessment"):
        raise Conflict("实地评估开始后不能调整参评单位")
    valid = set(db.session.scalars(select(OrgUnit.id).where(OrgUnit.id.in_(unit_ids),
                                                            OrgUnit.level.in_(("township", "village")))))
    current = {ru.unit_id: ru for ru in db.session.scalars(select(RoundUnit).where(RoundUnit.round_id == round_.id))}
    removed = set(current) - valid
    if removed and db.session.scalar(select(Score.id).join(Sheet, Sheet.id == Score.sheet_id).where(
            Sheet.round_id == round_.id, Sheet.unit_id.in_(removed)).limit(1)):
        raise Conflict("已有评分数据的单位不能移出本批次")
    for uid in removed:
        db.session.delete(current[uid])
    for uid in valid - set(current):
        db.session.add(RoundUnit(round_id=round_.id, unit_id=uid))
    db.session.flush()
    if round_.status == "self_assessment":
        create_self_sheets(round_)
    audit.record("round.scope", user=user, obj=round_, round_id=round_.id,
                 new={"added": sorted(valid - set(current)), "removed": sorted(removed)})
    db.session.commit()
