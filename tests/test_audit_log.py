"""The audit log page and its export (issue 19, point 5): every action labelled, objects named by one joined query,
a pager that keeps the filters, a round filter, an export that streams and says where it had to stop."""
import ast
import io
import pathlib
import re
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from evalapp.domain.audit_labels import AuditAction, ObjectNames, object_text
from evalapp.domain.workflow import SHEET_STATUSES
from evalapp.extensions import db
from evalapp.models import AuditEvent, Indicator
from evalapp.services import audit
from evalapp.services.moves import move_sheet
from tests.factories import (INSPECTOR_NAME, VILLAGE, another_round, app_of_world, make_score,  # noqa: F401
                             make_sheet, world)

EVALAPP = pathlib.Path(__file__).parent.parent / "evalapp"


# -- labels --------------------------------------------------------------------------------------------------------

def _written_actions() -> dict[str, str]:
    """Every action an `audit.record(...)` call in evalapp/ can write (→ where), f-strings over the sheet statuses."""
    found: dict[str, str] = {}

    def values(node) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return values(node.body) + values(node.orelse)
        if isinstance(node, ast.JoinedStr) and ast.unparse(node) == "f'sheet.{to_status}'":
            return [f"sheet.{s}" for s in SHEET_STATUSES]
        if ast.unparse(node) == "kind.action":  # a job's download (services.jobs.downloaded): its kind's action
            from evalapp.services.jobs import KINDS

            return [kind.action for kind in KINDS.values()]
        raise AssertionError(f"an audit action this test cannot read: {ast.unparse(node)} — label it and teach "
                             "the test its values")

    for path in EVALAPP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and (  # audit.record(...), or record(...) inside services/audit.py
                    (isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                     and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit")
                    or (isinstance(node.func, ast.Name) and node.func.id == "record")):
                action = node.args[0] if node.args else next(k.value for k in node.keywords if k.arg == "action")
                for value in values(action):
                    found.setdefault(value, f"{path.relative_to(EVALAPP.parent)}:{node.lineno}")
    return found


def test_every_action_the_app_writes_has_a_label():
    written = _written_actions()
    assert {"score.save", "sheet.submitted", "sheet.closed", "round.publish", "export.audit"} <= written.keys()
    labelled = set(AuditAction.zh_labels())
    missing = {a: where for a, where in written.items() if a not in labelled}
    assert not missing, f"audit actions without a label in evalapp/domain/audit_labels.py: {missing}"


def test_an_unknown_action_or_object_kind_reads_as_itself():
    assert AuditAction.zh_of("score.save") == "保存评分"
    assert AuditAction.label_of("legacy.thing") == "legacy.thing"
    assert object_text(ObjectNames("Publication", 7)) == "Publication"
    assert object_text(ObjectNames()) == ""


def test_an_object_is_named_from_what_was_joined():
    score = ObjectNames("Score", 5, sheet_kind="inspector", sheet_inspector="张三", indicator_code="1.2",
                        indicator_title="组织领导")
    assert object_text(score, official=True) == "评分 · 1.2 组织领导 · 评估员评分表（张三）"
    assert object_text(ObjectNames("Sheet", 80, sheet_kind="final"), official=True) == "工作组评分表"
    assert object_text(ObjectNames("Sheet", 80), official=True) == "评分表 #80"  # the sheet is gone
    assert object_text(ObjectNames("User", 3, user_name="王五", user_login="wang5"), official=True) == "账号 · 王五（wang5）"


# -- the page ------------------------------------------------------------------------------------------------------

from tests.statements import counting  # noqa: E402  (beside the tests that use it)


@pytest.fixture
def admin(login_as):
    return login_as("admin")


def _scored(world, codes: int = 3):
    """The inspector's sheet of 荷塘村 with `codes` indicators scored: one score.save row each."""
    sheet = make_sheet(world, VILLAGE)
    catalogue_id = world.round.catalogue_for("village").id
    indicators = db.session.scalars(select(Indicator).where(Indicator.catalogue_id == catalogue_id)
                                    .order_by(Indicator.position, Indicator.id).limit(codes)).all()
    for ind in indicators:
        make_score(sheet, ind.code, by=world.people["inspector"])
    return sheet, indicators


def _cells(html: str, action: str) -> list[str]:
    """The text of each row of the table with this action (tags dropped)."""
    rows = re.findall(rf'<tr class="text-nowrap" data-action="{re.escape(action)}"[^>]*>(.*?)</tr>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in rows]


def test_the_page_shows_labelled_actions_and_the_joined_names(world, admin):
    sheet, indicators = _scored(world, 1)
    village = world.units[VILLAGE]
    html = admin.get("/admin/audit?action=score").get_data(as_text=True)
    [row] = _cells(html, "score.save")
    assert "保存评分" in row and INSPECTOR_NAME in row
    assert f"{village.code} {village.name}" in row and world.round.name[:12] in row
    assert f'title="评分 · {indicators[0].code} {indicators[0].title} · 评估员评分表（{INSPECTOR_NAME}）"' in html
    assert "score.save</td>" not in html and f"Score {sheet.id}" not in html  # no raw action or internal id shown
    move_sheet(sheet, "submitted", world.people["inspector"])
    html = admin.get("/admin/audit?action=sheet").get_data(as_text=True)
    [row] = _cells(html, "sheet.submitted")
    assert "提交评分表" in row and f"评估员评分表（{INSPECTOR_NAME}）" in row and village.code in row
    html = admin.get("/admin/audit?action=team.create").get_data(as_text=True)
    assert any("新建工作组" in r and "工作组 · 第一工作组" in r for r in _cells(html, "team.create"))


def test_accept_all_reads_as_one_labelled_row_on_the_final_sheet_naming_what_it_took(world, admin):
    from evalapp.services import moves, reconcile
    from evalapp.services.seed import fill_sheet

    for username in ("leader", "inspector"):
        member = make_sheet(world, VILLAGE, inspector=username)
        fill_sheet(member, world.people[username], username)
        moves.submit_sheet(member, world.people[username])
    final = make_sheet(world, VILLAGE, "final")
    taken = reconcile.accept_all_proposals(final, world.people["leader"])
    html = admin.get(f"/admin/audit?action=score.save&round={world.round.id}").get_data(as_text=True)
    rows = [r for r in _cells(html, "score.save") if "工作组评分表" in r]
    assert len(rows) == 1 and "保存评分" in rows[0]  # one row for the lot, labelled, on the final sheet
    assert "采用成员平均分：A1 " in rows[0]
    [detail] = re.findall(r'<td title="(采用成员平均分：[^"]*)"', html)  # the detail whole, in its cell's title
    assert len(detail.split("、")) == taken > 1  # every indicator taken, named with its value


def test_the_page_is_translated_and_the_export_stays_chinese(world, admin):
    assert admin.post("/lang", data={"lang": "en", "next": "/"}).status_code in (302, 303)
    html = admin.get("/admin/audit?action=round.create").get_data(as_text=True)
    [row] = _cells(html, "round.create")
    assert f"Round · {world.round.name[:15]}" in row  # the object's kind in the interface's language
    rows = _rows(admin.get("/admin/audit/export.xlsx?action=round.create"))
    assert [r[3] for r in rows] == [f"批次 · {world.round.name}"]


def test_the_pager_keeps_the_filters_and_leaves_ignored_ones_out(world, admin, app):
    app.config["AUDIT_PAGE_SIZE"] = 2
    _scored(world, 5)
    html = admin.get("/admin/audit?action=score.save&date_from=2021-13-01").get_data(as_text=True)
    assert len(_cells(html, "score.save")) == 2 and "第1/3页，共5条" in html
    next_link = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "action=score.save" in next_link and "page=2" in next_link and "date_from" not in next_link
    third = admin.get(next_link.replace("page=2", "page=3")).get_data(as_text=True)
    assert len(_cells(third, "score.save")) == 1 and "第3/3页，共5条" in third
    assert re.findall(r'data-action="([^"]+)"', third) == ["score.save"]
    assert 'value="score.save"' in third  # the filter stays in its field


def test_the_round_filter_shows_one_rounds_rows(world, admin):
    other = another_round(world, "setup", "2032年度测试评估验收").round
    html = admin.get(f"/admin/audit?round={other.id}").get_data(as_text=True)
    actions = re.findall(r'data-action="([^"]+)"', html)
    assert actions and set(actions) <= {"round.create", "round.scope", "team.create", "team.add_member",
                                        "team.assign"}
    assert world.round.name not in "".join(_cells(html, "round.create"))
    assert f'<option value="{other.id}" selected>' in html
    ours = admin.get(f"/admin/audit?round={world.round.id}&action=round.advance").get_data(as_text=True)
    assert len(_cells(ours, "round.advance")) == 2  # setup → self-assessment → inspection
    rows = _rows(admin.get(f"/admin/audit/export.xlsx?round={other.id}"))
    assert rows and {r[5] for r in rows} == {other.name}


@pytest.mark.parametrize("query", [
    "date_from=2021-13-45", "date_to=0001-01-01", "date_to=9999-12-31", "date_from=" + "9" * 10_000,
    "username=" + "a" * 10_000, "unit_code=%00430699", "action=score%00", "round=abc", "round=99999999999999",
    "page=-3", "page=" + "9" * 400, "username=%25&action=_", "round=%EF%BC%91",
])
def test_bad_filter_input_answers_a_page_and_a_workbook(world, admin, query):
    response = admin.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if "page=" not in query and "%25" not in query:
        assert "已忽略" in html
    export = admin.get(f"/admin/audit/export.xlsx?{query}")
    assert export.status_code == 200 and load_workbook(io.BytesIO(export.data))["操作日志"]


def test_like_wildcards_in_a_filter_match_themselves(world, admin):
    html = admin.get("/admin/audit?action=_").get_data(as_text=True)
    assert "没有记录" in html


def test_the_page_and_the_export_take_the_same_statements_for_few_rows_or_many(world, admin):
    def statements(url: str) -> int:
        with counting() as seen:
            assert admin.get(url).status_code == 200
        return len(seen)

    db.session.execute(AuditEvent.__table__.delete())
    db.session.commit()
    _scored(world, 2)
    few = statements("/admin/audit"), statements("/admin/audit/export.xlsx")
    _scored(world, 25)  # 25 more rows, of Score objects: each names an indicator, a sheet, its inspector
    move_sheet(make_sheet(world, VILLAGE), "submitted", world.people["admin"])  # a Sheet object
    many = statements("/admin/audit"), statements("/admin/audit/export.xlsx")
    assert many == few, (few, many)
    assert few[0] <= 8, few  # the session's own, the count, the page's rows, the rounds


# -- the export ----------------------------------------------------------------------------------------------------

def _rows(response):
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.data))["操作日志"].iter_rows(min_row=2, values_only=True))


