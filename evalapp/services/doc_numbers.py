"""文号: the next number of an issuing office's sequence of a kind of document in a year (domain.doc_numbers formats
it). Numbers are given out without gaps or repeats under concurrent callers on SQLite and PostgreSQL: the sequence's
row is updated in place (PostgreSQL's row lock, SQLite's write lock), held until the caller's transaction ends; a
sequence's row is first made by an INSERT … ON CONFLICT DO NOTHING (a concurrent first caller's row waits on the
unique key, then stands), never a savepoint: the caller's unit of work commits once."""
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..domain.doc_numbers import KIND_MAX, OFFICE_MAX, DocNumber, valid_year
from ..extensions import db
from ..models import DocSequence

# The kinds of document numbered here (each its own sequence per office and year).
NOTICE = "通报"          # the round's 评估验收结果通报
RECTIFY = "整改通知"
INTERVIEW = "约谈通报"
SUMMARY = "评估总结"     # the 评估总结 to 市民政局 (issue 33, point 4), one per round


def office() -> str:
    """The district's issuing office (DOC_NUMBER_OFFICE), e.g. 云溪民发."""
    return current_app.config["DOC_NUMBER_OFFICE"]


def take(kind: str, year: int, office_: str | None = None) -> DocNumber:
    """The next number of (office, kind, year), part of the caller's unit of work: not committed here (the caller's
    service commits once, at its end). A rolled-back caller gives its number back; a caller that commits keeps the
    sequence's row locked until then, so two callers never get one number."""
    office_ = (office_ or office()).strip()
    if not office_ or len(office_) > OFFICE_MAX or not kind or len(kind) > KIND_MAX or not valid_year(year):
        raise ValueError(f"doc number: bad office/kind/year {office_!r} {kind!r} {year!r}")
    where = (DocSequence.office == office_, DocSequence.kind == kind, DocSequence.year == year)
    _ensure(office_, kind, year)
    seq = db.session.execute(update(DocSequence).where(*where).values(last=DocSequence.last + 1)
                             .returning(DocSequence.last)).scalar_one()
    return DocNumber(office_, kind, year, seq)


def peek(kind: str, year: int, office_: str | None = None) -> DocNumber:
    """The number `take` would give now (shown on a form; not reserved)."""
    office_ = office_ or office()
    last = db.session.scalar(select(DocSequence.last).where(
        DocSequence.office == office_, DocSequence.kind == kind, DocSequence.year == year)) or 0
    return DocNumber(office_, kind, year, last + 1)


def advance_past(kind: str, year: int, seq: int, office_: str | None = None) -> None:
    """A number typed by hand into the sequence (云溪民发〔2026〕7号 written on a form): the next `take` gives one
    after it. Part of the caller's unit of work."""
    office_ = office_ or office()
    where = (DocSequence.office == office_, DocSequence.kind == kind, DocSequence.year == year)
    _ensure(office_, kind, year)
    db.session.execute(update(DocSequence).where(*where, DocSequence.last < seq).values(last=seq))


def _ensure(office_: str, kind: str, year: int) -> None:
    """The sequence's row, made at 0 unless it exists (a concurrent maker's row stands)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(DocSequence).values(office=office_, kind=kind, year=year, last=0)
                       .on_conflict_do_nothing(index_elements=["office", "kind", "year"]))
