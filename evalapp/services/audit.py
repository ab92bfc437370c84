"""Audit rows, added to the caller's transaction so that a change and its record commit together.

The actor and the client's address are arguments: a service is told who acts and from where (the views pass
`request.remote_addr`, which ProxyFix sets from the proxy's header in production; the CLI and the seed pass their
user or none, and no address). Nothing here reads the request.

Reading the log (the admin's page and its xlsx export): `parse_filters` checks what was typed, `page` cuts one page
and `rows` streams them all, each row named by one joined statement (`_labelled`); `export` writes the workbook.
"""
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, insert, or_, select, text
from sqlalchemy.orm import aliased

from ..domain import audit_trail as trail
from ..domain.audit_labels import AuditAction, ObjectNames, object_text, values_text
from ..extensions import db
from ..models import (AuditEvent, CatalogueVersion, EvidenceFile, Indicator, OrgUnit, ReviewComment, Round, Score,
                      Sheet, Team, User)
from ..models.base import utcnow
from ..pagination import Page, page_number
from . import audit_trail
from .errors import Text, _l
from .xlsx import PAPER_LAYOUT_LABEL, new_workbook, paper_fonts, write_row, write_text

_INSERT = insert(AuditEvent)
# The rows the first audit row of a transaction links to, in one statement and without a lock (domain.audit_trail):
# the newest of its chain and the newest of the log, as far as the transaction sees. A row written before the trail
# existed has no MAC and is not linked to.
_LINKS = text(
    "SELECT 0, id, mac FROM (SELECT id, mac FROM audit_events WHERE chain = :chain ORDER BY id DESC LIMIT 1) AS c "
    "UNION ALL SELECT 1, id, mac FROM (SELECT id, mac FROM audit_events ORDER BY id DESC LIMIT 1) AS s")


class _Written:
    """The audit rows this transaction (or savepoint) wrote: (id, MAC) of the last one and of each chain's last."""

    def __init__(self, transaction):
        self.transaction = transaction  # (a strong reference: no later transaction can have its identity)
        self.last: tuple[int | None, str | None] = (None, None)
        self.chains: dict[str, tuple[int, str]] = {}


def _written() -> tuple[_Written, bool]:
    """This transaction's record of what it wrote, and whether it is new (nothing written yet). Keyed on the
    innermost transaction: after a savepoint, released or rolled back, the next row reads its links afresh."""
    session = db.session()  # (the scoped session's own: the proxy does not pass every method on)
    transaction = session.get_nested_transaction() or session.get_transaction()
    kept = session.info.get("audit_written")
    if kept is not None and kept.transaction is transaction:
        return kept, False
    kept = session.info["audit_written"] = _Written(transaction)
    return kept, True


