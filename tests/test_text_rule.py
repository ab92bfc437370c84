"""Issue 28, point 6: the text rule itself (domain.text), file names in download headers, NUL where a name is looked
up, and numbers in a signature that no float holds. The rule on every entry: tests/test_text_entries.py."""
import io
import json
import pathlib
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from evalapp.domain.signatures import SignatureProblem, normalise
from evalapp.domain.text import bad_character, download_name, text_problem
from evalapp.extensions import db
from evalapp.models import Round, Signature, Team
from tests.factories import VILLAGE, make_round, make_sheet
from tests.test_text_entries import BAD, _reconciled, _zigzag


@pytest.fixture
def app(empty_app):
    return empty_app


# -- the rule ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD + ["\ud800", "\ufffe", "\U0010ffff", "\ufdd0"])
def test_the_rule_refuses_controls_bidi_controls_and_invalid_characters_in_lines_and_boxes(bad):
    for multiline in (False, True):
        assert bad_character(f"台账{bad}缺失", multiline=multiline)[:2] == (3, bad)
        problem = text_problem(f"台账{bad}缺失", multiline=multiline)
        assert problem is not None and problem.startswith("第3个字符是")


@pytest.mark.parametrize("text", ["荷塘村", "全角　空格", "👩\u200d👩\u200d👧 家庭", "soft\u00adhyphen", "Zoë O'Brien",
                                  "مرحبا", "עברית", "ꡀ\U00020000"])
def test_the_rule_keeps_what_people_type(text):
    assert text_problem(text) is None and text_problem(text, multiline=True) is None


@pytest.mark.parametrize("brk", ["\n", "\r", "\t", "\u2028", "\u2029"])
def test_a_line_break_or_tab_is_for_boxes_only(brk):
    assert text_problem(f"第一行{brk}第二行", multiline=True) is None
    problem = text_problem(f"第一行{brk}第二行")
    assert problem is not None and "只能填写一行" in problem and f"U+{ord(brk):04X}" in problem


def test_the_message_says_where_and_what():
    assert text_problem("ab\x07c", multiline=True) == "第3个字符是无法保存的控制字符（U+0007），请删除后再保存"
    assert text_problem("王丽\u202e明小") == "第3个字符是改变文字方向的控制字符（U+202E），请删除后再保存"


@pytest.mark.parametrize("name, expected", [
    ("云溪区_2021年度\x00测试_评估结果_草稿.xlsx", "云溪区_2021年度测试_评估结果_草稿.xlsx"),
    ("材料\u202efdp.hta", "材料fdp.hta"),
    ("a\r\nb\tc.xlsx", "a b c.xlsx"),
    ("../../etc/passwd", "etc passwd"),
    ("\x00\u200e\u202e", "download"),
    ("名" * 300 + ".xlsx", "名" * 115 + ".xlsx"),
    (None, "download"),
])
def test_a_download_name_is_one_any_header_and_file_system_takes(name, expected):
    assert download_name(name) == expected


def test_every_view_that_sends_a_file_names_it_through_the_one_helper():
    """evalapp.sending.send_download makes the name safe: a send_file elsewhere would bring the 500 back."""
    root = pathlib.Path(__file__).resolve().parent.parent / "evalapp"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "sending.py" and re.search(r"\bsend_file\b", p.read_text(encoding="utf-8"))]
    assert offenders == []


# -- the NUL round name ------------------------------------------------------------------------------------------


def test_a_nul_in_a_round_or_team_name_is_a_field_message_and_nothing_is_stored(login_as):
    """Was a 500 on PostgreSQL (the name met the database first) and stored on SQLite."""
    world = make_round("inspection")
    admin = login_as("admin")
    response = admin.post("/admin/rounds", data={
        "name": "2032年度\x00验收", "rollout": "pilot", "threshold": "95", "tolerance": "1",
        "township_catalogue_id": world.round.township_catalogue_id,
        "village_catalogue_id": world.round.village_catalogue_id})
    assert response.status_code == 422
    assert "批次名称第7个字符是无法保存的控制字符（U+0000）" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Round)) == 1
    team = admin.post(f"/admin/rounds/{world.round.id}/teams", data={"name": "第三\x00组", "leader": "inspector2"})
    assert team.status_code == 422 and "工作组名称第3个字符" in team.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Team)) == 2


def _stored_names():
    names = ["2031年度\n测试\u202e验收\x07"]  # a line break, a bidi override, a BEL: PostgreSQL stores these
    if db.engine.dialect.name == "sqlite":
        names.append("2031年度\x00测试")  # (PostgreSQL stores no NUL at all)
    return names


