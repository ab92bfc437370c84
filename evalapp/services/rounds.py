"""Rounds: phases and the sheets each phase needs (the moves are domain.workflow's)."""
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..domain.doc_numbers import valid_year, year_of_round
from ..domain.workflow import CLOSABLE_STATUSES, round_move, round_phase
from ..extensions import db
from ..ids import parse_id
from ..models import Round, RoundUnit, Score, Sheet, Team, User
from ..models.round import ROUND_ROLLOUT_LABELS, ROUND_STATUS_LABELS
from . import audit, versions
from .errors import Conflict, Invalid, Joined, Text, _l, check_text, shown, verbatim
from .moves import move_sheet_in, today_local


class NeedsConfirmation(Conflict):
    """The change would close these member sheets (未提交): refused until the user confirms. `message` names them;
    `prompt` is the question for a page that lists them itself."""

    def __init__(self, code: str, message: Text, sheets: list[Sheet], prompt: Text):
        super().__init__(code, message)
        self.sheets = sheets
        self.prompt = prompt


def open_member_sheets(round_id: int, *, unit_ids: Collection[int] | None = None,
                       inspector_id: int | None = None) -> list[Sheet]:
    """The round's member (inspector) sheets still open (draft), with their unit and member, in unit order."""
    from ..models import OrgUnit

    query = (select(Sheet).join(OrgUnit, OrgUnit.id == Sheet.unit_id)
             .where(Sheet.round_id == round_id, Sheet.kind == "inspector", Sheet.status.in_(CLOSABLE_STATUSES))
             .options(joinedload(Sheet.unit), joinedload(Sheet.inspector))
             .order_by(OrgUnit.code, Sheet.slot))
    if unit_ids is not None:
        query = query.where(Sheet.unit_id.in_(unit_ids))
    if inspector_id is not None:
        query = query.where(Sheet.inspector_id == inspector_id)
    return list(db.session.scalars(query))


def count_open_member_sheets(round_id: int) -> int:
    """How many member sheets of the round are still open (what leaving inspection would close)."""
    from sqlalchemy import func

    return db.session.scalar(select(func.count(Sheet.id)).where(
        Sheet.round_id == round_id, Sheet.kind == "inspector", Sheet.status.in_(CLOSABLE_STATUSES)))


def describe_sheets(sheets: list[Sheet], limit: int = 20) -> Text:
    """"陆城村（张三）、…" for a message (names are data); the page lists them all."""
    names = "、".join(f"{s.unit.name}（{s.inspector.display_name}）" for s in sheets[:limit])
    if len(sheets) > limit:
        return _l("%(names)s等%(count)s份", names=names, count=len(sheets))
    return verbatim(names)


def confirmed(sheets: list[Sheet], confirm: bool | Collection[int]) -> bool:
    """Whether the user confirmed closing these sheets: True, or the ids listed on the page they confirmed (a sheet
    that opened since is not confirmed: they are asked again)."""
    if confirm is True:
        return True
    if not confirm:
        return not sheets
    return {s.id for s in sheets} <= set(confirm)


def close_member_sheets(sheets: list[Sheet], user: User | None, why: str, *,
                        address: str | None = None) -> list[int]:
    """Close these open member sheets as 未提交 (kept for the audit, out of the mean), in the caller's transaction;
    returns their ids. The caller commits (or rolls back when a move is refused: see moves.move_sheet_in)."""
    ids = []
    for sheet in sheets:
        ids.append(sheet.id)
        move_sheet_in(sheet, "closed", user, f"系统关闭（未提交）：{why}", address=address)
    return ids


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


