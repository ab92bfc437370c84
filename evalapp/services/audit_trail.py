"""The tamper-evident audit trail (issue 34, point 6): `flask verify-audit`, `flask seal-audit` (on a timer) and
`flask backfill-audit` (once, after migration 0032).

Someone who can write to the database but cannot read the app's configuration must not change or remove an audit
row unseen — and the many concurrent savers, each writing its row in its own transaction, must not wait for one
another to make that so (a single hash chain over the whole log would need a lock: every writer would queue on it).

1. **Each row carries an HMAC** (services.audit.record) under the publication seal keys (services.seals: `SEAL_KEYS`,
   the row naming its key id, so keys rotate as for versions) over its canonical content and the MACs of two earlier
   rows: the previous row of its *chain* (the object it is about, "Score:17", else its actor) and the newest row of
   the log its transaction could see. The first row of a transaction reads both by one indexed SELECT without a lock
   (concurrent writers can link to the same row: a fork, which is valid); a later row of the same transaction links
   to the transaction's previous row, and to its chain's previous row when the transaction wrote it. Changing any
   column of a row (without the key, the MAC cannot be recomputed) breaks its MAC; deleting a row that a later row
   links to breaks that later row's link; a row copied whole shares its original's MAC (no two written rows do).
2. **Checkpoints** (`seal`, run on a timer) seal every row older than a grace period (`AUDIT_SEAL_GRACE_SECONDS`)
   that no checkpoint holds yet: the checkpoint lists their **exact ids** (as runs, "1-500,502-900") with an HMAC
   over that list, each row's MAC in id order and the previous checkpoint's MAC. PostgreSQL's sequences skip the
   ids of rolled-back inserts: such an id is in no list, so it is a gap, never a deletion; a listed id that is gone
   is a deletion. A transaction that commits a row later than the grace period (an id below a sealed range's end)
   is not a forgery — its MAC holds — and the next checkpoint lists it. A row's `sealed_in` only helps the sealer
   find what is unsealed; the lists are what counts.
3. **What stays open**: the newest rows no later row links to and no checkpoint holds yet (at most one timer period
   plus the grace period old) can be deleted unseen, and so can the newest checkpoint with the rows after its
   predecessor; keep the sealer's output (it prints each checkpoint's MAC) in a log kept apart from the database to
   pin them. A row written with no key configured, or before the migration and not yet backfilled, has no MAC and is
   reported.
"""
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import aliased

from ..domain import audit_trail as trail
from ..extensions import db
from ..models import AuditCheckpoint, AuditEvent
from ..models.base import utcnow
from . import seals

CHECKPOINT_ROWS = 50_000  # rows listed in one checkpoint at most
RUN_ROWS = 10 * CHECKPOINT_ROWS  # rows one seal-audit seals at most (after a backfill: the next runs go on)
UPDATE_ROWS = 1_000  # ids per UPDATE while marking rows sealed or backfilling
MAX_PROBLEMS = 1_000  # problems kept (all are counted)


def write_key() -> tuple[str | None, bytes | None]:
    """The key new rows are MACed with (SEAL_KEY_ID's), or (None, None) when none is configured. Read on every
    audit row: kept per app while its SEAL_KEYS and SEAL_KEY_ID are the same objects."""
    config = current_app.config
    given = (config.get("SEAL_KEYS"), config.get("SEAL_KEY_ID"))
    kept = current_app.extensions.get("audit_trail_key")
    if kept is not None and kept[0] is given[0] and kept[1] == given[1]:
        return kept[2]
    key_id = given[1]
    secret = seals.keys().get(str(key_id)) if key_id is not None else None
    found = (str(key_id), secret) if secret is not None else (None, None)
    current_app.extensions["audit_trail_key"] = (*given, found)
    return found


def _fields(row) -> dict:
    return {name: getattr(row, name) for name in trail.ROW_FIELDS}


# -- backfill ----------------------------------------------------------------------------------------------------


