"""Evidence provenance (issue 34, point 5): the original upload kept privately beside the shown copy, so the
recorded SHA-256 can be checked (`flask verify-evidence`); capture time and place read from EXIF before it is
stripped, shown under the photo with when and by whom it was received, marked when far from the inspection; the
original opened by the district and admin only (audited), deleted after its retention period."""
import hashlib
import io
import re
from datetime import date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from evalapp.domain.provenance import capture_far, degrees_e6, exif_datetime, format_e6
from evalapp.extensions import db
from evalapp.models import AuditEvent, EvidenceFile
from evalapp.services.storage import read_all, storage
from tests.factories import app_of_world, make_sheet, TOWNSHIP, VILLAGE, world  # noqa: F401 (fixtures)
from tests.test_unit_results import published, scored  # noqa: F401 (fixtures: a round published with photos)

pytestmark = pytest.mark.both_storages


def photo(captured="2026:03:05 10:20:30", gps=True, color=(1, 2, 3)) -> bytes:
    exif = Image.Exif()
    if captured:
        exif.get_ifd(0x8769)[0x9003] = captured
    if gps:
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2], ifd[3], ifd[4] = "N", (39.0, 54.0, 15.12), "E", (116.0, 23.0, 29.4)
    out = io.BytesIO()
    Image.new("RGB", (40, 20), color).save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(client, sheet, data) -> EvidenceFile:
    response = client.post(f"/api/v1/sheets/{sheet.id}/scores/A1/photos",
                           data={"photo": (io.BytesIO(data), "现场.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return db.session.get(EvidenceFile, response.get_json()["id"])


@pytest.fixture
def inspector(login_as):
    return login_as("inspector")


@pytest.fixture
def sheet(world):
    return make_sheet(world, VILLAGE)


def caption(page: str, ev_id: int) -> str:
    found = re.search(rf'<figcaption[^>]*data-provenance="{ev_id}".*?</figcaption>', page, re.S)
    assert found, f"no provenance under photo {ev_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))).strip()


def test_the_original_is_kept_and_capture_data_read_before_exif_is_stripped(app, inspector, sheet):
    data = photo()
    ev = upload(inspector, sheet, data)
    assert ev.sha256 == hashlib.sha256(data).hexdigest()
    assert read_all(storage(), ev.original_key) == data  # the recorded hash can be checked at last
    assert ev.captured_at == datetime(2026, 3, 5, 10, 20, 30)
    assert (ev.gps_lat_e6, ev.gps_lon_e6) == (39904200, 116391500)
    shown = inspector.get(f"/evidence/{ev.id}/full").data
    assert hashlib.sha256(shown).hexdigest() == ev.stored_sha256 != ev.sha256
    with Image.open(io.BytesIO(shown)) as img:
        assert not img.getexif().get_ifd(0x8825) and not img.getexif().get_ifd(0x8769)  # no GPS, no time
    assert ev.original_key not in inspector.get(f"/inspection/sheets/{sheet.id}").get_data(as_text=True)


def test_capture_data_is_shown_under_each_photo_and_a_far_capture_is_marked(app, login_as, inspector, sheet, world):
    world.round.inspection_start, world.round.inspection_end = date(2026, 4, 1), date(2026, 4, 10)
    db.session.commit()
    far = upload(inspector, sheet, photo(captured="2026:03:05 10:20:30"))  # 27 days before the window
    near = upload(inspector, sheet, photo(captured="2026:04:12 09:00:00", gps=False, color=(9, 9, 9)))
    bare = upload(inspector, sheet, photo(captured=None, gps=False, color=(50, 50, 50)))
    page = inspector.get(f"/inspection/sheets/{sheet.id}").get_data(as_text=True)
    name = world.people["inspector"].display_name
    # the place (EXIF GPS, often a home: PIPL) only to those who may open the original; the inspector learns it has one
    assert caption(page, far.id).startswith("拍摄于 2026-03-05 10:20 距检查日期超过7天 有定位信息 接收于")
    assert "39.90420" not in page and "116.39150" not in page and "位置" not in caption(page, far.id)
    assert caption(page, far.id).endswith(f"· {name}")
    assert caption(page, near.id).startswith("拍摄于 2026-04-12 09:00 接收于")
    assert caption(page, bare.id).startswith("无拍摄信息 接收于")
    assert "原件" not in caption(page, far.id)  # the inspector is offered no original
    for username in ("district", "admin"):
        text = login_as(username).get(f"/inspection/sheets/{sheet.id}").get_data(as_text=True)
        assert f'href="/evidence/{far.id}/original"' in text
        assert caption(text, far.id).startswith("拍摄于 2026-03-05 10:20 距检查日期超过7天 位置 39.90420, 116.39150 接收于")


def test_only_district_and_admin_open_the_original_and_each_opening_is_audited(app, login_as, inspector, sheet):
    data = photo()
    ev = upload(inspector, sheet, data)
    assert inspector.get(f"/evidence/{ev.id}/original").status_code == 403
    for username in ("district", "admin"):
        response = login_as(username).get(f"/evidence/{ev.id}/original")
        assert response.status_code == 200 and response.data == data and response.mimetype == "image/jpeg"
        assert "attachment" in response.headers["Content-Disposition"]
    opened = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.original_open")).all()
    assert [e.object_id for e in opened] == [ev.id, ev.id] and len({e.user_id for e in opened}) == 2
    assert login_as("district").get("/evidence/999999/original").status_code == 404


def _opened() -> int:
    return len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.original_open")).all())


def test_a_withdrawn_photos_original_is_404_and_not_audited(app, login_as, inspector, sheet):
    ev = upload(inspector, sheet, photo())
    assert inspector.delete(f"/api/v1/evidence/{ev.id}").status_code in (200, 204)
    db.session.refresh(ev)
    assert ev.deleted_at is not None and storage().exists(ev.original_key)  # kept on disk, no longer shown
    assert login_as("district").get(f"/evidence/{ev.id}/original").status_code == 404
    assert _opened() == 0


def test_a_missing_original_file_is_404_and_not_audited(app, login_as, inspector, sheet):
    ev = upload(inspector, sheet, photo())
    storage().delete(ev.original_key)  # lost, or not yet copied to the object store
    assert login_as("admin").get(f"/evidence/{ev.id}/original").status_code == 404
    assert _opened() == 0


def test_verify_evidence_recomputes_every_hash_and_names_a_tampered_file(app, inspector, sheet):
    ev = upload(inspector, sheet, photo())
    runner = app.test_cli_runner()
    good = runner.invoke(args=["verify-evidence"])
    assert good.exit_code == 0 and "已核对 3 个文件" in good.output and "校验通过" in good.output, good.output
    storage().save(ev.storage_key, photo(color=(200, 0, 0)))  # the shown copy replaced behind the app's back
    storage().save(ev.original_key, photo(captured="2026:01:01 00:00:00"))  # … and the original
    bad = runner.invoke(args=["verify-evidence"])
    assert bad.exit_code == 1
    assert f"{ev.storage_key}（photo {ev.id}）：SHA-256不符" in bad.output
    assert f"{ev.original_key}（photo {ev.id} original）：SHA-256不符，记录 {ev.sha256}" in bad.output
    assert "校验未通过：2 处不符" in bad.output
    storage().delete(ev.thumb_key)
    assert f"{ev.thumb_key}（photo {ev.id} thumbnail）：文件不存在" in runner.invoke(args=["verify-evidence"]).output


def test_originals_are_deleted_after_the_retention_period(app, login_as, inspector, sheet):
    app.config["EVIDENCE_ORIGINAL_RETENTION_DAYS"] = 30
    ev = upload(inspector, sheet, photo())
    runner = app.test_cli_runner()
    uploaded = ev.uploaded_at
    early = runner.invoke(args=["purge-evidence-originals", "--now", (uploaded + timedelta(days=29)).isoformat()])
    assert early.exit_code == 0 and "照片原件 0 个" in early.output and storage().exists(ev.original_key)
    late = runner.invoke(args=["purge-evidence-originals", "--now", (uploaded + timedelta(days=31)).isoformat()])
    assert late.exit_code == 0 and "保存超过 30 天的照片原件 1 个" in late.output, late.output
    db.session.refresh(ev)
    assert not storage().exists(ev.original_key) and ev.original_deleted_at is not None
    assert storage().exists(ev.storage_key)  # the shown copy stays
    # the place read from the original goes with it (PIPL); the capture time, which is no place, stays
    assert (ev.gps_lat_e6, ev.gps_lon_e6) == (None, None) and ev.captured_at == datetime(2026, 3, 5, 10, 20, 30)
    page = login_as("district").get(f"/inspection/sheets/{sheet.id}").get_data(as_text=True)
    assert "位置" not in caption(page, ev.id) and "有定位信息" not in caption(page, ev.id) and "39.90420" not in page
    assert login_as("district").get(f"/evidence/{ev.id}/original").status_code == 404
    purged = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.original_purge"))
    assert purged.new["photos"] == [ev.id]
    assert runner.invoke(args=["verify-evidence"]).exit_code == 0  # a deleted original is not a mismatch


def test_provenance_rules():
    assert exif_datetime("2026:03:05 10:20:30\x00") == datetime(2026, 3, 5, 10, 20, 30)
    assert exif_datetime("0000:00:00 00:00:00") is None and exif_datetime(None) is None
    assert degrees_e6((39.0, 54.0, 15.12), "N") == 39904200 and degrees_e6((1, 30, 0), b"W") == -1500000
    assert format_e6(-1500000) == "-1.50000"
    window = (date(2026, 4, 1), date(2026, 4, 10))
    assert not capture_far(datetime(2026, 3, 25), *window, date(2026, 4, 5), 7)  # 7 days before: not more than 7
    assert capture_far(datetime(2026, 3, 24), *window, date(2026, 4, 5), 7)
    assert capture_far(datetime(2026, 4, 18), *window, date(2026, 4, 5), 7)
    assert not capture_far(datetime(2026, 4, 5), None, None, date(2026, 4, 9), 7)
    assert capture_far(datetime(2026, 4, 1), None, None, date(2026, 4, 9), 7)
    assert not capture_far(None, *window, date(2026, 4, 5), 7)


def test_the_original_services_commit_once_and_the_checks_never(app, inspector, sheet, world):
    from evalapp.services import evidence, evidence_integrity
    from tests.test_transactions import counted, once

    ev = upload(inspector, sheet, photo())
    _, file = once(evidence.open_original, ev.id, world.people["district"])
    file.close()
    once(evidence.purge_originals, ev.uploaded_at + timedelta(days=400), 365)
    with counted() as seen:
        evidence_integrity.verify(storage())
        evidence_integrity.migrate(storage(), storage())
    assert seen["commit"] == 0


def test_a_photo_stored_before_originals_were_kept_is_checked_for_presence(app, inspector, sheet):
    ev = upload(inspector, sheet, photo())
    storage().delete(ev.original_key)
    ev.original_key = ev.stored_sha256 = ev.thumb_sha256 = None  # as migration 0028 leaves older photos
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["verify-evidence"]).exit_code == 0
    storage().delete(ev.storage_key)
    bad = runner.invoke(args=["verify-evidence"])
    assert bad.exit_code == 1 and f"{ev.storage_key}（photo {ev.id}）：文件不存在" in bad.output


def test_a_unit_lead_on_its_published_results_page_sees_no_place_and_no_uploaders_name(published, empty_app):
    """The village and township leads read the photos behind their published result: where it was taken (GPS to a
    metre, often a home) and who on the team took it are not theirs; the district, who may open the original, sees
    the place."""
    from tests.test_unit_results import _client, _url

    w = published
    ev = db.session.scalar(select(EvidenceFile).where(EvidenceFile.kind == "photo", EvidenceFile.deleted_at.is_(None))
                           .order_by(EvidenceFile.id))
    ev.gps_lat_e6, ev.gps_lon_e6 = 39904200, 116391500  # as read from the original's EXIF
    db.session.commit()
    unit = next(name for name in (VILLAGE, TOWNSHIP) if w.units[name].id == ev.sheet.unit_id)
    uploader = ev.uploaded_by.display_name
    for username in ("village", "township") if unit == VILLAGE else ("township",):
        page = _client(empty_app, username).get(_url(w, unit)).get_data(as_text=True)
        text = caption(page, ev.id)
        assert "有定位信息" in text and "位置" not in text and "39.90420" not in page and "116.39150" not in page
        assert uploader not in text and text.endswith("· 工作组成员"), text
        assert f"/evidence/{ev.id}/original" not in page
    district = _client(empty_app, "district").get(_url(w, unit)).get_data(as_text=True)
    assert "位置 39.90420, 116.39150" in caption(district, ev.id) and f"· {uploader} 原件" in caption(district, ev.id)