def record(action: str, *, user: User | None = None, address: str | None = None, obj=None,
           unit_id: int | None = None, round_id: int | None = None, old: dict | None = None,
           new: dict | None = None, detail: str = "") -> None:
    """Write an audit event by `user` (None: no one signed in, the system) from `address` (None: not over HTTP) in
    the session's transaction; the caller commits it with the change it describes.

    A Core INSERT on the session's connection, not an ORM object: it runs on every autosave, and nothing reads the
    event back in the same request. Every call in the app names both `user` and `address`
    (tests/test_audit_actor.py); the defaults are for tests' own rows.

    The row is MACed with the audit key over its content and the rows it links to (services.audit_trail): the first
    row of a transaction reads them with one SELECT (its chain's newest row, the log's newest); a later row of the
    same transaction links to the transaction's previous row and, when it wrote one, its chain's previous row — no
    statement per row in a bulk change. No key configured: written without a MAC, which `flask verify-audit` reports.
    """
    connection = db.session.connection()
    # obj.__class__, not type(obj): a proxy handed in (flask_login's current_user, when a user acts on their own
    # account) answers with the class of the object it stands for; type() would name the proxy (LocalProxy).
    object_type = obj.__class__.__name__ if obj is not None else ""
    object_id = getattr(obj, "id", None)
    user_id = user.id if user is not None else None
    row = {"at": utcnow(), "user_id": user_id, "action": action, "object_type": object_type,
           "object_id": object_id, "unit_id": unit_id, "round_id": round_id,
           "old": trail.stored_json(old), "new": trail.stored_json(new), "detail": detail,
           "ip": address[:64] if address else None,  # (the column's width; an address is at most 45)
           "chain": trail.chain_of(object_type, object_id, user_id), "prev_id": None, "seen_id": None,
           "mac_key": None, "mac": None}
    key_id, secret = audit_trail.write_key()
    if secret is None:
        connection.execute(_INSERT, row)
        return
    written, first = _written()
    if first:
        links = {0: (None, None), 1: (None, None)}
        for which, row_id, row_mac in connection.execute(_LINKS, {"chain": row["chain"]}):
            if row_mac is not None:  # (a row from before the trail: not linked to)
                links[which] = (row_id, row_mac)
        prev, seen = links[0], links[1]
    else:
        prev, seen = written.chains.get(row["chain"], (None, None)), written.last
    row.update(prev_id=prev[0], seen_id=seen[0], mac_key=key_id)
    row["mac"] = trail.mac(secret, trail.row_message(row, prev[1], seen[1]))
    row_id = connection.execute(_INSERT, row).inserted_primary_key[0]  # (RETURNING, or SQLite's last row id)
    written.last = written.chains[row["chain"]] = (row_id, row["mac"])


# -- reading the log: the admin's page and its export ----------------------------------------------------------

_TZ_NAME = "Asia/Shanghai"  # the log's days and times are Beijing's
TEXT_LIMITS = {"username": 64, "unit_code": 32, "action": 64}  # the columns' widths: a longer value matches nothing
PROGRESS_ROWS = 1000  # an export job's progress is told every this many rows
MAX_DATA_ROWS = 1_048_575  # xlsx holds 1,048,576 rows: the header and this many (tests lower it)
FETCH_ROWS = 2_000  # rows read from the database at a time while exporting
CELL_LIMIT = 32_767  # characters an xlsx cell holds


@dataclass(frozen=True)
class AuditFilters:
    """The log's filters, checked: user (username or display name), unit code, action prefix, Beijing days from /
    to (inclusive), round."""

    username: str = ""
    unit_code: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    round_id: int | None = None

    def args(self) -> dict[str, str]:
        """The filters as query arguments (the pager's and the export's links; empty ones left out)."""
        values = {"username": self.username, "unit_code": self.unit_code, "action": self.action,
                  "date_from": self.date_from.isoformat() if self.date_from else "",
                  "date_to": self.date_to.isoformat() if self.date_to else "",
                  "round": str(self.round_id) if self.round_id is not None else ""}
        return {k: v for k, v in values.items() if v}


FILTER_LABELS = {"username": _l("用户"), "unit_code": _l("单位编码"), "action": _l("操作"),
                 "date_from": _l("起始日期"), "date_to": _l("截止日期"), "round": _l("批次")}


def parse_filters(args) -> tuple[AuditFilters, list[Text]]:
    """The filters from a request's arguments, and a message for each one ignored (a bad date or round, a value
    too long or holding a control character): any text gives a page, never an error."""
    problems: list[Text] = []
    values: dict = {}

    def text(name: str) -> str:
        raw = str(args.get(name, "") or "").strip()
        if not raw:
            return ""
        if any(ord(c) < 32 or ord(c) == 127 for c in raw):
            problems.append(_l("筛选条件“%(name)s”含有控制字符，已忽略", name=FILTER_LABELS[name]))
            return ""
        limit = TEXT_LIMITS.get(name, 10)
        if len(raw) > limit:
            problems.append(_l("筛选条件“%(name)s”超过%(limit)s个字符，已忽略", name=FILTER_LABELS[name], limit=limit))
            return ""
        return raw

    for name in ("username", "unit_code", "action"):
        values[name] = text(name)
    for name in ("date_from", "date_to"):
        raw = text(name)
        values[name] = None
        if raw:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                day = None
            if day is None or not 1970 <= day.year <= 9998:
                problems.append(_l("“%(value)s”不是有效日期（格式：2021-12-01），“%(name)s”已忽略", value=raw,
                                   name=FILTER_LABELS[name]))
            else:
                values[name] = day
    raw = text("round")
    values["round_id"] = None
    if raw:
        if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31:
            values["round_id"] = int(raw)
        else:
            problems.append(_l("批次“%(value)s”无效，已忽略", value=raw))
    if values["date_from"] and values["date_to"] and values["date_from"] > values["date_to"]:
        problems.append(_l("起始日期晚于截止日期，没有符合的记录"))
    return AuditFilters(**values), problems


