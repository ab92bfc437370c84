"""Lineage across rounds (issue 33, point 1): a catalogue version's relations to the version it was copied or imported
from, and a unit's changes of code, mergers and splits (models.lineage; the rules: domain.lineage).

A new version of a catalogue (copied, imported under an existing code, or a draft edited) gets its lineage in the
transaction that makes it (`start`, `carry`): identical codes "same", the rest "new" and "retired", until an admin
confirms or edits them (`save`). A 评估总结 that uses a lineage freezes it (`freeze_lineage`); a frozen lineage is
never edited again.
"""
from datetime import datetime, timezone

from sqlalchemy import select, update

from ..domain import lineage as rules
from ..domain.units import CODE, CODE_LENGTH, normalize_code
from ..extensions import db
from ..models import (
    CatalogueLineage, CatalogueVersion, Category, Indicator, IndicatorLineage, OrgUnit, UnitLineage, User,
)
from . import audit, versions
from .errors import Conflict, Invalid, _l


def _now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- catalogues


def codes_of(catalogue_id: int) -> list[str]:
    """A version's indicator codes in reading order."""
    return db.session.scalars(select(Indicator.code).join(Category, Category.id == Indicator.category_id)
                              .where(Indicator.catalogue_id == catalogue_id)
                              .order_by(Category.position, Indicator.position)).all()


def lineage_of(catalogue_id: int) -> CatalogueLineage | None:
    return db.session.scalar(select(CatalogueLineage).where(CatalogueLineage.catalogue_id == catalogue_id))


def links_of(lineage: CatalogueLineage) -> list[rules.Link]:
    return [(link.old_code, link.new_code, link.relation) for link in lineage.links]


def _write(lineage: CatalogueLineage, links: list[rules.Link], *, automatic: bool) -> None:
    lineage.links = [IndicatorLineage(old_code=old, new_code=new, relation=relation, position=n,
                                      automatic=automatic and relation == rules.Relation.SAME.value)
                     for n, (old, new, relation) in enumerate(links)]


def start(version: CatalogueVersion, predecessor: CatalogueVersion) -> CatalogueLineage:
    """The new version's lineage to `predecessor`, filled for identical codes (in the caller's transaction)."""
    lineage = CatalogueLineage(catalogue_id=version.id, predecessor_id=predecessor.id)
    db.session.add(lineage)
    _write(lineage, rules.automatic(codes_of(predecessor.id), codes_of(version.id)), automatic=True)
    db.session.flush()
    return lineage


def previous_version(version: CatalogueVersion) -> CatalogueVersion | None:
    """The version of the same code just before this one (an import under an existing code follows it)."""
    return db.session.scalar(select(CatalogueVersion).where(CatalogueVersion.code == version.code,
                                                            CatalogueVersion.version < version.version)
                             .order_by(CatalogueVersion.version.desc()).limit(1))


def kept_for_draft(version: CatalogueVersion) -> tuple[int | None, list[rules.Link]]:
    """What an edited draft keeps of its lineage, taken off the draft before it is replaced: predecessor and links."""
    lineage = lineage_of(version.id)
    if lineage is None:
        return None, []
    kept = lineage.predecessor_id, links_of(lineage)
    db.session.delete(lineage)  # (its links with it) before the draft's row goes
    db.session.flush()
    return kept


def carry(old_id: int, new: CatalogueVersion, predecessor_id: int | None, links: list[rules.Link]) -> None:
    """A draft replaced by its edit (catalogue_io.replace_draft): the new row keeps the lineage chosen for the old
    one where it still holds, and versions that followed the old row follow the new one."""
    db.session.execute(update(CatalogueLineage).where(CatalogueLineage.predecessor_id == old_id)
                       .values(predecessor_id=new.id))
    if predecessor_id is None:
        return
    lineage = CatalogueLineage(catalogue_id=new.id, predecessor_id=predecessor_id)
    db.session.add(lineage)
    _write(lineage, rules.carried(links, codes_of(predecessor_id), codes_of(new.id)), automatic=True)
    db.session.flush()


