"""People picked from lists, users imported from a spreadsheet, and their one-time set-up codes (issue 29, point 6).

The team page lists the people a team can take (active inspector accounts in no team of the round: name, username,
unit) and the users page a unit picker, both as plain selects; what they offer is what the services accept. An
import creates every user of a file or none, every problem named by its row and column; no password is in the file:
each new user gets a one-time code (a keyed hash at rest, spent once, expiring) with which they set their own.
"""
import io
import re
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from evalapp.domain import setup_codes as code_rules
from evalapp.extensions import db
from evalapp.models import AuditEvent, SetupCode, TeamMember, User
from evalapp.models.base import utcnow
from evalapp.services import setup_codes, user_import
from evalapp.services.errors import Invalid
from evalapp.services.imports import ImportProblems
from tests.conftest import AuthActions
from tests.factories import app_of_world, user, world  # noqa: F401 (fixtures)

HEADERS = ("用户名", "姓名", "角色", "所属单位代码")
GOOD = [("wang.fang", "王芳", "工作组成员", ""), ("li.ming", "李明", "镇(街道)负责人", "430699001"),
        ("zhao.li", "赵丽", "村(社区)协理员", "430699001001")]
STRONG = "Qv7-lantern-Orchid-58"


def xlsx(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, data: bytes, url="/admin/users/import"):
    return client.post(url, data={"file": (io.BytesIO(data), "users.xlsx")}, content_type="multipart/form-data")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def codes_on(html: str) -> dict[str, str]:
    """username → code, as the printable list shows them."""
    return dict(re.findall(r'<tr data-user="([^"]+)">.*?data-code="([^"]+)"', html, re.S))


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def admin_user(world):
    return world.people["admin"]


# -- the import, as a service -----------------------------------------------------------------------------------

def test_an_import_creates_every_user_with_a_code_and_audits_each_and_the_import(app, admin_user):
    issued = user_import.import_users(xlsx(GOOD), admin_user, address="10.0.0.1")
    assert [(i.user.username, i.user.display_name, i.user.role, i.user.unit.code if i.user.unit else "")
            for i in issued] == [("wang.fang", "王芳", "inspector", ""), ("li.ming", "李明", "township", "430699001"),
                                 ("zhao.li", "赵丽", "village", "430699001001")]
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", i.code) for i in issued)
    assert len({i.code for i in issued}) == 3
    created = events("user.create")
    assert [e.new["username"] for e in created] == ["wang.fang", "li.ming", "zhao.li"]
    assert all(e.new["import"] and e.user_id == admin_user.id and e.ip == "10.0.0.1" for e in created)
    (summary,) = events("users.import")
    assert summary.new["created"] == 3 and summary.new["rows"] == 3
    # no password at all until the code is used: none matches, and the page says the user is waiting
    new = db.session.scalar(select(User).where(User.username == "wang.fang"))
    assert new.awaiting_setup and not new.must_change_password
    assert AuthActions(app.test_client()).login("wang.fang", new.password_hash).status_code == 401


def test_an_import_with_one_bad_row_among_many_writes_nothing(app, admin_user):
    users, codes, audit = count(User), count(SetupCode), count(AuditEvent)
    rows = [(f"user{n:03d}", f"用户{n}", "工作组成员", "") for n in range(40)] + [("bad name", "坏", "工作组成员", "")]
    with pytest.raises(ImportProblems) as refused:
        user_import.import_users(xlsx(rows), admin_user)
    assert refused.value.problems[0] == "第42行A列（用户名）：用户名“bad name”无效：须为3到64位小写字母、数字或 _ . -"
    assert (count(User), count(SetupCode), count(AuditEvent)) == (users, codes, audit)


def test_an_import_reads_the_database_the_same_number_of_times_for_any_number_of_rows(app, admin_user):
    from tests.statements import counting

    def selects(rows) -> int:
        with counting() as statements:
            user_import.import_users(xlsx(rows), admin_user)
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    few = selects([(f"few{n:03d}", f"用户{n}", "村(社区)协理员", "430699001001") for n in range(3)])
    many = selects([(f"many{n:03d}", f"用户{n}", "村(社区)协理员", "430699001001") for n in range(120)])
    assert few == many
    assert count(User, User.username.like("many%")) == 120 and len(events("user.create")) == 123


