"""The sheet and round machines (domain.workflow): every move is walked, and from every reachable state each unit can
still end published with an approved final sheet — no round gets stuck.

The model is a small round of two units, built only from the machine's tables: unit A has a self sheet, the
leader's and member b's inspector sheets and a final sheet; unit B the leader's sheet and a final sheet. Member b may
leave and rejoin the team while the round is not published. Every move the tables allow is tried in every state.
"""
from collections import deque

import pytest

from evalapp.domain import workflow as wf

KIND = {"self:A": "self", "lead:A": "inspector", "b:A": "inspector", "final:A": "final",
        "lead:B": "inspector", "final:B": "final"}
UNIT = {name: name.split(":")[1] for name in KIND}
MEMBERS = {"A": ("lead:A", "b:A"), "B": ("lead:B",)}


def _status_of(phase: str) -> str:
    return "published" if phase in ("published", "reopened") else phase


def _initial():
    return ("setup", True, frozenset())  # phase, member b in the team, sheets as (name, status, unlocked)


def _sheets(state) -> dict:
    return {name: (status, unlocked) for name, status, unlocked in state[2]}


def _state(phase, b_in, sheets: dict):
    return (phase, b_in, frozenset((n, s, u) for n, (s, u) in sheets.items()))


def _close(sheets: dict, names, context, walked) -> dict:
    """The system closes these sheets where they are open (a close move of the table)."""
    sheets = dict(sheets)
    for name in names:
        if name not in sheets:
            continue
        status, unlocked = sheets[name]
        for move in wf.sheet_moves(KIND[name], status, context):
            if move.action == "close":
                walked.add(("sheet", move.source, move.target, move.action, KIND[name]))
                sheets[name] = (move.target, unlocked)
    return sheets


def successors(state, walked: set):
    """Every (label, next state) the tables allow from this state."""
    phase, b_in, _ = state
    sheets = _sheets(state)
    round_status = _status_of(phase)
    out = []
    # Sheet moves by their owner or reviewer.
    for name, (status, unlocked) in sheets.items():
        kind = KIND[name]
        if name == "b:A" and not b_in:
            continue  # a member who left no longer fills anything
        for move in wf.sheet_moves(kind, status, wf.sheet_context(round_status, unlocked)):
            if move.by not in ("owner", "reviewer"):
                continue
            if kind == "final" and move.action == "submit" and not all(
                    wf.member_settled(sheets[m][0]) for m in MEMBERS[UNIT[name]] if m in sheets):
                continue  # the final sheet waits for its members
            walked.add(("sheet", move.source, move.target, move.action, kind))
            out.append((f"{name} {move.action}", _state(phase, b_in, {**sheets, name: (move.target, unlocked)})))
    # Round moves.
    for move in wf.round_moves(phase):
        if move.action == "unlock":
            for name, (status, unlocked) in sheets.items():
                if unlocked or not wf.can_unlock(KIND[name]):
                    continue
                target = wf.unlocked_status(status)
                assert target == status or wf.can_move_sheet(status, target, KIND[name])
                if target != status:
                    walked.add(("sheet", status, target, "unlock", KIND[name]))
                new = _close(sheets, [m for m in MEMBERS[UNIT[name]]], wf.sheet_context(round_status, False), walked)
                new[name] = (target, True)
                walked.add(("round", move.source, move.target, move.action))
                out.append((f"unlock {name}", _state(move.target, b_in, new)))
            continue
        if move.action == "republish" and any(u and s != "approved" for s, u in sheets.values()):
            continue  # every unlocked sheet approved again first
        new = sheets
        if move.closes_member_drafts:
            new = _close(new, [n for n in KIND if KIND[n] == "inspector"], round_status, walked)
        if move.target == "published":
            new = {n: (s, False) for n, (s, u) in new.items()}
        for kind in move.makes:
            for name in KIND:
                if KIND[name] == kind and name not in new and (name != "b:A" or b_in):
                    new[name] = ("draft", False)
        walked.add(("round", move.source, move.target, move.action))
        out.append((f"{move.action} → {move.target}", _state(move.target, b_in, new)))
    # Member b leaves or rejoins (a published round's teams are frozen).
    if phase not in ("published", "reopened"):
        if b_in:
            out.append(("b leaves", _state(phase, False, _close(sheets, ["b:A"], round_status, walked))))
        else:
            new = dict(sheets)
            if "b:A" in new:
                for move in wf.sheet_moves("inspector", new["b:A"][0], round_status):
                    if move.action == "reopen":
                        walked.add(("sheet", move.source, move.target, move.action, "inspector"))
                        new["b:A"] = (move.target, False)
            elif phase == "inspection":
                new["b:A"] = ("draft", False)
            out.append(("b rejoins", _state(phase, True, new)))
    return out


