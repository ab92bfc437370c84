"""Each route takes the body it needs and no more, refused before it is read (issue 28, point 7; bodylimits.py).

An anonymous 21 MB form to /lang used to be read and parsed for 10 s before its 400: a body declared larger than
the route takes is now a 413 before a byte of it is read, in Chinese on a page and as JSON in the API, and the proxy
settings of docs/deploy.md say the same sizes.
"""
import io
import os
import re

import pytest

from evalapp.bodylimits import route_limit
from evalapp.services import documents, evidence, imports
from tests.factories import app_of_world  # noqa: F401 (fixture)
from tests.files import pdf_of_size
from tests.test_selfassess import own, village, world  # noqa: F401 (fixtures: a round of its own)

MB = 1024 * 1024
FORM = "application/x-www-form-urlencoded"


class Unread(io.RawIOBase):
    """A request body that fails the test if anyone reads from it."""

    def __init__(self):
        self.reads = 0

    def readable(self):
        return True

    def seekable(self):  # (the test client asks where the body starts)
        return True

    def seek(self, offset, whence=0):
        return 0

    def tell(self):
        return 0

    def readinto(self, buffer):
        self.reads += 1
        raise AssertionError("the body was read")


def send(client, url, length, content_type=FORM, method="POST"):
    """A request declaring a body of `length` bytes (Content-Length) that no one may read."""
    body = Unread()
    response = client.open(url, method=method, input_stream=body, content_type=content_type,
                           environ_overrides={"CONTENT_LENGTH": str(length)})
    return response, body


@pytest.mark.parametrize("url", ["/lang", "/login", "/api/v1/auth/token"])
@pytest.mark.parametrize("length", [21 * MB, 2 * MB, 65 * 1024])
def test_an_anonymous_body_past_64_kb_is_refused_unread(client, url, length):
    response, body = send(client, url, length, "application/json" if "/api/" in url else FORM)
    assert response.status_code == 413 and body.reads == 0
    if "/api/" in url:
        assert response.get_json()["code"] == "request.too_large"
        assert response.get_json()["fields"]["body"] == "提交的内容过大：此处最多接受64 KB，未予处理"
    else:
        assert "提交的内容过大：此处最多接受64 KB，未予处理" in response.get_data(as_text=True)


def test_a_signed_in_form_past_the_default_is_refused_unread_and_one_within_it_is_read(login_as):
    district = login_as("district")
    response, body = send(district, "/lang", 21 * MB)
    assert response.status_code == 413 and body.reads == 0
    assert "此处最多接受1 MB" in response.get_data(as_text=True)
    lang = district.post("/lang", data={"lang": "en", "next": "/", "pad": "x" * (200 * 1024)})
    assert lang.status_code == 302  # 200 KB: more than before log-in, within the default


def test_the_refusal_speaks_the_sessions_language(login_as):
    district = login_as("district")
    assert district.post("/lang", data={"lang": "en", "next": "/"}).status_code == 302
    response, body = send(district, "/admin/units/import", 7 * MB, "multipart/form-data; boundary=x")
    assert response.status_code == 413 and body.reads == 0
    assert "What was sent is too large: this takes at most 6 MB, and nothing was done" in response.get_data(as_text=True)


def test_a_9_mb_signature_form_is_refused_unread(login_as):
    """It used to be read and parsed for 26.5 s; the largest drawing the rule allows is ~0.3 MB
    (tests/test_signatures.py::test_the_largest_drawing_the_rule_allows_fits_the_forms_body_limit)."""
    response, body = send(login_as("leader"), "/inspection/sheets/1/signatures", 9 * MB)
    assert response.status_code == 413 and body.reads == 0
    assert "此处最多接受1 MB" in response.get_data(as_text=True)


def test_the_api_refuses_a_large_json_body_unread(login_as, own):
    response, body = send(login_as("village"), f"/api/v1/sheets/{own.id}/summary", 2 * MB, "application/json",
                          method="PUT")
    assert response.status_code == 413 and body.reads == 0
    assert response.get_json()["code"] == "request.too_large" and "1 MB" in response.get_json()["error"]