def test_every_problem_is_listed_by_row_and_column(app, admin_user):
    rows = [
        ("zhang", "张三", "工作组成员", ""),  # row 2: fine
        ("Zhang", "张三丰", "工作组成员", ""),  # 3: the same username once folded
        ("admin", "管理员", "系统管理员", ""),  # 4: exists already
        ("ab", "", "组员", ""),  # 5: too short, no name, unknown role
        ("sun", "孙", "镇(街道)负责人", ""),  # 6: a role that needs a unit, without one
        ("zhou", "周", "村(社区)协理员", "430699999999"),  # 7: unknown unit
        ("wu.qi", "吴", "村(社区)协理员", "430699001"),  # 8: a township's code for a village clerk
        ("zheng", "郑", "工作组成员", "430699001"),  # 9: a unit for a role that has none
    ]
    with pytest.raises(ImportProblems) as refused:
        user_import.import_users(xlsx(rows), admin_user)
    assert list(refused.value.problems) == [
        "第3行A列（用户名）：用户名“zhang”与第2行重复",
        "第4行A列（用户名）：用户名“admin”已存在",
        "第5行A列（用户名）：用户名“ab”无效：须为3到64位小写字母、数字或 _ . -",
        "第5行B列（姓名）：缺少姓名",
        "第5行C列（角色）：角色“组员”无效，应为：系统管理员、区级审核、工作组成员、镇(街道)负责人、村(社区)协理员、区财政局",
        "第6行D列（所属单位代码）：角色“镇(街道)负责人”须填写所属镇(街道)的代码",
        "第7行D列（所属单位代码）：单位代码“430699999999”不存在",
        "第8行D列（所属单位代码）：单位“430699001”不是村(社区)，角色“村(社区)协理员”须填写所属村(社区)的代码",
        "第9行D列（所属单位代码）：角色“工作组成员”不属于某个单位，请留空",
    ]
    assert count(User, User.username.in_(["zhang", "sun", "zhou", "wu.qi", "zheng"])) == 0


def test_columns_are_named_as_the_file_has_them_and_roles_may_be_given_by_value(app, admin_user):
    headers = ("姓名", "所属单位代码", "备注", "角色", "用户名")
    with pytest.raises(ImportProblems) as refused:
        user_import.import_users(xlsx([("钱", "", "", "nobody", "qian")], headers), admin_user)
    assert list(refused.value.problems) == [
        "第2行D列（角色）：角色“nobody”无效，应为：系统管理员、区级审核、工作组成员、镇(街道)负责人、村(社区)协理员、区财政局"]
    issued = user_import.import_users(xlsx([("钱", "", "", "Inspector", "Qian")], headers), admin_user)
    assert [(i.user.username, i.user.role) for i in issued] == [("qian", "inspector")]


def test_a_missing_column_refuses_the_file(app, admin_user):
    with pytest.raises(ImportProblems) as refused:
        user_import.import_users(xlsx([("wang.fang", "王芳", "工作组成员")], HEADERS[:3]), admin_user)
    assert refused.value.problems[0].startswith("第1行缺少表头：所属单位代码")


# -- set-up codes ------------------------------------------------------------------------------------------------

def _one(admin_user, username="wang.fang", row=("王芳", "工作组成员", "")):
    (issued,) = user_import.import_users(xlsx([(username, *row)]), admin_user)
    return issued


def test_a_code_is_stored_only_as_a_keyed_hash(app, admin_user):
    issued = _one(admin_user)
    row = db.session.scalar(select(SetupCode).where(SetupCode.user_id == issued.user.id))
    assert row.code_hash == code_rules.code_hash(b"test-secret", issued.code) != issued.code
    plain = code_rules.normalise(issued.code)
    stored = db.session.execute(select(SetupCode.__table__)).all() + db.session.execute(select(User.__table__)).all()
    assert not [r for r in stored if any(plain in str(v) or issued.code in str(v) for v in r)]
    assert row.expires_at == issued.expires_at and row.created_by_id == admin_user.id


