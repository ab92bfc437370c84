"""Issue 33, point 4: the 评估总结 to 市民政局 — a .docx generated from one published version, its tables' numbers
checked against figures this test computes itself from the version's raw rows (plain SQL, none of evalapp's code);
the district's narrative paragraphs carried into each generation; the district's own template used once uploaded,
a bad one refused beside its field, the default restored; and the file rendered by LibreOffice Writer (one soffice
run, SQLite pass only, on a round compared with the one before) with its Chinese headings in CJK glyphs."""
import hashlib
import io
import os
import re
import shutil
import subprocess
import zipfile
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from docx import Document
from sqlalchemy import select, text

from evalapp.extensions import db
from evalapp.models import AuditEvent, Round, User
from evalapp.services import publication, rounds as rounds_service
from tests.test_history import _login, two_rounds  # noqa: F401  (the fixture)
from tests.test_paper_render import ARTIFACTS, _client, demo_round  # noqa: F401  (the fixture)
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

HEADINGS = ["一、基本情况", "二、评估结果", "三、存在的问题", "四、整改要求及下一步"]
# With an earlier published round (tests/test_summary_compare.py checks the section's figures).
COMPARED_HEADINGS = ["一、基本情况", "二、评估结果", "三、与上一轮评估比较", "四、存在的问题", "五、整改要求及下一步"]
SHOTS = "/tmp/shots-summary"
RENDER = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice Writer (soffice) not installed; "
                            "apt-get install libreoffice-writer")
SQLITE_ONLY = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                                 reason="LibreOffice renders in the SQLite pass (the same file on either engine)")


