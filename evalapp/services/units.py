"""Creating, editing, moving and deactivating units (never deleting: sheets refer to them)."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..domain.units import KIND_LEVEL, UnitRow, normalize_code, validate_units
from ..extensions import db
from ..models import OrgUnit, User
from . import audit, versions
from .errors import Invalid, Joined, _l


def tree() -> list[OrgUnit]:
    """The district(s) with townships, villages and groups loaded."""
    return db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.code).options(
        selectinload(OrgUnit.children).selectinload(OrgUnit.children).selectinload(OrgUnit.children))).all()


def _existing(exclude: OrgUnit | None = None) -> dict[str, tuple[str, str | None]]:
    units = db.session.scalars(select(OrgUnit).options(selectinload(OrgUnit.parent))).all()
    return {u.code: (u.level, u.parent.code if u.parent else None) for u in units if u is not exclude}


def _check(row: UnitRow, exclude: OrgUnit | None = None) -> None:
    problems = [p.params["problem"] for p in validate_units([row], _existing(exclude))]  # (one row: no row number)
    if problems:
        raise Invalid("unit.invalid", Joined(problems), {"unit": Joined(problems)})


def create_unit(code: str, name: str, kind: str, parent_code: str, user: User, *,
                address: str | None = None) -> OrgUnit:
    row = UnitRow(1, normalize_code(code), (name or "").strip(), (kind or "").strip(), normalize_code(parent_code))
    _check(row)
    if db.session.scalar(select(OrgUnit).where(OrgUnit.code == row.code)):
        raise Invalid("unit.code_taken", _l("编码“%(code)s”已存在", code=row.code), {"code": _l("编码已存在")})
    parent = db.session.scalar(select(OrgUnit).where(OrgUnit.code == row.parent_code)) if row.parent_code else None
    unit = OrgUnit(code=row.code, name=row.name, kind=row.kind, level=KIND_LEVEL[row.kind], parent=parent)
    db.session.add(unit)
    db.session.flush()
    audit.record("unit.create", user=user, address=address, obj=unit, unit_id=unit.id,
                 new={"code": unit.code, "name": unit.name, "kind": unit.kind, "parent": row.parent_code})
    versions.bump_every_round()
    db.session.commit()
    return unit


def update_unit(unit: OrgUnit, name: str, kind: str, parent_code: str, user: User, *,
                address: str | None = None) -> None:
    """Rename, change the kind, or move under another parent (the code stays: it is the unit's identity)."""
    row = UnitRow(1, unit.code, (name or "").strip(), (kind or "").strip(), normalize_code(parent_code))
    _check(row, exclude=unit)
    if KIND_LEVEL[row.kind] != unit.level and unit.children:
        raise Invalid("unit.level_has_children", _l("该单位有下级单位，不能改变层级"), {"kind": _l("不能改变层级")})
    old = {"name": unit.name, "kind": unit.kind, "parent": unit.parent.code if unit.parent else None}
    unit.name, unit.kind, unit.level = row.name, row.kind, KIND_LEVEL[row.kind]
    unit.parent = db.session.scalar(select(OrgUnit).where(OrgUnit.code == row.parent_code)) if row.parent_code \
        else None
    audit.record("unit.update", user=user, address=address, obj=unit, unit_id=unit.id, old=old,
                 new={"name": unit.name, "kind": unit.kind, "parent": row.parent_code or None})
    versions.bump_every_round()  # a unit's name, level and township show in every round's results
    db.session.commit()


def set_active(unit: OrgUnit, active: bool, user: User, *, address: str | None = None) -> None:
    unit.active = active
    audit.record("unit.activate" if active else "unit.deactivate", user=user, address=address, obj=unit,
                 unit_id=unit.id)
    versions.bump_every_round()
    db.session.commit()