def test_a_body_without_a_length_is_cut_off_at_the_limit(client):
    """Chunked (no Content-Length; the server says the stream ends): read up to the limit, then refused."""
    response = client.post("/lang", input_stream=io.BytesIO(b"lang=en&pad=" + b"x" * (2 * MB)), content_type=FORM,
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413


def test_upload_routes_take_their_files_and_the_form_around_them(app):
    limits = {endpoint: route_limit(app, endpoint) for endpoint in app.view_functions}
    assert limits["selfassess.upload_document"] == limits["api.add_document"] >= documents.MAX_DOCUMENT_BYTES + MB
    assert limits["api.add_photo"] >= evidence.MAX_PHOTO_BYTES + 256 * 1024
    assert limits["admin.import_units"] == limits["admin.import_catalogue"] == limits["admin.import_users"] \
        >= imports.MAX_IMPORT_BYTES + 256 * 1024
    larger = {endpoint for endpoint, limit in limits.items() if limit > app.config["MAX_CONTENT_LENGTH"]}
    assert larger == {"selfassess.upload_document", "api.add_document", "api.add_photo", "admin.import_units",
                      "admin.import_catalogue", "admin.import_users", "rectify.report", "rectify.create_interview",
                      "rectify.interview_report", "results.summary_template_upload",
                      "notice.file_objection", "api.file_objection"}
    assert limits["notice.file_objection"] == limits["api.file_objection"] == limits["selfassess.upload_document"]
    assert limits["rectify.report"] == limits["rectify.create_interview"] == limits["rectify.interview_report"] \
        == limits["selfassess.upload_document"]
    assert app.config["MAX_CONTENT_LENGTH"] == MB and app.config["ANONYMOUS_MAX_CONTENT_LENGTH"] == 64 * 1024


def test_a_document_of_almost_20_mb_with_a_long_summary_is_taken(village, own):
    data = pdf_of_size(documents.MAX_DOCUMENT_BYTES - 64 * 1024)
    assert documents.MAX_DOCUMENT_BYTES - 128 * 1024 < len(data) <= documents.MAX_DOCUMENT_BYTES
    response = village.post(f"/selfassess/sheets/{own.id}/documents",
                            data={"document": (io.BytesIO(data), "台账.pdf"), "summary": "工作总结" * 2500},
                            content_type="multipart/form-data")
    assert response.status_code == 302, re.findall(r'invalid-feedback[^>]*>([^<]+)<', response.get_data(as_text=True))
    assert documents.stored_name("台账.pdf", "pdf") in village.get(f"/selfassess/sheets/{own.id}").get_data(
        as_text=True)


def test_docs_deploy_proxy_sizes_are_the_apps(app):
    """nginx refuses what the app would (client_max_body_size per location), so a body too large never reaches a
    worker; each upload route's location matches its URLs and allows its limit, the server the default."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "deploy.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    server = re.search(r"^server \{\n(.*?)^\}", text, re.S | re.M).group(1)
    default = re.search(r"^    client_max_body_size (\d+)([km]);", server, re.M)
    size = {"k": 1024, "m": MB}
    assert int(default.group(1)) * size[default.group(2)] == app.config["MAX_CONTENT_LENGTH"]
    locations = [(re.compile(pattern), int(n) * size[unit]) for pattern, n, unit in re.findall(
        r"location ~ (\S+) \{[^}]*?client_max_body_size (\d+)([km]);", server)]
    samples = {"selfassess.upload_document": "/selfassess/sheets/12/documents",
               "api.add_document": "/api/v1/sheets/12/documents", "api.add_photo": "/api/v1/sheets/12/scores/A1/photos",
               "admin.import_units": "/admin/units/import", "admin.import_catalogue": "/admin/catalogues/import",
               "rectify.report": "/rectify/12/report", "rectify.create_interview": "/rectify/interviews",
               "rectify.interview_report": "/rectify/interviews/12/report",
               "results.summary_template_upload": "/results/rounds/12/summary/template"}
    for endpoint, url in samples.items():
        matched = [limit for pattern, limit in locations if pattern.search(url)]
        assert matched == [route_limit(app, endpoint)], (endpoint, url, matched)
    for url in ("/lang", "/login", "/inspection/sheets/12/signatures", "/api/v1/sheets/12/scores/A1",
                "/results/rounds/12/summary", "/results/rounds/12/summary/template/default",
                "/rectify/12/extension", "/rectify/interviews/12/check"):
        assert not [p for p, _ in locations if p.search(url)], url
