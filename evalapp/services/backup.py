"""Backup and restore of the database and the evidence storage together (issue 34, point 7): `flask backup DIR`,
`flask verify-backup DIR`, `flask restore DIR`.

A backup is one directory:

    database.dump | database.sqlite3   pg_dump --format=custom of the app's database, or SQLite's online backup
    objects/ab/ab12….jpg               every object of the storage (two hex digits of fan-out, as LocalStorage)
    manifest.csv                       key,size,sha256 of every file under objects/
    backup.json                        what the backup holds (written last: a directory without it is incomplete)

The database is copied first, then the objects: evidence files are stored before the row naming them commits
(services.evidence.store_photo, documents, objections, rectification save, then commit, and delete the files again
on a rollback), so every file a copied row names is in the storage when the copy of the objects starts. The rows are
read in the same snapshot as the dump (PostgreSQL: pg_dump takes the snapshot this transaction exports; SQLite: the
backup API copies inside this connection's read transaction), so the objects are checked against exactly the rows
backed up (evidence_integrity.migrate: every recorded SHA-256, every key a row names). Job results (`job-…` keys) are
left out: they are made again on request, and a job row whose file is missing is shown failed with 重新生成.

A restore goes only into an empty database and an empty storage: the backup is checked whole first (each file's
SHA-256 against the manifest, the manifest's and the database file's against backup.json) and nothing is written
when any differs; then the database, then the objects (migrate again: read back from the storage and checked
against the restored rows). No Flask request things here; the CLI (evalapp.cli_backup) prints.
"""
import csv
import glob
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from sqlalchemy import func, inspect, select, text

from ..extensions import db
from ..models import AuditCheckpoint, AuditEvent, EvidenceFile, Publication, Round, Sheet, User
from . import evidence_integrity
from .storage import CHUNK, LocalStorage, StoredFile, read_all, storage

FORMAT = 1
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
MANIFEST = "manifest.csv"
DESCRIPTION = "backup.json"
OBJECTS = "objects"
JOB_RESULTS = "job-"  # services.jobs names its result files so
COUNTED = {"rounds": Round, "users": User, "sheets": Sheet, "evidence_files": EvidenceFile,
           "publications": Publication, "audit_events": AuditEvent, "audit_checkpoints": AuditCheckpoint}


class BackupError(Exception):
    """A backup or restore refused or failed; its text says why (for the operator)."""


@dataclass
class Report:
    database: str = ""
    objects: int = 0
    size: int = 0
    skipped: int = 0  # job results left out
    checkpoint: dict | None = None  # the newest audit checkpoint held: id, last row, MAC
    checked: int = 0  # objects checked against a SHA-256 the database records
    counts: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class _Live:
    """The live storage as migrate reads it for a backup: job results left out; a key deleted between its listing
    and its reading (an upload rolled back, a job file expired) passed over instead of failing the backup; each
    file read once."""

    def __init__(self, store):
        self.store = store
        self.skipped = 0
        self._held: tuple[str, bytes] | None = None

    def describe(self) -> str:
        return self.store.describe()

    def keys(self):
        for key in self.store.keys():
            if key.startswith(JOB_RESULTS):
                self.skipped += 1
                continue
            try:
                data = read_all(self.store, key)
            except FileNotFoundError:
                continue  # gone since it was listed: no committed row names it (or a purge deleted it: see doc)
            self._held = (key, data)
            yield key
        self._held = None

    def open(self, key: str) -> StoredFile:
        if self._held is not None and self._held[0] == key:
            return StoredFile(io.BytesIO(self._held[1]), len(self._held[1]))
        return self.store.open(key)


def _digest(path: Path) -> tuple[int, str]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: on PATH, else the newest of /usr/lib/postgresql/*/bin (Debian's layout)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = [p for p in glob.glob(f"/usr/lib/postgresql/*/bin/{name}") if Path(p).parts[-3].isdigit()]
    if not candidates:
        raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端（Debian：postgresql-client）")
    return max(candidates, key=lambda p: int(Path(p).parts[-3]))


