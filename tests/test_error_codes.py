"""Service errors carry a stable code and a message marked for translation: the API answers with both, pages flash
the message in the session's language (Chinese by default), parameters are data and escaped where shown."""
import ast
import os
import re

import pytest

from evalapp.extensions import db
from evalapp.services.errors import CODE, Conflict, Invalid, ServiceError, _l
from tests.factories import app_of_world, make_sheet, user, VILLAGE, world  # noqa: F401 (fixtures)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def english(client):
    assert client.post("/lang", data={"lang": "en", "next": "/"}).status_code in (302, 303)
    return client


def put(client, sheet, code, **body):
    return client.put(f"/api/v1/sheets/{sheet.id}/scores/{code}", json=body)


def test_an_api_conflict_answers_with_its_code_and_an_english_message_in_an_english_session(app, world, login_as):
    sheet = make_sheet(world, VILLAGE)
    chinese, in_english = login_as("inspector"), english(login_as("inspector"))
    assert put(chinese, sheet, "A1", deductions=[], version=0).status_code == 200
    stale = put(in_english, sheet, "A1", deductions=[{"code": "A1-1", "count": 1}], version=0)
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["code"] == "score.conflict" and body["current"]["version"] == 1
    assert body["error"] == "Someone else changed this indicator; choose which value to keep"
    again = put(chinese, sheet, "A1", deductions=[{"code": "A1-1", "count": 1}], version=0).get_json()
    assert again["code"] == "score.conflict" and again["error"] == "该指标已被他人修改，请选择保留哪个分值"


def test_an_api_refusal_with_parameters_translates_around_them(app, world, login_as):
    sheet = make_sheet(world, VILLAGE)
    response = english(login_as("inspector")).post(f"/api/v1/sheets/{sheet.id}/submit")
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "sheet.unscored" and set(body) >= {"error", "code", "fields"}
    assert re.match(r"\d+ indicators not scored yet: A1、A2", body["error"]) and "未评分" not in body["error"]
    assert body["fields"]["unscored"].startswith("A1、A2")  # a list of codes is data


def test_request_level_api_errors_have_a_code_too(app, client):
    response = client.get("/api/v1/rounds")
    assert response.status_code == 401 and response.get_json()["code"] == "auth.required"


def test_the_openapi_error_schema_has_the_code(client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Error"]
    assert "code" in schema["required"] and "code" in schema["properties"]


def _add_team(client, world, name, leader="inspector2"):
    return client.post(f"/admin/rounds/{world.round.id}/teams", data={"name": name, "leader": leader})


def test_a_refused_page_action_flashes_english_in_an_english_session_and_chinese_by_default(app, world, login_as):
    chinese = _add_team(login_as("admin"), world, "第一工作组")
    assert chinese.status_code == 422
    assert "工作组“第一工作组”已存在" in chinese.get_data(as_text=True)
    page = _add_team(english(login_as("admin")), world, "第一工作组").get_data(as_text=True)
    assert "Team “第一工作组” already exists" in page and "已存在" not in page


def test_a_parameter_is_escaped_where_the_message_is_shown(app, world, login_as):
    user("spare", "inspector")
    admin = login_as("admin")
    assert _add_team(admin, world, "<b>组</b>", leader="spare").status_code in (302, 303)
    page = _add_team(admin, world, "<b>组</b>", leader="spare").get_data(as_text=True)
    assert "工作组“&lt;b&gt;组&lt;/b&gt;”已存在" in page and "<b>组</b>" not in page


def test_a_published_round_refuses_with_a_code_and_names_as_data(app, world):
    from evalapp.services import rounds

    world.round.status = "published"
    db.session.commit()  # (the refusal reads the round again under its lock)
    with pytest.raises(Conflict) as refused:
        rounds.refuse_if_published(world.round, _l("工作组"))
    assert refused.value.code == "round.setup_frozen"
    assert refused.value.message.startswith("该批次已公布，工作组已冻结")  # outside a request: Chinese


def test_a_service_error_needs_a_dotted_code_and_a_marked_message():
    with pytest.raises(TypeError):
        Invalid("sheet", _l("尚有%(count)s项指标未评分：%(codes)s", count=1, codes="A1"))
    with pytest.raises(TypeError):
        Invalid("sheet.unscored", "尚有1项指标未评分")  # an f-string or plain text is not marked
    error = Invalid("sheet.unscored", _l("尚有%(count)s项指标未评分：%(codes)s", count=2, codes="A1、A2"),
                    {"unscored": "A1、A2"})
    assert error.code == "sheet.unscored" and error.message == "尚有2项指标未评分：A1、A2"
    assert error.fields == {"unscored": "A1、A2"} and error.text.zh == error.message


ERRORS = {"ServiceError", "NotAllowed", "NotFound", "Conflict", "Invalid", "NeedsConfirmation", "_refuse"}


def _unmarked_raises():
    """(file, line, why) of every ServiceError raised in evalapp/ without a literal dotted code and a marked message."""
    found = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "evalapp")):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, ROOT)
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERRORS):
                    continue
                if rel == "evalapp/services/errors.py" or (node.func.id == "_refuse" and not node.args):
                    continue
                args = node.args
                forwarded = isinstance(args[0], ast.Name) and args[0].id == "code" if args else False  # a helper's
                if not args or not (forwarded or isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)
                                    and CODE.fullmatch(args[0].value)):
                    found.append((rel, node.lineno, "no dotted code"))
                elif len(args) < 2 or isinstance(args[1], (ast.Constant, ast.JoinedStr, ast.BinOp)):
                    found.append((rel, node.lineno, "message not marked (_l)"))
    return found


def test_every_service_error_raised_has_a_code_and_a_marked_message():
    found = _unmarked_raises()
    assert found == []
    assert ServiceError.__init__.__code__.co_varnames[1] == "code"


def test_errors_no_view_answered_keep_the_api_shape_in_the_session_language(client):
    """404 for an unknown path or id, 405 with its Allow header: {"error", "code", "fields"}, translated."""
    missing = client.get("/api/v1/nope")
    assert missing.status_code == 404 and missing.get_json() == {"error": "页面不存在", "code": "not_found", "fields": {}}
    wrong = client.delete("/api/v1/csrf")
    assert wrong.status_code == 405 and wrong.get_json()["code"] == "method.not_allowed"
    assert "GET" in wrong.headers["Allow"]
    assert client.post("/lang", data={"lang": "en", "next": "/"}).status_code in (302, 303)
    assert client.get("/api/v1/sheets/99999999999").get_json()["error"] == "Page not found"
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)
