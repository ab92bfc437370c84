"""Stored files checked against the database (issue 34): moving them from one storage to another
(`flask migrate-evidence`) and recomputing every recorded hash (`flask verify-evidence`). Reads only: the database
is never written here, so nothing commits."""
import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select

from ..extensions import db
from ..models import EvidenceFile, ObjectionFile, RectifyFile
from .storage import read_all


def recorded_hashes() -> dict[str, tuple[str, str]]:
    """key → (SHA-256 the database records for that key's bytes, what it is), one query per table.

    Documents and the 整改/约谈/异议 files record the hash of the bytes stored. A photo records the hash of the
    upload as received: that is the original's key (kept since migration 0028); its shown copy and thumbnail have
    their own hashes where recorded (photos stored before 0028 have neither, so only a copy's own hash checks them)."""
    found: dict[str, tuple[str, str]] = {}
    rows = db.session.execute(select(EvidenceFile.id, EvidenceFile.kind, EvidenceFile.storage_key,
                                     EvidenceFile.sha256, EvidenceFile.original_key, EvidenceFile.stored_sha256,
                                     EvidenceFile.thumb_key, EvidenceFile.thumb_sha256,
                                     EvidenceFile.original_deleted_at))
    for id_, kind, key, sha, original_key, stored_sha, thumb_key, thumb_sha, purged in rows:
        if kind == "document":
            found[key] = (sha, f"document {id_}")
            continue
        if original_key and purged is None:
            found[original_key] = (sha, f"photo {id_} original")
        if stored_sha:
            found[key] = (stored_sha, f"photo {id_}")
        if thumb_key and thumb_sha:
            found[thumb_key] = (thumb_sha, f"photo {id_} thumbnail")
    for model, what in ((ObjectionFile, "objection file"), (RectifyFile, "rectify file")):
        for id_, key, sha in db.session.execute(select(model.id, model.storage_key, model.sha256)):
            found[key] = (sha, f"{what} {id_}")
    return found


def referenced_keys() -> dict[str, str]:
    """Every key a row names (present or not), with what it is."""
    keys: dict[str, str] = {}
    rows = db.session.execute(select(EvidenceFile.id, EvidenceFile.kind, EvidenceFile.storage_key,
                                     EvidenceFile.thumb_key, EvidenceFile.original_key,
                                     EvidenceFile.original_deleted_at))
    for id_, kind, key, thumb_key, original_key, purged in rows:
        keys[key] = f"{kind} {id_}"
        if thumb_key:
            keys[thumb_key] = f"photo {id_} thumbnail"
        if original_key and purged is None:
            keys[original_key] = f"photo {id_} original"
    for model, what in ((ObjectionFile, "objection file"), (RectifyFile, "rectify file")):
        for id_, key in db.session.execute(select(model.id, model.storage_key)):
            keys[key] = f"{what} {id_}"
    return keys


@dataclass
class Report:
    copied: int = 0
    already: int = 0
    checked: int = 0
    problems: list[str] = field(default_factory=list)


def migrate(source, target) -> Report:
    """Copy every file of `source` to `target` under the same key (a file already there with the same bytes is
    left as it is, so an interrupted run is simply run again), read each back from `target`, and check its hash
    against the source's and against the database's record. Files the database names that `source` lacks, and
    copies that differ, are problems; nothing is deleted from `source`."""
    report = Report()
    recorded = recorded_hashes()
    seen = set()
    for key in source.keys():
        seen.add(key)
        data = read_all(source, key)
        digest = hashlib.sha256(data).hexdigest()
        if key in recorded and recorded[key][0] != digest:
            report.problems.append(f"{key}（{recorded[key][1]}）：源存储中的文件与数据库记录的SHA-256不符")
            continue
        if target.exists(key) and hashlib.sha256(read_all(target, key)).hexdigest() == digest:
            report.already += 1
        else:
            target.save(key, data)
            report.copied += 1
        if hashlib.sha256(read_all(target, key)).hexdigest() != digest:
            report.problems.append(f"{key}：复制后读回的文件与源文件不符")
            continue
        report.checked += key in recorded
    for key, what in sorted(referenced_keys().items()):
        if key not in seen:
            report.problems.append(f"{key}（{what}）：源存储中没有这个文件")
    return report


def verify(store) -> Report:
    """Recompute the SHA-256 of every stored file the database records one for and compare: a photo's original
    with the hash taken at upload, its shown copy and thumbnail with theirs, every document and 整改/约谈/异议
    file with its own; a file recorded without a hash (a photo stored before migration 0028) must at least be
    there. A difference or a missing file is a problem naming the key and its row."""
    report = Report()
    recorded = recorded_hashes()
    for key, what in sorted(referenced_keys().items()):  # photos stored before 0028: no hash, present at least
        if key not in recorded and not store.exists(key):
            report.problems.append(f"{key}（{what}）：文件不存在")
    for key, (expected, what) in sorted(recorded.items()):
        try:
            digest = hashlib.sha256(read_all(store, key)).hexdigest()
        except FileNotFoundError:
            report.problems.append(f"{key}（{what}）：文件不存在")
            continue
        report.checked += 1
        if digest != expected:
            report.problems.append(f"{key}（{what}）：SHA-256不符，记录 {expected}，计算 {digest}")
    return report
