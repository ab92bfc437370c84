"""The sync call of an offline tablet (issue 31): a batch of operations, each applied once in its own transaction
through the same single save the page and the API use, and answered per operation as that save would have been.

An operation's id (a uuid the client made) is unique per user in the database (SyncOperation): it is written in the
transaction of the change it made, or alone for a refusal, with the answer; a replay finds it and is answered
`duplicate` with the first answer, changing nothing. A change equal to what is stored is `equal` (acknowledged, no
new version, no audit row); a stale base version is a `conflict` (the 409 of the single save: both values, who made
the other); any other refusal is `rejected` (its error code and message: the sheet submitted, closed, locked...).
"""
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import SyncOperation, User
from ..domain.text import bad_character
from ..models.base import utcnow
from .errors import Conflict, Invalid, ServiceError, Text, _l

MAX_OPERATIONS = 200
KINDS = ("score",)
CONFLICTS = {"score.conflict", "score.missing"}  # a stale base: the inspector chooses (the others: rejected)
DEVICE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
STATUSES = ("applied", "duplicate", "equal", "conflict", "rejected")


@dataclass(frozen=True)
class Operation:
    op_id: str
    kind: str
    sheet_id: int | None
    indicator: str
    device_time: datetime | None
    body: dict | None
    problems: dict  # field → message: the operation itself is malformed (rejected, nothing applied)


@dataclass(frozen=True)
class Outcome:
    op_id: str
    status: str
    http: int
    data: dict

    def as_json(self) -> dict:
        return {"op_id": self.op_id, "status": self.status, "http": self.http, "data": self.data}


def device_id_of(value, field: str, errors: dict) -> str:
    if not isinstance(value, str) or not DEVICE_ID.fullmatch(value):
        errors[field] = _l("设备标识无效（1至64个字母、数字或 .-_: ）")
        return ""
    return value


