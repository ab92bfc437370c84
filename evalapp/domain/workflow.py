"""Status machines of sheets and rounds: every allowed move, who makes it, and in which phase — in one place.

Sheets (评分表). Each kind has its own owner and reviewer:

* a self sheet (自评表) is filled and submitted by its unit during self-assessment and approved or returned by the
  township (villages) or the district (townships) in that phase; once inspection opens it is frozen as the teams
  found it, whatever its status;
* an inspector sheet (评估员评分表, one per team member per unit) is filled and submitted by its member during
  inspection. Nobody reviews it: the leader reconciles the submitted ones into the final sheet. A draft left when
  the round moves on past inspection, or when its member leaves the team, is closed by the system (closed, 未提交):
  kept for the audit, left out of the members' mean, and it no longer holds up the final sheet. A closed sheet is
  reopened (closed → draft) when its member rejoins a team covering the unit while the round is still in
  inspection; once the round has moved on, closed is where it ends. (No move returns a member sheet today; the
  moves out of `returned` are there so that one would be open and closable like a draft.)
* a final sheet (工作组评分表) is filled and submitted by the team leader — in inspection, in review, or after an
  unlock — and approved or returned by the district. It is the only kind that can be unlocked after publication:
  an approved one goes back to returned. To change what an inspector entered, unlock the unit's final sheet and the
  leader reconciles again.

Rounds (评估验收批次): setup → self_assessment → inspection → review → published, advanced by the admin up to
review and published by the district (from inspection or review). A published round is reopened when the admin
unlocks a final sheet (status stays `published`, `changed_since_publication` is set) and republished by the district
once every unlocked sheet is approved again. Leaving inspection (to review or to publication) closes the member
drafts; so does an unlock, for the unlocked unit (drafts left by rounds published before this rule).

`tests/domain/test_workflow.py` walks every move below and checks that from every reachable state each unit can
still end published with an approved final sheet.
"""
from dataclasses import dataclass

SHEET_KINDS = ("self", "inspector", "final")
SHEET_STATUSES = ("draft", "submitted", "returned", "approved", "closed")
ROUND_ORDER = ("setup", "self_assessment", "inspection", "review", "published")
# A round's phase: its status, or "reopened" for a published round with a sheet unlocked since (to republish).
ROUND_PHASES = ROUND_ORDER + ("reopened",)
# Where a sheet stands for its own moves: its round's status, or "unlocked" for a sheet unlocked in a published
# round (the other sheets of a reopened round stay locked).
SHEET_CONTEXTS = ROUND_ORDER + ("unlocked",)

OWNER_CONTEXTS = {  # when a sheet's owner may fill and submit it (access.can_edit_sheet reads this)
    "self": frozenset({"self_assessment"}),
    "inspector": frozenset({"inspection"}),
    "final": frozenset({"inspection", "review", "unlocked"}),
}
REVIEW_CONTEXTS = {  # when a submitted sheet may be approved or returned (access.can_review_sheet reads this)
    "self": frozenset({"self_assessment"}),
    "final": frozenset({"inspection", "review", "unlocked"}),
}
UNLOCKABLE_KINDS = frozenset({"final"})


@dataclass(frozen=True)
class SheetMove:
    """One allowed change of a sheet's status: for these kinds, in these contexts, by whom."""

    source: str
    target: str
    action: str  # submit | return | approve | unlock | close | reopen
    by: str  # owner | reviewer | admin | system
    kinds: frozenset[str]
    contexts: frozenset[str]


def _table() -> tuple[SheetMove, ...]:
    moves = []
    for kind, contexts in OWNER_CONTEXTS.items():
        for source in ("draft", "returned"):  # (a member sheet is never returned today; if one were, it is open)
            moves.append(SheetMove(source, "submitted", "submit", "owner", frozenset({kind}), contexts))
    for kind, contexts in REVIEW_CONTEXTS.items():
        moves.append(SheetMove("submitted", "returned", "return", "reviewer", frozenset({kind}), contexts))
        moves.append(SheetMove("submitted", "approved", "approve", "reviewer", frozenset({kind}), contexts))
    moves += [
        # An admin unlock of a published result sends an approved final sheet back to the leader.
        SheetMove("approved", "returned", "unlock", "admin", UNLOCKABLE_KINDS, frozenset({"published"})),
        # An open member sheet when the round leaves inspection or the member leaves the team (and, for rounds
        # published before this rule, when the unit's final sheet is unlocked).
        SheetMove("draft", "closed", "close", "system", frozenset({"inspector"}),
                  frozenset({"inspection", "review", "published"})),
        SheetMove("returned", "closed", "close", "system", frozenset({"inspector"}),
                  frozenset({"inspection", "review", "published"})),
        # The member rejoins a team covering the unit while the round is still in inspection.
        SheetMove("closed", "draft", "reopen", "system", frozenset({"inspector"}), frozenset({"inspection"})),
    ]
    return tuple(moves)


