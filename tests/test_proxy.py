"""代填 (issue 29 point 6): the lead of a village's own township fills in and submits the self-assessment of a village
without an account, while the round is in self-assessment and the sheet is open; recorded on the sheet, the audit
rows, the sheet page, the API and the paper."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from evalapp import access
from evalapp.domain.scoring import ScoreEntry
from evalapp.extensions import db
from evalapp.models import AuditEvent, Sheet
from evalapp.services import moves, proxy, selfassess
from evalapp.services.errors import NotAllowed
from evalapp.services.moves import today_local
from evalapp.services.scores import save_score
from tests.conftest import fill_all
from tests.factories import (  # noqa: F401 (fixture)
    OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, app_of_world, make_round, make_sheet, user,
)

BARE = "清溪1村"  # a village of 清溪镇 without an account
TOWNSHIPS = {TOWNSHIP: [VILLAGE, BARE, "清溪2村"], OTHER_TOWNSHIP: [OTHER_VILLAGE, "白沙1村"]}


@pytest.fixture
def world(empty_app):
    """A full roll-out in self-assessment: 荷塘村 and 石桥社区 have a village account, the others none."""
    today = today_local()
    return make_round("self_assessment", "2032年度代填测试评估验收", townships=TOWNSHIPS, rollout="full",
                      self_due=today + timedelta(days=5), township_due=today + timedelta(days=12))


@pytest.fixture
def bare(app, world):
    return make_sheet(world, BARE, "self")


@pytest.fixture
def township(login_as):
    return login_as("township")


def _proxy_audit(sheet: Sheet) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.unit_id == sheet.unit_id)
                              .order_by(AuditEvent.id)).all()


# -- the rule (access.can_edit_sheet) ----------------------------------------------------------------------------

def test_the_township_may_fill_in_its_own_account_less_village(world, bare):
    assert access.can_edit_sheet(world.people["township"], bare)


def test_the_township_may_not_fill_in_a_village_that_has_an_account(world):
    assert not access.can_edit_sheet(world.people["township"], make_sheet(world, VILLAGE, "self"))


def test_another_townships_lead_may_not_fill_in_the_village(world, bare):
    assert not access.can_edit_sheet(world.people["outsider_township"], bare)
    other = make_sheet(world, "白沙1村", "self")  # account-less, but 白沙街道's
    assert not access.can_edit_sheet(world.people["township"], other)
    assert access.can_edit_sheet(world.people["outsider_township"], other)


def test_no_one_fills_in_once_the_round_has_left_self_assessment(world, bare):
    from evalapp.services import rounds

    rounds.advance(world.round, world.people["admin"], confirm=True)
    db.session.refresh(bare)
    assert bare.round.status == "inspection"
    assert not access.can_edit_sheet(world.people["township"], bare)


def test_a_published_round_refuses_the_township(world, bare):
    """(The round's status set directly: the workflow's context for a self sheet is what is read.)"""
    bare.round.status = "published"
    db.session.commit()
    assert not access.can_edit_sheet(world.people["township"], bare)


def test_an_inactive_village_account_counts_as_none(world):
    sheet = make_sheet(world, VILLAGE, "self")
    world.people["village"].active = False
    db.session.commit()
    assert access.can_edit_sheet(world.people["township"], sheet)


# -- the service: what is recorded --------------------------------------------------------------------------------

def test_a_proxy_save_records_the_filler_on_the_sheet_and_the_audit_row(world, bare):
    lead = world.people["township"]
    save_score(bare, "A1", ScoreEntry(), lead, 0)
    db.session.refresh(bare)
    assert bare.proxy_by_id == lead.id
    row = _proxy_audit(bare)[-1]
    assert row.action == "score.save" and row.user_id == lead.id
    assert row.new["proxy_by"] == lead.id and row.new["proxy_for"] == bare.unit_id


def test_the_village_filling_its_own_sheet_is_not_marked(world):
    own = make_sheet(world, VILLAGE, "self")
    save_score(own, "A1", ScoreEntry(), world.people["village"], 0)
    db.session.refresh(own)
    assert own.proxy_by_id is None and "proxy_by" not in _proxy_audit(own)[-1].new


def test_once_the_village_gets_an_account_the_township_stops_and_the_mark_stays(world, bare):
    lead = world.people["township"]
    save_score(bare, "A1", ScoreEntry(), lead, 0)
    user("bare_village", "village", world.units[BARE])
    db.session.refresh(bare)
    assert not access.can_edit_sheet(lead, bare)
    with pytest.raises(NotAllowed):
        selfassess.save_summary(bare, "镇里代写", lead)
    assert bare.proxy_by_id == lead.id
    assert proxy.mark_of(bare) == proxy.ProxyMark(TOWNSHIP, lead.display_name)


# -- the pages ----------------------------------------------------------------------------------------------------

def test_the_township_fills_in_and_submits_through_the_pages_and_reviews_it(world, bare, township):
    url = f"/selfassess/sheets/{bare.id}"
    page = township.get(url).get_data(as_text=True)
    assert 'data-testid="proxy-filling"' in page and "提交自评表" in page
    fill_all(township, bare)
    assert township.post(f"{url}/summary", data={"summary": "镇里代村填写。"}).status_code == 302
    assert township.post(f"{url}/submit").status_code == 302
    db.session.refresh(bare)
    assert bare.status == "submitted"
    lead = world.people["township"]
    submitted = [r for r in _proxy_audit(bare) if r.action == "sheet.submitted"]
    assert submitted[-1].user_id == lead.id and submitted[-1].new["proxy_by"] == lead.id
    summary = [r for r in _proxy_audit(bare) if r.action == "sheet.summary"]
    assert summary[-1].new["proxy_by"] == lead.id
    page = township.get(url).get_data(as_text=True)
    assert f"由{TOWNSHIP}（{lead.display_name}）代填" in page
    # ... and reviews it as it would any village's
    assert township.post(f"{url}/review", data={"action": "approve"}).status_code == 302
    db.session.refresh(bare)
    assert bare.status == "approved"
    approved = [r for r in _proxy_audit(bare) if r.action == "sheet.approved"][-1]
    assert "proxy_by" not in approved.new  # a review is not a 代填


def test_the_township_cannot_submit_a_village_with_an_account_through_the_page(world, township):
    own = make_sheet(world, VILLAGE, "self")
    township.post(f"/selfassess/sheets/{own.id}/submit")
    db.session.refresh(own)
    assert own.status == "draft"
    assert 'data-testid="proxy-filling"' not in township.get(f"/selfassess/sheets/{own.id}").get_data(as_text=True)


def test_the_district_sees_the_sheet_marked(world, bare, login_as):
    save_score(bare, "A1", ScoreEntry(), world.people["township"], 0)
    page = login_as("district").get(f"/selfassess/sheets/{bare.id}").get_data(as_text=True)
    assert 'data-testid="proxy-mark"' in page and f"由{TOWNSHIP}（" in page
    assert 'data-testid="proxy-filling"' not in page


def test_the_township_home_and_todos_list_the_account_less_villages_with_a_proxy_action(world, bare, township):
    page = township.get("/selfassess/township").get_data(as_text=True)
    listed = page.split('data-testid="proxy-list"')[1].split("</table>")[0]
    assert BARE in listed and "清溪2村" in listed and VILLAGE not in listed and "白沙1村" not in listed
    assert f'href="/selfassess/sheets/{bare.id}"' in listed and "代填" in listed
    todos = page.split('data-testid="todos"')[1].split("</section>")[0]
    assert f'data-todo="{bare.id}"' in todos and "代填" in todos
    assert f'data-todo="{make_sheet(world, VILLAGE, "self").id}"' not in todos


def test_the_township_home_drops_a_village_once_it_has_an_account(world, bare, township):
    user("bare_village", "village", world.units[BARE])
    page = township.get("/selfassess/township").get_data(as_text=True)
    assert f'data-proxy="{bare.id}"' not in page and f'data-todo="{bare.id}"' not in page


# -- the API: the same rule -----------------------------------------------------------------------------------------

def test_the_api_lets_the_township_score_and_submit_its_account_less_village(world, bare, township):
    fill_all(township, bare)
    assert township.post(f"/api/v1/sheets/{bare.id}/submit").status_code == 200
    data = township.get(f"/api/v1/sheets/{bare.id}").get_json()
    lead = world.people["township"]
    assert data["proxy"] == {"by": lead.id, "name": lead.display_name, "township": TOWNSHIP}
    assert data["editable"] is False


def test_the_api_lists_the_proxy_sheets_as_the_townships_own(world, bare, township):
    mine = {s["id"] for s in township.get(f"/api/v1/rounds/{world.round.id}/sheets?mine=1").get_json()["sheets"]}
    assert bare.id in mine and make_sheet(world, VILLAGE, "self").id not in mine


def test_the_api_refuses_a_village_with_an_account(world, township):
    own = make_sheet(world, VILLAGE, "self")
    put = township.put(f"/api/v1/sheets/{own.id}/scores/A1", json={"deductions": [], "version": 0})
    assert put.status_code == 403
    assert township.put(f"/api/v1/sheets/{own.id}/summary", json={"summary": "x", "version": 1}).status_code == 403
    assert township.post(f"/api/v1/sheets/{own.id}/submit").status_code == 403


def test_the_api_refuses_another_townships_village(world, login_as):
    other = make_sheet(world, "白沙1村", "self")
    stranger = login_as("township")
    assert stranger.put(f"/api/v1/sheets/{other.id}/scores/A1",
                        json={"deductions": [], "version": 0}).status_code == 404
    assert stranger.post(f"/api/v1/sheets/{other.id}/submit").status_code == 404


def test_the_api_refuses_a_published_round(world, bare, township):
    bare.round.status = "published"
    db.session.commit()
    put = township.put(f"/api/v1/sheets/{bare.id}/scores/A1", json={"deductions": [], "version": 0})
    assert put.status_code == 403 and put.get_json()["code"] == "sheet.read_only"
    assert township.post(f"/api/v1/sheets/{bare.id}/submit").status_code == 403


def test_the_api_refuses_once_the_village_has_an_account(world, bare, township):
    assert township.put(f"/api/v1/sheets/{bare.id}/scores/A1",
                        json={"deductions": [], "version": 0}).status_code == 200
    user("bare_village", "village", world.units[BARE])
    assert township.put(f"/api/v1/sheets/{bare.id}/scores/A2",
                        json={"deductions": [], "version": 0}).status_code == 403


# -- the paper ----------------------------------------------------------------------------------------------------

def test_the_printed_paper_names_the_filler_near_the_signatures(world, bare, login_as):
    from evalapp.services import rounds

    lead = world.people["township"]
    for indicator in _indicator_codes(bare):
        save_score(bare, indicator, ScoreEntry(), lead, 0)
    moves.submit_sheet(bare, lead)
    rounds.advance(world.round, world.people["admin"], confirm=True)
    final = make_sheet(world, BARE, "final")
    page = login_as("district").get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    sign_off = page.split('data-testid="signatures"')[1]
    assert f"本单位自评表由{TOWNSHIP}（{lead.display_name}）代填" in sign_off
    other = make_sheet(world, VILLAGE, "final")
    assert 'data-testid="proxy-note"' not in login_as("district").get(
        f"/results/sheets/{other.id}/print").get_data(as_text=True)


def _indicator_codes(sheet: Sheet) -> list[str]:
    from evalapp.services.sheet_views import sheet_view

    return [ind.code for ind in sheet_view(sheet).indicators]
