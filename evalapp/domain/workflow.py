"""Status machines of sheets and rounds."""

SHEET_TRANSITIONS = {
    ("draft", "submitted"),
    ("returned", "submitted"),
    ("submitted", "returned"),
    ("submitted", "approved"),
    ("approved", "returned"),  # an admin unlock of a published result sends it back to review
}

ROUND_ORDER = ("setup", "self_assessment", "inspection", "review", "published")


def can_move_sheet(from_status: str, to_status: str) -> bool:
    """Whether a sheet may go from one status to another."""
    return (from_status, to_status) in SHEET_TRANSITIONS


def next_round_status(status: str) -> str | None:
    """The phase after this one, or None for a published round."""
    i = ROUND_ORDER.index(status)
    return ROUND_ORDER[i + 1] if i + 1 < len(ROUND_ORDER) else None
