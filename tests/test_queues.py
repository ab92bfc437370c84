"""Every sheet that waits for someone is in that person's to-do and queue, in every phase: an unlocked sheet of a
published round, a leader's resubmission, a final sheet ready to reconcile, an inspector's published history, and
a returned self-assessment listed once."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from evalapp.extensions import db
from evalapp.models import Sheet
from evalapp.services import rounds
from evalapp.services.moves import today_local
from tests import factories
from tests.conftest import complete_round, fill_all
from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, app_of_world, make_sheet  # noqa: F401

OTHER_FINAL = "柳湾社区"  # the leader's team's second village


@pytest.fixture
def world(empty_app):
    """A round of the test's own in inspection, self-assessments submitted, its inspection dates long past; the
    leader's team has 清溪镇, 荷塘村 and 柳湾社区."""
    townships = {TOWNSHIP: [VILLAGE, OTHER_FINAL], OTHER_TOWNSHIP: [OTHER_VILLAGE]}
    return factories.make_round("inspection", townships=townships, self_assessed=True,
                                self_due=date(2021, 11, 25), township_due=date(2021, 11, 30),
                                inspection_start=date(2021, 12, 1), inspection_end=date(2021, 12, 20))


def _todos(html: str) -> str:
    return html.split('data-testid="todos"')[1].split("</section>")[0]


def _links(html: str, sheet_id: int) -> int:
    """How many links a piece of page has to a sheet (its scoring, reconcile or self-assessment page)."""
    return len(re.findall(rf'href="/(?:inspection|selfassess)/sheets/{sheet_id}(?:/reconcile)?"', html))


def _section(html: str, round_id: int) -> str:
    return html.split(f'data-round="{round_id}"')[1].split("</section>")[0]


@pytest.fixture
def published(app, world, login_as):
    """The round scored, approved and published by the district."""
    round_ = complete_round({}, round_=world.round)
    assert login_as("district").post(f"/results/rounds/{round_.id}/publish", data={"confirm_no_subsidy": "1"}).status_code == 302
    db.session.refresh(round_)
    assert round_.status == "published"
    return round_


@pytest.fixture
def unlocked(published, world, login_as):
    """荷塘村's final sheet unlocked by the admin: back to its leader, in a round still published."""
    final = make_sheet(world, VILLAGE, "final")
    assert login_as("admin").post(f"/results/sheets/{final.id}/unlock",
                                  data={"reason": "A3 计分录入错误"}).status_code == 302
    db.session.refresh(final)
    assert (final.status, final.unlocked, published.status) == ("returned", True, "published")
    return final


def test_after_an_unlock_the_leader_finds_the_sheet_on_the_home_page_worklist_and_todos(unlocked, published, world,
                                                                                        login_as):
    leader = login_as("leader")
    home = leader.get("/", follow_redirects=True).get_data(as_text=True)
    assert "目前没有处于实地评估阶段" not in home
    section = _section(home, published.id)
    assert f'data-final="{unlocked.id}"' in section and "已解锁" in section
    panel = _todos(home)
    assert _links(panel, unlocked.id) == 1 and "被退回" in panel
    assert "逾期" not in panel  # the round's inspection dates are long past: no deadline shown for an unlock
    # the other final sheets of the round stay settled: not in the to-do
    other = make_sheet(world, OTHER_FINAL, "final")
    assert _links(panel, other.id) == 0
    # the member of the team has nothing to do, and the other team's leader does not see it
    assert _links(_todos(login_as("inspector").get("/inspection/").get_data(as_text=True)), unlocked.id) == 0
    assert _links(login_as("inspector2").get("/inspection/").get_data(as_text=True), unlocked.id) == 0


def test_after_the_leader_resubmits_the_district_review_queue_and_todos_list_it(unlocked, login_as):
    leader = login_as("leader")
    assert leader.post(f"/inspection/sheets/{unlocked.id}/reconcile/submit").status_code == 302
    db.session.refresh(unlocked)
    assert unlocked.status == "submitted"
    html = login_as("district").get("/results/").get_data(as_text=True)
    queue = html.split('data-testid="review-queue"')[1].split("</div>\n")[0]
    assert f'data-sheet="{unlocked.id}"' in queue and "解锁后重新提交" in queue
    assert _links(_todos(html), unlocked.id) == 1
    # gone from the leader's to-do: it waits for the district now
    assert _links(_todos(leader.get("/inspection/").get_data(as_text=True)), unlocked.id) == 0


