"""Evidence photos: content-checked, re-encoded, stored by generated names, served only to who may see them."""
import io
import os

import pytest
from PIL import Image
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import EvidenceFile
from evalapp.services.storage import storage
from tests.factories import app_of_world, make_sheet, VILLAGE, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.both_storages  # run again with the files in the local S3 server


def image_bytes(fmt="JPEG", size=(40, 20), color=(200, 30, 30), exif_orientation=None, mode="RGB"):
    img = Image.new(mode, size, color)
    out = io.BytesIO()
    kwargs = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif
    img.save(out, fmt, **kwargs)
    return out.getvalue()


@pytest.fixture
def inspector(login_as):
    return login_as("inspector")


@pytest.fixture
def sheet(world):
    return make_sheet(world, VILLAGE)


def upload(client, sheet, data, name="IMG_0001.jpg", code="A1"):
    return client.post(f"/api/v1/sheets/{sheet.id}/scores/{code}/photos",
                       data={"photo": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_jpeg_is_re_encoded_with_exif_orientation_applied(app, inspector, sheet):
    original = image_bytes(size=(40, 20), exif_orientation=6)  # rotated 90°: shown 20 wide, 40 high
    response = upload(inspector, sheet, original, name="../../etc/现场照片.jpg")
    assert response.status_code == 201
    ev = db.session.get(EvidenceFile, response.get_json()["id"])
    assert ev.original_name == "现场照片.jpg"  # kept as data, never used as a path
    import hashlib

    assert ev.sha256 == hashlib.sha256(original).hexdigest()
    assert ev.storage_key.endswith(".jpg") and "现场" not in ev.storage_key
    assert storage().exists(ev.storage_key)
    if storage().kind == "local":
        path = os.path.join(app.config["UPLOAD_FOLDER"], ev.storage_key[:2], ev.storage_key)
        assert os.path.exists(path) and not path.startswith(app.static_folder)
    with storage().open(ev.storage_key) as f, Image.open(f) as stored:
        assert stored.format == "JPEG" and stored.size == (20, 40)
        assert 0x0112 not in stored.getexif()
    full = inspector.get(response.get_json()["url"])
    thumb = inspector.get(response.get_json()["thumb"])
    assert full.status_code == 200 and full.mimetype == "image/jpeg" and thumb.status_code == 200


@pytest.mark.parametrize("fmt, mode", [("PNG", "RGBA"), ("WEBP", "RGB"), ("PNG", "P")])
def test_png_and_webp_are_accepted(inspector, sheet, fmt, mode):
    data = image_bytes(fmt=fmt, mode=mode, color=(1, 2, 3, 128) if mode == "RGBA" else 5 if mode == "P" else (1, 2, 3))
    assert upload(inspector, sheet, data, name="x.png").status_code == 201


@pytest.mark.parametrize("data, name", [
    (b"<html><script>alert(1)</script></html>", "photo.jpg"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "photo.svg"),
    (b"%PDF-1.4 not an image", "photo.jpg"),
    (b"", "empty.jpg"),
    (image_bytes(fmt="GIF"), "anim.gif"),
    (image_bytes(fmt="BMP"), "x.bmp"),
    (image_bytes()[:200], "truncated.jpg"),
])
def test_anything_else_is_refused_with_a_message_and_nothing_stored(app, inspector, sheet, data, name):
    response = upload(inspector, sheet, data, name=name)
    assert response.status_code == 422
    assert response.get_json()["fields"]["photo"]
    assert db.session.scalar(select(EvidenceFile)) is None
    assert list(storage().keys()) == []
    folder = app.config["UPLOAD_FOLDER"]
    assert not os.path.exists(folder) or not any(files for _, _, files in os.walk(folder))


def test_decompression_bomb_is_refused(inspector, sheet):
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")  # 144 megapixels in a few kilobytes
    assert len(bomb.getvalue()) < 100_000
    response = upload(inspector, sheet, bomb.getvalue(), name="bomb.png")
    assert response.status_code == 422 and "像素过大" in response.get_json()["error"]


def test_over_fifteen_megabytes_is_refused(inspector, sheet):
    big = image_bytes() + b"\x00" * (15 * 1024 * 1024)
    response = upload(inspector, sheet, big)
    assert response.status_code == 422 and "15MB" in response.get_json()["error"]


def test_request_over_the_app_limit_is_a_clean_413(app, inspector, sheet):
    app.config["UPLOAD_MAX_CONTENT_LENGTH"] = {**app.config["UPLOAD_MAX_CONTENT_LENGTH"], "photo": 1024 * 1024}
    response = upload(inspector, sheet, b"\xff" * (2 * 1024 * 1024))
    assert response.status_code == 413 and response.get_json()["code"] == "request.too_large"
    assert response.get_json()["error"] == "提交的内容过大：此处最多接受1 MB，未予处理"


def test_photo_is_served_only_to_those_who_may_see_the_sheet(login_as, inspector, sheet):
    url = upload(inspector, sheet, image_bytes()).get_json()["url"]
    assert login_as("leader").get(url).status_code == 200       # same team
    assert login_as("district").get(url).status_code == 200
    assert login_as("inspector2").get(url).status_code == 404   # other team
    assert login_as("village").get(url).status_code == 404      # inspector sheets are not the village's
    assert login_as("outsider_township").get(url).status_code == 404


def test_photos_of_a_submitted_sheet_cannot_be_added(inspector, sheet):
    from tests.conftest import fill_all

    fill_all(inspector, sheet)
    inspector.post(f"/api/v1/sheets/{sheet.id}/submit")
    assert upload(inspector, sheet, image_bytes()).status_code == 403


def test_removing_a_photo_hides_it_and_is_audited(inspector, sheet):
    ev_id = upload(inspector, sheet, image_bytes()).get_json()["id"]
    assert inspector.delete(f"/api/v1/evidence/{ev_id}").status_code == 200
    payload = inspector.get(f"/api/v1/sheets/{sheet.id}").get_json()
    assert all(not i["photos"] for i in payload["indicators"])
    assert inspector.get(f"/evidence/{ev_id}/full").status_code == 404


def test_other_team_cannot_upload_to_my_sheet(login_as, sheet):
    assert upload(login_as("inspector2"), sheet, image_bytes()).status_code == 404


@pytest.mark.parametrize("username, status", [("leader", 403), ("district", 403), ("admin", 403),
                                              ("inspector2", 404), ("village", 404), ("outsider_township", 404)])
def test_only_the_sheets_inspector_removes_its_photos(login_as, inspector, sheet, username, status):
    """Those who may see the sheet are refused (403), the others do not learn the photo exists (404)."""
    ev_id = upload(inspector, sheet, image_bytes()).get_json()["id"]
    assert login_as(username).delete(f"/api/v1/evidence/{ev_id}").status_code == status
    assert db.session.get(EvidenceFile, ev_id).deleted_at is None
    assert inspector.get(f"/evidence/{ev_id}/full").status_code == 200