def test_a_code_sets_the_password_once(app, admin_user):
    issued = _one(admin_user)
    typed = issued.code.lower().replace("-", " ")  # as someone might type it
    setup_codes.redeem("Wang.Fang", typed, STRONG, STRONG, address="10.0.0.2")
    assert AuthActions(app.test_client()).login("wang.fang", STRONG).status_code == 302
    (done,) = events("user.setup")
    assert done.user_id == issued.user.id and done.ip == "10.0.0.2"
    with pytest.raises(setup_codes.WrongCode) as again:
        setup_codes.redeem("wang.fang", issued.code, "Another-lantern-Pine-77", "Another-lantern-Pine-77")
    assert again.value.code == "setup.code_used"
    assert AuthActions(app.test_client()).login("wang.fang", STRONG).status_code == 302  # unchanged


def test_a_code_expires(app, admin_user, monkeypatch):
    issued = _one(admin_user)
    assert issued.expires_at - utcnow() == pytest.approx(timedelta(days=7), abs=timedelta(minutes=1))
    monkeypatch.setattr(setup_codes, "_now", lambda: issued.expires_at)
    with pytest.raises(setup_codes.WrongCode) as late:
        setup_codes.redeem("wang.fang", issued.code, STRONG, STRONG)
    assert late.value.code == "setup.code_expired"
    monkeypatch.setattr(setup_codes, "_now", lambda: issued.expires_at - timedelta(seconds=1))
    setup_codes.redeem("wang.fang", issued.code, STRONG, STRONG)
    assert not db.session.get(User, issued.user.id).awaiting_setup


def test_a_wrong_code_or_another_users_code_is_refused_alike(app, admin_user):
    mine = _one(admin_user)
    theirs = _one(admin_user, "li.si", ("李四", "工作组成员", ""))
    for username, code in (("wang.fang", theirs.code), ("wang.fang", "AAAA-BBBB-CCCC"), ("nobody", mine.code),
                           ("wang.fang", ""), ("wang.fang\x00", mine.code), ("wang\ud800", mine.code)):
        with pytest.raises(setup_codes.WrongCode) as wrong:
            setup_codes.redeem(username, code, STRONG, STRONG)
        assert wrong.value.code == "setup.wrong_code" and wrong.value.status == 401
    assert len(events("user.setup_failure")) == 6
    setup_codes.redeem("wang.fang", mine.code, STRONG, STRONG)  # none of that spent it


def test_a_weak_or_mistyped_password_spends_nothing(app, admin_user):
    issued = _one(admin_user)
    with pytest.raises(Invalid) as weak:
        setup_codes.redeem("wang.fang", issued.code, "wang.fang123", "wang.fang123")
    assert "password" in weak.value.fields
    with pytest.raises(Invalid) as mismatch:
        setup_codes.redeem("wang.fang", issued.code, STRONG, STRONG + "x")
    assert "password2" in mismatch.value.fields
    setup_codes.redeem("wang.fang", issued.code, STRONG, STRONG)


def test_a_new_code_replaces_the_unspent_one(app, admin_user):
    first = _one(admin_user)
    second = setup_codes.issue(first.user, admin_user, address="10.0.0.3")
    with pytest.raises(setup_codes.WrongCode):
        setup_codes.redeem("wang.fang", first.code, STRONG, STRONG)
    setup_codes.redeem("wang.fang", second.code, STRONG, STRONG)
    assert [e.ip for e in events("user.setup_code")] == ["10.0.0.3"]


# -- the pages ---------------------------------------------------------------------------------------------------