def _where(filters: AuditFilters) -> list:
    """The filters as conditions on audit_events alone, each one an indexed column where there is one."""
    tz = ZoneInfo(_TZ_NAME)
    e = AuditEvent
    terms = []
    if filters.username:
        name = filters.username
        terms.append(e.user_id.in_(select(User.id).where(or_(User.username == name.lower(),
                                                               User.display_name == name))))
    if filters.unit_code:
        terms.append(e.unit_id.in_(select(OrgUnit.id).where(OrgUnit.code == filters.unit_code)))
    if filters.action:
        terms.append(e.action.startswith(filters.action, autoescape=True))
    if filters.date_from:
        terms.append(e.at >= datetime.combine(filters.date_from, time.min, tz))
    if filters.date_to:
        terms.append(e.at < datetime.combine(filters.date_to + timedelta(days=1), time.min, tz))
    if filters.round_id is not None:
        terms.append(e.round_id == filters.round_id)
    return terms


@dataclass(frozen=True)
class AuditRow:
    """One row of the log with the names its query joined: who, the unit (code and name), the round, the object."""

    id: int
    at: datetime
    action: str
    user_name: str | None
    user_login: str | None
    unit_code: str | None
    unit_name: str | None
    round_name: str | None
    names: ObjectNames
    old: dict | None
    new: dict | None
    detail: str
    ip: str | None
    user_id: int | None
    unit_id: int | None
    round_id: int | None

    @property
    def action_label(self) -> str:
        """The action in the request's language (an unknown one as stored)."""
        return AuditAction.label_of(self.action)

    @property
    def action_zh(self) -> str:
        return AuditAction.zh_of(self.action)

    @property
    def object_label(self) -> str:
        return object_text(self.names)

    @property
    def object_zh(self) -> str:
        return object_text(self.names, official=True)

    @property
    def user_text(self) -> str:
        """The actor's display name ("" for the system or no one signed in)."""
        return self.user_name or self.user_login or ""

    @property
    def user_full(self) -> str:
        """The actor's display name and username: "王五（wang5）"."""
        if self.user_name and self.user_login and self.user_login != self.user_name:
            return f"{self.user_name}（{self.user_login}）"
        return self.user_text

    @property
    def ids(self) -> str:
        """The stored action and the internal ids, for whoever needs to look a row up in the database."""
        parts = [self.action, f"#{self.id}"]
        if self.names.object_type:
            parts.append(f"{self.names.object_type}={self.names.object_id if self.names.object_id is not None else ''}")
        parts += [f"{k}={v}" for k, v in (("user", self.user_id), ("unit", self.unit_id), ("round", self.round_id))
                  if v is not None]
        return " ".join(parts)


