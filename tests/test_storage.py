"""Evidence storage (issue 34): the instance folder and an S3-compatible object store behind one interface that
opens files rather than naming paths, tested against a local S3 server over HTTP (moto's, tests/conftest.py);
`flask migrate-evidence` moves every file from one to the other and checks each hash."""
import hashlib
import io

import pytest
from PIL import Image

from evalapp.extensions import db
from evalapp.models import EvidenceFile
from evalapp.services.storage import LocalStorage, S3Storage, StoredFile, read_all, storage
from tests.factories import app_of_world, make_sheet, VILLAGE, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.both_storages


def jpeg(color=(10, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), color).save(out, "JPEG")
    return out.getvalue()


def test_the_interface_saves_opens_lists_and_deletes(app, storage_backend):
    store = storage()
    assert isinstance(store, S3Storage if storage_backend == "s3" else LocalStorage)
    key = store.new_key(".pdf")
    assert not store.exists(key)
    store.save(key, b"%PDF-1.4 one")
    assert store.exists(key) and list(store.keys()) == [key]
    with store.open(key) as f:
        assert isinstance(f, StoredFile) and f.size == 12 and f.read(5) == b"%PDF-" and f.read() == b"1.4 one"
    assert f.closed
    store.save(key, b"two")  # a save replaces
    assert read_all(store, key) == b"two"
    store.delete(key)
    store.delete(key)  # deleting what is gone is no error
    assert not store.exists(key) and list(store.keys()) == []
    with pytest.raises(FileNotFoundError):
        store.open(key)
    for bad in ("", "../x", "a/b", ".hidden", "x.part"):
        with pytest.raises(ValueError):
            store.save(bad, b"x")


def test_a_photo_stored_is_shown_and_a_lost_file_is_a_404(app, world, login_as, storage_backend):
    inspector = login_as("inspector")
    sheet = make_sheet(world, VILLAGE)
    response = inspector.post(f"/api/v1/sheets/{sheet.id}/scores/A1/photos",
                              data={"photo": (io.BytesIO(jpeg()), "现场.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    ev = db.session.get(EvidenceFile, response.get_json()["id"])
    shown = inspector.get(f"/evidence/{ev.id}/full")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert shown.headers["Content-Length"] == str(len(shown.data)) == str(ev.size)
    assert hashlib.sha256(shown.data).hexdigest() == ev.stored_sha256
    if storage_backend == "s3":  # in the bucket, not in the instance folder
        assert ev.storage_key in set(storage().keys())
        assert not LocalStorage(app.config["UPLOAD_FOLDER"]).exists(ev.storage_key)
    storage().delete(ev.storage_key)
    assert inspector.get(f"/evidence/{ev.id}/full").status_code == 404
    assert inspector.get(f"/api/v1/evidence/{ev.id}/full").status_code == 404


def _upload(client, sheet) -> EvidenceFile:
    response = client.post(f"/api/v1/sheets/{sheet.id}/scores/A1/photos",
                           data={"photo": (io.BytesIO(jpeg()), "现场.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return db.session.get(EvidenceFile, response.get_json()["id"])


def test_migrate_evidence_copies_every_file_and_checks_each_hash(app, world, login_as, storage_backend, s3_settings):
    """From the storage in use to the other (local → s3, and s3 → local), then back after tampering."""
    other = "local" if storage_backend == "s3" else "s3"
    app.config.update({**s3_settings, "STORAGE_BACKEND": storage_backend})
    inspector = login_as("inspector")
    ev = _upload(inspector, make_sheet(world, VILLAGE))
    shown = inspector.get(f"/evidence/{ev.id}/full").data
    keys = sorted(storage().keys())
    assert ev.storage_key in keys and ev.thumb_key in keys
    assert list(storage(other).keys()) == []

    result = app.test_cli_runner().invoke(args=["migrate-evidence", "--to", other])
    assert result.exit_code == 0, result.output
    assert f"复制 {len(keys)} 个文件" in result.output and "迁移完成" in result.output
    assert sorted(storage(other).keys()) == keys
    again = app.test_cli_runner().invoke(args=["migrate-evidence", "--to", other])  # run again: nothing to copy
    assert again.exit_code == 0 and f"已存在且相同 {len(keys)} 个" in again.output

    app.config["STORAGE_BACKEND"] = other  # the app now serves from the copy
    assert inspector.get(f"/evidence/{ev.id}/full").data == shown

    storage(other).save(ev.thumb_key, jpeg(color=(250, 0, 0)))  # changed behind the app's back
    storage(storage_backend).delete(ev.storage_key)
    storage(other).delete(ev.storage_key)  # … and lost from both
    back = app.test_cli_runner().invoke(args=["migrate-evidence", "--to", storage_backend])
    assert back.exit_code == 1
    assert f"{ev.thumb_key}（photo {ev.id} thumbnail）：源存储中的文件与数据库记录的SHA-256不符" in back.output
    assert f"{ev.storage_key}（photo {ev.id}）：源存储中没有这个文件" in back.output
    assert "迁移未通过：2 处问题" in back.output


def test_save_file_copies_a_file_in_chunks(app, storage_backend, monkeypatch):
    """save_file: a file object copied a chunk at a time (a .part then moved into place, locally), the same bytes
    read back; nothing left behind when the copy fails midway."""
    from evalapp.services import storage as storage_module

    monkeypatch.setattr(storage_module, "CHUNK", 7)
    store = storage()
    key = store.new_key(".zip")
    data = bytes(range(256)) * 3
    store.save_file(key, io.BytesIO(data))
    assert read_all(store, key) == data and list(store.keys()) == [key]

    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def read(self, size=-1):
            raise OSError("disk gone")

    other = store.new_key(".zip")
    with pytest.raises(Exception):
        store.save_file(other, Broken())
    assert list(store.keys()) == [key] and not store.exists(other)
    if storage_backend == "local":
        assert not any(name.endswith(".part") for _, _, names in __import__("os").walk(app.config["UPLOAD_FOLDER"])
                       for name in names)


def test_a_store_that_fails_is_a_503_not_a_500(app, world, login_as, storage_backend, s3_settings):
    """The object store's bucket deleted (the store down, credentials refused alike): a photo's page and the API
    answer 503 with a message saying the file store is unavailable (JSON in the API's shape), never a 500 nor the
    bucket's name; a missing key is still a 404."""
    if storage_backend != "s3":
        pytest.skip("the object store's failures")
    import boto3

    inspector = login_as("inspector")
    ev = _upload(inspector, make_sheet(world, VILLAGE))
    client = boto3.session.Session().client("s3", endpoint_url=s3_settings["S3_ENDPOINT_URL"], region_name="us-east-1",
                                            aws_access_key_id="testing", aws_secret_access_key="testing")
    bucket = app.config["S3_BUCKET"]
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", ()):
        client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)
    client.close()
    page = inspector.get(f"/evidence/{ev.id}/full")
    assert page.status_code == 503 and "文件存储暂时无法访问" in page.get_data(as_text=True)
    assert bucket not in page.get_data(as_text=True)
    api = inspector.get(f"/api/v1/evidence/{ev.id}/full")
    assert api.status_code == 503
    body = api.get_json()
    assert body["code"] == "storage.unavailable" and "文件存储暂时无法访问" in body["error"] and body["fields"] == {}
    from evalapp.services.storage import StorageUnavailable

    with pytest.raises(StorageUnavailable):
        storage().save(ev.storage_key, b"x")