def save(version: CatalogueVersion, choices: dict[str, tuple[str, list[str]]], user: User, *,
         address: str | None = None) -> CatalogueLineage:
    """An admin confirms or edits the relations: per new indicator code (relation, old codes). Refused once frozen
    (Conflict); relations that do not hold together: Invalid with a message per indicator."""
    lineage = lineage_of(version.id)
    if lineage is None:
        raise Conflict("lineage.none", _l("该版本没有上一版本，无需确认指标对应关系"))
    if lineage.frozen:
        raise Conflict("lineage.frozen", _l("对应关系已被评估总结使用，不能再修改"))
    try:
        links = rules.from_choices(codes_of(lineage.predecessor_id), codes_of(version.id), choices)
    except rules.LineageInvalid as exc:
        raise Invalid("lineage.invalid", _l("指标对应关系有误，请按提示修改"),
                      {code or "_": _l(msg, **fields) for code, (msg, fields) in exc.problems.items()}) from None
    old = links_of(lineage)
    try:
        _write(lineage, links, automatic=False)
        lineage.confirmed_at, lineage.confirmed_by_id = _now(), user.id
        audit.record("catalogue.lineage", user=user, address=address, obj=version,
                     old={"links": [list(link) for link in old]}, new={"links": [list(link) for link in links]})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return lineage


def freeze_lineage(catalogue_version: CatalogueVersion, *, back_to: CatalogueVersion | None = None) -> list[int]:
    """Freeze the version's lineage — and, with `back_to`, every lineage on the way back to that version — once a
    评估总结 uses it: never edited again. In the caller's transaction (services.summary.prepare_summary commits it with the
    summary's 文号); returns the ids of the lineages frozen. Freezing a frozen lineage changes nothing."""
    frozen = []
    current, seen = catalogue_version.id, set()
    while current is not None and current not in seen:
        seen.add(current)
        lineage = lineage_of(current)
        if lineage is None:
            break
        if not lineage.frozen:
            lineage.frozen, lineage.frozen_at = True, _now()
        frozen.append(lineage.id)
        if back_to is None or lineage.predecessor_id == back_to.id:
            break
        current = lineage.predecessor_id
    db.session.flush()
    return frozen


def comparable_between(old_id: int, new_id: int) -> dict[str, str] | None:
    """Old indicator code → new code for the indicators compared across two versions (same, renamed at each step of
    the lineage from `old_id` to `new_id`); the identity when they are one version; None when no lineage leads from
    one to the other. Two statements whatever the length of the chain."""
    if old_id == new_id:
        return {code: code for code in codes_of(old_id)}
    back = dict(db.session.execute(select(CatalogueLineage.catalogue_id, CatalogueLineage.predecessor_id)).all())
    path, current = [], new_id
    while current in back and current != old_id and len(path) <= len(back):
        path.append(current)
        current = back[current]
    if current != old_id:
        return None
    by_version: dict[int, list] = {}
    for catalogue_id, old, new, relation in db.session.execute(
            select(CatalogueLineage.catalogue_id, IndicatorLineage.old_code, IndicatorLineage.new_code,
                   IndicatorLineage.relation)
            .join(CatalogueLineage, CatalogueLineage.id == IndicatorLineage.lineage_id)
            .where(CatalogueLineage.catalogue_id.in_(path))):
        by_version.setdefault(catalogue_id, []).append((old, new, relation))
    return rules.compose([rules.comparable(by_version.get(v, [])) for v in reversed(path)])


# ---------------------------------------------------------------- units


