"""Every item waiting for a person is in their to-do, with the days left to its deadline: overdue sheets marked
已逾期 N 天 and never hidden, a round's sheets from its first day, the district's 公布 and 再次公布, finance's
设置奖补规则 and 下载奖补资格表; and the district home counts each sheet under one progress label.

The clock is the caller's: services.todos.todos_for(user, today) is asked for the day a test needs."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from evalapp.extensions import db
from evalapp.models import Score, Sheet, User
from evalapp.services.accounts import hash_password
from evalapp.services.moves import today_local
from evalapp.services.scale import generate
from evalapp.services.todos import todos_for
from tests import factories
from tests.conftest import AuthActions, complete_round, fill_all
from tests.factories import TOWNSHIP, VILLAGE, app_of_world, make_sheet, world  # noqa: F401 (fixtures)

PASSWORD = factories.PASSWORD
INSPECTION_END = date(2031, 12, 20)


def _todos(html: str) -> str:
    return html.split('data-testid="todos"')[1].split("</section>")[0]


def _items(panel: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-todo="(\d+)"', panel)]


@pytest.fixture
def scored_district(empty_app):
    """A generated district of 2 townships × (1 + 5) units in inspection, its inspection ending INSPECTION_END; the
    member (not the leader) of the one team has 12 sheets in draft."""
    round_ = generate(2, 5, seed=7)
    round_.status = "inspection"
    round_.inspection_end = INSPECTION_END
    leader, member = db.session.scalars(select(User).where(User.role == "inspector").order_by(User.id)).all()
    member.password_hash = hash_password(PASSWORD)
    db.session.execute(update(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "inspector")
                       .values(status="draft"))
    db.session.commit()
    return round_, leader, member


def test_overdue_drafts_stay_in_the_todo_with_the_days_they_are_late(scored_district):
    round_, _, member = scored_district
    own = set(db.session.scalars(select(Sheet.id).where(Sheet.inspector_id == member.id)))
    late = todos_for(member, INSPECTION_END + timedelta(days=10))
    assert late.to_fill_total == len(own) == 12 and late.any
    assert [n for _, n in late.to_fill] == [-10] * 10 and {s.id for s, _ in late.to_fill} <= own
    early = todos_for(member, INSPECTION_END - timedelta(days=40))  # the first day: listed too, 40 days left
    assert early.to_fill_total == 12 and [n for _, n in early.to_fill] == [40] * 10
    today = todos_for(member, INSPECTION_END)
    assert [n for _, n in today.to_fill] == [0] * 10


def test_an_inspector_with_overdue_sheets_sees_them_marked_on_the_home_page(empty_app, scored_district):
    round_, _, member = scored_district
    round_.inspection_end = today_local() - timedelta(days=3)
    db.session.commit()
    client = empty_app.test_client()
    assert client.post("/login", data={"username": member.username, "password": PASSWORD}).status_code == 302
    panel = _todos(client.get("/inspection/").get_data(as_text=True))
    assert "暂无待办" not in panel
    assert len(_items(panel)) == 10 and panel.count("已逾期3天") == 10 and panel.count("待评分</span>") == 10
    assert 'data-testid="todos-more-to-fill">另有2项' in panel
    # a sheet submitted leaves the list
    db.session.execute(update(Sheet).where(Sheet.id == _items(panel)[0]).values(status="submitted"))
    db.session.commit()
    assert 'data-testid="todos-more-to-fill">另有1项' in _todos(client.get("/inspection/").get_data(as_text=True))


def test_a_final_sheet_waits_for_its_members_until_its_deadline_is_near(scored_district):
    round_, leader, _ = scored_district
    finals = set(db.session.scalars(select(Sheet.id).where(Sheet.round_id == round_.id, Sheet.kind == "final")))
    db.session.execute(update(Sheet).where(Sheet.id.in_(finals)).values(status="draft"))
    db.session.commit()
    far = todos_for(leader, INSPECTION_END - timedelta(days=8))
    assert far.to_fill_total == 12 and not {s.id for s, _ in far.to_fill} & finals  # the leader's own sheets only
    near = todos_for(leader, INSPECTION_END - timedelta(days=7))
    late = todos_for(leader, INSPECTION_END + timedelta(days=30))
    assert near.to_fill_total == late.to_fill_total == 24  # then the final sheets too, overdue ones never hidden


@pytest.fixture
def starting(empty_app):
    """A round that has just opened self-assessment: a month to go for the villages, five weeks for townships."""
    today = today_local()
    return factories.make_round("self_assessment", self_due=today + timedelta(days=30),
                                township_due=today + timedelta(days=35),
                                inspection_start=today + timedelta(days=40), inspection_end=today + timedelta(days=60))


@pytest.fixture
def log_in(empty_app):
    """login_as on a round the test builds itself."""

    def _login(username: str):
        client = empty_app.test_client()
        assert AuthActions(client).login(username).status_code == 302
        return client

    return _login


def test_a_village_and_a_township_starting_a_round_see_their_sheets_to_fill(starting, log_in):
    village = _todos(log_in("village").get("/selfassess/").get_data(as_text=True))
    sheet = make_sheet(starting, VILLAGE, "self")
    assert "暂无待办" not in village and _items(village) == [sheet.id]
    assert "待填报" in village and "剩30天" in village
    township = _todos(log_in("township").get("/selfassess/township").get_data(as_text=True))
    assert _items(township) == [make_sheet(starting, TOWNSHIP, "self").id] and "剩35天" in township


def test_inspectors_starting_a_round_see_their_unscored_sheets(empty_app, log_in):
    today = today_local()
    world = factories.make_round("inspection", inspection_end=today + timedelta(days=20))
    login_as = log_in
    panel = _todos(login_as("inspector").get("/inspection/").get_data(as_text=True))
    own = [make_sheet(world, name) for name in (TOWNSHIP, VILLAGE)]
    assert "暂无待办" not in panel and sorted(_items(panel)) == sorted(s.id for s in own)
    assert panel.count("剩20天") == 2
    # a sheet submitted is no longer the inspector's to do
    fill_all(login_as("inspector"), own[0])
    assert login_as("inspector").post(f"/inspection/sheets/{own[0].id}/submit").status_code == 302
    assert _items(_todos(login_as("inspector").get("/inspection/").get_data(as_text=True))) == [own[1].id]


def _round_todo(panel: str, action: str, round_id: int) -> str | None:
    found = re.search(rf'data-round-todo="{action}-{round_id}".*?</li>', panel, re.S)
    return found.group(0) if found else None


def test_the_district_is_reminded_to_publish_and_to_publish_again_after_an_unlock(app, world, login_as):
    district = login_as("district")

    def panel():
        return _todos(district.get("/results/").get_data(as_text=True))

    round_ = world.round
    assert _round_todo(panel(), "publish", round_.id) is None  # the final sheets are still being scored
    complete_round({}, round_=round_)
    item = _round_todo(panel(), "publish", round_.id)
    assert item and "可以公布" in item and f'href="/results/rounds/{round_.id}"' in item
    assert district.post(f"/results/rounds/{round_.id}/publish", data={"confirm_no_subsidy": "1"}).status_code == 302
    assert _round_todo(panel(), "publish", round_.id) is None and "暂无待办" in panel()
    final = make_sheet(world, VILLAGE, "final")
    assert login_as("admin").post(f"/results/sheets/{final.id}/unlock",
                                  data={"reason": "A3 计分录入错误"}).status_code == 302
    assert _round_todo(panel(), "republish", round_.id) is None  # with the leader: not the district's yet
    assert login_as("leader").post(f"/inspection/sheets/{final.id}/reconcile/submit").status_code == 302
    waiting = panel()
    assert _round_todo(waiting, "republish", round_.id) is None and final.id in _items(waiting)  # to review first
    assert district.post(f"/inspection/sheets/{final.id}/review", data={"action": "approve"}).status_code == 302
    db.session.refresh(final)
    assert final.status == "approved"
    item = _round_todo(panel(), "republish", round_.id)
    assert item and "再次公布" in item and f'href="/results/rounds/{round_.id}"' in item
    assert district.post(f"/results/rounds/{round_.id}/publish", data={"confirm_no_subsidy": "1"}).status_code == 302  # the second version
    assert _round_todo(panel(), "republish", round_.id) is None


def test_finance_is_asked_for_the_subsidy_rules_of_each_level_while_the_round_is_scored(app, world, login_as):
    finance = login_as("finance")

    def panel():
        return _todos(finance.get("/finance/").get_data(as_text=True))

    round_ = world.round  # in inspection, no rules
    item = _round_todo(panel(), "subsidy_rules", round_.id)
    assert item and "设置奖补规则" in item and "镇(街道)、村(社区)" in item
    assert f'href="/finance/rounds/{round_.id}"' in item
    assert finance.post(f"/finance/rounds/{round_.id}/rules/township",
                        data={"mode": "fixed", "amount": "50000"}).status_code == 302
    item = _round_todo(panel(), "subsidy_rules", round_.id)
    assert item and "村(社区)" in item and "镇(街道)" not in item
    assert finance.post(f"/finance/rounds/{round_.id}/rules/village",
                        data={"mode": "fixed", "amount": "20000"}).status_code == 302
    assert _round_todo(panel(), "subsidy_rules", round_.id) is None and "暂无待办" in panel()


def test_a_round_still_in_self_assessment_asks_finance_for_nothing(starting, log_in):
    assert "暂无待办" in _todos(log_in("finance").get("/finance/").get_data(as_text=True))


def test_finance_is_asked_to_download_each_published_version_once(app, world, login_as):
    finance, district = login_as("finance"), login_as("district")

    def panel():
        return _todos(finance.get("/finance/").get_data(as_text=True))

    round_ = complete_round({}, round_=world.round)
    factories.fixed_subsidy(round_, world.people["admin"], township_yuan="50000", village_yuan="20000")
    assert _round_todo(panel(), "eligibility", round_.id) is None  # nothing official yet
    assert district.post(f"/results/rounds/{round_.id}/publish", data={"confirm_no_subsidy": "1"}).status_code == 302
    item = _round_todo(panel(), "eligibility", round_.id)
    assert item and "下载奖补资格表" in item and "第1版" in item
    # a draft, or the district's download, is not finance's copy
    assert district.get(f"/finance/rounds/{round_.id}/eligibility.xlsx").status_code == 200
    assert finance.get(f"/finance/rounds/{round_.id}/eligibility.xlsx?draft=1").status_code == 200
    assert _round_todo(panel(), "eligibility", round_.id) is not None
    assert finance.get(f"/finance/rounds/{round_.id}/eligibility.xlsx").status_code == 200
    assert _round_todo(panel(), "eligibility", round_.id) is None
    # a new version after an unlock: to download again
    final = make_sheet(world, VILLAGE, "final")
    assert login_as("admin").post(f"/results/sheets/{final.id}/unlock", data={"reason": "A3 计分录入错误"}).status_code == 302
    assert login_as("leader").post(f"/inspection/sheets/{final.id}/reconcile/submit").status_code == 302
    assert district.post(f"/inspection/sheets/{final.id}/review", data={"action": "approve"}).status_code == 302
    assert district.post(f"/results/rounds/{round_.id}/publish", data={"confirm_no_subsidy": "1"}).status_code == 302
    item = _round_todo(panel(), "eligibility", round_.id)
    assert item and "第2版" in item


def test_the_district_home_counts_each_sheet_under_one_progress_label(app, world, login_as):
    """A self sheet nobody has touched is 未开始 on both tables; one with a score is 填报中 on both."""
    newer = factories.another_round(world, "self_assessment", "2032年度测试评估验收")
    round_ = newer.round
    sheets = db.session.scalars(select(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "self")).all()
    village = make_sheet(newer, VILLAGE, "self")
    factories.make_score(village, "A1", by=world.people["village"])
    html = login_as("district").get("/results/").get_data(as_text=True)
    row = html.split(f'href="/results/rounds/{round_.id}"')[1].split("</tr>")[0]
    counts = row.split('data-testid="self-counts">')[1].split("</td>")[0]
    assert re.findall(r"(未开始|填报中) (\d+)", counts) == [("未开始", str(len(sheets) - 1)), ("填报中", "1")]
    progress = html.split(f'data-testid="progress-{round_.id}"')[1].split("</table>")[0]
    cells = [int(c) for c in re.findall(r'<td class="text-end">(\d+)</td>', progress)]
    assert sum(cells) == 2 and cells.count(1) == 2  # both villages: one 未开始, one 填报中 (townships' own apart)
    assert db.session.scalar(select(Score.id).where(Score.sheet_id == village.id)) is not None
