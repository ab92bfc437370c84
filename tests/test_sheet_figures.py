"""Each sheet keeps its score sum, count, bonus sum and veto flag; they always equal what its rows say (issue 9)."""
from decimal import Decimal

from flask_migrate import upgrade
from sqlalchemy import func, select, text

from evalapp.extensions import db
from evalapp.models import BonusItem, Score, Sheet, SheetBonus, SheetVeto
from tests.conftest import fill_all, make_app
from tests.security.test_integrity import _parallel, _session_cookie
from tests.browser.conftest import live_server  # noqa: F401  (a real threaded server)
from tests.factories import VILLAGE, app_of_world, make_round, make_sheet, world  # noqa: F401 (fixtures)


def from_rows(sheet_id: int) -> tuple:
    """The figures recomputed from the rows, independently of the stored columns."""
    score_sum, scored = db.session.execute(select(func.coalesce(func.sum(Score.points), 0), func.count(Score.id))
                                           .where(Score.sheet_id == sheet_id)).one()
    bonus = db.session.scalar(select(func.coalesce(func.sum(BonusItem.points), 0))
                              .join(SheetBonus, SheetBonus.bonus_item_id == BonusItem.id)
                              .where(SheetBonus.sheet_id == sheet_id))
    vetoed = db.session.scalar(select(func.count(SheetVeto.id)).where(SheetVeto.sheet_id == sheet_id)) > 0
    return Decimal(score_sum).quantize(Decimal("0.01")), scored, Decimal(bonus).quantize(Decimal("0.01")), vetoed


def stored(sheet_id: int) -> tuple:
    db.session.expire_all()
    sheet = db.session.get(Sheet, sheet_id)
    return Decimal(sheet.score_sum).quantize(Decimal("0.01")), sheet.scored, \
        Decimal(sheet.bonus_sum).quantize(Decimal("0.01")), sheet.vetoed


def test_autosaves_keep_the_figures(world, login_as):
    client = login_as("inspector")
    sheet = make_sheet(world, VILLAGE)
    assert stored(sheet.id) == (Decimal("0.00"), 0, Decimal("0.00"), False)
    reply = client.put(f"/api/v1/sheets/{sheet.id}/scores/A3",
                       json={"deductions": [{"code": "A3-1", "count": 1}], "version": 0}).get_json()
    assert stored(sheet.id)[:2] == (Decimal(reply["score"]), 1) == from_rows(sheet.id)[:2]
    fill_all(client, sheet)  # every indicator at full marks, A3 again included
    assert stored(sheet.id) == from_rows(sheet.id)
    assert stored(sheet.id)[1] > 10
    api_total = client.get(f"/api/v1/sheets/{sheet.id}").get_json()["total"]
    assert Decimal(api_total) == stored(sheet.id)[0]


def test_reconciliation_bonus_and_veto_keep_the_figures(world, login_as):
    leader, inspector = login_as("leader"), login_as("inspector")
    for client, username in ((leader, "leader"), (inspector, "inspector")):
        member = make_sheet(world, VILLAGE, inspector=username)
        fill_all(client, member)
        client.post(f"/api/v1/sheets/{member.id}/submit")
    final = make_sheet(world, VILLAGE, "final")
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    assert stored(final.id) == from_rows(final.id) and stored(final.id)[1] > 10
    url = f"/inspection/sheets/{final.id}/reconcile/bonus-veto"
    leader.post(url, data={"bonus": ["X1", "X2"], "veto": ["V3"], "veto_text_V3": "台账补记"})
    after = stored(final.id)
    assert after == from_rows(final.id) and after[2] == Decimal("3.00") and after[3] is True
    leader.post(url, data={"bonus": []})  # everything taken back
    assert stored(final.id) == from_rows(final.id) and stored(final.id)[2:] == (Decimal("0.00"), False)


def test_parallel_saves_of_different_indicators_are_all_counted(app, world, live_server):  # noqa: F811
    """Each save recomputes the figures after taking the sheet's row lock, so none is lost under concurrency."""
    from evalapp.services.sheet_views import sheet_view

    sheet = make_sheet(world, VILLAGE)
    codes = [i.code for i in sheet_view(sheet).indicators][:8]
    cookie = _session_cookie(app, "inspector")
    statuses = _parallel(live_server, cookie, "PUT", [
        (f"/api/v1/sheets/{sheet.id}/scores/{code}", {"deductions": [], "version": 0}) for code in codes])
    assert statuses == [200] * len(codes)
    assert stored(sheet.id) == from_rows(sheet.id)
    assert stored(sheet.id)[1] == len(codes)


def test_the_migration_fills_the_figures_of_existing_sheets(blank_db_url):
    """A database scored before revision 0004 gets every sheet's figures computed from its rows on upgrade.

    The downgrade on SQLite rebuilds the sheets table; it must not cascade into the scores (env.py turns the foreign
    keys off around migrations and checks them after).
    """
    from flask_migrate import downgrade

    app = make_app(blank_db_url)
    with app.app_context():
        upgrade()
        sheet = make_sheet(make_round("inspection"), VILLAGE)
        indicator_id = db.session.scalar(text("SELECT id FROM indicators WHERE catalogue_id = :c ORDER BY id"),
                                         {"c": sheet.round.catalogue_for(sheet.unit.level).id})
        db.session.add(Score(sheet_id=sheet.id, indicator_id=indicator_id, points=Decimal("7.5")))
        db.session.commit()  # written directly, so the stored figures are still zero
        assert stored(sheet.id)[:2] == (Decimal("0.00"), 0)
        db.session.remove()
        downgrade(revision="0003")
        upgrade()
        assert stored(sheet.id) == from_rows(sheet.id) == (Decimal("7.50"), 1, Decimal("0.00"), False)
        db.session.remove()
        db.engine.dispose()


def test_changed_and_cleared_deductions_are_what_a_fresh_read_sees(world, login_as):
    """The save sets what it wrote on its objects instead of reading them back: a fresh read must agree."""
    client = login_as("inspector")
    sheet = make_sheet(world, VILLAGE)
    url = f"/api/v1/sheets/{sheet.id}/scores/A3"
    first = client.put(url, json={"deductions": [{"code": "A3-1", "count": 2}], "version": 0}).get_json()
    second = client.put(url, json={"deductions": [{"code": "A3-1", "count": 1}], "version": first["version"]})
    third = client.put(url, json={"deductions": [], "version": second.get_json()["version"]}).get_json()
    assert second.get_json()["deductions"] == [{"code": "A3-1", "count": 1}]
    assert third["deductions"] == [] and third["version"] == 3
    db.session.expire_all()
    fresh = next(i for i in client.get(f"/api/v1/sheets/{sheet.id}").get_json()["indicators"] if i["code"] == "A3")
    assert fresh["deductions"] == [] and fresh["score"] == third["score"] and fresh["version"] == 3
    assert from_rows(sheet.id)[0] == Decimal(third["score"])