def inspection_problems(round_: Round) -> list[Text]:
    """What stops inspection from opening: units without a team, teams without a leader or members."""
    problems = []
    unassigned = db.session.scalars(
        select(RoundUnit).where(RoundUnit.round_id == round_.id, RoundUnit.team_id.is_(None))
        .options(selectinload(RoundUnit.unit))
    ).all()
    if unassigned:
        names = "、".join(ru.unit.name for ru in unassigned[:10])
        if len(unassigned) > 10:
            problems.append(_l("以下单位尚未分配工作组：%(names)s等%(count)s个单位", names=names, count=len(unassigned)))
        else:
            problems.append(_l("以下单位尚未分配工作组：%(names)s", names=names))
    for team in db.session.scalars(select(Team).where(Team.round_id == round_.id).options(
            selectinload(Team.members))):
        if team.leader_id is None:
            problems.append(_l("%(team)s尚未指定组长", team=team.name))
        if not team.members:
            problems.append(_l("%(team)s没有成员", team=team.name))
        elif not any(m.user_id != team.leader_id or team.leader_scores for m in team.members):
            problems.append(_l("%(team)s的组长不评分，且没有其他评分的成员", team=team.name))
    return problems


def decided_units(round_id: int):
    """The units of a round whose final sheet is submitted or approved (decided by the leader)."""
    return set(db.session.scalars(select(Sheet.unit_id).where(
        Sheet.round_id == round_id, Sheet.kind == "final", Sheet.status.in_(("submitted", "approved")))))


def create_inspection_sheets(round_: Round) -> int:
    """An inspector sheet per team member per assigned unit, and a final sheet per unit; returns how many.

    A member who joins after a unit's final sheet was decided (submitted or approved) gets no sheet for it: their
    scores could only reach that unit by the final sheet going back to the leader (an unlock), not behind it."""
    existing = _existing_keys(round_.id)
    decided = decided_units(round_.id)
    new = []
    teams = db.session.scalars(select(Team).where(Team.round_id == round_.id).options(
        selectinload(Team.members), selectinload(Team.units)))
    for team in teams:
        for ru in team.units:
            for member in team.members:
                if member.user_id == team.leader_id and not team.leader_scores:
                    continue  # 组长不评分: the leader only reconciles (issue 29, point 5)
                if (ru.unit_id, "inspector", member.user_id) not in existing and ru.unit_id not in decided:
                    new.append(dict(round_id=round_.id, unit_id=ru.unit_id, kind="inspector",
                                    slot=member.user_id, inspector_id=member.user_id))
            if (ru.unit_id, "final", 0) not in existing:
                new.append(dict(round_id=round_.id, unit_id=ru.unit_id, kind="final", slot=0, inspector_id=None))
    if new:
        db.session.execute(Sheet.__table__.insert(), [dict(r, status="draft", version=1, summary="", late=False)
                                                      for r in _with_times(new)])
    return len(new)


def advance(round_: Round, user: User | None, *, confirm: bool | Collection[int] = False,
            address: str | None = None) -> str:
    """Move a round to its next phase (advance_in), committed once; returns the new status. A refusal, or a draft
    another request moved meanwhile, leaves nothing of the move (rolled back)."""
    try:
        target = advance_in(round_, user, confirm=confirm, address=address)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return target