def op_id_of(value) -> str | None:
    """The operation id as stored (a uuid, lower case), None when it is none."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def parse_time(value) -> datetime | None:
    """An ISO 8601 time with its offset (the device's clock); ValueError when it is not one."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(value)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(value)
    return parsed


def parse_batch(data: dict) -> tuple[str, object, list[Operation]]:
    """(device id, pending, operations) of a sync call's body; Invalid with field errors when the batch is
    malformed (then nothing is applied): no device id, `operations` not a list or longer than MAX_OPERATIONS, an
    operation that is not an object or has no valid `op_id`. An operation malformed otherwise (its type, sheet,
    indicator, time or body) is kept with its problems: it is rejected, the others applied."""
    errors: dict[str, Text] = {}
    device_id = device_id_of(data.get("device_id"), "device_id", errors)
    pending = data.get("pending")
    if pending is not None and not pending_ok(pending):
        errors["pending"] = _l("待同步数应为非负整数，或按评分表编号给出的非负整数")
    raw = data.get("operations")
    ops: list[Operation] = []
    if not isinstance(raw, list):
        errors["operations"] = _l("请提供操作列表")
    elif len(raw) > MAX_OPERATIONS:
        errors["operations"] = _l("一次最多同步%(n)d项操作", n=MAX_OPERATIONS)
    else:
        for n, item in enumerate(raw):
            if not isinstance(item, dict):
                errors[f"operations[{n}]"] = _l("操作应为JSON对象")
                continue
            op_id = op_id_of(item.get("op_id"))
            if op_id is None:
                errors[f"operations[{n}].op_id"] = _l("操作编号应为UUID")
                continue
            ops.append(_operation(op_id, item))
    if errors:
        raise Invalid("sync.invalid", _l("同步请求格式有误，未处理任何操作"), errors)
    return device_id, pending, ops


def pending_ok(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value < 2**31
    if isinstance(value, dict):
        return len(value) <= 1000 and all(
            isinstance(k, str) and k.isascii() and k.isdigit() and 0 < int(k) < 2**31 and not isinstance(v, bool)
            and isinstance(v, int) and 0 <= v < 2**31 for k, v in value.items())
    return False


def _operation(op_id: str, item: dict) -> Operation:
    problems: dict[str, Text] = {}
    kind = item.get("type")
    if kind not in KINDS:
        problems["type"] = _l("不支持的操作类型")
    sheet_id = item.get("sheet_id")
    if isinstance(sheet_id, bool) or not isinstance(sheet_id, int) or not 0 < sheet_id < 2**31:
        problems["sheet_id"] = _l("不是有效的评分表编号")
        sheet_id = None
    indicator = item.get("indicator")
    # (a code: no control character, which PostgreSQL would refuse in the operation's row — a NUL is an error there)
    if not isinstance(indicator, str) or not 0 < len(indicator) <= 32 or bad_character(indicator) is not None:
        problems["indicator"] = _l("不是有效的指标编号")
        indicator = ""
    device_time = None
    if item.get("device_time") is not None:
        try:
            device_time = parse_time(item["device_time"])
        except (TypeError, ValueError):
            problems["device_time"] = _l("设备时间应为带时区的ISO 8601时间，如 2026-12-07T10:00:00+08:00")
    body = item.get("body")
    if not isinstance(body, dict):
        problems["body"] = _l("操作内容应为JSON对象")
        body = None
    # (an unknown type is kept as "": its text is not stored, and could hold what PostgreSQL refuses, such as a NUL)
    return Operation(op_id, kind if kind in KINDS else "", sheet_id, indicator, device_time, body, problems)


def answered(user: User, op_ids: list[str]) -> dict[str, "Outcome"]:
    """The operations among `op_ids` the user sent before, with their first answers (one statement)."""
    found: dict[str, Outcome] = {}
    for start in range(0, len(op_ids), 500):
        for op_id, http, answer in db.session.execute(
                select(SyncOperation.op_id, SyncOperation.http, SyncOperation.answer).where(
                    SyncOperation.user_id == user.id, SyncOperation.op_id.in_(op_ids[start:start + 500]))):
            found[op_id] = Outcome(op_id, "duplicate", http, answer)
    return found


_INSERT = insert(SyncOperation)


def _record(user: User, device_id: str, op: Operation, status: str, http: int, answer: dict) -> None:
    """The operation's row in the caller's transaction (a Core INSERT: one per operation of a batch); a concurrent
    replay of the same id fails it on the unique key (IntegrityError)."""
    db.session.connection().execute(_INSERT, {
        "user_id": user.id, "op_id": op.op_id, "device_id": device_id, "kind": op.kind[:16] or "?",
        "sheet_id": op.sheet_id, "indicator": op.indicator, "status": status, "http": http, "answer": answer,
        "device_time": op.device_time, "received_at": utcnow()})


Save = Callable[[Operation, dict, Callable], dict]
ErrorBody = Callable[[ServiceError], dict]


def apply_batch(user: User, device_id: str, ops: list[Operation], save: Save, error_body: ErrorBody) -> list[Outcome]:
    """Apply each operation in order, each in its own transaction (apply); the replays among them (sent before, or
    earlier in this batch) answered with their first answers. One statement finds the replays of the whole batch.

    On PostgreSQL the operations' transactions commit without waiting for the disk (synchronous_commit off, for
    each of them only: set by `save`, see commit_without_waiting) and the batch ends with one commit that waits (flush_commits): the write-ahead log is one
    sequence, so when that returns every operation before it is on disk — before any answer leaves. Each operation
    is still atomic and isolated on its own; a crash before the end loses only operations no one was answered for,
    and the device sends them again (their ids make a replay harmless)."""
    seen = answered(user, list(dict.fromkeys(op.op_id for op in ops)))
    db.session.rollback()  # (the read's transaction ends here: each operation has its own)
    out = []
    for op in ops:
        prior = seen.get(op.op_id)
        outcome = _duplicate(prior) if prior is not None else apply(user, device_id, op, save, error_body)
        if prior is None and outcome.status != "duplicate":
            seen[op.op_id] = outcome
        out.append(outcome)
    if db.engine.dialect.name == "postgresql":
        flush_commits()
    return out


_NO_WAIT = text("SET LOCAL synchronous_commit TO OFF")


def commit_without_waiting() -> None:
    """PostgreSQL: the transaction this opens (or is in) commits without waiting for the disk — for an operation
    of a batch only (apply_batch's `save` calls it, or takes the sheet's lock with figures.lock_sheet's
    commit_without_waiting, the same in one statement)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(_NO_WAIT)


def flush_commits() -> None:
    """PostgreSQL: a commit that waits for the disk, so that every transaction committed before it is durable (a
    transaction id is taken, so that the commit writes a record and flushes the log up to it)."""
    db.session.execute(text("SELECT txid_current()"))
    db.session.commit()


def record_signature(user: User, op_id: str, sheet_id: int, device_time, answer: dict) -> None:
    """In the caller's transaction (the signature's): a signature drawn offline, under its operation's id, with the
    201 it was answered; a replay of the id gets that answer (api.routes.post_signature)."""
    _record(user, "", Operation(op_id, "signature", sheet_id, "", device_time, None, {}), "applied", 201, answer)


def _duplicate(prior: Outcome) -> Outcome:
    return Outcome(prior.op_id, "duplicate", prior.http, prior.data)


def _replayed(user: User, op: Operation) -> Outcome:
    """After the unique key refused the operation's row: a concurrent request recorded the same id first."""
    prior = answered(user, [op.op_id]).get(op.op_id)
    if prior is None:
        raise RuntimeError(f"operation {op.op_id} refused by the unique key and not found")
    return prior


def apply(user: User, device_id: str, op: Operation, save: Save, error_body: ErrorBody) -> Outcome:
    """Apply one operation (not sent before) in its own transaction.

    `save(op, sync, then)` is the single save (api.routes.save_and_answer): it applies the change with `sync` (the
    operation's id and times, for the audit row) and calls then(saved, answer) before its commit, where the
    operation's row joins the change's transaction; it returns the answer or raises the save's ServiceError.
    `error_body(exc)`: the JSON the single call answers for that error."""
    if op.problems:
        exc = Invalid("sync.operation_invalid", _l("操作格式有误，未应用"), op.problems)
        return _refused(user, device_id, op, "rejected", exc.status, error_body(exc))
    sync = {"op_id": op.op_id, "device_id": device_id,
            "device_time": op.device_time.isoformat() if op.device_time else None}
    outcome: dict = {}

    def record(saved, answer: dict) -> bool:
        status = "applied" if saved.figures is not None else "equal"
        _record(user, device_id, op, status, 200, answer)
        outcome["status"] = status
        return True

    try:
        answer = save(op, sync, record)
    except IntegrityError:
        db.session.rollback()
        return _replayed(user, op)
    except ServiceError as exc:
        db.session.rollback()
        status = "conflict" if isinstance(exc, Conflict) and exc.code in CONFLICTS else "rejected"
        return _refused(user, device_id, op, status, exc.status, error_body(exc))
    return Outcome(op.op_id, outcome["status"], 200, answer)


def _refused(user: User, device_id: str, op: Operation, status: str, http: int, body: dict) -> Outcome:
    """A refusal recorded under the operation's id, alone (no change goes with it), committed."""
    try:
        _record(user, device_id, op, status, http, body)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _replayed(user, op)
    return Outcome(op.op_id, status, http, body)
