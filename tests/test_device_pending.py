"""Nothing left behind on a tablet (issue 31, point 7): devices report the changes they hold unsent; the leader
(reconcile page) and the district (the round's results page) see whose tablets still hold changes; a member sheet
is not submitted while its inspector's device reported changes for it, the message saying why and where."""
import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, DevicePending
from tests.conftest import fill_all
from tests.factories import INSPECTOR_NAME, VILLAGE, app_of_world, make_round, make_sheet  # noqa: F401


@pytest.fixture
def world(empty_app):
    return make_round("inspection", self_assessed=True)


def report(client, pending, device="tablet-1"):
    return client.post("/api/v1/devices/report", json={"device_id": device, "pending": pending})


def stored():
    return {(r.device_id, r.sheet_id): r.count for r in db.session.scalars(select(DevicePending))}


def test_a_device_report_is_stored_replaced_and_cleared(login_as, world):
    inspector, sheet = login_as("inspector"), make_sheet(world, VILLAGE)
    assert report(inspector, {str(sheet.id): 3}).status_code == 200
    assert stored() == {("tablet-1", sheet.id): 3}
    assert report(inspector, {str(sheet.id): 3}).status_code == 200  # the same again: nothing new
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "device.pending")) == 1
    report(inspector, {str(sheet.id): 1}, device="tablet-2")
    assert stored() == {("tablet-1", sheet.id): 3, ("tablet-2", sheet.id): 1}
    report(inspector, {})
    assert stored() == {("tablet-2", sheet.id): 1}


def test_a_report_keeps_only_the_sheets_the_user_fills_in(login_as, world):
    colleague = make_sheet(world, VILLAGE, inspector="leader")
    inspector = login_as("inspector")
    assert report(inspector, {str(colleague.id): 2, "999999": 4}).status_code == 200
    assert stored() == {}


@pytest.mark.parametrize("body, field", [({"pending": {}}, "device_id"), ({"device_id": "t", "pending": 3}, "pending"),
                                         ({"device_id": "t", "pending": {"x": 1}}, "pending"),
                                         ({"device_id": "t", "pending": {"1": -1}}, "pending")])
def test_a_bad_report_is_refused_by_field(login_as, world, body, field):
    response = login_as("inspector").post("/api/v1/devices/report", json=body)
    assert response.status_code == 422 and field in response.get_json()["fields"]


def test_the_sync_calls_pending_updates_the_report(login_as, world):
    inspector, sheet = login_as("inspector"), make_sheet(world, VILLAGE)
    inspector.post("/api/v1/sync", json={"device_id": "tablet-1", "operations": [], "pending": {str(sheet.id): 2}})
    assert stored() == {("tablet-1", sheet.id): 2}
    inspector.post("/api/v1/sync", json={"device_id": "tablet-1", "operations": [], "pending": 0})
    assert stored() == {}


def test_a_member_sheet_with_changes_on_a_tablet_is_not_submitted_page_or_api(login_as, world):
    inspector, sheet = login_as("inspector"), make_sheet(world, VILLAGE)
    fill_all(inspector, sheet)
    report(inspector, {str(sheet.id): 2})
    api = inspector.post(f"/api/v1/sheets/{sheet.id}/submit")
    assert api.status_code == 409 and api.get_json()["code"] == "sheet.device_pending"
    assert "还有2处修改未同步" in api.get_json()["error"] and "评分页" in api.get_json()["error"]
    page = inspector.post(f"/inspection/sheets/{sheet.id}/submit", follow_redirects=True)
    assert "还有2处修改未同步" in page.get_data(as_text=True)
    db.session.refresh(sheet)
    assert sheet.status == "draft"
    report(inspector, {})  # synced
    assert inspector.post(f"/api/v1/sheets/{sheet.id}/submit").status_code == 200


def test_the_english_message_says_why_and_where(login_as, world):
    inspector, sheet = login_as("inspector"), make_sheet(world, VILLAGE)
    fill_all(inspector, sheet)
    report(inspector, {str(sheet.id): 2})
    inspector.post("/lang", data={"lang": "en", "next": "/"})
    error = inspector.post(f"/api/v1/sheets/{sheet.id}/submit").get_json()["error"]
    assert "still holds 2 changes" in error and "scoring page" in error


def test_the_leader_and_the_district_see_whose_tablets_hold_changes(login_as, world):
    inspector, sheet = login_as("inspector"), make_sheet(world, VILLAGE)
    report(inspector, {str(sheet.id): 4})
    final = make_sheet(world, VILLAGE, "final")
    page = login_as("leader").get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    assert 'data-testid="device-pending"' in page and INSPECTOR_NAME in page
    assert f'data-pending-sheet="{sheet.id}"' in page
    district = login_as("district").get(f"/results/rounds/{world.round.id}").get_data(as_text=True)
    assert 'data-testid="device-pending"' in district and f'data-pending-sheet="{sheet.id}"' in district
    report(inspector, {})
    assert 'data-testid="device-pending"' not in login_as("district").get(
        f"/results/rounds/{world.round.id}").get_data(as_text=True)