def advance_in(round_: Round, user: User | None, *, confirm: bool | Collection[int] = False,
               address: str | None = None) -> str:
    """Move a round to its next phase after the guard checks, in the caller's transaction (not committed); makes
    the sheets the new phase needs. Returns the new status.

    Leaving inspection closes the member sheets still in draft (未提交); while there are any, the move is refused
    with NeedsConfirmation listing them until `confirm` (True, or the ids the user saw)."""
    move = round_move(round_phase(round_.status, round_.changed_since_publication), "advance")
    if move is None:
        if round_.status == "review":
            raise Conflict("round.publish_on_results_page", _l("审核阶段之后由区级审核人员在结果页公布评估结果，不能在此推进"))
        raise Conflict("round.published", _l("该批次已公布，不能再推进"))
    target = move.target
    if target == "inspection":
        problems = inspection_problems(round_)
        if problems:
            raise Conflict("round.inspection_blocked", _l("不能开始实地评估：%(problems)s", problems=Joined(problems)))
    closed = []
    if move.closes_member_drafts:
        drafts = open_member_sheets(round_.id)
        if not confirmed(drafts, confirm):
            raise NeedsConfirmation(
                "round.advance_open_sheets",
                _l("以下%(count)s份成员评分表尚未提交：%(sheets)s。进入审核阶段后将关闭为“未提交”（保留备查，不计入成员平均分），"
                   "确认后再推进", count=len(drafts), sheets=describe_sheets(drafts)), drafts,
                _l("以下%(count)s份成员评分表尚未提交。进入审核阶段后将关闭为“未提交”（保留备查，不计入成员平均分）。确认后再推进。",
                   count=len(drafts)))
        closed = close_member_sheets(drafts, user, f"批次进入{ROUND_STATUS_LABELS[target]}", address=address)
    old = round_.status
    round_.status = target
    if "inspector" in move.makes:
        create_self_sheets(round_)
        create_inspection_sheets(round_)
    elif "self" in move.makes:
        create_self_sheets(round_)
    audit.record("round.advance", user=user, address=address, obj=round_, round_id=round_.id,
                 old={"status": old}, new={"status": target, **({"closed": closed} if closed else {})},
                 detail=f"{ROUND_STATUS_LABELS[old]} → {ROUND_STATUS_LABELS[target]}"
                 + (f"；关闭未提交的成员评分表{len(closed)}份" if closed else ""))
    versions.bump(round_.id)
    return target


def pilot_warnings(round_: Round) -> list[str]:
    """A pilot round (试点): the notice asks for one or two pilot villages per township; warn outside that (never
    block). A full roll-out (全面推行) has no such rule."""
    from ..models import OrgUnit

    if round_.rollout != "pilot":
        return []
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

    errors, values = {}, {}
    for key, label in (("threshold", _l("合格线")), ("tolerance", _l("分差容许值"))):
        try:
            values[key] = parse_points(form.get(key, ""))
        except ValueError as exc:
            errors[key] = _l("%(label)s：%(problem)s", label=label, problem=shown(exc))
    if "threshold" in values and not (0 < values["threshold"] <= 200):
        errors["threshold"] = _l("合格线须在0到200之间")
    raw_year = (form.get("year") or "").strip()
    if raw_year:  # 年度 (文号 〔2026〕): blank keeps the round's, or at creation the name's year
        if raw_year.isascii() and raw_year.isdigit() and valid_year(int(raw_year)):
            values["year"] = int(raw_year)
        else:
            errors["year"] = _l("年度须为2000至2099之间的四位年份，如 2026")
    for key in ("self_due", "township_due", "inspection_start", "inspection_end"):
        raw = (form.get(key) or "").strip()
        try:
            values[key] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[key] = _l("日期“%(date)s”无效，格式为 2021-11-25", date=raw[:20])
    if not errors and values.get("inspection_start") and values.get("inspection_end") \
            and values["inspection_end"] < values["inspection_start"]:
        errors["inspection_end"] = _l("评估结束日期不能早于开始日期")
    if errors:
        raise Invalid("round.settings_invalid", Joined(errors.values()), errors)
    return values


