"""解锁设置 (issue 29, point 2): a published round's set-up and teams — its settings, units in scope, teams, members,
leaders, 组长是否评分 and assignments — change only while an admin has opened them with a reason.

`guard` is the one rule every such change calls first: it takes the round's lock (services.locks, publishing's
order) and, on a published round, refuses unless an unlock is open. A change racing a publication is therefore either
before it (in the version, listed on its 变更) or after it (refused: the publication closed the unlock). A change
made under the unlock marks the round changed since publication, so it waits, pending, for the next version;
`close` (called by publication.publish in its transaction) ends the unlock with that version, and `changes` lists
what was done under it on the 变更 page.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..domain.audit_labels import AuditAction
from ..extensions import db
from ..models import AuditEvent, Publication, Round, SetupUnlock, Team, User
from ..models.base import utcnow
from . import audit, locks, versions
from .errors import Conflict, Invalid, Text, _l, check_text

# The audit actions of a set-up change (what the 变更 page lists beside the units' changes).
SETUP_ACTIONS = ("round.settings", "round.scope", "team.create", "team.add_member", "team.remove_member",
                 "team.leader", "team.leader_scores", "team.assign")
REASON_MAX = 2000


def history(round_id: int) -> list[SetupUnlock]:
    """The round's 解锁设置, newest first (the round page lists them)."""
    return list(db.session.scalars(select(SetupUnlock).where(SetupUnlock.round_id == round_id)
                                   .order_by(SetupUnlock.id.desc())))


def current(round_id: int) -> SetupUnlock | None:
    """The round's open 解锁设置, if any."""
    return db.session.scalar(select(SetupUnlock).where(SetupUnlock.round_id == round_id,
                                                       SetupUnlock.closed_at.is_(None)).order_by(SetupUnlock.id.desc()))


def guard(round_: Round, what: Text) -> None:
    """Before a change to the round's set-up or teams: the round's lock, then — once published — an open
    解锁设置, else Conflict round.setup_frozen saying what to do (nothing is left of the attempt: rolled back)."""
    locks.lock_round(round_)
    if round_.status == "published" and current(round_.id) is None:
        db.session.rollback()
        raise Conflict("round.setup_frozen", _l(
            "该批次已公布，%(what)s已冻结，不能修改。如确需更改设置或工作组，请由系统管理员在批次页“解锁设置”并填写理由；"
            "更改将在下次公布时计入新版本", what=what))


def changed(round_: Round) -> None:
    """A set-up change made (under the unlock, on a published round): the round waits for the next version."""
    if round_.status == "published":
        round_.changed_since_publication = True
        versions.bump(round_.id)


def open_unlock(round_: Round, reason: str, user: User, *, address: str | None = None) -> SetupUnlock:
    """Open a published round's set-up for changes (admin, with a reason); recorded and audited, committed once."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("round.setup_unlock_reason_required", _l("解锁设置须填写理由"), {"reason": _l("请填写解锁理由")})
    check_text("round.setup_unlock_reason_invalid", "reason", _l("解锁理由"), reason, box=True)
    if len(reason) > REASON_MAX:
        raise Invalid("round.setup_unlock_reason_invalid", _l("理由过长"),
                      {"reason": _l("理由不能超过%(n)s字", n=REASON_MAX)})
    locks.lock_round(round_)  # as publishing: an unlock opened after a publication is the next version's
    try:
        if round_.status != "published":
            raise Conflict("round.setup_unlock_not_published", _l("该批次尚未公布，设置和工作组可直接修改，无需解锁"))
        if current(round_.id) is not None:
            raise Conflict("round.setup_already_unlocked", _l("该批次的设置已解锁，下次公布时自动关闭"))
        found = SetupUnlock(round_id=round_.id, opened_by_id=user.id, opened_at=utcnow(), reason=reason)
        db.session.add(found)
        db.session.flush()
        audit.record("round.setup_unlock", user=user, address=address, obj=round_, round_id=round_.id,
                     new={"setup_unlock": found.id}, detail=reason)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return found


def close(round_: Round, version: int, at: datetime, user: User, *, address: str | None = None) -> list[int]:
    """Close the round's open unlocks with the version being published, in the publisher's transaction (not
    committed); returns their ids."""
    found = db.session.scalars(select(SetupUnlock).where(SetupUnlock.round_id == round_.id,
                                                         SetupUnlock.closed_at.is_(None))).all()
    for unlock in found:
        unlock.closed_at = at
        unlock.closed_by_version = version
        audit.record("round.setup_lock", user=user, address=address, obj=round_, round_id=round_.id,
                     old={"setup_unlock": unlock.id}, new={"version": version})
    return [u.id for u in found]


@dataclass
class SetupChange:
    at: datetime
    who: str
    what: str          # the action's label, in the page's language
    team: str          # the team's name ("" for the round's own settings)
    detail: Text       # old → new, as recorded


@dataclass
class SetupChanges:
    unlocks: list[tuple[str, str, datetime]]   # (who, reason, when)
    rows: list[SetupChange]


def _summary(action: str, old: dict | None, new: dict | None, names: dict[int, str]) -> Text:
    old, new = old or {}, new or {}
    if action == "team.leader":
        return f"{names.get(old.get('leader'), '—')} → {names.get(new.get('leader'), '—')}"
    if action == "team.leader_scores":
        said = {True: _l("组长评分"), False: _l("组长不评分"), None: "—"}
        return _l("%(old)s → %(new)s", old=said[old.get("leader_scores")], new=said[new.get("leader_scores")])
    if action == "team.remove_member":
        return names.get(old.get("member"), str(old.get("member", "")))
    if action == "round.settings":
        return "；".join(f"{k}: {old.get(k)} → {v}" for k, v in new.items() if str(old.get(k)) != str(v))
    return "；".join(f"{k}: {v}" for k, v in new.items())


def changes(round_id: int, old: Publication, new: Publication | None) -> SetupChanges:
    """The 解锁设置 opened and the set-up changes made between version `old` and version `new` (None: since `old`,
    pending). On a published round every such change was made under an unlock (guard)."""
    def between(column, query):
        query = query.where(column >= old.published_at)
        return query.where(column <= new.published_at) if new is not None else query

    unlocks = [(who or "", reason, at) for who, reason, at in db.session.execute(between(
        SetupUnlock.opened_at, select(User.display_name, SetupUnlock.reason, SetupUnlock.opened_at)
        .join(User, User.id == SetupUnlock.opened_by_id).where(SetupUnlock.round_id == round_id)
        .order_by(SetupUnlock.id)))]
    events = db.session.execute(between(AuditEvent.at, select(
        AuditEvent.at, AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id, AuditEvent.old,
        AuditEvent.new, User.display_name).outerjoin(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.round_id == round_id, AuditEvent.action.in_(SETUP_ACTIONS))
        .order_by(AuditEvent.id))).all()
    ids = {v for e in events for part in (e.old, e.new) if part for k, v in part.items()
           if k in ("leader", "member") and isinstance(v, int)}
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    team_ids = {e.object_id for e in events if e.object_type == "Team"}
    teams = dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all()) if team_ids else {}
    rows = [SetupChange(e.at, e.display_name or "", AuditAction.label_of(e.action),
                        teams.get(e.object_id, "") if e.object_type == "Team" else "",
                        _summary(e.action, e.old, e.new, names)) for e in events]
    return SetupChanges(unlocks, rows)