SHEET_MOVES = _table()
SHEET_TRANSITIONS = frozenset((m.source, m.target) for m in SHEET_MOVES)
# Member sheets the system closes when the round leaves inspection or the member leaves (draft, returned).
CLOSABLE_STATUSES = frozenset(m.source for m in SHEET_MOVES if m.action == "close")
# Member sheet statuses that no longer hold up the final sheet's submission.
MEMBER_SETTLED = frozenset({"submitted", "closed"})

_OWNER_OPEN = frozenset((kind, m.source, ctx) for m in SHEET_MOVES if m.by == "owner"
                        for kind in m.kinds for ctx in m.contexts)
_REVIEWABLE = frozenset((kind, m.source, ctx) for m in SHEET_MOVES if m.by == "reviewer"
                        for kind in m.kinds for ctx in m.contexts)


def can_move_sheet(from_status: str, to_status: str, kind: str | None = None) -> bool:
    """Whether a sheet (of this kind, when given) may go from one status to another."""
    if kind is None:
        return (from_status, to_status) in SHEET_TRANSITIONS
    return any(m.source == from_status and m.target == to_status and kind in m.kinds for m in SHEET_MOVES)


def sheet_context(round_status: str, sheet_unlocked: bool) -> str:
    """Where a sheet stands for its moves: its round's status, or "unlocked" (published round, this sheet unlocked)."""
    return "unlocked" if round_status == "published" and sheet_unlocked else round_status


def sheet_moves(kind: str, status: str, context: str) -> tuple[SheetMove, ...]:
    """The moves a sheet of this kind and status may make in this context."""
    return tuple(m for m in SHEET_MOVES if m.source == status and kind in m.kinds and context in m.contexts)


def owner_may_change(kind: str, status: str, context: str) -> bool:
    """Whether the owner may fill and submit the sheet now (it is open and its kind's phase is on)."""
    return (kind, status, context) in _OWNER_OPEN


def owner_open_states(kind: str) -> frozenset[tuple[str, str]]:
    """The (status, context) pairs in which the owner of a sheet of this kind may change it (owner_may_change as a
    set: services.figures turns it into the condition of the write itself)."""
    return frozenset((status, context) for k, status, context in _OWNER_OPEN if k == kind)


def reviewer_may_decide(kind: str, status: str, context: str) -> bool:
    """Whether a reviewer may approve or return the sheet now."""
    return (kind, status, context) in _REVIEWABLE


def can_unlock(kind: str) -> bool:
    """Only final sheets are unlocked after publication; the others are reconciled into them."""
    return kind in UNLOCKABLE_KINDS


def unlocked_status(status: str) -> str:
    """The status a final sheet has after an unlock: an approved one is returned to the leader, others stay."""
    return "returned" if status == "approved" else status


def member_settled(status: str) -> bool:
    """Whether a member sheet in this status no longer holds up the final sheet (submitted, or closed 未提交)."""
    return status in MEMBER_SETTLED


@dataclass(frozen=True)
class RoundMove:
    """One allowed change of a round's phase, who makes it, and what it does to the sheets."""

    source: str
    target: str
    action: str  # advance | publish | unlock | republish
    by: str  # admin | district
    makes: tuple[str, ...] = ()  # sheet kinds made for the new phase
    closes_member_drafts: bool = False  # open member sheets are closed (未提交)


ROUND_MOVES = (
    RoundMove("setup", "self_assessment", "advance", "admin", makes=("self",)),
    RoundMove("self_assessment", "inspection", "advance", "admin", makes=("self", "inspector", "final")),
    RoundMove("inspection", "review", "advance", "admin", closes_member_drafts=True),
    RoundMove("inspection", "published", "publish", "district", closes_member_drafts=True),
    # (drafts left in review by rounds advanced before member drafts were closed)
    RoundMove("review", "published", "publish", "district", closes_member_drafts=True),
    RoundMove("published", "reopened", "unlock", "admin", closes_member_drafts=True),
    RoundMove("reopened", "reopened", "unlock", "admin", closes_member_drafts=True),
    RoundMove("reopened", "published", "republish", "district"),
)
TERMINAL_ROUND_PHASES = frozenset({"published"})


def round_phase(status: str, changed_since_publication: bool = False) -> str:
    """A round's phase: its status, or "reopened" for a published round changed since publication."""
    return "reopened" if status == "published" and changed_since_publication else status


def round_move(phase: str, action: str) -> RoundMove | None:
    """The move this action makes from this phase, or None when it is not allowed there."""
    return next((m for m in ROUND_MOVES if m.source == phase and m.action == action), None)


def round_moves(phase: str) -> tuple[RoundMove, ...]:
    """Every move a round may make from this phase."""
    return tuple(m for m in ROUND_MOVES if m.source == phase)


def next_round_status(status: str) -> str | None:
    """The status after this one in the order of phases, or None for a published round."""
    i = ROUND_ORDER.index(status)
    return ROUND_ORDER[i + 1] if i + 1 < len(ROUND_ORDER) else None
