"""Issue 29, points 5 and 2 at tablet size: the admin sets a team's leader as non-scoring on the round page; the
printed 评分表 names that leader once; on the published round the admin's change of leader is refused until 解锁设置
is opened with a reason — and the pages involved read in English (the walk's check, on a published round the demo
database does not have)."""
import os

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Sheet, Team, User
from evalapp.services import publication, rounds as rounds_service
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_english_browser import COLLECT, data_strings, untranslated
from tests.factories import LEADER_NAME, OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, make_round
from tests.test_publication_snapshot import _score_final


@pytest.fixture
def world(empty_app):
    return make_round("setup")


@pytest.fixture(name="app")
def app_of_setup(empty_app, world):
    return empty_app


def _shot(page, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"setup-unlock-{name}.png"), full_page=True)


def _no_sideways_scroll(page):
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768


def test_a_non_scoring_leader_is_printed_once_and_a_published_leader_change_waits_for_the_unlock(
        app, live_server, page, browser, world):
    w, rid = world, world.round.id
    team = db.session.scalar(select(Team).where(Team.round_id == rid, Team.name == "第一工作组"))
    log_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/rounds/{rid}")
    block = page.locator(f'[data-team="{team.id}"]')
    assert block.locator('[data-testid="leader-scores"]').inner_text() == "组长评分"
    block.locator("select[name=leader_scores]").select_option("0")
    block.get_by_role("button", name="保存").click()
    page.wait_for_load_state("domcontentloaded")
    assert "已设置组长是否评分" in page.content()
    assert page.locator(f'[data-team="{team.id}"] [data-testid="leader-scores"]').inner_text() == "组长不评分"
    _no_sideways_scroll(page)
    _shot(page, "1-leader-not-scoring")

    # Inspection, scores, approval and publication through the services.
    db.session.expire_all()  # (the page changed the team in the server's session)
    for _ in range(2):
        rounds_service.advance(w.round, w.people["admin"], confirm=True)
    assert db.session.scalar(select(Sheet.id).where(Sheet.round_id == rid, Sheet.kind == "inspector",
                                                    Sheet.inspector_id == w.people["leader"].id)) is None
    for name in (TOWNSHIP, VILLAGE, OTHER_TOWNSHIP, OTHER_VILLAGE):
        _score_final(w, name, "97")
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, db.session.scalar(select(User).where(User.username == "district")),
                        confirm_no_subsidy=True)
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == rid, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[VILLAGE].id))

    # The printed 评分表 names the leader once, as 工作组组长.
    page.goto(f"{live_server}/results/sheets/{final.id}/print")
    sign_off = page.locator('[data-testid="signatures"]').inner_text()
    assert sign_off.count(LEADER_NAME) == 1 and "工作组组长" in sign_off and "工作组组长、评估员" not in sign_off
    assert page.locator('[data-testid="signatures"] tbody tr').count() == 3  # the member, the leader, the unit
    _shot(page, "2-paper")

    # The published round: a change of leader is refused, saying to unlock the set-up first.
    page.console.allowed_statuses.update({409, 422})
    page.goto(f"{live_server}/admin/rounds/{rid}")
    block = page.locator(f'[data-team="{team.id}"]')
    block.locator(f'[data-testid="pick-leader-{team.id}"]').select_option("inspector")  # picked from the list
    block.get_by_role("button", name="设为组长").click()
    page.wait_for_load_state("domcontentloaded")
    assert "解锁设置" in page.locator(".alert-danger").first.inner_text()
    assert page.locator(f'[data-team="{team.id}"]').inner_text().count(LEADER_NAME) >= 1
    _shot(page, "3-refused")
    # 解锁设置 without a reason: the message beside the field.
    unlock = page.locator('[data-testid="setup-unlock"]')
    unlock.get_by_role("button", name="解锁设置").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("#setup-reason-error").inner_text() == "请填写解锁理由"
    page.fill("#setup-reason", "原组长调离，由第一组评估员担任组长")
    page.locator('[data-testid="setup-unlock"]').get_by_role("button", name="解锁设置").click()
    page.wait_for_load_state("domcontentloaded")
    assert "原组长调离" in page.locator('[data-testid="setup-unlocked"]').inner_text()
    _shot(page, "4-unlocked")
    block = page.locator(f'[data-team="{team.id}"]')
    block.locator(f'[data-testid="pick-leader-{team.id}"]').select_option("inspector")  # picked from the list
    block.get_by_role("button", name="设为组长").click()
    page.wait_for_load_state("domcontentloaded")
    assert "组长已更换" in page.content()
    db.session.expire_all()
    assert db.session.get(Team, team.id).leader_id == w.people["inspector"].id
    _no_sideways_scroll(page)

    # In English: the round page (unlocked) and, once republished, the 变更 page listing the change.
    publication.publish(w.round, db.session.scalar(select(User).where(User.username == "district")),
                        confirm_no_subsidy=True)
    english = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en-US").new_page()
    log_in(english, live_server, "admin")
    english.get_by_role("button", name="English").click()
    english.wait_for_load_state("domcontentloaded")
    data = data_strings()
    for url in (f"/admin/rounds/{rid}", f"/results/rounds/{rid}/changes?since=1"):
        english.goto(live_server + url)
        assert untranslated(english.evaluate(COLLECT), data) == [], url
    assert "Set-up and team changes" in english.content()
    english.context.close()