def _labelled(events):
    """The rows of `events` (a subquery of audit_events' columns) with their names, by outer joins on primary keys:
    one statement for any number of rows, never a lookup per row."""
    e = events.c
    actor, target, inspector = aliased(User), aliased(User), aliased(User)
    unit, unit_obj = aliased(OrgUnit), aliased(OrgUnit)
    round_, round_obj = aliased(Round), aliased(Round)
    score, evidence, comment = aliased(Score), aliased(EvidenceFile), aliased(ReviewComment)
    sheet, indicator = aliased(Sheet), aliased(Indicator)
    team, catalogue = aliased(Team), aliased(CatalogueVersion)

    def about(kind: str, table):
        return and_(e.object_type == kind, table.id == e.object_id)

    return (
        select(e.id, e.at, e.action, e.object_type, e.object_id, e.user_id, e.unit_id, e.round_id, e.old, e.new,
               e.detail, e.ip, actor.display_name, actor.username, unit.code, unit.name, round_.name,
               sheet.kind, inspector.display_name, indicator.code, indicator.title, target.display_name,
               target.username, team.name, catalogue.name, catalogue.version, evidence.original_name,
               round_obj.name, unit_obj.name)
        .select_from(events)
        .outerjoin(actor, actor.id == e.user_id)
        .outerjoin(score, about("Score", score))
        .outerjoin(evidence, about("EvidenceFile", evidence))
        .outerjoin(comment, about("ReviewComment", comment))
        .outerjoin(sheet, sheet.id == case((e.object_type == "Sheet", e.object_id),
                                           else_=func.coalesce(score.sheet_id, evidence.sheet_id, comment.sheet_id)))
        .outerjoin(inspector, and_(sheet.kind == "inspector", inspector.id == sheet.inspector_id))
        .outerjoin(indicator, indicator.id == func.coalesce(score.indicator_id, evidence.indicator_id,
                                                            comment.indicator_id))
        # a row written without its unit or round (a photo withdrawn) takes its sheet's
        .outerjoin(unit, unit.id == func.coalesce(e.unit_id, sheet.unit_id))
        .outerjoin(round_, round_.id == func.coalesce(e.round_id, sheet.round_id))
        .outerjoin(target, about("User", target))
        .outerjoin(team, about("Team", team))
        .outerjoin(catalogue, about("CatalogueVersion", catalogue))
        .outerjoin(round_obj, about("Round", round_obj))
        .outerjoin(unit_obj, about("OrgUnit", unit_obj))
        .order_by(e.id.desc())
    )


def _row(r) -> AuditRow:
    (id_, at, action, object_type, object_id, user_id, unit_id, round_id, old, new, detail, ip, user_name,
     user_login, unit_code, unit_name, round_name, sheet_kind, sheet_inspector, indicator_code, indicator_title,
     target_name, target_login, team_name, catalogue_name, catalogue_version, file_name, round_obj, unit_obj) = r
    names = ObjectNames(object_type or "", object_id, sheet_kind, sheet_inspector, indicator_code, indicator_title,
                        target_name, target_login, team_name, catalogue_name, catalogue_version, file_name,
                        round_obj, unit_obj)
    return AuditRow(id_, at, action, user_name, user_login, unit_code, unit_name, round_name, names, old, new,
                    detail or "", ip, user_id, unit_id, round_id)


_COLUMNS = (AuditEvent.id, AuditEvent.at, AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id,
            AuditEvent.user_id, AuditEvent.unit_id, AuditEvent.round_id, AuditEvent.old, AuditEvent.new,
            AuditEvent.detail, AuditEvent.ip)


def count(filters: AuditFilters) -> int:
    """How many rows the filters select."""
    return db.session.scalar(select(func.count(AuditEvent.id)).where(*_where(filters)))


def page(filters: AuditFilters, requested, size: int) -> Page:
    """One page of the log, newest first: counted, the page's rows cut from audit_events alone, then named by one
    joined statement (two statements whatever the page holds)."""
    total = count(filters)
    number, pages = page_number(requested, total, size)
    if not total:
        return Page([], number, pages, total, size)
    events = (select(*_COLUMNS).where(*_where(filters)).order_by(AuditEvent.id.desc())
              .limit(size).offset((number - 1) * size).subquery())
    return Page([_row(r) for r in db.session.execute(_labelled(events))], number, pages, total, size)


def rows(filters: AuditFilters, *, before: int | None = None) -> Iterator[AuditRow]:
    """Every row the filters select, newest first (older than event `before`), read from a server-side cursor a
    batch at a time (never the whole log in memory). Close the iterator (or read it to its end) before the
    session writes again."""
    terms = _where(filters) + ([AuditEvent.id < before] if before is not None else [])
    events = select(*_COLUMNS).where(*terms).subquery()
    result = db.session.execute(_labelled(events).execution_options(yield_per=FETCH_ROWS))
    try:
        for r in result:
            yield _row(r)
    finally:
        result.close()


