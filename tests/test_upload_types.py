"""Uploaded documents are what their bytes open as, and are downloaded under that type's extension (issue 28, 3).

A village uploads (the page's form and the API), a township lead downloads (the page and the API): a PDF named
材料.hta comes back as 材料.pdf, a name's right-to-left override is gone, a file that only begins like a PDF, a Word
file that attaches an outside template and an archive that expands too far are refused.
"""
import io
import zipfile
from urllib.parse import unquote

import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from evalapp.extensions import db
from evalapp.models import AuditEvent, EvidenceFile
from evalapp.services import filecheck
from tests.factories import app_of_world  # noqa: F401 (fixture)
from tests.files import PDF, docx, docx_with_external_template, encrypted_pdf, png, xlsx
from tests.test_selfassess import own, township, village, world  # noqa: F401 (fixtures: a round of its own)

pytestmark = pytest.mark.both_storages  # run again with the files in the local S3 server


def page_upload(client, sheet, data, name):
    return client.post(f"/selfassess/sheets/{sheet.id}/documents", data={"document": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def api_upload(client, sheet, data, name):
    return client.post(f"/api/v1/sheets/{sheet.id}/documents", data={"document": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def last_document(sheet) -> EvidenceFile:
    return db.session.scalars(select(EvidenceFile).where(EvidenceFile.sheet_id == sheet.id,
                                                         EvidenceFile.kind == "document")
                              .order_by(EvidenceFile.id.desc())).first()


def saved_as(response) -> str:
    """The name a browser saves a download under (filename*, RFC 5987), checked to be a well-formed header."""
    header = response.headers["Content-Disposition"]
    assert header.isascii() and header.startswith("attachment; ")
    disposition, options = parse_options_header(header)
    assert disposition == "attachment"
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == options["filename"]  # werkzeug reads filename* first, as browsers do
    assert options["filename"].rsplit(".", 1)[-1] == header.split('filename="', 1)[1].split('"')[0].rsplit(".", 1)[-1]
    return options["filename"]


@pytest.mark.parametrize("name, kept", [
    ("材料.hta", "材料.pdf"),
    ("通知.html", "通知.pdf"),
    ("图.svg", "图.pdf"),
    ("材料\u202efdp.hta", "材料fdp.pdf"),  # shown as 材料ath.pdf with the override
    ("走访\x07台账\u200b", "走访台账.pdf"),
])
def test_a_pdf_is_kept_and_downloaded_as_pdf_whatever_it_was_named(village, township, own, name, kept):
    assert page_upload(village, own, PDF, name).status_code == 302
    doc = last_document(own)
    assert doc.original_name == kept and doc.content_type == "application/pdf"
    page = township.get(f"/selfassess/documents/{doc.id}")
    assert page.status_code == 200 and page.mimetype == "application/pdf" and page.data == PDF
    assert saved_as(page) == kept
    assert township.get(f"/selfassess/sheets/{own.id}").get_data(as_text=True).count("\u202e") == 0
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.add",
                                                       AuditEvent.object_id == doc.id))
    assert audit.new["name"] == kept and "\u202e" not in audit.new["uploaded_as"]


def test_the_api_takes_and_gives_documents_by_the_same_rule(village, township, own):
    response = api_upload(village, own, PDF, "材料\u202efdp.hta")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["name"] == "材料fdp.pdf" and body["content_type"] == "application/pdf"
    download = township.get(body["url"])
    assert download.status_code == 200 and download.data == PDF and saved_as(download) == "材料fdp.pdf"
    page = township.get(f"/selfassess/documents/{body['id']}")
    assert page.headers["Content-Disposition"] == download.headers["Content-Disposition"]


@pytest.mark.parametrize("data, name, kept, content_type", [
    (docx(), "台账.doc", "台账.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (xlsx(), "名单.exe", "名单.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (png(), "图.svg", "图.png", "image/png"),
])
def test_office_files_and_images_take_their_own_extension(village, township, own, data, name, kept, content_type):
    assert page_upload(village, own, data, name).status_code == 302
    doc = last_document(own)
    assert (doc.original_name, doc.content_type) == (kept, content_type)
    assert saved_as(township.get(f"/selfassess/documents/{doc.id}")) == kept


def test_a_document_stored_before_the_rule_is_downloaded_under_its_type(village, township, own):
    assert page_upload(village, own, PDF, "材料.pdf").status_code == 302
    doc = last_document(own)
    doc.original_name = "材料\u202efdp.hta"  # as the app kept names before
    db.session.commit()
    assert saved_as(township.get(f"/selfassess/documents/{doc.id}")) == "材料fdp.pdf"


def refused(response, code: str) -> str:
    if response.is_json:
        body = response.get_json()
        assert response.status_code == 422 and body["code"] == code and "document" in body["fields"], body
        return body["fields"]["document"]
    assert response.status_code == 422
    return response.get_data(as_text=True)


BOMB_PART = b"\0" * (2 * 1024 * 1024)


def lying_archive() -> bytes:
    """A Word document whose part declares 100 bytes and inflates to 2 MB (the sizes in both headers forged)."""
    data = bytearray(docx({"word/media/blob.bin": BOMB_PART}))
    real = len(BOMB_PART).to_bytes(4, "little")
    assert data.count(real) == 2  # the local header's and the central directory's uncompressed size
    return bytes(data.replace(real, (100).to_bytes(4, "little")))


@pytest.mark.parametrize("upload", [page_upload, api_upload])
@pytest.mark.parametrize("data, code, words", [
    (b"%PDF-1.4\n<html><script>alert(1)</script></html>", "document.corrupt", "不是真正的PDF"),
    (b"%PDF-1.7\n%%EOF", "document.corrupt", "不是真正的PDF"),
    (docx_with_external_template(), "document.external_template", "外部模板"),
    (docx({"word/_rels/document.xml.rels": (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"'
        ' Target="http://attacker.example/pixel.png" TargetMode="External"/></Relationships>')}),
     "document.external_content", "外部内容"),
    (docx(main="application/vnd.ms-word.document.macroEnabled.main+xml"), "document.macros", "含宏"),
    (docx({"[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'}),
     "document.type", "按文件内容识别"),
    (lying_archive(), "document.corrupt", "已损坏"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "document.corrupt", "图片文件已损坏"),
])
def test_files_that_do_not_open_as_their_type_are_refused(village, own, upload, data, code, words):
    assert words in refused(upload(village, own, data, "材料.pdf"), code)
    assert last_document(own) is None


def test_an_encrypted_pdf_is_taken_when_it_opens_without_a_password(village, own):
    assert page_upload(village, own, encrypted_pdf(""), "限制编辑.pdf").status_code == 302  # owner's restrictions
    words = refused(api_upload(village, own, encrypted_pdf("open-sesame"), "加密.pdf"), "document.encrypted")
    assert "已加密" in words
    assert [d.original_name for d in [last_document(own)]] == ["限制编辑.pdf"]


@pytest.mark.parametrize("upload", [page_upload, api_upload])
def test_an_office_file_that_expands_past_the_bound_is_refused(monkeypatch, village, own, upload):
    monkeypatch.setattr(filecheck, "MAX_EXPANDED_BYTES", 1024 * 1024)
    bomb = docx({"word/media/blob.bin": BOMB_PART})
    assert len(bomb) < 20 * 1024  # 2 MB of zeros: a few KB on the wire
    assert "解压后过大（超过1MB）" in refused(upload(village, own, bomb, "台账.docx"), "document.expands_too_far")
    monkeypatch.setattr(filecheck, "MAX_EXPANDED_BYTES", 4 * 1024 * 1024)
    assert upload(village, own, bomb, "台账.docx").status_code in (201, 302)  # the same file under the bound


def test_an_archive_of_many_parts_is_refused(monkeypatch, village, own):
    monkeypatch.setattr(filecheck, "MAX_PARTS", 10)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx())) as source, zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            archive.writestr(item, source.read(item))
        for i in range(10):
            archive.writestr(f"word/media/{i}.bin", b"")
    assert "解压后过大" in refused(page_upload(village, own, out.getvalue(), "台账.docx"), "document.expands_too_far")


def test_the_api_refuses_what_the_page_refuses_to_whom_it_refuses(login_as, township, own):
    assert api_upload(township, own, PDF, "x.pdf").status_code == 403  # the township reviews, it does not upload
    assert api_upload(login_as("outsider_village"), own, PDF, "x.pdf").status_code == 404
    assert last_document(own) is None


def test_documents_are_downloaded_through_the_api_by_those_who_may_see_the_sheet(app, login_as, village, own):
    doc_id = api_upload(village, own, PDF, "台账.pdf").get_json()["id"]
    for persona, status in [("village", 200), ("township", 200), ("district", 200), ("admin", 200),
                            ("outsider_village", 404), ("outsider_township", 404), ("inspector", 404)]:
        assert login_as(persona).get(f"/api/v1/documents/{doc_id}").status_code == status, persona
    assert app.test_client().get(f"/api/v1/documents/{doc_id}").status_code == 401
    assert village.get("/api/v1/documents/2147483647").status_code == 404