def test_settled_sheets_of_a_published_round_wait_for_nobody(published, login_as):
    """Without an unlock, a published round's submitted sheets are in no queue (published rounds are history)."""
    html = login_as("district").get("/results/").get_data(as_text=True)
    queue = html.split('data-testid="review-queue"')[1].split("</div>\n")[0]
    final_ids = db.session.scalars(select(Sheet.id).where(Sheet.round_id == published.id, Sheet.kind == "final"))
    assert not any(f'data-sheet="{i}"' in queue for i in final_ids)


def _members(world, unit_name: str) -> tuple[Sheet, Sheet]:
    return make_sheet(world, unit_name, inspector="leader"), make_sheet(world, unit_name)


def test_a_final_sheet_whose_members_all_submitted_is_in_the_leaders_todo(world, login_as):
    round_ = world.round
    round_.inspection_end = today_local() + timedelta(days=3)  # also due soon: still listed once
    db.session.commit()
    final = make_sheet(world, VILLAGE, "final")
    mine, theirs = _members(world, VILLAGE)
    leader = login_as("leader")
    for sheet, client in ((mine, leader), (theirs, login_as("inspector"))):
        fill_all(client, sheet)
    assert leader.post(f"/inspection/sheets/{mine.id}/submit").status_code == 302

    def panel():
        return _todos(leader.get("/inspection/").get_data(as_text=True))

    waiting = panel()  # a member is still scoring: the final sheet is only due soon
    assert _links(waiting, final.id) == 1 and "可以汇总定分" not in waiting
    assert login_as("inspector").post(f"/inspection/sheets/{theirs.id}/submit").status_code == 302
    ready = panel()
    assert "可以汇总定分" in ready and _links(ready, final.id) == 1  # once, with its deadline beside it
    item = ready.split("可以汇总定分")[1].split("</li>")[0]
    assert f"{VILLAGE} · 工作组评分表" in item and "剩3天" in item
    assert f'href="/inspection/sheets/{final.id}/reconcile"' in item
    # the member sees no final sheet at all; the other units of the team are not ready
    assert "可以汇总定分" not in _todos(login_as("inspector").get("/inspection/").get_data(as_text=True))
    assert _links(ready, make_sheet(world, OTHER_FINAL, "final").id) == 1  # due soon only
    assert ready.count("可以汇总定分") == 1
    # once the leader submits it, it waits for the district, not for the leader
    final.status = "submitted"
    db.session.commit()
    assert _links(panel(), final.id) == 0


def test_a_closed_member_sheet_does_not_hold_up_the_final_sheet(world, login_as):
    final = make_sheet(world, OTHER_FINAL, "final")
    mine, theirs = _members(world, OTHER_FINAL)
    db.session.execute(update(Sheet).where(Sheet.id == mine.id).values(status="submitted"))
    db.session.execute(update(Sheet).where(Sheet.id == theirs.id).values(status="closed"))  # the member left
    db.session.commit()
    panel = _todos(login_as("leader").get("/inspection/").get_data(as_text=True))
    assert "可以汇总定分" in panel and _links(panel, final.id) == 1
    # closed alone is nothing to reconcile
    db.session.execute(update(Sheet).where(Sheet.id == mine.id).values(status="closed"))
    db.session.commit()
    assert "可以汇总定分" not in _todos(login_as("leader").get("/inspection/").get_data(as_text=True))