def create_round(form: dict, user: User, *, address: str | None = None) -> Round:
    """A new round in set-up, from a township and a village catalogue version."""
    from ..models import CatalogueVersion

    name = (form.get("name") or "").strip()[:200]
    if not name:
        raise Invalid("round.name_required", _l("请填写批次名称"), {"name": _l("请填写批次名称")})
    check_text("round.name_invalid", "name", _l("批次名称"), name)
    if db.session.scalar(select(Round).where(Round.name == name)):
        raise Invalid("round.name_taken", _l("批次“%(name)s”已存在", name=name), {"name": _l("名称已存在")})
    cats = {}
    for level in ("township", "village"):
        cat_id = parse_id(form.get(f"{level}_catalogue_id") or "")
        cat = db.session.get(CatalogueVersion, cat_id) if cat_id is not None else None
        if cat is None or cat.level != level:
            raise Invalid("round.catalogue_required", _l("请选择镇(街道)和村(社区)的指标体系版本"),
                          {f"{level}_catalogue_id": _l("请选择")})
        cats[level] = cat
    rollout = (form.get("rollout") or "").strip()
    if rollout not in ROUND_ROLLOUT_LABELS:
        raise Invalid("round.rollout_required", _l("请选择批次类型：试点或全面推行"), {"rollout": _l("请选择试点或全面推行")})
    values = _parse_settings(form)
    values.setdefault("year", year_of_round(name, today_local()))
    round_ = Round(name=name, rollout=rollout, township_catalogue=cats["township"],
                   village_catalogue=cats["village"], **values)
    db.session.add(round_)
    db.session.flush()
    audit.record("round.create", user=user, address=address, obj=round_, round_id=round_.id,
                 new={"name": name, "rollout": rollout, "year": round_.year})
    versions.bump(round_.id)  # its version row
    db.session.commit()
    return round_


def setup_frozen(round_: Round) -> bool:
    """A published round's set-up (settings, scope, teams) is frozen with its results unless an admin opened
    解锁设置 (services.setup_unlock); the pages show it read-only."""
    from .setup_unlock import current

    return round_.status == "published" and current(round_.id) is None


def scope_open(round_: Round) -> bool:
    """The units in scope change only before inspection opens."""
    return round_.status in ("setup", "self_assessment")


def refuse_if_published(round_: Round, what: Text) -> None:
    """Before a change to the round's set-up: the round's lock, and on a published round an open 解锁设置
    (services.setup_unlock.guard, the one rule)."""
    from .setup_unlock import guard

    guard(round_, what)


def _setup_changed(round_: Round) -> None:
    from .setup_unlock import changed

    changed(round_)


def update_settings(round_: Round, form: dict, user: User, *, address: str | None = None) -> None:
    """Threshold, tolerance and deadlines; on a published round only under 解锁设置."""
    values = _parse_settings(form)
    refuse_if_published(round_, _l("设置"))
    old = {k: str(getattr(round_, k)) for k in values}
    for k, v in values.items():
        setattr(round_, k, v)
    audit.record("round.settings", user=user, address=address, obj=round_, round_id=round_.id, old=old,
                 new={k: str(v) for k, v in values.items()})
    versions.bump(round_.id)
    _setup_changed(round_)
    db.session.commit()


def set_scope(round_: Round, unit_ids: set[int], user: User, *, address: str | None = None) -> None:
    """The units in scope (townships and pilot villages); only before inspection opens."""
    from ..models import OrgUnit

    refuse_if_published(round_, _l("参评单位"))
    if not scope_open(round_):
        db.session.rollback()  # (the round's lock)
        raise Conflict("round.scope_closed", _l("实地评估开始后不能调整参评单位"))
    valid = set(db.session.scalars(select(OrgUnit.id).where(OrgUnit.id.in_(unit_ids),
                                                            OrgUnit.level.in_(("township", "village")))))
    current = {ru.unit_id: ru for ru in db.session.scalars(select(RoundUnit).where(RoundUnit.round_id == round_.id))}
    removed = set(current) - valid
    if removed and db.session.scalar(select(Score.id).join(Sheet, Sheet.id == Score.sheet_id).where(
            Sheet.round_id == round_.id, Sheet.unit_id.in_(removed)).limit(1)):
        raise Conflict("round.scope_unit_scored", _l("已有评分数据的单位不能移出本批次"))
    for uid in removed:
        db.session.delete(current[uid])
    for uid in valid - set(current):
        db.session.add(RoundUnit(round_id=round_.id, unit_id=uid))
    db.session.flush()
    if round_.status == "self_assessment":
        create_self_sheets(round_)
    audit.record("round.scope", user=user, address=address, obj=round_, round_id=round_.id,
                 new={"added": sorted(valid - set(current)), "removed": sorted(removed)})
    versions.bump(round_.id)
    _setup_changed(round_)
    db.session.commit()