def test_the_export_has_labels_codes_as_text_widths_and_is_audited(world, admin):
    sheet, indicators = _scored(world, 1)
    village = world.units[VILLAGE]
    response = admin.get("/admin/audit/export.xlsx?action=score")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    ws = book["操作日志"]
    header = [c.value for c in ws[1]]
    assert header == [h for h, _ in audit.EXPORT_COLUMNS]
    [row] = list(ws.iter_rows(min_row=2, values_only=True))
    record = dict(zip(header, row))
    assert record["操作"] == "保存评分"
    assert record["对象"] == f"评分 · {indicators[0].code} {indicators[0].title} · 评估员评分表（{INSPECTOR_NAME}）"
    assert (record["单位"], record["批次"]) == (f"{village.name}（{village.code}）", world.round.name)
    assert record["操作人"] == f"{INSPECTOR_NAME}（inspector）"
    # Named, not numbered (issue 30, point 4): the row's own number only, for a lookup in the log.
    saved = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "score.save")).one()
    assert record["记录号"] == saved.id and not any("Score=" in str(v) for v in row)
    assert "{" not in (record["新值"] or "") and "：" in (record["新值"] or "：")  # labelled values, no JSON
    stamp = datetime.strptime(record["时间(北京时间)"], "%Y-%m-%d %H:%M:%S")
    assert abs(stamp - datetime.now(timezone(timedelta(hours=8))).replace(tzinfo=None)) < timedelta(minutes=5)
    widths = {k: ws.column_dimensions[k].width for k in "ABCDEFGHIJK"}
    assert all(w and w >= 8 for w in widths.values()) and widths["D"] >= 26, widths  # the object column is wide
    assert ws.freeze_panes == "A2"
    notes = dict(book["说明"].iter_rows(min_row=2, values_only=True))
    assert notes["操作（前缀）"] == "score" and notes["导出条数"] == "1" and "未导出条数" not in notes
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.audit")).one()
    assert exported.new == {"filters": {"action": "score"}, "rows": 1, "left_out": 0}
    assert exported.user_id == world.people["admin"].id


