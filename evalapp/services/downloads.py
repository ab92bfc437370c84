"""The official workbooks as downloads: each builds the round's read model once, lays it out, and is audited here —
the one place a download is recorded (who, when, which version or 草稿, the file's checksum)."""
import hashlib
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from ..extensions import db
from ..models import Round, User
from . import audit
from .eligibility_sheet import eligibility_workbook as eligibility_layout
from .export import results_workbook as results_layout
from .readmodel import round_model


def _version(model) -> dict:
    pub = model.publication
    return {"status": "正式" if pub is not None else "草稿", "version": pub.version if pub is not None else None,
            "publication_sha256": pub.sha256 if pub is not None else None}


def eligibility_workbook(round_: Round, user: User, *, draft: bool = False, address: str | None = None,
                         now: datetime | None = None) -> tuple[io.BytesIO, str, str]:
    """Finance's 奖补资格表: (file, name, SHA-256 of its detail rows). Audited (export.subsidy)."""
    model = round_model(round_, draft=draft, extras=True, changes=True, fresh=True)
    data, name, digest = eligibility_layout(model, user, now or datetime.now(ZoneInfo("Asia/Shanghai")))
    audit.record("export.subsidy", user=user, address=address, obj=round_, round_id=round_.id,
                 new={**_version(model), "sha256": digest, "total_fen": model.total_fen}, detail=name)
    db.session.commit()
    return data, name, digest


def results_workbook(round_: Round, user: User, *, draft: bool = False,
                     address: str | None = None) -> tuple[io.BytesIO, str]:
    """The district workbook (评估结果汇总表): (file, name). Audited (export.results_workbook)."""
    model = round_model(round_, draft=draft, extras=True, fresh=True)
    data, name = results_layout(model)
    audit.record("export.results_workbook", user=user, address=address, obj=round_, round_id=round_.id,
                 new={**_version(model), "sha256": hashlib.sha256(data.getbuffer()).hexdigest()}, detail=name)
    db.session.commit()
    return data, name
