"""Inspection teams: members, one leader, and the units each team inspects (each unit in scope to one team).

A member who leaves during inspection has their draft sheets closed (未提交, after a confirmation listing them); one
who rejoins while the round is still in inspection gets them back as drafts (domain.workflow). 组长是否评分 is set per
team before inspection opens: a non-scoring leader gets no member sheet (rounds.create_inspection_sheets). A published
round's teams are frozen: every change waits for an admin's 解锁设置 (services.setup_unlock), taken under the
round's lock as publishing is.
"""
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..domain.text import text_problem
from ..extensions import db
from ..models import Round, RoundUnit, Sheet, Team, TeamMember, User
from . import audit, setup_unlock, versions
from .errors import Conflict, Invalid, _l, check_text
from .rounds import (
    NeedsConfirmation, close_member_sheets, confirmed, create_inspection_sheets, describe_sheets, open_member_sheets,
    refuse_if_published,
)
from .moves import move_sheet_in


def _eligible(user: User) -> bool:
    """Who can be in a team: an active inspector account (the one rule _inspector refuses by, and the pickers list)."""
    return user.role == "inspector" and user.active


def eligible_members(round_: Round) -> list[User]:
    """The team page's list of people to add to a team or make a new team's leader: the active inspectors in no
    team of the round yet — exactly whom add_member and create_team accept. By name, with their unit loaded."""
    in_round = select(TeamMember.user_id).where(TeamMember.round_id == round_.id)
    return db.session.scalars(select(User).where(User.role == "inspector", User.active.is_(True),
                                                 User.id.notin_(in_round))
                              .options(selectinload(User.unit)).order_by(User.display_name, User.username)).all()


def leader_candidates(team: Team) -> list[User]:
    """The members set_leader accepts as the team's new leader (its members loaded: no query)."""
    return sorted((m.user for m in team.members if m.user_id != team.leader_id and _eligible(m.user)),
                  key=lambda u: (u.display_name, u.username))


def _inspector(username: str) -> User:
    username = (username or "").strip().lower()
    user = (db.session.scalar(select(User).where(User.username == username))
            if text_problem(username) is None else None)  # (a NUL would be PostgreSQL's error, not no one)
    if user is None or not _eligible(user):
        raise Invalid("team.not_inspector", _l("“%(username)s”不是启用的工作组成员账号", username=(username or "").strip()[:64]),
                      {"username": _l("须为工作组成员")})
    return user


def create_team(round_: Round, name: str, leader_username: str, actor: User, *, address: str | None = None) -> Team:
    """A new team with its leader as first member."""
    name = (name or "").strip()[:100]
    if not name:
        raise Invalid("team.name_required", _l("请填写工作组名称"), {"name": _l("请填写名称")})
    check_text("team.name_invalid", "name", _l("工作组名称"), name)
    if db.session.scalar(select(Team).where(Team.round_id == round_.id, Team.name == name)):
        raise Invalid("team.name_taken", _l("工作组“%(name)s”已存在", name=name), {"name": _l("名称已存在")})
    leader = _inspector(leader_username)
    refuse_if_published(round_, _l("工作组"))
    if db.session.scalar(select(TeamMember).where(TeamMember.round_id == round_.id, TeamMember.user_id == leader.id)):
        raise Invalid("team.member_elsewhere", _l("%(name)s已在本批次的其他工作组", name=leader.display_name),
                      {"username": _l("已在其他工作组")})
    team = Team(round_id=round_.id, name=name, leader_id=leader.id)
    db.session.add(team)
    db.session.flush()
    db.session.add(TeamMember(round_id=round_.id, team_id=team.id, user_id=leader.id))
    audit.record("team.create", user=actor, address=address, obj=team, round_id=round_.id,
                 new={"name": name, "leader": leader.username})
    _after_change(round_)
    setup_unlock.changed(round_)
    db.session.commit()
    return team