def backfill() -> int:
    """MAC the rows written before the trail existed (migration 0032) and link them as record() would have: the
    rows without a MAC older than the first row with one (a row without a MAC after it was written with no key, or
    had its MAC removed: verify-audit reports it, this never blesses it). Returns how many; commits once."""
    key_id, secret = seals.current_key()
    first = db.session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.mac.is_not(None)))
    chains: dict[str, tuple[int, str]] = {}
    seen: tuple[int | None, str | None] = (None, None)
    after, done = 0, 0
    columns = [AuditEvent.id, *(getattr(AuditEvent, n) for n in trail.ROW_FIELDS)]
    mark = (update(AuditEvent.__table__).where(AuditEvent.__table__.c.id == bindparam("row_id"))
            .values(chain=bindparam("c"), prev_id=bindparam("p"), seen_id=bindparam("s"), mac_key=bindparam("k"),
                    mac=bindparam("m")))
    while True:
        query = select(*columns).where(AuditEvent.mac.is_(None), AuditEvent.id > after)
        if first is not None:
            query = query.where(AuditEvent.id < first)
        batch = db.session.execute(query.order_by(AuditEvent.id).limit(UPDATE_ROWS)).all()
        if not batch:
            break
        changes = []
        for r in batch:
            row = _fields(r)
            row["chain"] = trail.chain_of(r.object_type or "", r.object_id, r.user_id)
            prev = chains.get(row["chain"], (None, None))
            row.update(prev_id=prev[0], seen_id=seen[0], mac_key=key_id)
            row_mac = trail.mac(secret, trail.row_message(row, prev[1], seen[1]))
            changes.append({"row_id": r.id, "c": row["chain"], "p": prev[0], "s": seen[0], "k": key_id,
                            "m": row_mac})
            chains[row["chain"]] = seen = (r.id, row_mac)
        db.session.connection().execute(mark, changes)
        done += len(batch)
        after = batch[-1].id
    db.session.commit()
    return done


# -- checkpoints -------------------------------------------------------------------------------------------------


@dataclass
class Sealed:
    checkpoints: list[AuditCheckpoint]
    stopped_at: int | None  # a row without a MAC the sealer did not pass


def seal(*, now: datetime | None = None) -> Sealed:
    """Seal every MACed row older than the grace period that no checkpoint holds, in checkpoints of at most
    CHECKPOINT_ROWS rows, and mark them sealed. Stops before a row without a MAC (verify-audit names it; rows from
    before the trail: backfill-audit). Commits once."""
    key_id, secret = seals.current_key()
    grace = timedelta(seconds=current_app.config.get("AUDIT_SEAL_GRACE_SECONDS", 60))
    horizon = db.session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.at <= (now or utcnow()) - grace))
    if horizon is None:
        return Sealed([], None)
    last = db.session.execute(select(AuditCheckpoint.id, AuditCheckpoint.mac)
                              .order_by(AuditCheckpoint.id.desc()).limit(1)).first()
    number, prev_mac = (last.id, last.mac) if last else (0, None)
    rows = db.session.execute(select(AuditEvent.id, AuditEvent.mac)
                              .where(AuditEvent.sealed_in.is_(None), AuditEvent.id <= horizon)
                              .order_by(AuditEvent.id).limit(RUN_ROWS)).all()
    stopped = next((r.id for r in rows if r.mac is None), None)
    if stopped is not None:
        rows = [r for r in rows if r.id < stopped]
    made, connection = [], db.session.connection()
    for start in range(0, len(rows), CHECKPOINT_ROWS):
        chunk = rows[start:start + CHECKPOINT_ROWS]
        number += 1
        ids = [r.id for r in chunk]
        ids_text = trail.runs(ids)
        digest = trail.CheckpointMac(secret, number, key_id, ids_text, prev_mac)
        for r in chunk:
            digest.add(r.id, r.mac)
        checkpoint = AuditCheckpoint(id=number, at=utcnow(), first_id=ids[0], last_id=ids[-1], row_count=len(ids),
                                     ids=ids_text, mac_key=key_id, mac=digest.hexdigest())
        db.session.add(checkpoint)
        db.session.flush()  # the number is taken: a second sealer running at once fails here, and rolls back
        for i in range(0, len(ids), UPDATE_ROWS):  # exactly the listed ids (a row committed meanwhile is not one)
            connection.execute(update(AuditEvent).where(AuditEvent.id.in_(ids[i:i + UPDATE_ROWS]))
                               .values(sealed_in=number).execution_options(synchronize_session=False))
        made.append(checkpoint)
        prev_mac = checkpoint.mac
    db.session.commit()
    return Sealed(made, stopped)