def test_inspectors_keep_their_worklist_read_only_once_the_round_is_published(published, world, login_as):
    inspector = login_as("inspector")
    html = inspector.get("/inspection/").get_data(as_text=True)
    assert "目前没有处于实地评估阶段" not in html
    section = _section(html, published.id)
    assert "已公布 · 只读" in section
    own = db.session.scalars(select(Sheet.id).join(Sheet.inspector)
                             .where(Sheet.round_id == published.id, Sheet.kind == "inspector")
                             .where(Sheet.inspector.has(username="inspector"))).all()
    assert own and all(f'data-sheet="{i}"' in section for i in own)
    sheet = db.session.get(Sheet, own[0])
    page = inspector.get(f"/inspection/sheets/{sheet.id}")
    assert page.status_code == 200
    assert inspector.put(f"/api/v1/sheets/{sheet.id}/scores/A1",
                         json={"deductions": [], "version": 1}).status_code == 403  # history, not work
    assert "暂无待办" in _todos(html)
    # the leader keeps the team's final sheets too
    leader_html = login_as("leader").get("/inspection/").get_data(as_text=True)
    final = make_sheet(world, VILLAGE, "final")
    assert f'data-final="{final.id}"' in _section(leader_html, published.id)


def test_open_rounds_come_before_published_history(published, world, login_as):
    """A published round the inspector scored in stays below a round with work open."""
    from evalapp.models import Team, TeamMember

    newer = factories.round_("2032年度全面推行测试评估验收", list(world.units.values())[1:], world.people["admin"],
                             rollout="full")
    newer.status = "inspection"
    user = world.people["inspector"]
    team = Team(round_id=newer.id, name="第三工作组", leader_id=user.id)
    db.session.add(team)
    db.session.flush()
    db.session.add(TeamMember(round_id=newer.id, team_id=team.id, user_id=user.id))
    db.session.commit()
    html = login_as("inspector").get("/inspection/").get_data(as_text=True)
    assert html.index(f'data-round="{newer.id}"') < html.index(f'data-round="{published.id}"')
    published.changed_since_publication = True  # an unlock reopens it: it comes first (the older of two open)
    db.session.commit()
    html = login_as("inspector").get("/inspection/").get_data(as_text=True)
    assert html.index(f'data-round="{newer.id}"') < html.index(f'data-round="{published.id}"')
    assert "有解锁的评分表待重新审核" in _section(html, published.id)


def test_a_returned_self_assessment_is_listed_once_in_the_villages_todo(world, login_as):
    """Returned and due within 7 days: one item, under 被退回, with its deadline beside it."""
    today = today_local()
    newer = factories.round_("2032年度全面推行测试评估验收", list(world.units.values())[1:], world.people["admin"],
                             rollout="full", self_due=today + timedelta(days=5),
                             township_due=today + timedelta(days=12), inspection_start=today + timedelta(days=15),
                             inspection_end=today + timedelta(days=30))
    rounds.advance(newer, world.people["admin"])  # → self-assessment: the self sheets
    sheet = db.session.scalar(select(Sheet).where(Sheet.round_id == newer.id, Sheet.kind == "self",
                                                  Sheet.unit_id == world.units[VILLAGE].id))
    village, township = login_as("village"), login_as("township")
    fill_all(village, sheet)
    assert village.post(f"/selfassess/sheets/{sheet.id}/submit").status_code == 302
    assert township.post(f"/selfassess/sheets/{sheet.id}/review",
                         data={"action": "return", "comment": "请补充走访记录"}).status_code == 302
    db.session.refresh(sheet)
    assert sheet.status == "returned"
    panel = _todos(village.get("/selfassess/").get_data(as_text=True))
    assert _links(panel, sheet.id) == 1
    item = panel.split("被退回")[1].split("</li>")[0]
    assert "剩5天" in item  # the round's deadline is 5 days out


def test_a_self_assessment_frozen_by_inspection_is_no_longer_a_to_do(world, login_as):
    """Once inspection opens, a returned or draft self sheet cannot be changed: it leaves the unit's to-do."""
    round_ = world.round
    sheet = make_sheet(world, VILLAGE, "self")
    sheet.status = "returned"
    round_.self_due = today_local() + timedelta(days=2)
    db.session.commit()
    assert _links(_todos(login_as("village").get("/selfassess/").get_data(as_text=True)), sheet.id) == 0
