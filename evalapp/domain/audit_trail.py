"""The tamper-evident audit trail's rules (issue 34, point 6): what a row's and a checkpoint's MAC cover, and the
exact id lists checkpoints record. Pure: the keys are handed in (services.seals' key handling), nothing is read.

A row's MAC is an HMAC-SHA256 (the publication seal keys) over its canonical content — every column the log shows,
its time to the microsecond, its chain and its two links — followed by the MACs of the two rows it links to:
`prev_id`, the previous row of the same chain (the object it is about, or its actor when it is about none), and
`seen_id`, the newest row its writer could see. The first row of a transaction reads both in one statement, before
its insert and without a lock, so concurrent writers never wait for each other; two writers of one object may both
link to the same predecessor (a fork), which the check accepts. A later row of the same transaction links to the
transaction's previous row (`seen_id`) and to its chain's previous row only when the transaction wrote it (no
statement per row in a bulk change). Deleting a row that a later row links to breaks that row's link; a row copied
whole keeps a valid MAC (its id cannot be covered: it is given at the insert) but shares it with its original.

A checkpoint (services.audit_trail.seal) lists the exact ids it seals — ids a rolled-back transaction used and never
wrote are simply not listed — and its MAC covers that list, each listed row's MAC in id order and the previous
checkpoint's MAC: a listed row deleted or re-MACed, or a checkpoint deleted from the middle, no longer matches.
"""
import hashlib
import hmac
import json
from datetime import datetime, timezone

# The columns a row's MAC covers, in this order (after them: the two linked rows' MACs).
ROW_FIELDS = ("at", "user_id", "action", "object_type", "object_id", "unit_id", "round_id", "old", "new", "detail",
              "ip", "chain", "prev_id", "seen_id", "mac_key")
CHAIN_WIDTH = 48  # audit_events.chain's width


def dump(value) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8 (services.seals.dump's)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def stored_json(value):
    """A JSON value as the database gives it back (a tuple as a list, int keys as strings), so the MAC written
    is the MAC read."""
    return None if value is None else json.loads(json.dumps(value))


def chain_of(object_type: str, object_id: int | None, user_id: int | None) -> str:
    """The chain a row joins: its object ("Score:17"), else its actor ("user:5"), else the system ("-")."""
    if object_type and object_id is not None:
        return f"{object_type}:{object_id}"[:CHAIN_WIDTH]
    if user_id is not None:
        return f"user:{user_id}"
    return "-"


def time_text(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_message(row: dict, prev_mac: str | None, seen_mac: str | None) -> bytes:
    """What a row's MAC is computed over: `row` maps ROW_FIELDS to the values as stored (`at` timezone-aware)."""
    values = [time_text(row["at"]) if name == "at" else row[name] for name in ROW_FIELDS]
    return dump(values) + f"|{prev_mac or ''}|{seen_mac or ''}".encode("ascii")


def mac(secret: bytes, message: bytes) -> str:
    return hmac.digest(secret, message, "sha256").hex()


def same(a: str | None, b: str | None) -> bool:
    return hmac.compare_digest(a or "", b or "")


# -- checkpoints --------------------------------------------------------------------------------------------------


def runs(ids: list[int]) -> str:
    """Ascending ids as runs: [1, 2, 3, 5, 7, 8] → "1-3,5,7-8" (a range's gaps stay visible)."""
    out: list[str] = []
    start = prev = None
    for i in ids:
        if prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    if start is not None:
        out.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(out)


def parse_runs(text: str) -> list[tuple[int, int]]:
    """"1-3,5" → [(1, 3), (5, 5)]; ValueError on anything else."""
    out = []
    for part in filter(None, (text or "").split(",")):
        first, _, last = part.partition("-")
        a, b = int(first), int(last or first)
        if b < a:
            raise ValueError(part)
        out.append((a, b))
    return out


class CheckpointMac:
    """A checkpoint's MAC, fed one listed row at a time in id order."""

    def __init__(self, secret: bytes, number: int, key_id: str, ids_text: str, prev_mac: str | None):
        self._h = hmac.new(secret, f"{number}|{key_id}|{prev_mac or ''}|{ids_text}|".encode("utf-8"),
                           hashlib.sha256)

    def add(self, row_id: int, row_mac: str | None) -> None:
        self._h.update(f"{row_id}:{row_mac or ''};".encode("ascii"))

    def hexdigest(self) -> str:
        return self._h.hexdigest()
