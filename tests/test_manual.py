"""帮助 (the 操作手册): a page per role, every menu entry, page title and button it names still in the app, its
pictures on disk, the header's link to the reader's own role, and `make run`'s greeting (issue 29 point 8)."""
import html
import os
import re

import pytest

from evalapp.manual.routes import ROLES
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "evalapp")
HELP_TEMPLATES = os.path.join(ROOT, "templates", "help")
MANUAL_CODE = os.path.join(ROOT, "manual")
UI = re.compile(r'data-ui="([^"]*)"')
SHOT = re.compile(r'data-shot="([^"]*)"')


def app_strings() -> str:
    """The interface's own text: every template, script and Python source of the app but the manual's text (its
    page's frame, 打印 and the role tabs, is interface)."""
    parts = []
    for folder, _dirs, files in os.walk(ROOT):
        if folder.startswith(MANUAL_CODE) or "translations" in folder:
            continue
        for name in files:
            if folder.startswith(HELP_TEMPLATES) and name != "page.html":  # the manual's text, not its frame
                continue
            if name.endswith((".html", ".py", ".js")):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    parts.append(f.read())
    return "\n".join(parts)


def missing_names(names, source: str) -> list[str]:
    """The names that are not a whole string of the app: quoted in a template or source (`_('提交自评表')`,
    `N_("已通过")`), or the whole text of an element (`>自评填报<`)."""
    return [name for name in names
            if not any(f"{q}{name}{e}" in source for q, e in (("'", "'"), ('"', '"'), (">", "<")))]


def rendered(client, role: str) -> str:
    response = client.get(f"/help/{role}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_every_name_the_manual_gives_is_one_the_app_shows(app, auth, client):
    auth.login("village")
    source = app_strings()
    names = {html.unescape(n) for role in ROLES for n in UI.findall(rendered(client, role))}
    assert len(names) > 100  # the marks are there to be checked
    assert missing_names(sorted(names), source) == []


def test_the_check_fails_for_a_name_the_app_does_not_have():
    source = app_strings()
    assert missing_names(["提交自评表", "自评填报", "已通过"], source) == []
    assert missing_names(["一键提交全部自评", "审核"], source + "'一键提交全部自评x'") == ["一键提交全部自评"]
    assert missing_names(["提交自评"], source) == ["提交自评"]  # a part of 提交自评表 is not a name of its own


def test_every_picture_the_manual_shows_is_on_disk(app, auth, client):
    auth.login("admin")
    shots = {s for role in ROLES for s in SHOT.findall(rendered(client, role))}
    assert shots
    missing = [s for s in sorted(shots) if not os.path.exists(os.path.join(ROOT, "static", "manual", f"{s}.png"))]
    assert missing == []


@pytest.mark.parametrize("username, role", [("village", "village"), ("township", "township"),
                                            ("inspector", "inspector"), ("leader", "leader"),
                                            ("district", "district"), ("finance", "finance"), ("admin", "admin")])
def test_help_in_the_header_opens_the_readers_own_role(app, auth, client, username, role):
    auth.login(username)
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert f'href="/help/{role}" data-testid="help"' in home
    assert client.get("/help/").headers["Location"].endswith(f"/help/{role}")
    page = rendered(client, role)
    assert f'data-manual-role="{role}"' in page
    # the other roles' pages are a click away
    assert all(f'href="/help/{other}"' in page for other in ROLES)


def test_every_role_has_each_phase_it_works_in(app, auth, client):
    auth.login("district")
    phases = {role: set(re.findall(r'data-phase="([a-z_]+)"', rendered(client, role))) for role in ROLES}
    assert all("start" in p for p in phases.values())
    assert {"self_assessment", "inspection", "published"} <= phases["village"]
    assert {"self_assessment", "inspection", "published"} <= phases["township"]
    assert {"inspection", "reconcile", "review", "unlock"} <= phases["inspector"]
    assert {"inspection", "reconcile", "review", "unlock"} <= phases["leader"]
    assert {"self_assessment", "review", "published", "unlock"} <= phases["district"]
    assert {"inspection", "finance", "unlock"} <= phases["finance"]
    assert {"setup", "self_assessment", "inspection", "unlock"} <= phases["admin"]


def test_the_whole_manual_prints_a_role_a_page(app, auth, client):
    auth.login("finance")
    page = client.get("/help/all").get_data(as_text=True)
    assert re.findall(r'data-manual-role="([a-z]+)"', page) == list(ROLES)
    assert 'data-action="print"' in page and "css/help.css" in page
    with open(os.path.join(ROOT, "static", "css", "help.css"), encoding="utf-8") as f:
        css = f.read()
    assert "size: A4" in css and "break-before: page" in css


def test_an_unknown_role_has_no_page(app, auth, client):
    auth.login("village")
    assert client.get("/help/nobody").status_code == 404


def test_the_english_manual_names_the_english_buttons_beside_the_chinese(app, auth, client):
    auth.login("village")
    client.post("/lang", data={"lang": "en"})
    page = rendered(client, "village")
    assert "【提交自评表】" in page
    assert re.search(r'<span class="ui-en" lang="en">（[A-Za-z]', page)
    assert 'lang="zh-CN" translate="no" class="manual-body"' in page


def test_make_run_prints_the_address_and_the_demo_accounts_before_serving(app, runner):
    out = runner.invoke(args=["welcome", "--url", "http://127.0.0.1:8000"]).output
    assert "http://127.0.0.1:8000" in out
    assert "初始密码均为 demo-pass-2021" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert list(lines)[:7] == ["admin", "district", "leader", "inspector", "township", "village", "finance"]
    assert "工作组组长" in lines["leader"] and "工作组成员" in lines["inspector"] and "陆城村协理员" in lines["village"]
    assert "帮助" in out
    with open(os.path.join(os.path.dirname(ROOT), "Makefile"), encoding="utf-8") as f:
        run = f.read().split("\nrun:")[1].split("\n\n")[0]
    assert run.index("welcome --url http://127.0.0.1:$(PORT)") < run.index("gunicorn")


def test_welcome_lists_no_accounts_on_a_database_without_the_demo(empty_app):
    out = empty_app.test_cli_runner().invoke(args=["welcome"]).output
    assert "http://127.0.0.1:5000" in out and "演示账号" not in out
