"""Administrative units: district > township (镇/街道) > village (村/社区) > group (村民小组)."""
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain import vocabulary
from ..domain.vocabulary import UnitKind, UnitLevel
from ..extensions import db

LEVELS = tuple(UnitLevel)
KINDS_BY_LEVEL = {level.value: tuple(k.value for k in kinds) for level, kinds in vocabulary.KINDS_BY_LEVEL.items()}
LEVEL_LABELS = UnitLevel.zh_labels()  # Chinese; pages show `level_label` through _() or UnitLevel.label


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
        """The level's Chinese label (the msgid)."""
        return UnitLevel.zh_of(self.level)

    @property
    def kind_label(self) -> str:
        """The unit's type in the interface's language (镇 → Town)."""
        return UnitKind.label_of(self.kind)

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name}>"