def test_a_round_named_before_the_rule_still_downloads_both_workbooks(login_as):
    """A round whose name holds what the rule now refuses (stored before it): both workbook downloads answered 500
    (an invalid Content-Disposition header); they download, under a name with those characters left out."""
    world = make_round("inspection")
    district, finance = login_as("district"), login_as("finance")
    for name in _stored_names():
        db.session.execute(update(Round).where(Round.id == world.round.id).values(name=name))
        db.session.commit()
        for client, url in ((district, f"/results/rounds/{world.round.id}/workbook.xlsx"),
                            (finance, f"/finance/rounds/{world.round.id}/eligibility.xlsx")):
            response = client.get(url)
            assert response.status_code == 200, (repr(name), url)
            header = response.headers["Content-Disposition"]
            assert header.isprintable() and header.isascii()
            assert "%E6%B5%8B%E8%AF%95" in header  # 测试, kept (UTF-8, percent-encoded)
            load_workbook(io.BytesIO(response.data))  # (a workbook)


# -- names looked up, not stored ---------------------------------------------------------------------------------


def test_a_nul_in_a_name_that_is_looked_up_finds_nothing_instead_of_a_500(login_as):
    """PostgreSQL refuses a NUL in a query's parameters with an error: a member's username, a user search, a scope
    unit code and an indicator code to comment on are looked up before anything is stored."""
    world = make_round("self_assessment")
    admin, township = login_as("admin"), login_as("township")
    team = db.session.scalar(select(Team).where(Team.round_id == world.round.id).order_by(Team.id))
    member = admin.post(f"/admin/rounds/{world.round.id}/teams/{team.id}/members", data={"username": "insp\x00ector"})
    assert member.status_code == 422
    assert admin.get("/admin/users?q=%00").status_code == 200
    assert admin.get("/admin/users?unit_code=%00").status_code == 200
    village = world.people["village"]
    scope = admin.post(f"/admin/users/{village.id}", data={"display_name": "协理员", "role": "village",
                                                          "unit_code": "43\x00"})
    assert scope.status_code == 422
    own = make_sheet(world, VILLAGE, "self")
    from evalapp.services import moves
    moves.move_sheet(own, "submitted", village)
    comment = township.post(f"/selfassess/sheets/{own.id}/comment", data={"code": "A\x001", "comment": "请补充"})
    assert comment.status_code == 422


# -- a signature's numbers ---------------------------------------------------------------------------------------


HUGE = 10 ** 400  # JSON has no bound on an integer; float() of this one is an OverflowError


@pytest.mark.parametrize("where", ["x", "y", "t"])
def test_a_coordinate_no_float_holds_is_a_malformed_drawing(where):
    strokes = _zigzag()
    strokes[0][3][{"x": 0, "y": 1, "t": 2}[where]] = HUGE
    with pytest.raises(SignatureProblem) as found:
        normalise(strokes, 600, 240)
    assert found.value.code == "malformed"
    with pytest.raises(SignatureProblem):
        normalise(_zigzag(), HUGE, 240)


def test_a_400_digit_coordinate_is_refused_with_a_field_message_by_the_form_and_the_api(login_as):
    """Was a 500 (OverflowError) on both faces."""
    _, final, leader = _reconciled(login_as)
    strokes = _zigzag()
    strokes[0][5][0] = HUGE
    page = leader.post(f"/inspection/sheets/{final.id}/signatures", data={
        "slot": "leader", "strokes": json.dumps(strokes), "width": "600", "height": "240"})
    assert page.status_code == 422 and "签名数据无效" in page.get_data(as_text=True)
    body = leader.post(f"/api/v1/sheets/{final.id}/signatures", json={
        "slot": "leader", "strokes": strokes, "width": 600, "height": 240})
    assert body.status_code == 422 and "签名数据无效" in body.get_json()["fields"]["strokes"]
    wide = leader.post(f"/api/v1/sheets/{final.id}/signatures", json={
        "slot": "leader", "strokes": _zigzag(), "width": HUGE, "height": 240})
    assert wide.status_code == 422 and "strokes" in wide.get_json()["fields"]
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0


def test_the_field_message_is_in_the_sessions_language(login_as):
    """The domain's message and the field's label are both translated (English catalogue)."""
    world = make_round("inspection")
    admin, inspector = login_as("admin"), login_as("inspector")
    for client in (admin, inspector):
        assert client.post("/lang", data={"lang": "en", "next": "/"}).status_code in (302, 303)
    page = admin.post("/admin/rounds", data={
        "name": "2032\x07", "rollout": "pilot", "threshold": "95", "tolerance": "1",
        "township_catalogue_id": world.round.township_catalogue_id,
        "village_catalogue_id": world.round.village_catalogue_id}).get_data(as_text=True)
    assert ("Round name: character 5 is a control character that cannot be saved (U+0007): delete it and save "
            "again") in page
    sheet = make_sheet(world, VILLAGE, inspector="inspector")
    body = inspector.put(f"/api/v1/sheets/{sheet.id}/scores/A1", json={"score": "1", "reason": "台账\u202e缺失",
                                                                        "version": 0}).get_json()
    assert body["fields"]["reason"] == ("Reason: character 3 is a text-direction control (U+202E): delete it and "
                                        "save again")
