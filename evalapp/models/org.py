"""Administrative units: district > township (镇/街道) > village (村/社区) > group (村民小组)."""
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

LEVELS = ("district", "township", "village", "group")
KINDS_BY_LEVEL = {
    "district": ("区",),
    "township": ("镇", "街道"),
    "village": ("村", "社区"),
    "group": ("村民小组",),
}
LEVEL_LABELS = {"district": "区", "township": "镇(街道)", "village": "村(社区)", "group": "村民小组"}


class OrgUnit(db.Model):
    __tablename__ = "org_units"
    __table_args__ = (
        CheckConstraint("level IN ('district', 'township', 'village', 'group')", name="level"),
        CheckConstraint("kind IN ('区', '镇', '街道', '村', '社区', '村民小组')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped["OrgUnit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["OrgUnit"]] = relationship(back_populates="parent", order_by="OrgUnit.position")

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name}>"