def q2(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _published(round_):
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    while db.session.get(Round, round_.id).status != "review":
        rounds_service.advance(round_, admin, confirm=True)
    return publication.publish(round_, db.session.scalar(select(User).where(User.username == "district")),
                               confirm_incomplete=True, confirm_no_subsidy=True)


def _raw(round_id: int):
    """The version's rows as the database holds them (plain SQL): unit rows and indicator rows."""
    pub_id, sha = db.session.execute(text("SELECT id, sha256 FROM publications WHERE round_id = :r ORDER BY version "
                                          "DESC LIMIT 1"), {"r": round_id}).one()
    units = db.session.execute(text(
        "SELECT code, name, level, township_code, township_name, self_total, final_total, result, missing "
        "FROM published_units WHERE publication_id = :p ORDER BY position"), {"p": pub_id}).mappings().all()
    scores = db.session.execute(text(
        "SELECT unit_code, indicator_code, title, max_points, points FROM published_scores "
        "WHERE publication_id = :p"), {"p": pub_id}).mappings().all()
    return sha, units, scores


def _points(value) -> Decimal | None:
    """Points as stored (integer hundredths, models.base.Points) read raw."""
    return None if value is None else Decimal(int(value)) / 100


def expected_townships(units) -> dict[str, list[str]]:
    """township name → [units, 合格, 不合格, 一票否决, 未完成, 合格率, 平均分] computed here from the raw rows: a
    township with its villages; the pass rate over all units; the mean over complete units without a veto."""
    groups = defaultdict(list)
    names = {}
    for u in units:
        key = u["code"] if u["level"] == "township" else u["township_code"]
        groups[key].append(u)
        if u["level"] == "township":
            names[key] = u["name"]
    groups_all = dict(groups)
    groups_all["合计"] = list(units)
    names["合计"] = "合计"
    out = {}
    for key, rows in groups_all.items():
        results = [r["result"] for r in rows]
        n, passed = len(rows), results.count("pass")
        standing = [_points(r["final_total"]) for r in rows if r["result"] in ("pass", "fail")
                    and r["final_total"] is not None]
        out[names[key]] = [str(n), str(passed), str(results.count("fail")), str(results.count("veto")),
                           str(results.count("incomplete")), q2(Decimal(passed) * 100 / n),
                           q2(sum(standing) / len(standing)) if standing else "—"]
    return out


def expected_losses(units, scores) -> list[tuple[str, str, str]]:
    """(indicator code, units losing, points lost) of the indicators with the most points lost, by level."""
    level = {u["code"]: u["level"] for u in units}
    lost, losing = defaultdict(Decimal), defaultdict(int)
    for s in scores:
        if s["points"] is None:
            continue
        gap = _points(s["max_points"]) - _points(s["points"])
        if gap > 0:
            key = (level[s["unit_code"]], s["indicator_code"])
            lost[key] += gap
            losing[key] += 1
    return sorted(((code, str(losing[(lv, code)]), q2(v)) for (lv, code), v in lost.items()),
                  key=lambda x: -Decimal(x[2]))


def _table(doc, first_header: str):
    found = [t for t in doc.tables if t.rows[0].cells[0].text == first_header
             or (len(t.rows[0].cells) > 1 and t.rows[0].cells[1].text == first_header)]
    assert found, f"no table headed {first_header}"
    return [[c.text for c in r.cells] for r in found[0].rows]


def _doc_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    return "\n".join(p.text for p in doc.paragraphs)


def _generate(client, round_id, signer="王局长", version=1):
    """Issue the 评估总结 as the page does: a job (run inside the request in tests), its page, then its file."""
    response = client.post(f"/results/rounds/{round_id}/summary.docx", data={"version": version, "signer": signer})
    assert response.status_code == 303, re.findall(r'invalid-feedback[^>]*>([^<]+)<', response.get_data(as_text=True))
    job = response.headers["Location"]
    assert 'data-state="done"' in client.get(job).get_data(as_text=True)
    response = client.get(f"{job}/file")
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    return response.data


def _docx_with(data: bytes, replace: dict[str, bytes]) -> bytes:
    """A copy of a .docx with some parts replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in replace:
                dst.writestr(info, src.read(info.filename))
        for name, body in replace.items():
            dst.writestr(name, body)
    return out.getvalue()


def _bomb(data: bytes) -> bytes:
    """A copy of a .docx with a part of zeros that inflates past what filecheck takes (200 MB), written in chunks."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        chunk = bytes(1024 * 1024)
        with dst.open("word/media/zeros.bin", "w", force_zip64=True) as part:
            for _ in range(201):
                part.write(chunk)
    return out.getvalue()


def _edited_template(data: bytes, paragraph: str) -> bytes:
    doc = Document(io.BytesIO(data))
    doc.paragraphs[0].insert_paragraph_before(paragraph)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _upload(client, round_id, data: bytes, name="模板.docx"):
    return client.post(f"/results/rounds/{round_id}/summary/template",
                       data={"template": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _field_errors(response) -> list[str]:
    return re.findall(r'invalid-feedback[^>]*>([^<]+)<', response.get_data(as_text=True))


def test_the_summary_numbers_are_the_versions_and_the_narratives_and_template_follow(app, demo_round):
    from evalapp.services import rectification

    district_user = db.session.scalar(select(User).where(User.username == "district"))
    _published(demo_round)
    sha, units, scores = _raw(demo_round.id)
    failing = [u for u in units if u["result"] != "pass"]
    assert failing and any(u["result"] == "veto" for u in units) and any(u["result"] == "incomplete" for u in units)
    unit_id = db.session.execute(text("SELECT unit_id FROM published_units WHERE code = :c"),
                                 {"c": next(u["code"] for u in failing if u["result"] == "fail")}).scalar()
    rectification.issue(db.session.get(Round, demo_round.id), unit_id, district_user, today=date(2026, 12, 7))

    district = _client(app, "district")
    page = district.get(f"/results/rounds/{demo_round.id}/summary")
    assert page.status_code == 200 and "第1版" in page.get_data(as_text=True)
    assert "summary-link" in district.get(f"/results/rounds/{demo_round.id}").get_data(as_text=True)
    # The narratives are written in the app, kept with the round; too long a section is refused beside its field
    # and what was typed stays in the form.
    refused = district.post(f"/results/rounds/{demo_round.id}/summary",
                            data={"practice": "长" * 5001, "analysis": "保留的分析", "advice": ""})
    assert refused.status_code == 422 and _field_errors(refused) and "保留的分析" in refused.get_data(as_text=True)
    assert district.post(f"/results/rounds/{demo_round.id}/summary", data={
        "practice": "建立镇村两级工作台账，做到一户一档。\n推行救助对象动态管理。", "analysis": "部分村台账更新不及时。",
        "advice": "加强业务培训。"}).status_code == 302

    first = _generate(district, demo_round.id)
    doc = Document(io.BytesIO(first))
    body = "\n".join(p.text for p in doc.paragraphs)
    for heading in HEADINGS:
        assert heading in body
    assert "建立镇村两级工作台账，做到一户一档。" in body and "推行救助对象动态管理。" in body
    assert "市民政局：" in body and "签发人：王局长" in body
    number = re.search(r"云溪民发〔\d{4}〕\d+号", body).group(0)
    # The version and its SHA-256, in the text and in the file's properties.
    assert sha in body and sha in doc.core_properties.keywords and "第1版" in doc.core_properties.subject

    # 表1: every township line and the 合计 equal what this test computes from the raw rows.
    expected = expected_townships(units)
    rows = _table(doc, "镇(街道)")
    assert rows[0] == ["镇(街道)", "单位数", "合格", "不合格", "一票否决", "未完成", "合格率(%)", "平均分"]
    assert {r[0]: r[1:] for r in rows[1:]} == expected
    # 表2: the failing units, each with its points missing (一票否决 / 未完成 where there are none).
    failing_rows = _table(doc, "序号")
    assert failing_rows[0][:5] == ["序号", "单位", "所属镇(街道)", "得分", "距合格线"]
    assert [r[1] for r in failing_rows[1:]] == [u["name"] for u in failing]  # the version's order
    missing = {u["name"]: q2(_points(u["missing"])) for u in failing if u["result"] == "fail"}
    assert {r[1]: r[4] for r in failing_rows[1:] if r[1] in missing} == missing
    # 表3: the indicators that lost most, points lost and the units losing them.
    losses = [t for t in doc.tables if t.rows[0].cells[2].text == "指标"][0]
    got = [(r.cells[2].text.split(" ")[0], r.cells[4].text, r.cells[5].text) for r in losses.rows[1:]]
    want = expected_losses(units, scores)
    assert [g[2] for g in got] == [w[2] for w in want[:len(got)]] and set(got) <= set(want)
    # 整改: the notice issued above is listed with its number.
    assert any("整改通知文号" in t.rows[0].cells[2].text for t in doc.tables)

    # The generation is audited: the version, its SHA-256, the file's.
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.summary")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.new["version"] == 1 and event.new["publication_sha256"] == sha
    assert event.new["sha256"] == hashlib.sha256(first).hexdigest()

    # An edit in the app is carried by the next generation, under the same 文号.
    assert district.post(f"/results/rounds/{demo_round.id}/summary", data={
        "practice": "改后的做法：村级台账按月更新。", "analysis": "部分村台账更新不及时。", "advice": "加强业务培训。"}
    ).status_code == 302
    second = _doc_text(_generate(district, demo_round.id))
    assert "改后的做法：村级台账按月更新。" in second and "建立镇村两级工作台账" not in second
    assert number in second

    # The district's own template: downloaded, edited, uploaded, used; the default restored.
    default = district.get("/results/summary/download/template.docx")
    assert default.status_code == 200
    own = _edited_template(default.data, "区里修改的模板 {{ round_name }}")
    assert _upload(district, demo_round.id, own).status_code == 302
    with_own = _doc_text(_generate(district, demo_round.id))
    assert f"区里修改的模板 {db.session.get(Round, demo_round.id).name}" in with_own
    # Bad templates are refused beside the field, and the one in force stays.
    bad_tags = _edited_template(default.data, "{{ round_name ")
    sandbox = _edited_template(default.data, "{{ ''.__class__.__mro__ }}")
    external = _docx_with(default.data, {"word/_rels/settings.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.'
        'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/attachedTemplate" Target="http://example.com/t.dotm" '
        'TargetMode="External"/></Relationships>').encode()})
    for data, name, says in ((bad_tags, "坏.docx", "模板无法使用"), (sandbox, "沙箱.docx", "模板无法使用"),
                             (external, "外部.docx", "外部模板"), (_bomb(default.data), "炸弹.docx", "解压后过大"),
                             (b"%PDF-1.4 not really", "a.pdf", "PDF"),
                             (b"", "empty.docx", "请选择")):
        response = _upload(district, demo_round.id, data, name)
        assert response.status_code == 422, (name, response.status_code)
        errors = _field_errors(response)
        assert errors and says in errors[0], (name, errors)
    assert "区里修改的模板" in _doc_text(_generate(district, demo_round.id))
    assert district.post(f"/results/rounds/{demo_round.id}/summary/template/default").status_code == 302
    restored = _generate(district, demo_round.id)
    assert "区里修改的模板" not in _doc_text(restored)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("summary.%"))))
    assert actions == {"summary.narratives", "summary.template_upload", "summary.template_restore"}

    # Finance, a township and the rest may not (the access matrix covers every route by role).
    assert _client(app, "finance").get(f"/results/rounds/{demo_round.id}/summary").status_code == 403