def test_the_admin_imports_users_and_sees_their_codes_once_on_a_printable_list(admin, app):
    response = upload(admin, xlsx(GOOD))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    codes = codes_on(html)
    assert set(codes) == {"wang.fang", "li.ming", "zhao.li"}
    for username, display_name, *_ in GOOD:
        assert display_name in html
    assert "http://localhost/setup" in html and "有效期至" in html
    # the users page shows who is still to set a password, never a code
    users_page = admin.get("/admin/users").get_data(as_text=True)
    assert users_page.count('data-testid="awaiting-setup"') == 3
    assert not any(code in users_page for code in codes.values())
    # the new user sets a password with the code and logs in
    anon = app.test_client()
    done = anon.post("/setup", data={"username": "zhao.li", "code": codes["zhao.li"], "password": STRONG,
                                     "password2": STRONG})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert AuthActions(anon).login("zhao.li", STRONG).status_code == 302


def test_a_refused_import_lists_its_problems_on_the_users_page(admin):
    response = upload(admin, xlsx(GOOD + [("wang.fang", "王芳", "工作组成员", "")]))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-testid="problems"' in html
    assert "第5行A列（用户名）：用户名“wang.fang”与第2行重复" in html
    assert count(User, User.username.in_(["li.ming", "zhao.li"])) == 0


def test_the_template_has_the_columns_and_a_role_list(admin, app, admin_user):
    response = admin.get("/admin/users/template.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert tuple(c.value for c in ws[1]) == HEADERS
    assert [c.value for c in ws["C"][1:4]] == ["工作组成员", "镇(街道)负责人", "村(社区)协理员"]
    assert ws["D3"].data_type == "s"  # a code stays text (leading zeros kept)
    assert any("工作组成员" in str(v.formula1) for v in ws.data_validations.dataValidation)
    # the template filled in with the district's own codes imports as it is
    ws["D3"], ws["D4"] = "430699001", "430699001001"
    out = io.BytesIO()
    ws.parent.save(out)
    assert len(user_import.import_users(out.getvalue(), admin_user)) == 3


def test_the_setup_page_refuses_a_wrong_code_and_a_weak_password_beside_its_field(app, admin_user):
    issued = _one(admin_user)
    anon = app.test_client()
    assert "用一次性设置码设置密码" in anon.get("/setup").get_data(as_text=True)
    wrong = anon.post("/setup", data={"username": "wang.fang", "code": "AAAA-BBBB-CCCC", "password": STRONG,
                                      "password2": STRONG})
    assert wrong.status_code == 401 and "用户名或设置码不正确" in wrong.get_data(as_text=True)
    weak = anon.post("/setup", data={"username": "wang.fang", "code": issued.code, "password": "short",
                                     "password2": "short"})
    html = weak.get_data(as_text=True)
    assert weak.status_code == 422 and 'data-error="password"' in html and 'value="wang.fang"' in html
    assert 'value="short"' not in html  # a password is never sent back
    assert anon.post("/setup", data={"username": "wang.fang", "code": issued.code, "password": STRONG,
                                     "password2": STRONG}).status_code == 302


def test_code_guesses_are_throttled_like_log_ins(app, admin_user):
    issued = _one(admin_user)
    anon = app.test_client()
    for n in range(5):
        assert anon.post("/setup", data={"username": "wang.fang", "code": f"AAAA-BBBB-CCC{n}"}).status_code == 401
    blocked = anon.post("/setup", data={"username": "wang.fang", "code": issued.code, "password": STRONG,
                                        "password2": STRONG})
    assert blocked.status_code == 429 and blocked.headers["Retry-After"]
    assert db.session.get(User, issued.user.id).awaiting_setup


def test_the_admin_gives_a_user_a_new_code_from_the_users_page(admin, app, world):
    target = world.people["inspector"]
    response = admin.post(f"/admin/users/{target.id}/setup-code")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    code = codes_on(response.get_data(as_text=True))["inspector"]
    assert 'data-testid="awaiting-setup"' not in admin.get("/admin/users").get_data(as_text=True)  # password kept
    assert app.test_client().post("/setup", data={"username": "inspector", "code": code, "password": STRONG,
                                                  "password2": STRONG}).status_code == 302
    assert AuthActions(app.test_client()).login("inspector", STRONG).status_code == 302


# -- the pickers -------------------------------------------------------------------------------------------------

def _options(html: str, select_id: str) -> list[tuple[str, str]]:
    block = html.split(f'id="{select_id}"')[1].split("</select>")[0]
    return [(v, re.sub(r"\s+", " ", t).strip()) for v, t in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>',
                                                                         block, re.S) if v]