def add_member(team: Team, username: str, actor: User, *, address: str | None = None) -> None:
    """Add an inspector; during inspection they get a draft sheet per unit of the team (their closed ones reopen)."""
    user = _inspector(username)
    refuse_if_published(team.round, _l("工作组"))
    if db.session.scalar(select(TeamMember).where(TeamMember.round_id == team.round_id, TeamMember.user_id == user.id)):
        raise Invalid("team.member_elsewhere", _l("%(name)s已在本批次的工作组中", name=user.display_name),
                      {"username": _l("已在工作组中")})
    try:
        db.session.add(TeamMember(round_id=team.round_id, team_id=team.id, user_id=user.id))
        reopened = _reopen_closed_sheets(team, user, actor, address)
        audit.record("team.add_member", user=actor, address=address, obj=team, round_id=team.round_id,
                     new={"member": user.username, **({"reopened": reopened} if reopened else {})})
        _after_change(team.round)
        setup_unlock.changed(team.round)
    except BaseException:
        db.session.rollback()  # a sheet moved meanwhile: the member is not added either
        raise
    db.session.commit()


def _reopen_closed_sheets(team: Team, user: User, actor: User, address: str | None) -> list[int]:
    """A member rejoining during inspection: their closed sheets of this team's units are drafts again."""
    if team.round.status != "inspection":
        return []  # once the round has left inspection, closed is where a member sheet ends
    units = select(RoundUnit.unit_id).where(RoundUnit.round_id == team.round_id, RoundUnit.team_id == team.id)
    decided = select(Sheet.unit_id).where(  # a decided final sheet is not reopened behind the leader's back
        Sheet.round_id == team.round_id, Sheet.kind == "final", Sheet.status.in_(("submitted", "approved")))
    sheets = db.session.scalars(select(Sheet).where(
        Sheet.round_id == team.round_id, Sheet.kind == "inspector", Sheet.inspector_id == user.id,
        Sheet.status == "closed", Sheet.unit_id.in_(units), Sheet.unit_id.notin_(decided)).order_by(Sheet.id)).all()
    for sheet in sheets:
        move_sheet_in(sheet, "draft", actor, f"重新加入{team.name}，评分表恢复填报", address=address)
    return [s.id for s in sheets]


def member_drafts(team: Team, user_id: int) -> list[Sheet]:
    """The member's sheets in the team's round still in draft (closed if they leave)."""
    return open_member_sheets(team.round_id, inspector_id=user_id)


def remove_member(team: Team, user_id: int, actor: User, *, confirm: bool | Collection[int] = False,
                  address: str | None = None) -> None:
    """Remove a member (not the leader). Their draft sheets are closed as 未提交; while they hold any, refused with
    NeedsConfirmation listing them until `confirm` (True, or the ids the user saw)."""
    refuse_if_published(team.round, _l("工作组"))
    if team.leader_id == user_id:
        db.session.rollback()
        raise Conflict("team.remove_leader", _l("不能移除组长；请先指定其他组长"))
    member = db.session.scalar(select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id))
    if member is None:
        raise Invalid("team.not_member", _l("该成员不在本组"), {"member": _l("不在本组")})
    drafts = member_drafts(team, user_id)
    if not confirmed(drafts, confirm):
        name = member.user.display_name
        raise NeedsConfirmation(
            "team.remove_member_open_sheets",
            _l("%(name)s尚有%(count)s份评分表未提交：%(sheets)s。移出后将关闭为“未提交”（保留备查，不计入成员平均分），"
               "确认后再移出", name=name, count=len(drafts), sheets=describe_sheets(drafts)),
            drafts, _l("%(name)s尚有以下%(count)s份评分表未提交。移出%(team)s后将关闭为“未提交”（保留备查，不计入成员平均分）。"
                       "确认后再移出。", name=name, count=len(drafts), team=team.name))
    try:
        closed = close_member_sheets(drafts, actor, f"{member.user.display_name}移出{team.name}", address=address)
        db.session.delete(member)
        audit.record("team.remove_member", user=actor, address=address, obj=team, round_id=team.round_id,
                     old={"member": user_id}, new={"closed": closed} if closed else None)
        setup_unlock.changed(team.round)
    except BaseException:
        db.session.rollback()  # a draft moved meanwhile: none of its sheets closed, the member stays
        raise
    db.session.commit()