def test_the_export_stops_at_the_sheets_last_row_and_says_how_many_were_left_out(world, admin, monkeypatch):
    _scored(world, 5)
    monkeypatch.setattr(audit, "MAX_DATA_ROWS", 3)
    monkeypatch.setattr(audit, "FETCH_ROWS", 2)  # read in batches smaller than the sheet
    options = []
    listener = lambda conn, cursor, statement, params, context, many: options.append(context.execution_options)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = admin.get("/admin/audit/export.xlsx?action=score.save")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    # the log is read from a server-side cursor, a batch at a time (psycopg: a named cursor), never all at once
    assert [o.get("yield_per") for o in options if o.get("stream_results")] == [2]
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book["操作日志"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3  # two rows and the notice: header + 3 = the sheet's (lowered) limit
    assert [r[2] for r in rows[:2]] == ["保存评分", "保存评分"]
    assert "另有3条较早的记录未导出" in rows[2][0] and "缩小筛选范围" in rows[2][0]
    notes = dict(book["说明"].iter_rows(min_row=2, values_only=True))
    assert notes["导出条数"] == "2" and notes["未导出条数"] == "3" and "缩小筛选范围" in notes["未导出原因"]
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.audit")).one()
    assert exported.new["rows"] == 2 and exported.new["left_out"] == 3


def test_rows_that_exactly_fill_the_sheet_need_no_notice(world, admin, monkeypatch):
    _scored(world, 3)
    monkeypatch.setattr(audit, "MAX_DATA_ROWS", 3)
    monkeypatch.setattr(audit, "FETCH_ROWS", 2)
    book = load_workbook(io.BytesIO(admin.get("/admin/audit/export.xlsx?action=score.save").data))
    rows = list(book["操作日志"].iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == ["保存评分"] * 3
    assert "未导出条数" not in dict(book["说明"].iter_rows(min_row=2, values_only=True))


def test_the_export_takes_the_pages_date_filter(world, admin):
    _scored(world, 2)
    old = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "score.save")
                             .order_by(AuditEvent.id)).first()
    old.at = datetime(2030, 6, 30, 16, 30, tzinfo=timezone.utc)  # 2030-07-01 00:30 in Beijing
    db.session.commit()
    rows = _rows(admin.get("/admin/audit/export.xlsx?action=score.save&date_from=2030-07-01&date_to=2030-07-01"))
    assert [r[0] for r in rows] == ["2030-07-01 00:30:00"]
    # 16:30 UTC on 30 June is the next day in Beijing: not in a filter for 30 June
    assert _rows(admin.get("/admin/audit/export.xlsx?action=score.save&date_from=2030-06-30&date_to=2030-06-30")) == []


def test_a_row_without_its_unit_takes_its_sheets(world, admin):
    """evidence.remove is written without unit or round: the join finds them through the photo's sheet."""
    from evalapp.models import EvidenceFile

    sheet, [indicator] = _scored(world, 1)
    photo = EvidenceFile(sheet_id=sheet.id, indicator_id=indicator.id, kind="photo", storage_key="k1",
                         original_name="现场.jpg", sha256="0" * 64, content_type="image/jpeg", size=1)
    db.session.add(photo)
    db.session.flush()
    audit.record("evidence.remove", user=world.people["inspector"], obj=photo, unit_id=None, round_id=None)
    db.session.commit()
    [row] = _rows(admin.get("/admin/audit/export.xlsx?action=evidence"))
    assert row[2:6] == ("删除照片", f"照片或材料 · 现场.jpg · {indicator.code} {indicator.title}",
                        f"{VILLAGE}（{world.units[VILLAGE].code}）", world.round.name)
