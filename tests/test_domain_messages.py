"""The domain's own words (a rule's problems, a weak password's reasons, a bad number, a control character) are
messages marked for translation (`domain.messages.M_`): an English session reads them in English on pages, in flash
messages and in the API's `error` and `fields`; a Chinese session reads the Chinese as before; stored texts stay
Chinese."""
import copy
import html
import io
import pickle

import pytest
import yaml
from openpyxl import Workbook

from evalapp.domain import catalogue, units
from evalapp.domain.messages import M_, Joined, Msg
from evalapp.domain.numbers import parse_points
from evalapp.services.errors import Invalid, Shown, Text, _l, shown
from tests.factories import app_of_world, make_sheet, world  # noqa: F401 (fixtures)

DEFAULT = __import__("pathlib").Path(__file__).parent.parent / "evalapp" / "data" / "indicators-2021.yaml"


def _english(client):
    assert client.post("/lang", data={"lang": "en", "next": "/"}).status_code in (302, 303)
    return client


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["编码", "名称", "类型", "上级编码"])
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _import(client, rows):
    return client.post("/admin/units/import", data={"file": (io.BytesIO(_xlsx(rows)), "units.xlsx")},
                       content_type="multipart/form-data")


# --- the message type -------------------------------------------------------------------------------------------

def test_a_domain_message_is_its_chinese_text_and_keeps_its_msgid_and_parameters():
    problem = units.row_problem(3, M_("上级编码“%(code)s”不存在", code="430699999"))
    assert problem == "第3行：上级编码“430699999”不存在" and isinstance(problem, str)
    assert problem.msgid == "第%(row)s行：%(problem)s" and problem.params["problem"].params == {"code": "430699999"}
    for copied in (copy.deepcopy(problem), pickle.loads(pickle.dumps(problem))):
        assert copied == problem and copied.msgid == problem.msgid and copied.params == problem.params
    listed = Joined([M_("缺少名称"), M_("缺少上级编码")])
    assert listed == "缺少名称；缺少上级编码" and pickle.loads(pickle.dumps(listed)).items == listed.items
    with pytest.raises(ValueError) as exc:
        parse_points("abc")
    assert str(exc.value) == "请输入数字，最多两位小数" and exc.value.args[0].msgid == "请输入数字，最多两位小数"


def test_services_render_domain_messages_in_the_requests_language(app):
    problem = units.row_problem(2, M_("类型“%(kind)s”无效，应为 区/镇/街道/村/社区/村民小组", kind="乡"))
    with app.test_request_context():
        from flask import session
        from flask_babel import refresh

        session["lang"] = "en"
        refresh()
        text = shown(problem)
        assert str(text).startswith("Row 2: The type “乡” is invalid")
        assert text.zh == "第2行：类型“乡”无效，应为 区/镇/街道/村/社区/村民小组"  # stored texts: Chinese
        nested = _l("导入失败，未写入任何数据：%(problems)s", problems=problem)  # a Msg as a parameter
        assert str(nested) == "Import refused, nothing was written: " + str(text)
        error = Invalid("unit.invalid", problem, {"unit": problem})  # a Msg as the message and as a field
        assert error.message == str(text) and error.fields == {"unit": str(text)}
        listed = Shown(problem)
        assert listed == text.zh and listed.__html__() == str(text)  # the CLI joins the Chinese; a page: English
        assert str(shown("荷塘村")) == "荷塘村"  # a plain string is data, shown as it is
        refresh()
    with app.test_request_context():
        from flask_babel import refresh

        refresh()
        assert str(shown(problem)) == problem


def test_a_catalogue_with_a_non_list_of_methods_is_refused_not_a_500():
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    one = data["catalogues"][0] if isinstance(data, dict) else data[0]
    one = copy.deepcopy(one)
    indicator = one["categories"][0]["indicators"][0]
    indicator["methods"] = True
    with pytest.raises(catalogue.CatalogueInvalid) as exc:
        catalogue.validate_catalogue(one)
    assert exc.value.problems == [f"二级指标 {indicator['code']}：“methods”应为列表"]


# --- where they are shown ---------------------------------------------------------------------------------------

BAD_ROWS = [["430699001096", "好村", "村", "430699001"], ["430699001097", "坏类型", "乡", "430699001"],
            ["430699001098", "无上级", "村", "430699999"]]


def test_a_units_import_lists_its_row_problems_in_the_sessions_language(login_as):
    chinese = _page(_import(login_as("admin"), BAD_ROWS))
    assert "第3行：类型“乡”无效，应为 区/镇/街道/村/社区/村民小组" in chinese
    assert "第4行：上级编码“430699999”不存在" in chinese
    english = _english(login_as("admin"))
    response = _import(english, BAD_ROWS)
    assert response.status_code == 422
    page = _page(response)
    assert "Row 3: The type “乡” is invalid" in page and "Row 4: The parent code “430699999” does not exist" in page
    assert "第3行" not in page and "不存在" not in page
    empty = english.post("/admin/units/import", data={"file": (io.BytesIO(b""), "units.xlsx")},
                         content_type="multipart/form-data")
    assert "The file is empty" in _page(empty) and "文件为空" not in _page(empty)


