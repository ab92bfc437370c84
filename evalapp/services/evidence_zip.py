"""A round's evidence photos as one zip (issue 34, point 2), built by a job (services.jobs): a folder per unit and
indicator, and manifest.csv with each file's path, SHA-256 and size.

The photos are those the requester's role sees (access.visible_sheets, the photo pages' own rule, with the photos
still shown); each is copied from storage into the zip a chunk at a time and hashed as it is copied, the zip written
to a temporary file, never the round's photos in memory at once. The same photos give the same bytes: entries in
unit, indicator and photo order, each dated by its upload (Beijing time), the manifest by the newest of them.
A photo whose file is missing from storage is left out, not the whole zip failed: the manifest lists it with the
status 文件缺失 (the others 正常), so whoever reads the zip knows what it lacks.
"""
import csv
import hashlib
import io
import tempfile
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..access import visible_sheets
from ..domain.filenames import clean_name
from ..extensions import db
from ..models import EvidenceFile, Indicator, OrgUnit, Round, Sheet, User
from .export import district_name
from .storage import storage

CHUNK = 1024 * 1024
PROGRESS_FILES = 20  # progress told every this many photos
SHEET_KINDS_ZH = {"self": "自评", "inspector": "评估员", "final": "工作组"}
MANIFEST = "manifest.csv"
MANIFEST_HEAD = ["路径", "SHA-256", "字节数", "单位编码", "单位名称", "指标编码", "评分表", "照片编号", "上传时间(北京时间)", "状态"]
OK, MISSING = "正常", "文件缺失"
EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry holds
TZ = ZoneInfo("Asia/Shanghai")


def _part(text: str, fallback: str) -> str:
    """A path component: the name cleaned (domain.filenames) and without separators."""
    return clean_name(text.replace("/", "／").replace("\\", "＼"), fallback)[:80]


def _stamp(at: datetime | None) -> tuple:
    if at is None:
        return EPOCH
    local = at.astimezone(TZ)
    return max(EPOCH, (local.year, local.month, local.day, local.hour, local.minute, local.second - local.second % 2))


def photos_of(round_: Round, user: User):
    """The photos the user's role sees in the round, with their unit, indicator and sheet, in the zip's order (one
    statement)."""
    sheets = visible_sheets(user, round_.id).with_only_columns(Sheet.id)
    return db.session.execute(
        select(EvidenceFile.id, EvidenceFile.storage_key, EvidenceFile.original_name, EvidenceFile.uploaded_at,
               OrgUnit.code, OrgUnit.name, Indicator.code, Indicator.title, Sheet.kind)
        .join(Sheet, Sheet.id == EvidenceFile.sheet_id)
        .join(OrgUnit, OrgUnit.id == Sheet.unit_id)
        .outerjoin(Indicator, Indicator.id == EvidenceFile.indicator_id)
        .where(EvidenceFile.sheet_id.in_(sheets), EvidenceFile.kind == "photo", EvidenceFile.deleted_at.is_(None))
        .order_by(OrgUnit.code, Indicator.code, EvidenceFile.id)).all()


def evidence_zip(round_: Round, user: User, progress=None):
    """(the zip as a temporary file, rewound; its name). `progress(done, total)` as photos are copied."""

    photos = photos_of(round_, user)
    total = len(photos)
    store = storage()
    out = tempfile.TemporaryFile()
    manifest = io.StringIO()
    writer = csv.writer(manifest, lineterminator="\r\n")
    writer.writerow(MANIFEST_HEAD)
    newest = None
    try:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for done, (ev_id, key, original, uploaded_at, unit_code, unit_name, ind_code, ind_title,
                       sheet_kind) in enumerate(photos, start=1):
                folder = (f"{_part(unit_code + '_' + unit_name, unit_code)}/"
                          f"{_part((ind_code or '') + '_' + (ind_title or ''), ind_code or '其他')}")
                name = f"{SHEET_KINDS_ZH.get(sheet_kind, sheet_kind)}_{ev_id}_{_part(original, 'photo.jpg')}"
                path = f"{folder}/{name}"
                info = zipfile.ZipInfo(path, _stamp(uploaded_at))
                info.compress_type = zipfile.ZIP_STORED  # JPEGs do not shrink
                info.external_attr = 0o644 << 16
                digest, size = hashlib.sha256(), 0
                try:
                    source = store.open(key)  # before the entry is begun: a missing file leaves no half entry
                except FileNotFoundError:
                    source = None
                if source is not None:
                    with source, zf.open(info, "w", force_zip64=True) as target:
                        while chunk := source.read(CHUNK):
                            digest.update(chunk)
                            size += len(chunk)
                            target.write(chunk)
                at = uploaded_at.astimezone(TZ) if uploaded_at is not None else None
                newest = at if newest is None or (at is not None and at > newest) else newest
                writer.writerow([path, digest.hexdigest() if source is not None else "",
                                 size if source is not None else "", unit_code, unit_name, ind_code or "",
                                 SHEET_KINDS_ZH.get(sheet_kind, sheet_kind), ev_id,
                                 at.strftime("%Y-%m-%d %H:%M:%S") if at else "", OK if source is not None else MISSING])
                if progress is not None and done % PROGRESS_FILES == 0:
                    progress(done, total)
            info = zipfile.ZipInfo(MANIFEST, _stamp(newest))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, ("\ufeff" + manifest.getvalue()).encode("utf-8"))  # BOM: Excel reads it as UTF-8
    except BaseException:
        out.close()
        raise
    if progress is not None:
        progress(total, total)
    out.seek(0)
    return out, f"{district_name()}_{round_.name}_佐证照片.zip"


def read_manifest(data: bytes) -> list[dict]:
    """The manifest's rows of a zip (tests, and whoever checks a zip by hand: `sha256sum` of each path)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        text = zf.read(MANIFEST).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))
