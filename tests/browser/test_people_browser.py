"""At tablet size (768×1024): the admin imports users from an xlsx, prints their one-time codes, and adds one of them
to a team by searching the list; the new user sets a password with the code and logs in (issue 29, point 6). On a
round of the test's own in inspection (factories.make_round)."""
import os

from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import TeamMember, User
from tests.browser.conftest import ARTIFACTS, Console, log_in
from tests.factories import app_of_world, world  # noqa: F401 (fixtures)
from tests.test_people import GOOD, STRONG, xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _no_sideways_scroll(page):
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768


def test_imported_user_is_picked_into_a_team_and_sets_a_password_with_the_code(app, live_server, page, browser,
                                                                                 world):
    os.makedirs(ARTIFACTS, exist_ok=True)
    log_in(page, live_server, "admin")
    page.goto(live_server + "/admin/users")
    # the new-user form's unit picker: off until a role with a unit is chosen, then that level's units, searchable
    unit = page.locator("[data-testid=new-unit]")
    assert unit.is_disabled()
    page.select_option("[data-testid=new-role]", "village")
    shown = "s => Array.from(s.options).filter(o => o.value && !o.hidden).map(o => o.text.trim())"
    assert unit.is_enabled() and unit.evaluate(shown) == ["荷塘村（430699001001）", "石桥社区（430699002001）"]
    page.locator("[data-testid=create-user] input[data-picker-search]").fill("石桥")
    assert unit.input_value() == "430699002001"
    page.select_option("[data-testid=new-role]", "township")
    assert unit.input_value() == "" and unit.evaluate(shown) == ["清溪镇（430699001）", "白沙街道（430699002）"]
    page.locator("[data-testid=create-user] input[data-picker-search]").fill("430699001")
    assert unit.input_value() == "430699001"
    page.locator("[data-testid=create-user]").screenshot(path=os.path.join(ARTIFACTS, "people-unit-picker.png"))
    form = page.locator("[data-testid=import-users]")
    form.screenshot(path=os.path.join(ARTIFACTS, "people-import-form.png"))
    form.locator("input[type=file]").set_input_files({"name": "users.xlsx", "mimeType": XLSX, "buffer": xlsx(GOOD)})
    with page.expect_navigation():
        form.get_by_role("button", name="导入").click()
    codes = page.locator("[data-testid=setup-codes]")
    assert codes.locator("tbody tr").count() == 3
    row = codes.locator("tr[data-user='wang.fang']")
    assert "王芳" in row.inner_text()
    code = row.locator("[data-code]").get_attribute("data-code")
    assert code and code in row.inner_text()
    page.screenshot(path=os.path.join(ARTIFACTS, "people-setup-codes.png"), full_page=True)
    page.emulate_media(media="print")  # the printed list: no links, just the table
    assert not page.locator("a", has_text="返回用户管理").is_visible() and codes.is_visible()
    page.emulate_media(media="screen")

    # the team page: search the list of people, pick, add
    round_id = world.round.id
    team_id = db.session.scalar(select(TeamMember.team_id).where(TeamMember.round_id == round_id,
                                                                  TeamMember.user_id == world.people["leader"].id))
    page.goto(f"{live_server}/admin/rounds/{round_id}")
    add = page.locator(f"[data-team='{team_id}'] [data-testid=add-member]")
    select_ = add.locator("select[name=username]")
    assert select_.input_value() == ""
    add.locator("input[data-picker-search]").fill("王芳")
    assert select_.input_value() == "wang.fang"
    visible = select_.evaluate("s => Array.from(s.options).filter(o => o.value && !o.hidden).map(o => o.text)")
    assert visible == ["王芳（wang.fang）"]
    add.locator("input[data-picker-search]").fill("")
    add.locator("input[data-picker-search]").fill("fang")  # by username too
    assert select_.input_value() == "wang.fang"
    _no_sideways_scroll(page)
    page.locator("[data-testid=teams]").screenshot(path=os.path.join(ARTIFACTS, "people-team-picker.png"))
    with page.expect_navigation():
        add.get_by_role("button", name="加入").click()
    assert "成员已加入" in page.inner_text(".alert")
    assert "王芳（wang.fang）" in page.locator(f"[data-team='{team_id}']").inner_text()
    db.session.expire_all()
    new = db.session.scalar(select(User).where(User.username == "wang.fang"))
    assert db.session.scalar(select(TeamMember.team_id).where(TeamMember.user_id == new.id)) == team_id

    # the new user, on a tablet of their own: set-up page from the log-in page, then log in
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    tablet = context.new_page()
    console = Console()
    tablet.on("console", console.record)
    tablet.goto(live_server + "/login")
    with tablet.expect_navigation():
        tablet.click("[data-testid=setup-link]")
    tablet.fill("#username", "wang.fang")
    tablet.fill("#code", code.lower())
    tablet.fill("#password", STRONG)
    tablet.fill("#password2", STRONG)
    _no_sideways_scroll(tablet)
    tablet.screenshot(path=os.path.join(ARTIFACTS, "people-setup-page.png"), full_page=True)
    with tablet.expect_navigation():
        tablet.get_by_role("button", name="设置密码").click()
    assert tablet.url == live_server + "/login"
    assert "密码已设置" in tablet.inner_text(".alert")
    log_in(tablet, live_server, "wang.fang", STRONG)
    assert tablet.url.startswith(live_server + "/inspection/")
    assert "王芳" in tablet.inner_text("body")
    context.close()
    assert console.errors == []
