"""Self-assessment documents: the unit withdraws its own document while the sheet is still its to edit."""
import io
import re

import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, EvidenceFile
from tests.conftest import fill_all
from tests.factories import app_of_world  # noqa: F401 (fixture)
from tests.files import PDF
from tests.test_selfassess import own, village, world  # noqa: F401 (fixtures: a round of its own)

pytestmark = pytest.mark.both_storages  # run again with the files in the local S3 server


def make_document(client, sheet, name="走访台账.pdf") -> EvidenceFile:
    """Upload a small PDF through the page and return its row."""
    response = client.post(f"/selfassess/sheets/{sheet.id}/documents", data={"document": (io.BytesIO(PDF), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    return db.session.scalar(select(EvidenceFile).where(EvidenceFile.sheet_id == sheet.id,
                                                        EvidenceFile.original_name == name))


def delete(client, doc):
    return client.post(f"/selfassess/documents/{doc.id}/delete")


def removals(doc) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "document.remove", AuditEvent.object_id == doc.id))


def test_village_deletes_its_own_document_before_submitting(village, own):
    doc = make_document(village, own)
    page = village.get(f"/selfassess/sheets/{own.id}").get_data(as_text=True)
    assert f'action="/selfassess/documents/{doc.id}/delete"' in page and "确认删除" in page
    response = delete(village, doc)
    assert response.status_code == 302 and response.headers["Location"].endswith("#documents")
    db.session.refresh(doc)
    assert doc.deleted_at is not None  # kept (soft delete), no longer listed or downloadable
    assert removals(doc) == 1
    page = village.get(f"/selfassess/sheets/{own.id}").get_data(as_text=True)
    assert "走访台账.pdf" in page  # in the flash only
    assert f'data-document="{doc.id}"' not in page
    assert village.get(f"/selfassess/documents/{doc.id}").status_code == 404
    assert delete(village, doc).status_code == 404  # a second click changes nothing
    assert removals(doc) == 1


def test_deleting_after_submission_is_refused_and_changes_nothing(village, own):
    doc = make_document(village, own)
    fill_all(village, own)
    assert village.post(f"/selfassess/sheets/{own.id}/submit").status_code == 302
    page = village.get(f"/selfassess/sheets/{own.id}").get_data(as_text=True)
    assert f"/selfassess/documents/{doc.id}/delete" not in page  # no button once submitted
    response = delete(village, doc)
    assert response.status_code == 403 and "自评表已提交，材料不能再删除" in response.get_data(as_text=True)
    db.session.refresh(doc)
    assert doc.deleted_at is None and removals(doc) == 0


def test_uploading_after_submission_is_refused(village, own):
    fill_all(village, own)
    village.post(f"/selfassess/sheets/{own.id}/submit")
    response = village.post(f"/selfassess/sheets/{own.id}/documents", data={"document": (io.BytesIO(PDF), "x.pdf")},
                            content_type="multipart/form-data")
    assert response.status_code == 403 and "不能再上传材料" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(EvidenceFile.id)).where(EvidenceFile.sheet_id == own.id)) == 0


@pytest.mark.parametrize("username, status", [("outsider_village", 404), ("outsider_township", 404),
                                              ("township", 403), ("district", 403), ("inspector", 403)])
def test_only_the_unit_may_delete_its_documents(login_as, village, own, username, status):
    doc = make_document(village, own)
    assert delete(login_as(username), doc).status_code == status
    db.session.refresh(doc)
    assert doc.deleted_at is None and removals(doc) == 0


def test_unknown_document_ids_are_not_found(village, own):
    assert village.post("/selfassess/documents/99999999999/delete").status_code == 404
    assert village.post("/selfassess/documents/0/delete").status_code == 404


def test_delete_needs_the_csrf_token(app, village, own):
    from tests.test_csrf import _token

    doc = make_document(village, own)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    m = _token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "village", "password": "demo-pass-2021",
                                "csrf_token": m.group(1) or m.group(2)})
    assert delete(client, doc).status_code == 400
    db.session.refresh(doc)
    assert doc.deleted_at is None
    page = client.get(f"/selfassess/sheets/{own.id}").get_data(as_text=True)
    form = page[page.index(f'action="/selfassess/documents/{doc.id}/delete"'):]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    assert client.post(f"/selfassess/documents/{doc.id}/delete", data={"csrf_token": token}).status_code == 302
    db.session.refresh(doc)
    assert doc.deleted_at is not None
