"""The rules of objections (异议) and their re-check (复核), over plain values (issue 32, points 3–4)."""
from dataclasses import dataclass

from .messages import M_, Msg

MAX_REASON = 2000
MAX_FILES = 5
# One objection's evidence files together (not each): the upload routes' body limit, 21 MB (config.py,
# UPLOAD_MAX_CONTENT_LENGTH["document"]), holds them with the form around them, so the form and the API refuse a
# larger set beside the field (422) rather than as a bare 413.
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
MB = 1024 * 1024
MIN_REVIEWERS = 2
OPEN_STATUSES = ("open", "assigned")  # an objection not yet answered
DECISIONS = ("uphold", "change")


@dataclass(frozen=True)
class Vote:
    user_id: int
    agrees: bool  # with the decision recorded


def majority(votes: list[Vote], group: set[int]) -> Msg | None:
    """A decision stands when every member of the group voted and more than half agree with it."""
    voted = {v.user_id for v in votes}
    if voted != group:
        return M_("复核组每位成员都须表决")
    if sum(v.agrees for v in votes) * 2 <= len(group):
        return M_("复核决定须经复核组过半数成员同意")
    return None


def group_problems(reviewer_ids: list[int], leader_id: int | None, scorers: set[int]) -> list[str]:
    """Codes of what is wrong with a re-check group: fewer than two, a leader outside it, a scorer in it."""
    problems = []
    members = set(reviewer_ids)
    if len(members) < MIN_REVIEWERS:
        problems.append("too_few")
    if leader_id is None or leader_id not in members:
        problems.append("leader")
    if members & scorers:
        problems.append("scorer")
    return problems
