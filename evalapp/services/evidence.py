"""Evidence photos: checked, re-encoded and stored by generated names."""
import hashlib
import io
import warnings
from datetime import datetime, timedelta

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select, update

from ..domain.filenames import with_extension
from ..domain.provenance import exif_datetime, gps_e6
from ..extensions import db
from ..models import EvidenceFile, Indicator, Sheet, User
from ..models.base import utcnow
from . import audit, proxy
from .errors import Invalid, NotAllowed, NotFound, Text, _l
from .figures import lock_sheet
from .storage import StoredFile, storage

MAX_PHOTO_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel photo is the largest a tablet or phone camera takes
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
THUMB_SIZE = (320, 320)


def _refuse(code: str, message: Text):
    raise Invalid(code, message, {"photo": message})


def process_photo(data: bytes) -> tuple[bytes, bytes]:
    """Check an uploaded image and return (re-encoded JPEG, thumbnail JPEG).

    Only JPEG, PNG and WebP, by content; EXIF orientation applied (and EXIF dropped with it); decompression bombs
    refused before any pixel is decoded.
    """
    if not data:
        _refuse("photo.empty", _l("照片文件为空"))
    if len(data) > MAX_PHOTO_BYTES:
        _refuse("photo.too_large", _l("照片不能超过15MB"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in PHOTO_FORMATS:
                    _refuse("photo.type", _l("只支持JPEG、PNG或WebP格式的照片"))
                if probe.width * probe.height > MAX_PIXELS:
                    _refuse("photo.too_many_pixels", _l("照片像素过大，请降低分辨率后重试"))
                probe.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                img = ImageOps.exif_transpose(img)
                if img.mode in ("RGBA", "LA", "P"):
                    img = img.convert("RGBA")
                    background = Image.new("RGB", img.size, (255, 255, 255))
                    background.paste(img, mask=img.getchannel("A"))
                    img = background
                elif img.mode != "RGB":
                    img = img.convert("RGB")
                out = io.BytesIO()
                img.save(out, "JPEG", quality=85, optimize=True)
                img.thumbnail(THUMB_SIZE)
                thumb = io.BytesIO()
                img.save(thumb, "JPEG", quality=80)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            _refuse("photo.too_many_pixels", _l("照片像素过大，请降低分辨率后重试"))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            _refuse("photo.unreadable", _l("无法识别的图片文件，请上传JPEG、PNG或WebP格式的照片"))
    return out.getvalue(), thumb.getvalue()


ORIGINAL_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


def read_provenance(data: bytes) -> tuple[str, datetime | None, int | None, int | None]:
    """(format, capture time, latitude, longitude in microdegrees) of an image process_photo accepted, read from
    its EXIF before the shown copy drops it: DateTimeOriginal (else DateTime), the GPS IFD. Missing or unreadable
    EXIF gives None: a photo without capture data is stored all the same."""
    with Image.open(io.BytesIO(data)) as img:
        fmt = img.format
        try:
            exif = img.getexif()
            sub = exif.get_ifd(0x8769)  # Exif IFD
            gps = exif.get_ifd(0x8825)  # GPS IFD
        except Exception:  # a damaged EXIF block: no capture data, the photo itself is fine
            return fmt, None, None, None
    captured = exif_datetime(sub.get(0x9003)) or exif_datetime(exif.get(0x0132))
    lat, lon = gps_e6(gps.get(2), gps.get(1), gps.get(4), gps.get(3)) if gps else (None, None)
    return fmt, captured, lat, lon


def _clean_name(name: str) -> str:
    """The photo's name as shown: cleaned (domain.filenames) and ending .jpg, what it is stored and served as."""
    return with_extension(name, ".jpg", "photo", (".jpeg",))


def add_photo(sheet: Sheet, indicator: Indicator, data: bytes, original_name: str, user: User, *,
              address: str | None = None) -> EvidenceFile:
    """Store a photo for one indicator of a sheet, with its audit row (store_photo, the photo alone)."""
    return store_photo(sheet, indicator, data, original_name, user, address=address)[0]


def _same_photo(sheet: Sheet, indicator: Indicator, digest: str) -> EvidenceFile | None:
    return db.session.scalar(select(EvidenceFile).where(
        EvidenceFile.sheet_id == sheet.id, EvidenceFile.indicator_id == indicator.id, EvidenceFile.sha256 == digest,
        EvidenceFile.deleted_at.is_(None)).order_by(EvidenceFile.id).limit(1))


def _lock_sheet_for_photos(sheet: Sheet) -> None:
    """The sheet's write lock (PostgreSQL: its row lock; SQLite: the database's, by a no-op UPDATE), so that of two
    uploads of the same bytes the second sees the first's row."""
    if db.engine.dialect.name == "postgresql":
        lock_sheet(sheet)
    else:
        db.session.execute(update(Sheet).where(Sheet.id == sheet.id).values(status=Sheet.status)
                           .execution_options(synchronize_session=False))


def store_photo(sheet: Sheet, indicator: Indicator, data: bytes, original_name: str, user: User, *,
                address: str | None = None) -> tuple[EvidenceFile, bool]:
    """Store a photo for one indicator of a sheet, with its audit row; (the photo, True). Idempotent by content per
    score (issue 31): the same bytes sent again for the same indicator of the same sheet (a retry whose answer was
    lost, an offline queue sent twice) give the photo stored first and False, storing and auditing nothing."""
    digest = hashlib.sha256(data).hexdigest()
    first = _same_photo(sheet, indicator, digest)
    if first is not None:
        db.session.rollback()
        return first, False
    image, thumb = process_photo(data)
    fmt, captured, lat, lon = read_provenance(data)
    store = storage()
    key, thumb_key = store.new_key(".jpg"), store.new_key(".jpg")
    original_key = store.new_key(".orig" + ORIGINAL_SUFFIXES[fmt])
    try:
        _lock_sheet_for_photos(sheet)
        first = _same_photo(sheet, indicator, digest)  # sent twice at once: the second finds the first here
        if first is not None:
            db.session.rollback()
            return first, False
        store.save(original_key, data)  # as received: the recorded SHA-256 is of these bytes
        store.save(key, image)
        store.save(thumb_key, thumb)
        evidence = EvidenceFile(sheet_id=sheet.id, indicator_id=indicator.id, kind="photo", storage_key=key,
                                thumb_key=thumb_key, original_name=_clean_name(original_name),
                                sha256=digest, content_type="image/jpeg", size=len(image), uploaded_by_id=user.id,
                                stored_sha256=hashlib.sha256(image).hexdigest(),
                                thumb_sha256=hashlib.sha256(thumb).hexdigest(), original_key=original_key,
                                captured_at=captured, gps_lat_e6=lat, gps_lon_e6=lon)
        db.session.add(evidence)
        db.session.flush()
        audit.record("evidence.add", user=user, address=address, obj=evidence, unit_id=sheet.unit_id,
                     round_id=sheet.round_id,
                     new=proxy.note_in(sheet, user, {"indicator": indicator.code, "name": evidence.original_name,
                                                      "sha256": evidence.sha256}))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        store.delete(original_key)
        store.delete(key)
        store.delete(thumb_key)
        raise
    return evidence, True


def remove(evidence: EvidenceFile, user: User, *, address: str | None = None) -> None:
    """Withdraw a photo (kept on disk and in the audit log; no longer shown)."""
    evidence.deleted_at = utcnow()
    audit.record("evidence.remove", user=user, address=address, obj=evidence, unit_id=None, round_id=None,
                 old={"name": evidence.original_name, "sha256": evidence.sha256},
                 new=proxy.note_in(evidence.sheet, user, None))
    db.session.commit()


ORIGINAL_ROLES = ("district", "admin")


def open_original(evidence_id: int, user: User, *, address: str | None = None) -> tuple[EvidenceFile, StoredFile]:
    """A photo's original upload, for district and admin only (it carries the EXIF GPS of where it was taken,
    often a home: personal information under PIPL); every opening is audited. NotFound when the photo has none
    (stored before originals were kept, or deleted after the retention period), was withdrawn, or its file is
    missing — then nothing is audited: the file is opened before the audit row is written. Returns the photo and
    its open original; the caller streams it (and closes it if it cannot)."""
    if user.role not in ORIGINAL_ROLES:
        raise NotAllowed("evidence.original_forbidden", _l("只有区级和管理员可以查看照片原件"))
    not_found = NotFound("evidence.original_not_found", _l("照片原件不存在或已按保存期限删除"))
    evidence = db.session.get(EvidenceFile, evidence_id)
    if evidence is None or evidence.kind != "photo" or evidence.deleted_at is not None or not evidence.original_key \
            or evidence.original_deleted_at is not None:
        raise not_found
    try:
        file = storage().open(evidence.original_key)
    except FileNotFoundError:
        raise not_found from None
    try:
        audit.record("evidence.original_open", user=user, address=address, obj=evidence,
                     unit_id=evidence.sheet.unit_id, round_id=evidence.sheet.round_id, new={"sha256": evidence.sha256})
        db.session.commit()
    except BaseException:
        file.close()
        raise
    return evidence, file


def purge_originals(now: datetime, retention_days: int, *, user: User | None = None,
                    address: str | None = None) -> int:
    """Delete the originals uploaded more than `retention_days` days before `now` (the shown copy and thumbnail
    stay; the recorded hash of the original can no longer be checked, and verify-evidence knows it), and the GPS
    read from them (personal information kept no longer than the original; the capture time stays). One audit row
    naming the photos; one commit. Returns how many were deleted."""
    cutoff = now - timedelta(days=retention_days)
    due = db.session.execute(select(EvidenceFile.id, EvidenceFile.original_key).where(
        EvidenceFile.original_key.is_not(None), EvidenceFile.original_deleted_at.is_(None),
        EvidenceFile.uploaded_at < cutoff).order_by(EvidenceFile.id)).all()
    if not due:
        return 0
    store = storage()
    for _, key in due:
        store.delete(key)
    db.session.execute(update(EvidenceFile).where(EvidenceFile.id.in_([id_ for id_, _ in due]))
                       .values(original_deleted_at=now, gps_lat_e6=None, gps_lon_e6=None)
                       .execution_options(synchronize_session=False))
    audit.record("evidence.original_purge", user=user, address=address,
                 new={"photos": [id_ for id_, _ in due], "retention_days": retention_days})
    db.session.commit()
    return len(due)
