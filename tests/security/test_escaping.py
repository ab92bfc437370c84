"""User text (names, notes, comments, file names) is escaped wherever it is shown, attributes and links too."""
import io

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import OrgUnit, User
from tests.conftest import fill_all
from tests.factories import VILLAGE, app_of_world, make_round, make_sheet  # noqa: F401 (fixture)
from tests.files import PDF

EVIL = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture
def world(empty_app):
    """A full roll-out of the test's own in self-assessment (tests/factories.py)."""
    return make_round("self_assessment", rollout="full")


def test_names_notes_comments_and_file_names_are_escaped(app, world, login_as):
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == VILLAGE))
    unit.name = VILLAGE + EVIL
    user = db.session.scalar(select(User).where(User.username == "township"))
    user.display_name = "审核人" + EVIL
    db.session.commit()
    village, township = login_as("village"), login_as("township")
    sheet = make_sheet(world, VILLAGE, "self")  # (by the unit's id: its name is the one above now)
    fill_all(village, sheet)
    village.put(f"/api/v1/sheets/{sheet.id}/scores/A1", json={"deductions": [{"code": "A1-1", "count": 1}],
                                                              "note": EVIL, "version": 1})
    village.post(f"/selfassess/sheets/{sheet.id}/summary", data={"summary": EVIL})
    upload = village.post(f"/selfassess/sheets/{sheet.id}/documents",
                          data={"document": (io.BytesIO(PDF), "<img src=x onerror=alert(3)>.pdf")},
                          content_type="multipart/form-data")
    assert upload.status_code == 302
    village.post(f"/selfassess/sheets/{sheet.id}/submit")
    township.post(f"/selfassess/sheets/{sheet.id}/comment", data={"code": "A1", "comment": EVIL})
    pages = [
        village.get(f"/selfassess/sheets/{sheet.id}").get_data(as_text=True),
        township.get(f"/selfassess/sheets/{sheet.id}").get_data(as_text=True),
        township.get("/selfassess/township").get_data(as_text=True),
        login_as("district").get("/results/").get_data(as_text=True),
    ]
    for html in pages:
        assert "<script>alert(1)</script>" not in html and "<img src=x onerror" not in html
    for html in pages[:3]:  # the unit's name is shown on these, escaped
        assert f"{VILLAGE}&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    sheet_page = pages[1]
    assert "审核人&#34;&gt;&lt;script&gt;" in sheet_page  # the commenter's name
    # the note sits in a textarea: escaped there too
    assert "<textarea" in sheet_page and "&lt;img src=x onerror=alert(2)&gt;" in sheet_page
    # the file name sits in a link's text; the href is the app's own URL, never the name
    assert 'href="/selfassess/documents/' in sheet_page and "&lt;img src=x onerror=alert(3)&gt;.pdf" in sheet_page


def test_document_download_name_cannot_break_the_header(app, world, login_as):
    village = login_as("village")
    sheet = make_sheet(world, VILLAGE, "self")
    village.post(f"/selfassess/sheets/{sheet.id}/documents",
                 data={"document": (io.BytesIO(PDF), 'a"\r\nX-Evil: 1.pdf')},
                 content_type="multipart/form-data")
    from evalapp.models import EvidenceFile

    doc = db.session.scalar(select(EvidenceFile).where(EvidenceFile.kind == "document"))
    response = village.get(f"/selfassess/documents/{doc.id}")
    assert "X-Evil" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