def recode_unit(unit: OrgUnit, new_code: str, change: str, user: User, *, address: str | None = None) -> UnitLineage:
    """A unit's code changes (an official code imported, a code renamed): the unit stays the same unit — its rows in
    published versions are found by its id (services.history) — and the lineage keeps the old code."""
    code = normalize_code(new_code)
    if change not in rules.SAME_UNIT:
        raise Invalid("unit.change", _l("请选择变更类型"), {"change": _l("请选择变更类型")})
    if not CODE.match(code) or len(code) != CODE_LENGTH.get(unit.level, len(code)):
        raise Invalid("unit.code", _l("编码“%(code)s”应为%(n)s位数字", code=code, n=CODE_LENGTH.get(unit.level)),
                      {"code": _l("编码“%(code)s”应为%(n)s位数字", code=code, n=CODE_LENGTH.get(unit.level))})
    if code == unit.code:
        raise Invalid("unit.code_same", _l("新编码与原编码相同"), {"code": _l("新编码与原编码相同")})
    if db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is not None:
        raise Invalid("unit.code_taken", _l("编码“%(code)s”已存在", code=code), {"code": _l("编码已存在")})
    try:
        row = UnitLineage(unit_id=unit.id, change=change, old_code=unit.code, new_code=code, old_name=unit.name,
                          by_id=user.id)
        db.session.add(row)
        audit.record("unit.recode", user=user, address=address, obj=unit, unit_id=unit.id,
                     old={"code": unit.code}, new={"code": code, "change": change})
        unit.code = code
        versions.bump_every_round()  # a unit's code shows in every round's live results
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return row


def link_units(unit: OrgUnit, predecessors: list[OrgUnit], change: str, user: User, *,
               address: str | None = None) -> list[UnitLineage]:
    """The unit was made of (merged) or cut from (split) other units — or replaces one under an official code: its
    history shows their rows, labelled."""
    if change not in {c.value for c in rules.UnitChange}:
        raise Invalid("unit.change", _l("请选择变更类型"), {"change": _l("请选择变更类型")})
    others = [p for p in predecessors if p.id != unit.id]
    if not others:
        raise Invalid("unit.predecessor", _l("请填写原单位编码"), {"predecessors": _l("请填写原单位编码")})
    if change in rules.SAME_UNIT and len(others) != 1:
        raise Invalid("unit.predecessor", _l("须填一个原单位编码"), {"predecessors": _l("须填一个原单位编码")})
    if any(p.level != unit.level for p in others):
        raise Invalid("unit.predecessor", _l("原单位须与本单位同一层级"), {"predecessors": _l("原单位须与本单位同一层级")})
    known = set(db.session.scalars(select(UnitLineage.predecessor_id).where(UnitLineage.unit_id == unit.id)))
    rows = []
    try:
        for p in others:
            if p.id in known:
                continue
            row = UnitLineage(unit_id=unit.id, predecessor_id=p.id, change=change, old_code=p.code,
                              new_code=unit.code, old_name=p.name, by_id=user.id)
            db.session.add(row)
            rows.append(row)
        audit.record("unit.lineage", user=user, address=address, obj=unit, unit_id=unit.id,
                     new={"change": change, "predecessors": [p.code for p in others]})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return rows


def unit_lineage(unit_id: int) -> list[UnitLineage]:
    return db.session.scalars(select(UnitLineage).where(UnitLineage.unit_id == unit_id)
                              .order_by(UnitLineage.at, UnitLineage.id)).all()


def ancestry(unit_id: int) -> dict[int, str]:
    """The units whose published rows are this unit's history: unit id → how it relates ("" for the unit itself,
    else the change that made this unit of it), following predecessors back (one statement)."""
    edges: dict[int, list[tuple[int, str]]] = {}
    for successor, predecessor, change in db.session.execute(
            select(UnitLineage.unit_id, UnitLineage.predecessor_id, UnitLineage.change)
            .where(UnitLineage.predecessor_id.is_not(None))):
        edges.setdefault(successor, []).append((predecessor, change))
    out, stack = {unit_id: ""}, [unit_id]
    while stack:
        for predecessor, change in edges.get(stack.pop(), []):
            if predecessor not in out:
                out[predecessor] = change
                stack.append(predecessor)
    return out


def same_unit_map() -> dict[int, int]:
    """Unit id → the id of the unit it is now, for the changes after which it is the same unit (an official code
    imported or a code renamed onto another unit row), followed to the end; units not named are themselves."""
    forward = dict(db.session.execute(
        select(UnitLineage.predecessor_id, UnitLineage.unit_id)
        .where(UnitLineage.predecessor_id.is_not(None), UnitLineage.change.in_(rules.SAME_UNIT))).all())
    out = {}
    for start_id in forward:
        current, seen = start_id, {start_id}
        while current in forward and forward[current] not in seen:
            current = forward[current]
            seen.add(current)
        out[start_id] = current
    return out