def explore():
    """Every state reachable from a new round, the moves between them, and the moves of the tables walked."""
    walked: set = set()
    edges: dict = {}
    start = _initial()
    queue, seen = deque([start]), {start}
    while queue:
        state = queue.popleft()
        edges[state] = successors(state, walked)
        for _label, nxt in edges[state]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return edges, walked


def done(state) -> bool:
    """Where a round ends well: published, not reopened, every unit's final sheet approved."""
    sheets = _sheets(state)
    return state[0] in wf.TERMINAL_ROUND_PHASES and all(sheets.get(f, ("",))[0] == "approved"
                                                         for f in ("final:A", "final:B"))


@pytest.fixture(scope="module")
def machine():
    return explore()


# No move returns a member sheet; the moves out of a returned one are kept so that it would be open and closable.
NEVER_REACHED = {("sheet", "returned", "submitted", "submit", "inspector"),
                 ("sheet", "returned", "closed", "close", "inspector")}


def test_every_move_of_the_tables_is_walked(machine):
    _edges, walked = machine
    moves = {("sheet", m.source, m.target, m.action, kind) for m in wf.SHEET_MOVES for kind in m.kinds}
    moves |= {("round", m.source, m.target, m.action) for m in wf.ROUND_MOVES}
    assert moves - walked == NEVER_REACHED
    assert not any(m.target == "returned" and "inspector" in m.kinds for m in wf.SHEET_MOVES)


def test_every_reachable_state_has_a_way_to_a_completed_publication(machine):
    edges, _ = machine
    good = {s for s in edges if done(s)}
    assert good
    reverse: dict = {}
    for state, outs in edges.items():
        for _label, nxt in outs:
            reverse.setdefault(nxt, set()).add(state)
    can_finish, queue = set(good), deque(good)
    while queue:
        for prev in reverse.get(queue.popleft(), ()):
            if prev not in can_finish:
                can_finish.add(prev)
                queue.append(prev)
    stuck = [s for s in edges if s not in can_finish]
    assert stuck == [], f"{len(stuck)} states with no way out, e.g. {sorted(stuck, key=str)[:3]}"
    # and so every reachable state short of the end has a move out of it
    assert all(edges[s] for s in edges if not done(s))


def test_the_stuck_rounds_of_issue_15_are_reachable_and_now_have_a_way_out(machine):
    edges, _ = machine
    states = set(edges)
    # a member's draft when the round went to review: closed (未提交), not left as a draft
    assert not any(s[0] == "review" and _sheets(s).get("b:A", ("",))[0] == "draft" for s in states)
    assert any(s[0] == "review" and _sheets(s).get("b:A", ("",))[0] == "closed" for s in states)
    # a member who left holding a draft: closed, and the final sheet can still be submitted
    assert any(not s[1] and _sheets(s).get("b:A", ("",))[0] == "closed"
               and _sheets(s).get("final:A", ("",))[0] == "submitted" for s in states)


@pytest.mark.parametrize("kind, unlockable", [("final", True), ("inspector", False), ("self", False)])
def test_only_final_sheets_are_unlocked(kind, unlockable):
    assert wf.can_unlock(kind) is unlockable


def test_closed_member_sheets_reopen_only_during_inspection_and_count_as_settled():
    assert wf.can_move_sheet("draft", "closed", "inspector")
    assert not wf.can_move_sheet("draft", "closed", "final") and not wf.can_move_sheet("draft", "closed", "self")
    assert [m.action for m in wf.sheet_moves("inspector", "closed", "inspection")] == ["reopen"]
    assert wf.sheet_moves("inspector", "closed", "review") == ()
    assert wf.member_settled("closed") and wf.member_settled("submitted") and not wf.member_settled("draft")
    assert not wf.can_move_sheet("approved", "returned", "inspector")  # no unlock of a member sheet


def test_the_owner_and_reviewer_phases_are_those_access_checks():
    assert wf.owner_may_change("final", "returned", "unlocked")
    assert not wf.owner_may_change("final", "returned", "published")  # a reopened round's other sheets stay locked
    assert not wf.owner_may_change("inspector", "draft", "review")
    assert not wf.owner_may_change("self", "draft", "inspection")  # frozen as the teams found it
    assert wf.reviewer_may_decide("final", "submitted", "review")
    assert not wf.reviewer_may_decide("inspector", "submitted", "inspection")


def test_round_phases():
    assert wf.round_phase("published", True) == "reopened" and wf.round_phase("published", False) == "published"
    assert wf.round_move("review", "advance") is None  # publication is the district's, on the results page
    assert wf.round_move("inspection", "advance").closes_member_drafts
    assert wf.round_move("published", "republish") is None and wf.round_move("reopened", "republish")