def _run_pg(name: str, *args: str) -> None:
    """A PostgreSQL client tool on the app's database; the password through the environment, never the argv."""
    url = db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run([pg_tool(name), *args, f"--dbname={dsn}"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{name} 失败（退出码 {done.returncode}）：{done.stderr.strip()}")


def _direct() -> None:
    """pg_dump's exported snapshot and pg_restore need sessions of their own: not through PgBouncer's transaction
    mode, which may hand each transaction another server connection."""
    if current_app.config.get("DATABASE_PGBOUNCER"):
        raise BackupError("本系统经 PgBouncer 连接数据库：备份和恢复请直接连接 PostgreSQL"
                          "（DATABASE_URL 指向 PostgreSQL 本身，不设 EVALAPP_DATABASE_PGBOUNCER）")


def _dump_database(path: Path) -> None:
    """The database copied inside the session's transaction, which then reads the same rows as the copy."""
    kind = db.engine.dialect.name
    if kind == "postgresql":
        db.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        snapshot = db.session.scalar(text("SELECT pg_export_snapshot()"))
        _run_pg("pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={path}")
        return
    connection = db.session.connection()
    connection.exec_driver_sql("BEGIN")  # pysqlite starts no transaction for a read: this one holds the snapshot
    connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()
    target = sqlite3.connect(path)
    try:
        connection.connection.driver_connection.backup(target)  # in this connection's read transaction
    finally:
        target.close()


def _counts() -> dict:
    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}


def _newest_checkpoint() -> dict | None:
    """The newest audit checkpoint, to compare with the seal-audit log kept off the machine."""
    found = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()
    return None if found is None else {"id": found.id, "last_id": found.last_id, "mac": found.mac}


def backup(directory: str, *, now: datetime | None = None) -> Report:
    """Write a backup of the database and the storage into `directory` (new or empty): the database first, then
    every object (job results but), checked against the rows of the copy; then the manifest and backup.json. The
    problems (a file whose SHA-256 differs from its row's, a key a row names that the storage lacks) are in the
    report and in backup.json; the backup is written all the same."""
    out = Path(directory)
    kind = db.engine.dialect.name
    if kind not in DATABASE_FILES:
        raise BackupError(f"不支持的数据库：{kind}")
    _direct()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} 已存在且不是空目录：请为每次备份指定一个新目录")
    out.mkdir(parents=True, exist_ok=True)
    store = storage()
    database = out / DATABASE_FILES[kind]
    objects = LocalStorage(str(out / OBJECTS))
    source = _Live(store)
    db.session.rollback()
    try:
        _dump_database(database)
        revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        counts, checkpoint = _counts(), _newest_checkpoint()
        copied = evidence_integrity.migrate(source, objects)
    finally:
        db.session.rollback()  # a read: nothing to commit; ends the snapshot
    report = Report(database=kind, skipped=source.skipped, checked=copied.checked, counts=counts,
                    checkpoint=checkpoint, problems=copied.problems)
    with open(out / MANIFEST, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["key", "size", "sha256"])
        for key in objects.keys():
            size, sha = _digest(Path(objects._path(key)))
            writer.writerow([key, size, sha])
            report.objects += 1
            report.size += size
    size, sha = _digest(database)
    manifest_size, manifest_sha = _digest(out / MANIFEST)
    described = {
        "format": FORMAT,
        "created_at": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "database": {"kind": kind, "file": database.name, "size": size, "sha256": sha,
                     "alembic_revision": revision},
        "storage": store.describe(),
        "objects": {"count": report.objects, "size": report.size, "manifest": MANIFEST, "manifest_sha256":
                    manifest_sha, "checked_against_database": report.checked, "job_results_left_out": report.skipped},
        "counts": counts,
        "audit_checkpoint": checkpoint,
        "problems": report.problems,
    }
    tmp = out / (DESCRIPTION + ".part")
    tmp.write_text(json.dumps(described, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / DESCRIPTION)
    return report


def describe(directory: str) -> dict:
    """backup.json of a backup directory (BackupError when it is not one)."""
    path = Path(directory) / DESCRIPTION
    try:
        described = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{directory} 不是完整的备份（没有 {DESCRIPTION}）") from None
    except ValueError:
        raise BackupError(f"{path} 无法读取") from None
    if described.get("format") != FORMAT or described.get("database", {}).get("kind") not in DATABASE_FILES:
        raise BackupError(f"{path}：不认识的备份格式")
    return described


def check(directory: str) -> dict:
    """The backup checked whole against itself: the database file's and the manifest's SHA-256 against backup.json,
    every object's size and SHA-256 against the manifest, no object missing or unlisted. BackupError naming the
    first difference; backup.json when none."""
    root = Path(directory)
    described = describe(directory)
    db_file = described["database"]
    if _digest(root / db_file["file"]) != (db_file["size"], db_file["sha256"]):
        raise BackupError(f"数据库文件 {db_file['file']} 与 {DESCRIPTION} 记录的SHA-256不符")
    if _digest(root / MANIFEST)[1] != described["objects"]["manifest_sha256"]:
        raise BackupError(f"{MANIFEST} 与 {DESCRIPTION} 记录的SHA-256不符")
    objects = LocalStorage(str(root / OBJECTS))
    listed = set()
    with open(root / MANIFEST, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = row["key"]
            try:
                path = Path(objects._path(key))
            except ValueError:
                raise BackupError(f"{MANIFEST}：无效的键 {key!r}") from None
            if not path.is_file():
                raise BackupError(f"{key}：备份中没有这个文件")
            size, sha = _digest(path)
            if (size, sha) != (int(row["size"]), row["sha256"]):
                raise BackupError(f"{key}：备份中的文件与清单不符，清单 SHA-256 {row['sha256']}，计算 {sha}")
            listed.add(key)
    for key in objects.keys():
        if key not in listed:
            raise BackupError(f"{key}：备份中的文件不在清单中")
    if len(listed) != described["objects"]["count"]:
        raise BackupError(f"{MANIFEST} 列出 {len(listed)} 个文件，{DESCRIPTION} 记录 {described['objects']['count']} 个")
    return described


def restore(directory: str) -> Report:
    """Restore a backup into the app's database and storage, both empty (BackupError otherwise, nothing written):
    the backup checked whole first (check), then the database (pg_restore, or SQLite's backup API into the app's
    file), then every object copied into the storage, read back and checked against the restored rows. The report's
    problems are those of the copy (a file a row names that the backup lacks, one that differs from its row)."""
    root = Path(directory)
    described = describe(directory)
    kind = db.engine.dialect.name
    if described["database"]["kind"] != kind:
        raise BackupError(f"备份的数据库是 {described['database']['kind']}，本系统配置的是 {kind}：不能跨数据库恢复")
    _direct()
    db.session.rollback()
    tables = inspect(db.engine).get_table_names()
    if tables:
        raise BackupError(f"数据库不是空的（已有 {len(tables)} 张表）：只能恢复到新建的空数据库")
    store = storage()
    if next(iter(store.keys()), None) is not None:
        raise BackupError(f"存储 {store.describe()} 不是空的：只能恢复到空的存储")
    check(directory)
    database = root / described["database"]["file"]
    if kind == "postgresql":
        _run_pg("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                str(database))
    else:
        source, target = sqlite3.connect(database), db.engine.raw_connection()
        try:
            source.backup(target.driver_connection)
        finally:
            source.close()
            target.close()
    db.engine.dispose()  # no connection kept from before the tables existed
    try:
        copied = evidence_integrity.migrate(LocalStorage(str(root / OBJECTS)), store)
        counts, checkpoint = _counts(), _newest_checkpoint()
    finally:
        db.session.rollback()
    return Report(database=kind, objects=copied.copied + copied.already, size=described["objects"]["size"],
                  checked=copied.checked, counts=counts, checkpoint=checkpoint, problems=copied.problems)