def test_the_team_page_lists_exactly_the_people_a_team_can_take(admin, world):
    user("sun.li", "inspector", display_name="孙丽")
    user("qian.jun", "inspector", world.units["清溪镇"], display_name="钱军")  # (an inspector with a unit)
    gone = user("gone", "inspector", display_name="已停用")
    gone.active = False
    user("clerk", "village", world.units["荷塘村"], display_name="协理员")
    db.session.commit()
    r = world.round
    team_id = db.session.scalar(select(TeamMember.team_id).where(TeamMember.user_id == world.people["leader"].id,
                                                                  TeamMember.round_id == r.id))
    html = admin.get(f"/admin/rounds/{r.id}").get_data(as_text=True)
    listed = _options(html, f"member-{team_id}")
    assert listed == [("sun.li", "孙丽（sun.li）"), ("qian.jun", "钱军（qian.jun） · 清溪镇")]  # by name
    assert _options(html, "new-team-leader") == listed
    assert [v for v, _ in _options(html, f"leader-{team_id}")] == ["inspector"]  # the team's other member
    assert 'data-picker="搜索姓名、用户名或单位"' in html
    # what the page offers the service takes; what it leaves out, the service refuses with its own words
    for username, message in (("gone", "“gone”不是启用的工作组成员账号"), ("clerk", "“clerk”不是启用的工作组成员账号"),
                              ("inspector2", "第二组组长已在本批次的工作组中")):
        refused = admin.post(f"/admin/rounds/{r.id}/teams/{team_id}/members", data={"username": username})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True), username
    for username, _ in listed:
        assert admin.post(f"/admin/rounds/{r.id}/teams/{team_id}/members",
                          data={"username": username}).status_code == 302
    assert count(TeamMember, TeamMember.team_id == team_id) == 4
    assert _options(admin.get(f"/admin/rounds/{r.id}").get_data(as_text=True), f"member-{team_id}") == []


def test_the_users_page_picks_a_unit_from_a_list_by_name_and_code(admin, world):
    html = admin.get("/admin/users").get_data(as_text=True)
    block = html.split('data-testid="new-unit"')[1].split("</select>")[0]
    assert 'name="unit_code"' in html.split('data-testid="new-unit"')[0].rsplit("<select", 1)[1]
    assert re.findall(r'<option value="(\d+)" data-level="(\w+)"', block) == [
        ("430699001", "township"), ("430699001001", "village"), ("430699002", "township"),
        ("430699002001", "village")]
    assert "清溪镇（430699001）" in block and "荷塘村（430699001001）" in block
    assert 'data-unit-level="village"' in html and 'data-level-from="#new-role"' in html
    made = admin.post("/admin/users", data={"username": "zhou.wu", "display_name": "周五", "role": "village",
                                            "unit_code": "430699001001", "password": STRONG})
    assert made.status_code == 302
    assert db.session.scalar(select(User).where(User.username == "zhou.wu")).unit.name == "荷塘村"
    # a unit of the wrong level is refused as before, and stays picked in the list
    wrong = admin.post("/admin/users", data={"username": "zhou.liu", "display_name": "周六", "role": "village",
                                             "unit_code": "430699001", "password": STRONG})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "该角色须指定所属村(社区)的编码" in page
    assert '<option value="430699001" data-level="township" selected>' in page


def test_the_setup_page_needs_the_pages_csrf_token(app, admin_user):
    issued = _one(admin_user)
    app.config["WTF_CSRF_ENABLED"] = True
    anon = app.test_client()
    form = {"username": "wang.fang", "code": issued.code, "password": STRONG, "password2": STRONG}
    assert anon.post("/setup", data=form).status_code == 400
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', anon.get("/setup").get_data(as_text=True))
    assert anon.post("/setup", data={**form, "csrf_token": token.group(1)}).status_code == 302