# -- verification ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row_id: int | None  # the first row it concerns (None: a checkpoint's own)
    text: str


@dataclass
class Check:
    rows: int = 0
    checkpoints: int = 0
    sealed: int = 0
    late: list[int] = field(default_factory=list)  # committed after their range was sealed, MAC valid: sealed next
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    def add(self, row_id: int | None, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(row_id, text))

    @property
    def first(self) -> Problem | None:
        """The problem of the lowest row id (a checkpoint's own when no row is named)."""
        named = [p for p in self.problems if p.row_id is not None]
        return min(named, key=lambda p: p.row_id) if named else (self.problems[0] if self.problems else None)

    @property
    def unsealed(self) -> int:
        return self.rows - self.sealed


def _ids(a: int, b: int) -> str:
    return f"#{a}" if a == b else f"#{a}–#{b}"


def _stream(fetch: int = 2_000) -> Iterator:
    e, prev, seen = AuditEvent, aliased(AuditEvent), aliased(AuditEvent)
    query = (select(e.id, e.mac, e.sealed_in, *(getattr(e, n) for n in trail.ROW_FIELDS),
                    prev.id.label("prev_found"), prev.mac.label("prev_mac"),
                    seen.id.label("seen_found"), seen.mac.label("seen_mac"))
             .outerjoin(prev, prev.id == e.prev_id).outerjoin(seen, seen.id == e.seen_id)
             .order_by(e.id).execution_options(yield_per=fetch))
    result = db.session.execute(query)
    try:
        yield from result
    finally:
        result.close()