def set_leader(team: Team, username: str, actor: User, *, address: str | None = None) -> None:
    """Make another member the leader. On a published round only under 解锁设置 (issue 29: the change is the next
    version's; the versions already published keep naming the leader they were published under,
    signatures.leader_at). During inspection a former leader of a team whose leader does not score becomes an
    ordinary member and gets their member sheets; the new leader keeps the sheets they have."""
    user = _inspector(username)
    refuse_if_published(team.round, _l("工作组"))
    if not db.session.scalar(select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)):
        db.session.rollback()  # (the round's lock)
        raise Invalid("team.leader_not_member", _l("组长须为本组成员"), {"username": _l("须为本组成员")})
    old = team.leader_id
    team.leader_id = user.id
    audit.record("team.leader", user=actor, address=address, obj=team, round_id=team.round_id, old={"leader": old},
                 new={"leader": user.id})
    _after_change(team.round)
    setup_unlock.changed(team.round)
    db.session.commit()


def set_leader_scores(team: Team, scores: bool, actor: User, *, address: str | None = None) -> None:
    """组长是否评分 (issue 29, point 5): whether the team's leader also scores as a member (a member sheet per unit,
    counted in the mean, signing once as 组长、评估员) or only reconciles. Set before inspection opens (the sheets
    are made then); on a published round the set-up must be unlocked first, as for every change of a team."""
    refuse_if_published(team.round, _l("工作组"))
    if team.round.status not in ("setup", "self_assessment"):
        db.session.rollback()  # (the round's lock)
        raise Conflict("team.leader_scores_after_inspection", _l(
            "实地评估开始后不能更改组长是否评分（评分表已按开始时的设置生成）"))
    if team.leader_scores == scores:
        db.session.rollback()
        return
    audit.record("team.leader_scores", user=actor, address=address, obj=team, round_id=team.round_id,
                 old={"leader_scores": team.leader_scores}, new={"leader_scores": scores})
    team.leader_scores = scores
    db.session.commit()


def assign(round_: Round, assignments: dict[int, int | None], actor: User, *, address: str | None = None) -> None:
    """Unit id → team id (or None); each unit in scope belongs to at most one team by construction."""
    refuse_if_published(round_, _l("工作组分配"))
    teams = {t.id for t in db.session.scalars(select(Team).where(Team.round_id == round_.id))}
    scope = {ru.unit_id: ru for ru in db.session.scalars(select(RoundUnit).where(RoundUnit.round_id == round_.id))}
    bad = [uid for uid, tid in assignments.items() if uid not in scope or (tid is not None and tid not in teams)]
    if bad:
        db.session.rollback()
        raise Invalid("team.assign_outside_round", _l("分配有误：单位或工作组不属于本批次"),
                      {"assign": _l("单位或工作组不属于本批次")})
    changed = {}
    for uid, tid in assignments.items():
        if scope[uid].team_id != tid:
            if round_.status not in ("setup", "self_assessment") and scope[uid].team_id is not None:
                db.session.rollback()  # (the round's lock, and the units changed before this one)
                raise Conflict("team.reassign_after_inspection", _l("实地评估开始后不能把单位改派给其他工作组"))
            scope[uid].team_id = tid
            changed[uid] = tid
    audit.record("team.assign", user=actor, address=address, obj=round_, round_id=round_.id,
                 new={str(k): v for k, v in changed.items()})
    _after_change(round_)
    if changed:
        setup_unlock.changed(round_)
    db.session.commit()


def _after_change(round_: Round) -> None:
    """A team changed during inspection: new members and newly assigned units get their sheets."""
    db.session.flush()
    if round_.status == "inspection":
        create_inspection_sheets(round_)
        versions.bump(round_.id)  # new final sheets are in the results (a sheet to open, 未完成 until decided)
