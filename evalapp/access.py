"""Who may see and change what: role decorators and object-scope checks, in one place."""
from functools import cache, wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import bindparam, exists, false, func, select, true

from .domain.workflow import owner_may_change, reviewer_may_decide, sheet_context
from .extensions import db
from .models import OrgUnit, Publication, RoundUnit, Sheet, Team, TeamMember, User
from .models.sheet import SHEET_KINDS

ALL_SEEING = ("admin", "district", "finance")


def role_required(*roles: str):
    """Log-in required, and one of these roles (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def township_of(unit: OrgUnit) -> OrgUnit | None:
    """The township a unit belongs to (itself for a township)."""
    node = unit
    while node is not None and node.level not in ("township", "district"):
        node = node.parent
    return node if node is not None and node.level == "township" else None


def can_view_unit(user: User, unit: OrgUnit) -> bool:
    """Scope by unit: all-seeing roles see all; a township lead its township and villages; a village itself."""
    if user.role in ALL_SEEING:
        return True
    if user.role == "township":
        own = township_of(unit)
        return own is not None and own.id == user.unit_id
    if user.role == "village":
        return unit.id == user.unit_id
    if user.role == "inspector":
        return db.session.scalar(
            select(exists().where(
                RoundUnit.unit_id == unit.id,
                RoundUnit.team_id == TeamMember.team_id,
                TeamMember.user_id == user.id,
            ))
        )
    return False


def sees_as_lead(user: User, unit: OrgUnit | None) -> bool:
    """A record about a unit (a 整改, a 约谈): the all-seeing roles, and the unit's own leads as can_view_unit has
    them (a township lead its township and villages, a village lead its village); not inspectors by team."""
    if user.role in ALL_SEEING:
        return True
    return user.role in ("township", "village") and unit is not None and can_view_unit(user, unit)


def unit_lead_scope(user: User, unit_id):
    """sees_as_lead in SQL: the condition on the column `unit_id` keeping what the user may see — every row for the
    all-seeing roles, a township lead's township and villages, a village lead's village; None for any other role
    (the caller's own rule, or nothing)."""
    if user.role in ALL_SEEING:
        return true()
    if user.role == "township":
        return (unit_id == user.unit_id) | unit_id.in_(select(OrgUnit.id).where(OrgUnit.parent_id == user.unit_id))
    if user.role == "village":
        return unit_id == user.unit_id
    return None


def team_covers(round_id, unit_id, user_id):
    """The SQL condition "the unit is assigned, in the round, to a team the user belongs to" (values or columns)."""
    return exists().where(
        RoundUnit.round_id == round_id,
        RoundUnit.unit_id == unit_id,
        RoundUnit.team_id == TeamMember.team_id,
        TeamMember.user_id == user_id,
    )


@cache
def _team_covers_statement():
    return select(team_covers(bindparam("round_id"), bindparam("unit_id"), bindparam("user_id")))


def inspector_team_covers(user: User, sheet: Sheet) -> bool:
    """True when the sheet's unit is assigned, in the sheet's round, to a team the user belongs to."""
    return db.session.scalar(_team_covers_statement(),  # built once: every scoring page and autosave asks
                             {"round_id": sheet.round_id, "unit_id": sheet.unit_id, "user_id": user.id})


def team_leader_id(sheet: Sheet) -> int | None:
    """The leader of the team the sheet's unit is assigned to in the sheet's round."""
    return db.session.scalar(
        select(Team.leader_id).join(RoundUnit, RoundUnit.team_id == Team.id)
        .where(RoundUnit.round_id == sheet.round_id, RoundUnit.unit_id == sheet.unit_id)
    )


# Finance reads results, self-assessments and the teams' final sheets, never a member's own sheet (评估员评分表):
# the pages never showed finance one, and the API asks this same rule (and visible_sheets, its SQL twin).
SHEET_KINDS_SEEN = {"admin": ("self", "inspector", "final"), "district": ("self", "inspector", "final"),
                    "finance": ("self", "final")}


def can_view_sheet(user: User, sheet: Sheet) -> bool:
    """May this user read this sheet? The one rule of pages and API alike: admin and district see every sheet,
    finance every sheet but members' own; scoped roles their own units' self sheets; inspectors their team's."""
    if user.role in ALL_SEEING:
        return sheet.kind in SHEET_KINDS_SEEN[user.role]
    if user.role in ("township", "village"):
        return sheet.kind == "self" and can_view_unit(user, sheet.unit)
    if user.role == "inspector":
        if sheet.kind == "self" and sheet.round.status in ("setup", "self_assessment"):
            return False  # an inspector cannot see a self sheet before inspection opens
        return inspector_team_covers(user, sheet) or objection_leader(sheet) == user.id
    return False


def objection_leader(sheet: Sheet) -> int | None:
    """The leader of the re-check group (复核组) whose decision to change a score unlocked this final sheet: while
    the objection's change is open, exactly that person enters the decided value on it (services.objections)."""
    from .services.objections import editing_leader

    return editing_leader(sheet) if sheet.kind == "final" and sheet.unlocked else None


def can_edit_sheet(user: User, sheet: Sheet) -> bool:
    """May this user change this sheet's scores now? Only its owner, only while it is open."""
    # The status and the phase as the workflow has them (domain.workflow.OWNER_CONTEXTS); then whose sheet it is.
    if not owner_may_change(sheet.kind, sheet.status, sheet_context(sheet.round.status, sheet.unlocked)):
        return False
    if sheet.kind == "self":
        if user.role in ("township", "village") and sheet.unit_id == user.unit_id:
            return True
        return fills_for_village(user, sheet)  # 代填
    if sheet.kind == "inspector":
        return user.role == "inspector" and sheet.inspector_id == user.id
    if sheet.kind == "final":
        if user.role != "inspector":
            return False
        reviewer = objection_leader(sheet)
        if reviewer is not None:
            return reviewer == user.id  # unlocked for a 复核: its group's leader, not the team's
        return team_leader_id(sheet) == user.id
    return False


# 代填 (issue 29 point 6). A pilot village without a 社会救助协理员 account cannot fill its own self-assessment, so the
# lead of its own township fills it in for it — and only while it has none: once an active village account exists
# the village fills its own sheet and the township no longer can (what was filled stays, marked 代填: the sheet's
# proxy_by, services.proxy). The phase and status are the owner's (checked first in can_edit_sheet): only during
# self-assessment, only a draft or returned sheet. Filling in includes the 工作总结, the documents and submitting it
# to the township — which then reviews it like any village's (can_review_sheet says why).


def village_has_account(unit_id: int) -> bool:
    """Whether the unit has an active user of the village role (who fills its self-assessment)."""
    return db.session.scalar(select(village_account_exists(unit_id)))


def village_account_exists(unit_id):
    """SQL: an active village user of this unit (a value or a column)."""
    return exists().where(User.unit_id == unit_id, User.role == "village", User.active.is_(True))


def fills_for_village(user: User, sheet: Sheet) -> bool:
    """Whether the user is the lead of the township of this village's self sheet and the village has no active
    account, so the user may fill it in for the village (代填) — when the sheet is open at all (can_edit_sheet)."""
    return (user.role == "township" and sheet.kind == "self" and sheet.unit.level == "village"
            and sheet.unit.parent_id == user.unit_id and not village_has_account(sheet.unit_id))


def proxy_sheets(user: User):
    """SQL on Sheet: the self sheets of the user's account-less villages (fills_for_village's scope, in SQL; the
    phase and status are the caller's)."""
    if user.role != "township":
        return false()
    villages = select(OrgUnit.id).where(OrgUnit.parent_id == user.unit_id, OrgUnit.level == "village",
                                        ~village_account_exists(OrgUnit.id))
    return (Sheet.kind == "self") & Sheet.unit_id.in_(villages)


SIGNING_PHASES = ("inspection", "review", "published")


def can_sign_sheet(user: User, sheet: Sheet) -> bool:
    """Who records signatures on a unit's 评分表: an inspector of the team covering the unit (the leader's tablet is
    passed round: members and the unit's representative sign on it), once inspection has opened. Signing changes
    no score, so it is open whatever the sheet's status — until publication: a published 评分表 is signed by hand on
    its printed version, and on the tablet again only once unlocked (issue 29; services.signatures.sign checks the
    same under the round's lock)."""
    return (sheet.kind == "final" and user.role == "inspector" and sheet.round.status in SIGNING_PHASES
            and not (sheet.round.status == "published" and not sheet.unlocked)
            and inspector_team_covers(user, sheet))


def visible_sheets(user: User, round_id: int):
    """A query for the sheets of a round this user may see (the same rules as can_view_sheet, in SQL)."""
    from .models import Round

    query = select(Sheet).where(Sheet.round_id == round_id)
    if user.role in ALL_SEEING:
        kinds = SHEET_KINDS_SEEN[user.role]
        return query if len(kinds) == len(SHEET_KINDS) else query.where(Sheet.kind.in_(kinds))
    if user.role == "township":
        own = select(OrgUnit.id).where((OrgUnit.id == user.unit_id) | (OrgUnit.parent_id == user.unit_id))
        return query.where(Sheet.kind == "self", Sheet.unit_id.in_(own))
    if user.role == "village":
        return query.where(Sheet.kind == "self", Sheet.unit_id == user.unit_id)
    if user.role == "inspector":
        team_units = (select(RoundUnit.unit_id).join(TeamMember, TeamMember.team_id == RoundUnit.team_id)
                      .where(RoundUnit.round_id == round_id, TeamMember.user_id == user.id))
        round_status = select(Round.status).where(Round.id == round_id).scalar_subquery()
        return query.where(Sheet.unit_id.in_(team_units),
                           (Sheet.kind != "self") | round_status.notin_(("setup", "self_assessment")))
    return query.where(False)


def can_review_sheet(user: User, sheet: Sheet) -> bool:
    """Who approves or returns a submitted sheet: the district for final sheets and townships' own self sheets,
    the township lead for its villages' self sheets (during self-assessment). Nobody once the round is published."""
    # Once inspection opens, self-assessments are frozen as the teams found them (domain.workflow.REVIEW_CONTEXTS).
    if not reviewer_may_decide(sheet.kind, sheet.status, sheet_context(sheet.round.status, sheet.unlocked)):
        return False
    if sheet.kind == "final":
        return user.role == "district"
    if sheet.kind == "self":
        if sheet.unit.level == "village":
            # A sheet the township filled in and submitted for an account-less village (代填) is reviewed by the same
            # township, as any village's: the township is the only reviewer a village has, and a sheet nobody may
            # approve would stand submitted for good. What a real township expects is to close the matter it took
            # on — approve it, or return it to itself to correct. Nothing is hidden by that: the sheet, its history
            # and the audit say 代填 and by whom, and the district and the inspection team see it so marked.
            return user.role == "township" and sheet.unit.parent_id == user.unit_id
        return user.role == "district"
    return False


def can_compare(user: User, self_sheet: Sheet) -> bool:
    """Self vs final: the district, admin, finance and the team at any time; the unit's own people once the round's
    results are published."""
    if not can_view_sheet(user, self_sheet):
        return False
    if user.role in ("township", "village"):
        return self_sheet.round.status == "published"
    return True


UNIT_RESULT_ROLES = ("district", "admin", "finance", "township", "village")


def can_view_unit_results(user: User, unit: OrgUnit) -> bool:
    """A unit's results page (issue 32): the district, admin and finance every unit's; a township lead its own
    township's and its villages'; a village lead its own village's. Nothing of another unit (a 404 for the rest of
    these roles; inspectors have no such page)."""
    if user.role not in UNIT_RESULT_ROLES or unit.level not in ("township", "village"):
        return False
    return can_view_unit(user, unit)


HISTORY_ROLES = ("district", "admin", "township", "village")


def can_view_unit_history(user: User, unit: OrgUnit) -> bool:
    """A unit's history across rounds (issue 33, point 2): the district and admin every unit's; a township lead its
    own township's and its villages'; a village lead its own village's. Nothing for anyone else (a 404)."""
    if user.role not in HISTORY_ROLES or unit.level not in ("township", "village"):
        return False
    return can_view_unit(user, unit)


def can_view_published_evidence(user: User, evidence) -> bool:
    """A photo behind a unit's published result, for the unit's own lead (a township's also for its villages): on
    the unit's final or a member's sheet (not one closed as 未提交), once the round is published, taken before its
    last version was published (what the unit's page shows: services.unit_results). Nothing more: no self sheet of
    another unit, no photo before publication, none taken under an unlock since."""
    sheet = evidence.sheet
    if (user.role not in ("township", "village") or evidence.kind != "photo"
            or sheet.kind not in ("final", "inspector") or sheet.status == "closed"
            or sheet.round.status != "published" or not can_view_unit(user, sheet.unit)):
        return False
    published_at = db.session.scalar(select(func.max(Publication.published_at))
                                     .where(Publication.round_id == sheet.round_id))
    return published_at is not None and evidence.uploaded_at <= published_at