def verify() -> Check:
    """Check every row's MAC and links and every checkpoint against the rows it lists, in one pass over the log
    (one statement, read a batch at a time) and one over the checkpoints. Reads only."""
    keys, check = seals.keys(), Check()
    intervals: list[tuple[int, int, int]] = []
    digests: dict[int, trail.CheckpointMac] = {}
    stored: dict[int, str] = {}
    prev_mac, number = None, 0
    for cp in db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)):
        number += 1
        check.checkpoints += 1
        if cp.id != number:
            gone = str(number) if number == cp.id - 1 else f"{number}–{cp.id - 1}"
            check.add(None, f"检查点 {gone} 已被删除（下一个为检查点 {cp.id}）")
            number = cp.id
        secret = keys.get(cp.mac_key)
        try:
            spans = trail.parse_runs(cp.ids)
        except ValueError:
            spans = []
            check.add(None, f"检查点 {cp.id} 的记录列表无法读取（被改动）")
        if secret is None:
            check.add(None, f"检查点 {cp.id}：密钥 {cp.mac_key} 未配置，无法校验")
        else:
            digests[cp.id] = trail.CheckpointMac(secret, cp.id, cp.mac_key, cp.ids, prev_mac)
            stored[cp.id] = cp.mac
        intervals += [(a, b, cp.id) for a, b in spans]
        prev_mac = cp.mac
    intervals.sort()
    for (a1, b1, c1), (a2, b2, c2) in zip(intervals, intervals[1:]):
        if a2 <= b1:
            check.add(a2, f"检查点 {c1} 与 {c2} 都列入了记录 {_ids(a2, min(b1, b2))}（列表被改动）")
    top = max((b for _, b, _ in intervals), default=0)

    def removed(a: int, b: int, why: str) -> None:
        if a <= b:
            check.add(a, f"记录 {_ids(a, b)} 已被删除（{why}）")

    i, expect = 0, (intervals[0][0] if intervals else None)
    gone_links: set[int] = set()
    for r in _stream():
        check.rows += 1
        rid = r.id
        while i < len(intervals) and intervals[i][1] < rid:
            removed(max(expect, intervals[i][0]), intervals[i][1], f"检查点 {intervals[i][2]} 封存了它")
            i += 1
            expect = intervals[i][0] if i < len(intervals) else None
        if i < len(intervals) and intervals[i][0] <= rid:
            cp_id = intervals[i][2]
            removed(max(expect, intervals[i][0]), rid - 1, f"检查点 {cp_id} 封存了它")
            expect = rid + 1
            check.sealed += 1
            if cp_id in digests:
                digests[cp_id].add(rid, r.mac)
            if r.sealed_in is not None and r.sealed_in != cp_id:
                check.add(rid, f"记录 #{rid} 标为检查点 {r.sealed_in} 封存，但由检查点 {cp_id} 列入（被改动）")
        elif r.sealed_in is not None and r.sealed_in <= number:  # (a higher one: sealed since the list was read)
            check.add(rid, f"记录 #{rid} 标为检查点 {r.sealed_in} 封存，但没有检查点列入它（检查点被删除或记录被插入）")
        elif rid <= top and r.mac is not None:
            check.late.append(rid)
        for link, found, why in ((r.prev_id, r.prev_found, "同一对象的下一条"), (r.seen_id, r.seen_found, "随后写入的")):
            if link is not None and found is None and link not in gone_links:
                gone_links.add(link)
                check.add(link, f"记录 #{link} 已被删除（{why}记录 #{rid} 链接到它）")
        if r.mac is None:
            check.add(rid, f"记录 #{rid} 没有校验码（迁移0032之前的记录请运行 flask backfill-audit；"
                           f"之后的记录：写入时未配置密钥，或校验码被删除）")
            continue
        secret = keys.get(r.mac_key)
        if secret is None:
            check.add(rid, f"记录 #{rid}：密钥 {r.mac_key} 未配置，无法校验")
            continue
        expected = trail.mac(secret, trail.row_message(_fields(r), r.prev_mac, r.seen_mac))
        if not trail.same(expected, r.mac):
            check.add(rid, f"记录 #{rid} 的内容与校验码不符（被修改）")
    while i < len(intervals):
        removed(max(expect, intervals[i][0]), intervals[i][1], f"检查点 {intervals[i][2]} 封存了它")
        i += 1
        expect = intervals[i][0] if i < len(intervals) else None
    # A row copied whole (INSERT … SELECT) keeps a valid MAC — the MAC cannot cover an id the row gets only at its
    # insert — but no two rows the app wrote share one (the time to the microsecond and the links differ): a copy.
    copies = (select(AuditEvent.mac).where(AuditEvent.mac.is_not(None)).group_by(AuditEvent.mac)
              .having(func.count() > 1))
    first_of: dict[str, int] = {}
    for rid, row_mac in db.session.execute(select(AuditEvent.id, AuditEvent.mac)
                                           .where(AuditEvent.mac.in_(copies)).order_by(AuditEvent.id)):
        if row_mac in first_of:
            check.add(rid, f"记录 #{rid} 是记录 #{first_of[row_mac]} 的复制（校验码相同：被插入）")
        else:
            first_of[row_mac] = rid
    for cp_id, digest in digests.items():
        if not trail.same(digest.hexdigest(), stored[cp_id]):
            check.add(None, f"检查点 {cp_id} 的校验码不符（所列记录被删除、校验码被改，或检查点本身被改）")
    # the same row may be named twice (removed: listed and linked to); keep the first naming
    named: set[tuple[int | None, str]] = set()
    unique = []
    for p in check.problems:
        key = (p.row_id, p.text.split("（")[0])
        if p.row_id is None or key not in named:
            named.add(key)
            unique.append(p)
    check.problem_count -= len(check.problems) - len(unique)
    check.problems = sorted(unique, key=lambda p: (p.row_id is None, p.row_id or 0))
    return check