def round_choices() -> list[tuple[int, str]]:
    """The rounds for the round filter, newest first."""
    return [(r.id, r.name) for r in db.session.execute(select(Round.id, Round.name).order_by(Round.id.desc()))]


# -- the export --------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = (  # (header, width in Arial-11 digits); every cell costs time at a million rows: no column twice
    # Fitted to the width of a landscape A4 page (about 62 %, issue 30 point 4): one line per row, so 1,336 rows
    # print on about 30 pages; a longer text is whole in its cell, cut on paper. 记录号: the row's number in the log.
    ("时间(北京时间)", 18), ("操作人", 16), ("操作", 15), ("对象", 26), ("单位", 20), ("批次", 16), ("原值", 24),
    ("新值", 24), ("说明", 20), ("IP地址", 13), ("记录号", 8),
)


@dataclass(frozen=True)
class Export:
    """The export's file (a temporary file, rewound), its name, and how many rows it holds and left out."""

    file: IO[bytes]
    name: str
    written: int
    left_out: int


def _values(value) -> str:
    """Old or new values labelled (状态：已提交；分值：95.00), never raw JSON."""
    return values_text(value, limit=CELL_LIMIT)


def _cell(text: str) -> str:
    return text if len(text) <= CELL_LIMIT else text[:CELL_LIMIT - 1] + "…"


def _filter_texts(filters: AuditFilters) -> list[tuple[str, str]]:
    round_name = (db.session.scalar(select(Round.name).where(Round.id == filters.round_id))
                  if filters.round_id is not None else None)
    shown = [("用户", filters.username), ("单位编码", filters.unit_code), ("操作（前缀）", filters.action),
             ("起始日期", filters.date_from.isoformat() if filters.date_from else ""),
             ("截止日期", filters.date_to.isoformat() if filters.date_to else ""),
             ("批次", (round_name or f"#{filters.round_id}") if filters.round_id is not None else "")]
    return [(k, v) for k, v in shown if v] or [("筛选条件", "无（全部记录）")]