def test_the_cli_still_reads_an_imports_problems_in_chinese(app, tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_xlsx(BAD_ROWS))
    result = app.test_cli_runner().invoke(args=["import-units", str(bad)])
    assert result.exit_code != 0 and "第3行：类型“乡”无效" in result.output


WEAK = {"username": "wang5", "display_name": "王五", "role": "inspector", "unit_code": "", "password": "short"}


def test_a_weak_password_on_the_admins_user_form_says_why_in_the_sessions_language(login_as):
    chinese = _page(login_as("admin").post("/admin/users", data=WEAK))
    assert "密码至少10个字符" in chinese
    english = _english(login_as("admin"))
    response = english.post("/admin/users", data=WEAK)
    assert response.status_code == 422
    page = _page(response)
    assert "The password must have at least 10 characters" in page and "密码至少" not in page
    guessable = _page(english.post("/admin/users", data={**WEAK, "password": "asdfghjkl;12"}))
    assert ("This password is easy to guess: it contains keys next to each other on the keyboard (such as qwerty, "
            "1qaz2wsx), it contains runs of letters or digits (such as abcdef, 123456). Choose a longer") in guessable


def test_a_control_character_in_a_unit_name_is_refused_in_the_sessions_language(login_as):
    form = {"code": "430699001097", "name": "坏\x01名", "kind": "村", "parent_code": "430699001"}
    chinese = login_as("admin").post("/admin/units", data=form)
    assert chinese.status_code == 422 and "名称第2个字符是无法保存的控制字符（U+0001），请删除后再保存" in _page(chinese)
    english = _english(login_as("admin")).post("/admin/units", data=form)
    assert english.status_code == 422
    assert "Name: character 2 is a control character that cannot be saved (U+0001): delete it and save again" \
        in _page(english)
    assert "控制字符" not in _page(english)


@pytest.mark.parametrize("body, field, zh, en", [
    ({"score": "abc", "version": 0}, "score", "请输入数字，最多两位小数", "Enter a number with at most two decimals"),
    ({"score": "-1", "version": 0}, "score", "分值不能为负数", "Points cannot be negative"),
    ({"score": "99", "version": 0}, "score", "得分须在0到", "The score must be between 0 and"),
    ({"deductions": [{"code": "A1-9", "count": 1}], "version": 0}, "deductions", "未知的扣分项：A1-9",
     "Unknown deduction: A1-9"),
])
def test_a_bad_score_in_the_api_is_explained_in_the_sessions_language(world, login_as, body, field, zh, en):
    url = f"/api/v1/sheets/{make_sheet(world, '荷塘村').id}/scores/A1"
    chinese = login_as("inspector").put(url, json=body)
    assert chinese.status_code == 422 and zh in chinese.get_json()["fields"][field]
    english = _english(login_as("inspector")).put(url, json=body)
    assert english.status_code == 422, english.get_json()
    answer = english.get_json()
    assert en in answer["fields"][field] and zh not in answer["fields"][field]
    assert answer["code"] == "score.invalid" and answer["error"] == "Some input is invalid; please check"


def test_an_imports_problems_given_as_a_text_or_as_a_msg_render_alike(app):
    """ImportProblems takes the services' marked texts and the domain's messages alike."""
    from evalapp.services.imports import ImportProblems

    error = ImportProblems([_l("文件为空"), M_("缺少名称"), "原样"])
    assert list(error.problems) == ["文件为空", "缺少名称", "原样"]
    assert all(isinstance(p, Shown) and isinstance(p.text, Text) for p in error.problems)
    assert error.message == "导入失败，未写入任何数据：文件为空；缺少名称；原样"
    assert isinstance(Msg("x"), str)


def test_a_bad_final_score_and_a_bad_threshold_are_explained_in_the_sessions_language(world, login_as):
    """The reconcile form's bad number and the round settings' bad threshold (services.reconcile, services.rounds)."""
    final = make_sheet(world, "荷塘村", "final")
    url = f"/inspection/sheets/{final.id}/reconcile/score"
    data = {"code": "A1", "score": "abc", "reason": "", "version": "0"}
    chinese = _page(login_as("leader").post(url, data=data))
    english = _page(_english(login_as("leader")).post(url, data=data))
    assert "请输入数字，最多两位小数" in chinese
    assert "Enter a number with at most two decimals" in english and "请输入数字" not in english
    from flask import current_app, session

    from evalapp.services import rounds

    with current_app.test_request_context():
        session["lang"] = "en"
        with pytest.raises(Invalid) as found:
            rounds._parse_settings({"threshold": "abc", "tolerance": "1"})
        assert found.value.fields["threshold"] == "Pass mark: Enter a number with at most two decimals"
    assert found.value.field_texts["threshold"].zh == "合格线：请输入数字，最多两位小数"  # the stored text