@RENDER
@SQLITE_ONLY
def test_the_summary_renders_in_writer_with_its_chinese_headings_in_cjk_glyphs(two_rounds, empty_app, tmp_path):
    """One soffice run, on the 2022 rollout's summary (test_history's two rounds: the file holds every section, the
    comparison with the 2021 pilot among them): the pages carry the headings in a CJK font (pdffonts), the text is
    found (pdftotext), and the pages are drawn for a look (pdftoppm, 60 dpi) into /tmp/shots-summary/ and
    test-artifacts/."""
    rollout = two_rounds["r2"]
    district = _login(empty_app, "district")
    assert district.post(f"/results/rounds/{rollout.id}/summary", data={
        "practice": "建立镇村两级工作台账，做到一户一档。", "analysis": "部分村台账更新不及时。",
        "advice": "加强业务培训。"}).status_code == 302
    data = _generate(district, rollout.id)
    path = tmp_path / "summary.docx"
    path.write_bytes(data)
    profile = (tmp_path / "lo-profile").as_uri()
    done = subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--norestore",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    pdf = str(tmp_path / "summary.pdf")
    os.makedirs(ARTIFACTS, exist_ok=True)
    shutil.copy(pdf, os.path.join(ARTIFACTS, "summary-report.pdf"))
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, text=True, check=True).stdout
    assert re.search(r"CJK", fonts), fonts
    if shutil.which("pdftotext"):
        pages = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True).stdout
        flat = re.sub(r"\s+", "", pages)
        for heading in COMPARED_HEADINGS + ["市民政局：", "各镇(街道)评估结果", "建立镇村两级工作台账，做到一户一档。",
                                            "各镇(街道)与上一轮比较", "2021第1版vs2022第1版"]:
            assert heading in flat, heading
    if shutil.which("pdftoppm"):
        os.makedirs(SHOTS, exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "60", pdf, os.path.join(SHOTS, "summary")], check=True)