def export(filters: AuditFilters, user: User, *, address: str | None = None, before: int | None = None,
           now: datetime | None = None, progress=None, audited: bool = True) -> Export:
    """The rows the filters select as an xlsx workbook, newest first, with Chinese labels and names; read a batch
    at a time and written row by row to a temporary file (XlsxWriter's constant_memory), so a province's log needs
    neither its rows nor its workbook in memory.

    An xlsx sheet ends at 1,048,576 rows: past MAX_DATA_ROWS the last row and the 说明 sheet say how many rows were
    left out and to narrow the filters. The export is audited (export.audit, with its filters and counts) and
    committed — unless `audited` is False (a job's file: services.jobs audits each download of it instead).

    For a job (services.jobs): `before`, the rows older than this event only (the log as it stood when the export
    was asked for: one request, one file); `now`, the time it is dated; `progress(done, total)`, told as rows are
    written."""
    tz = ZoneInfo(_TZ_NAME)
    now = now.astimezone(tz) if now is not None else datetime.now(tz)
    file = tempfile.TemporaryFile()
    wb = new_workbook(file)
    paper_fonts(wb)
    ws = wb.add_worksheet("操作日志")
    bold = wb.add_format({"bold": True, "bg_color": "#E7EEF7", "border": 1, "valign": "vcenter", "text_wrap": True})
    ruled = wb.add_format({"border": 1, "border_color": "#A6A6A6"})  # a cut text ends at its cell's line on paper
    notice = wb.add_format({"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"})
    for col, (_, width) in enumerate(EXPORT_COLUMNS):
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.35, right=0.35, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)  # as wide as the page, as long as the rows need
    ws.repeat_rows(0)
    shown = "；".join(f"{k}：{v}" for k, v in _filter_texts(filters)).replace("&", "&&")
    ws.set_header(f"&L操作日志（{shown}）&R导出于 {now:%Y-%m-%d %H:%M}，{user.display_name.replace('&', '&&')}")
    ws.set_footer("&C第 &P 页，共 &N 页")
    write_row(ws, 0, [h for h, _ in EXPORT_COLUMNS], bold)
    ws.set_row(0, 30)

    def put(i: int, r: AuditRow) -> None:
        write_text(ws, i, 0, r.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), ruled)
        unit = f"{r.unit_name}（{r.unit_code}）" if r.unit_name and r.unit_code else (r.unit_name or r.unit_code or "")
        for col, value in enumerate((r.user_full, r.action_zh, r.object_zh, unit, r.round_name or "",
                                     _values(r.old), _values(r.new), _cell(r.detail), r.ip or ""), start=1):
            write_text(ws, i, col, value, ruled)
        ws.write_number(i, len(EXPORT_COLUMNS) - 1, r.id, ruled)

    limit = MAX_DATA_ROWS
    written, last_id, held, stopped = 0, None, None, False
    total = (min(db.session.scalar(select(func.count(AuditEvent.id)).where(
        *_where(filters), *([AuditEvent.id < before] if before is not None else []))), limit)
        if progress is not None else 0)
    stream = rows(filters, before=before)
    try:
        for r in stream:
            if progress is not None and written % PROGRESS_ROWS == 0:
                progress(written, total)
            if held is not None:  # a row past the one that fills the sheet: the last row is the notice instead
                stopped = True
                break
            if written < limit - 1:
                put(written + 1, r)
                written, last_id = written + 1, r.id
            else:
                held = r  # fills the sheet if nothing follows it
    finally:
        stream.close()
    left_out = 0
    if stopped:
        terms = _where(filters) + ([AuditEvent.id < last_id] if last_id is not None else
                                   [AuditEvent.id < before] if before is not None else [])
        left_out = db.session.scalar(select(func.count(AuditEvent.id)).where(*terms))
        message = (f"已达xlsx工作表行数上限，以上为最新的{written:,}条；另有{left_out:,}条较早的记录未导出。"
                   f"请缩小筛选范围（日期或批次）后分段导出。")
        ws.merge_range(written + 1, 0, written + 1, len(EXPORT_COLUMNS) - 1, message, notice)
    elif held is not None:
        put(written + 1, held)
        written += 1
    ws.autofilter(0, 0, max(written, 1), len(EXPORT_COLUMNS) - 1)

    notes = wb.add_worksheet("说明")
    notes.set_column(0, 0, 16)
    notes.set_column(1, 1, 80)
    notes.set_paper(9)
    notes.fit_to_pages(1, 0)
    info = [("表名", "操作日志"), ("导出时间(北京时间)", now.strftime("%Y-%m-%d %H:%M:%S")),
            ("导出人", f"{user.display_name}（{user.username}）"), *_filter_texts(filters),
            ("导出条数", f"{written:,}"), ("排序", "时间从新到旧"), ("版式", PAPER_LAYOUT_LABEL)]
    if stopped:
        info += [("未导出条数", f"{left_out:,}"),
                 ("未导出原因", f"xlsx工作表最多{MAX_DATA_ROWS:,}行数据，超出的较早记录未导出；"
                            "请缩小筛选范围（日期或批次）后分段导出。")]
    write_row(notes, 0, ["项目", "内容"], bold)
    for i, (k, v) in enumerate(info, start=1):
        write_text(notes, i, 0, k)
        write_text(notes, i, 1, v, notice if k.startswith("未导出") else None)
    wb.close()
    file.seek(0)
    if progress is not None:
        progress(total, total)
    if audited:
        record("export.audit", user=user, address=address,
               new={"filters": filters.args(), "rows": written, "left_out": left_out},
               detail=json.dumps(filters.args(), ensure_ascii=False))
        db.session.commit()
    return Export(file, f"操作日志_{now:%Y%m%d-%H%M}.xlsx", written, left_out)