def test_a_version_not_offered_is_refused_beside_its_field(app, demo_round):
    """A version past any integer the database holds (an OverflowError on SQLite once), or one never published, is
    refused by the form's choices: a 422 with the message beside the field, never a 500, nothing generated."""
    _published(demo_round)
    district = _client(app, "district")
    for version in ("100000000000000000000", "7", "x"):
        refused = district.post(f"/results/rounds/{demo_round.id}/summary.docx",
                                data={"version": version, "signer": "王局长"})
        assert refused.status_code == 422, (version, refused.status_code)
        assert _field_errors(refused) and _field_errors(refused)[0].startswith("不是有效" if version != "x" else "选择无效")


def test_the_summary_is_made_by_a_job_once_per_request_and_its_download_is_audited(app, demo_round):
    """Issue 34, point 2: the 评估总结 is a job — the same request (version, 签发人, texts, template, day) twice is one
    job and one file; another 签发人 is another job under the same 文号; finance cannot fetch it."""
    from evalapp.models import Job

    _published(demo_round)
    district = _client(app, "district")
    first = district.post(f"/results/rounds/{demo_round.id}/summary.docx", data={"version": 1, "signer": "王局长"})
    again = district.post(f"/results/rounds/{demo_round.id}/summary.docx", data={"version": 1, "signer": "王局长"})
    assert first.status_code == again.status_code == 303 and first.headers["Location"] == again.headers["Location"]
    page = district.get(first.headers["Location"]).get_data(as_text=True)
    assert "返回评估总结" in page and f"/results/rounds/{demo_round.id}/summary" in page
    other = district.post(f"/results/rounds/{demo_round.id}/summary.docx", data={"version": 1, "signer": "李局长"})
    assert other.headers["Location"] != first.headers["Location"]
    jobs_made = db.session.scalars(select(Job).where(Job.kind == "summary_docx")).all()
    assert len(jobs_made) == 2 and len({j.params["doc_number"] for j in jobs_made}) == 1
    body = district.get(f"{first.headers['Location']}/file").data
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.summary")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.new["sha256"] == hashlib.sha256(body).hexdigest() and event.new["signer"] == "王局长"
    assert _client(app, "finance").get(f"{first.headers['Location']}/file").status_code in (403, 404)


def test_the_same_summary_made_again_is_byte_identical(app, demo_round, monkeypatch):
    """The document is a function of its job's parameters: made again a day later (its file expired, say), the
    same bytes."""
    import time

    from evalapp.services import summary

    _published(demo_round)
    district = db.session.scalar(select(User).where(User.username == "district"))
    params = summary.prepare_summary(demo_round, 1, "王局长", district)
    first, _ = summary.build_summary(params, lambda done, total: None)
    later = time.time() + 86400
    monkeypatch.setattr(time, "time", lambda: later)
    again, _ = summary.build_summary(params, lambda done, total: None)
    assert first.getvalue() == again.getvalue()
