"""The explicit results version (issue 16): every service that changes what a round's results read bumps the
round's version in its own transaction, so the cached report is never stale; a publication committed between a
results page's reads never leaves later viewers a stale page; no text in the data can fool a cache.

The round is built with the factories and the services (no demo rows): two townships, three villages, one team of
two inspectors.
"""
import io
import threading
from dataclasses import astuple
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import select, update

from evalapp.domain.scoring import ScoreEntry
from evalapp.extensions import db
from evalapp.models import OrgUnit, Round, Sheet
from evalapp.services import imports, moves, publication, reconcile, rounds, scores, teams, units, versions
from evalapp.services.readmodel import live_report
from evalapp.services.results import round_report
from evalapp.services.seed import fill_sheet
from tests import factories
from tests.conftest import PG_URL


class World:
    """The round and its people, built through the services."""

    def __init__(self):
        self.units = factories.units({"甲镇": ["甲村", "乙社区"], "乙镇": ["丙村"]})
        self.admin = factories.user("admin1", "admin")
        self.district = factories.user("district1", "district")
        self.leader = factories.user("leader1", "inspector", display_name="组长甲")
        self.member = factories.user("member1", "inspector", display_name="成员乙")
        self.late = factories.user("member2", "inspector", display_name="成员丙")
        self.township = factories.user("town1", "township", self.units["甲镇"])
        self.scope = [self.units[n] for n in ("甲镇", "甲村", "乙镇", "丙村")]
        self.round = factories.round_("版本测试批次", self.scope, self.admin)
        self.team = factories.team(self.round, "第一组", self.leader, [self.member], self.scope, self.admin)

    def sheet(self, unit: str, kind: str, inspector=None) -> Sheet:
        query = select(Sheet).where(Sheet.round_id == self.round.id, Sheet.unit_id == self.units[unit].id,
                                    Sheet.kind == kind)
        if inspector is not None:
            query = query.where(Sheet.inspector_id == inspector.id)
        return db.session.scalar(query)

    def version_of(self, sheet: Sheet, code: str) -> int:
        from evalapp.models import Indicator, Score

        return db.session.scalar(select(Score.version).join(Indicator, Indicator.id == Score.indicator_id)
                                 .where(Score.sheet_id == sheet.id, Indicator.code == code)) or 0


@pytest.fixture
def world(empty_app):
    return World()


def _report_data(report) -> tuple:
    """Everything a report holds, as plain values (the round object is the caller's, not part of the data)."""
    return (tuple(astuple(r.unit) + (r.township_name,) for r in report.rows),
            tuple((t.township.unit.code if t.township else None, astuple(t.villages)) for t in report.townships),
            tuple((level, astuple(s)) for level, s in sorted(report.summary.items())))


def _fresh(round_id: int) -> tuple:
    db.session.expire_all()
    return _report_data(round_report(db.session.get(Round, round_id)))


def _cached(round_id: int) -> tuple:
    db.session.expire_all()
    return _report_data(live_report(db.session.get(Round, round_id)))


def test_every_service_that_changes_results_bumps_the_version(world):
    """Each step runs one service, with the report cached just before it: the cached report afterwards must equal a
    fresh one. A step marked `changes` must change the report (so a service that forgot to bump would leave the
    cached one stale and fail here); every step that touches what results read bumps the version; an inspector's
    own sheet bumps nothing and leaves the cached report right."""
    w = world
    rid = w.round.id
    village, township = w.units["甲村"], w.units["甲镇"]

    def self_score():
        sheet = w.sheet("甲村", "self")
        scores.save_score(sheet, "A1", ScoreEntry(direct=Decimal("1"), reason="自评扣分"), w.admin,
                          w.version_of(sheet, "A1"))

    def fill_finals_from_members():
        for name in ("甲镇", "甲村", "乙镇", "丙村"):
            reconcile.accept_all_proposals(w.sheet(name, "final"), w.leader)

    def member_fill_and_submit():
        for who in (w.leader, w.member):
            for name in ("甲镇", "甲村", "乙镇", "丙村"):
                sheet = w.sheet(name, "inspector", who)
                fill_sheet(sheet, who, f"{who.username}/{name}")
                moves.submit_sheet(sheet, who)

    def final_override():
        final = w.sheet("甲村", "final")
        reconcile.set_final_score(final, "A1", "0", "走访记录缺失", w.leader, w.version_of(final, "A1"))

    def bonus_and_veto():
        final = w.sheet("丙村", "final")
        bonus = [b.code for b in final.round.catalogue_for("village").bonus_items][:1]
        veto = [v.code for v in final.round.catalogue_for("village").veto_items][:1]
        reconcile.set_bonus_and_veto(final, bonus, {veto[0]: "核实存在问题"}, w.leader)

    def submit_finals():
        for name in ("甲镇", "甲村", "乙镇", "丙村"):
            moves.submit_sheet(w.sheet(name, "final"), w.leader)

    def approve(name):
        return lambda: moves.approve_sheet(w.sheet(name, "final"), w.district)

    def return_final():
        moves.return_sheet(w.sheet("乙镇", "final"), w.district, "请复核")

    def resubmit_final():
        moves.submit_sheet(w.sheet("乙镇", "final"), w.leader)

    def workbook(rows):
        book = Workbook()
        sheet = book.active
        sheet.append(["编码", "名称", "类型", "上级编码"])
        for row in rows:
            sheet.append(row)
        data = io.BytesIO()
        book.save(data)
        return data.getvalue()

    steps = [
        # (what, service call, changes the report, bumps)
        ("scope", lambda: rounds.set_scope(w.round, {u.id for u in w.scope} | {w.units["乙社区"].id}, w.admin),
         True, True),
        ("settings", lambda: rounds.update_settings(w.round, {"threshold": "90", "tolerance": "1"}, w.admin),
         False, True),
        ("advance to self-assessment", lambda: rounds.advance(w.round, w.admin), True, True),
        ("self-assessment score", self_score, True, True),
        ("scope after self sheets", lambda: rounds.set_scope(w.round, {u.id for u in w.scope}, w.admin),
         True, True),
        ("advance to inspection", lambda: rounds.advance(w.round, w.admin), True, True),
        ("a member joins", lambda: teams.add_member(w.team, w.late.username, w.admin), False, True),
        ("a member leaves", lambda: teams.remove_member(w.team, w.late.id, w.admin, confirm=True), False, False),
        ("inspectors score and submit", member_fill_and_submit, False, False),
        ("final decided from the members", fill_finals_from_members, True, True),
        ("final value overridden", final_override, True, True),
        ("bonus and veto", bonus_and_veto, True, True),
        ("finals submitted", submit_finals, False, True),
        ("final approved", approve("甲村"), True, True),
        ("final returned", return_final, False, True),
        ("final resubmitted", resubmit_final, False, True),
        ("finals approved", lambda: [approve(n)() for n in ("甲镇", "乙镇", "丙村")], True, True),
        ("threshold", lambda: rounds.update_settings(w.round, {"threshold": "99.5", "tolerance": "0.5"}, w.admin),
         True, True),
        ("unit renamed", lambda: units.update_unit(village, "甲村（更名）", village.kind, township.code, w.admin),
         True, True),
        ("township renamed", lambda: units.update_unit(township, "甲镇（更名）", township.kind, "430699", w.admin),
         True, True),
        ("unit moved", lambda: units.update_unit(w.units["丙村"], "丙村", "村", township.code, w.admin), True, True),
        ("unit deactivated", lambda: units.set_active(w.units["丙村"], False, w.admin), False, True),
        ("unit created", lambda: units.create_unit("430699009", "新建镇", "镇", "430699", w.admin), False, True),
        ("units imported", lambda: imports.import_units(
            workbook([[w.units["丙村"].code, "丙村（导入）", "村", township.code]]), w.admin), True, True),
        ("published", lambda: publication.publish(db.session.get(Round, rid), w.district, confirm_incomplete=True, confirm_no_subsidy=True),
         False, True),
        ("final unlocked", lambda: publication.unlock(w.sheet("甲村", "final"), w.admin, "更正"), True, True),
    ]
    for what, step, changes, bumps in steps:
        before_version = versions.results_version(rid)
        before = _cached(rid)  # cached now, under the version before the step
        step()
        db.session.expire_all()
        after_version = versions.results_version(rid)
        fresh = _fresh(rid)
        assert _cached(rid) == fresh, f"{what}: the cached report is stale"
        if changes:
            assert fresh != before, f"{what}: the step should change the report (else it proves nothing)"
        if bumps:
            assert after_version > before_version, f"{what}: no bump"
        elif not changes:
            assert fresh == before, what
    assert db.session.get(Round, rid).status == "published"


def test_an_inspectors_sheet_bumps_nothing_and_the_cached_report_stays(world):
    w = world
    rounds.advance(w.round, w.admin)
    rounds.advance(w.round, w.admin)
    rid = w.round.id
    before = versions.results_version(rid)
    cached = _cached(rid)
    sheet = w.sheet("甲村", "inspector", w.member)
    fill_sheet(sheet, w.member, "x")
    moves.submit_sheet(sheet, w.member)
    assert versions.results_version(rid) == before
    assert _cached(rid) == cached == _fresh(rid)


def test_a_rename_bumps_every_round(world):
    w = world
    other = factories.round_("另一批次", w.scope, w.admin)
    before = {r: versions.results_version(r) for r in (w.round.id, other.id)}
    units.update_unit(w.units["甲村"], "甲村二", "村", w.units["甲镇"].code, w.admin)
    assert all(versions.results_version(r) > before[r] for r in before)


def test_a_refused_change_bumps_nothing(world):
    w = world
    rounds.advance(w.round, w.admin)
    rid = w.round.id
    before = versions.results_version(rid)
    with pytest.raises(Exception):
        rounds.update_settings(w.round, {"threshold": "500", "tolerance": "1"}, w.admin)
    db.session.rollback()
    assert versions.results_version(rid) == before


def test_a_publication_between_the_pages_two_reads_never_leaves_a_stale_page(world, empty_app):
    """The results page reads the round, then the report. A publication committed between the two (another
    worker, another request) may show this one request the round as it was, but never a later viewer."""
    from evalapp.services import readmodel as results_service  # where the page's model takes the report from

    w = world
    rounds.advance(w.round, w.admin)
    rounds.advance(w.round, w.admin)
    for who in (w.leader, w.member):
        for name in ("甲镇", "甲村", "乙镇", "丙村"):
            sheet = w.sheet(name, "inspector", who)
            fill_sheet(sheet, who, f"{who.username}/{name}")
            moves.submit_sheet(sheet, who)
    for name in ("甲镇", "甲村", "乙镇", "丙村"):
        final = w.sheet(name, "final")
        reconcile.accept_all_proposals(final, w.leader)
        moves.submit_sheet(final, w.leader)
        moves.approve_sheet(final, w.district)
    rid, district_id = w.round.id, w.district.id
    db.session.commit()

    def publish_elsewhere():
        with empty_app.app_context():
            from evalapp.models import User

            publication.publish(db.session.get(Round, rid), db.session.get(User, district_id),
                                confirm_incomplete=True, confirm_no_subsidy=True)
            db.session.remove()

    original = results_service.live_report
    raced = []

    def racing(round_):
        if not raced:  # the first view: the publication commits after the page read the round
            raced.append(round_.status)
            worker = threading.Thread(target=publish_elsewhere)
            worker.start()
            worker.join()
        return original(round_)

    first = factories_login(empty_app, "district1")
    results_service.live_report = racing
    try:
        page = first.get(f"/results/rounds/{rid}")
    finally:
        results_service.live_report = original
    assert page.status_code == 200 and raced == ["inspection"]
    db.session.expire_all()
    assert db.session.get(Round, rid).status == "published"
    later = factories_login(empty_app, "district1").get(f"/results/rounds/{rid}").get_data(as_text=True)
    assert 'data-testid="draft"' not in later and 'data-testid="publish"' not in later
    again = first.get(f"/results/rounds/{rid}").get_data(as_text=True)
    assert 'data-testid="draft"' not in again


def factories_login(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": factories.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.mark.skipif(bool(PG_URL), reason="PostgreSQL text cannot hold a NUL at all")
def test_a_nul_in_a_stored_name_gives_no_500(world, empty_app):
    """Names are refused with a NUL today (domain.text), but a row written before that, or behind the app's back,
    still renders: no cache keyed by markers in the HTML is left to trip on it."""
    w = world
    rounds.advance(w.round, w.admin)
    rounds.advance(w.round, w.admin)  # inspection: the district's page has its publish form
    db.session.execute(update(OrgUnit).where(OrgUnit.id == w.units["甲村"].id).values(name="甲\x00村"))
    versions.bump_every_round()
    db.session.commit()
    admin, district = factories_login(empty_app, "admin1"), factories_login(empty_app, "district1")
    for client, url in ((district, f"/results/rounds/{w.round.id}"),  # (its publish form comes after the name)
                        (district, f"/results/rounds/{w.round.id}?level=village"),
                        (district, f"/results/rounds/{w.round.id}/workbook.xlsx"),
                        (admin, f"/results/rounds/{w.round.id}"), (admin, "/admin/units/export.xlsx")):
        response = client.get(url)
        assert response.status_code == 200, url
    page = district.get(f"/results/rounds/{w.round.id}").get_data(as_text=True)
    assert 'data-unit="' + w.units["甲村"].code + '"' in page and 'data-testid="publish"' in page


def test_kept_result_rows_follow_the_version_the_language_and_never_hold_a_token(world, empty_app):
    """The results page keeps its rendered rows per results version, language and query (templating.kept): a
    rename shows at the next view, English rows are English, and the admin's rows with unlock forms (a CSRF token
    each) are rendered for every response."""
    from evalapp import templating

    w = world
    rounds.advance(w.round, w.admin)
    rounds.advance(w.round, w.admin)
    district = factories_login(empty_app, "district1")
    url = f"/results/rounds/{w.round.id}"
    first = district.get(url).get_data(as_text=True)
    assert '<span class="text-nowrap">甲村</span>' in first and templating._kept
    assert district.get(url).get_data(as_text=True).count('<span class="text-nowrap">甲村</span>') == 1  # served from what was kept
    units.update_unit(w.units["甲村"], "甲村（新）", "村", w.units["甲镇"].code, w.admin)
    renamed = district.get(url).get_data(as_text=True)
    assert '<span class="text-nowrap">甲村（新）</span>' in renamed and '<span class="text-nowrap">甲村</span>' not in renamed
    assert district.post("/lang", data={"lang": "en", "next": "/"}).status_code in (302, 303)
    english = district.get(url).get_data(as_text=True)
    assert "Village (community)" in english or "Village" in english.split('data-testid="units"')[1]
    assert "村(社区)</td>" not in english.split('data-testid="units"')[1]

    empty_app.config["WTF_CSRF_ENABLED"] = True
    try:
        for name in ("甲镇", "甲村", "乙镇", "丙村"):
            for who in (w.leader, w.member):
                sheet = w.sheet(name, "inspector", who)
                fill_sheet(sheet, who, f"{who.username}/{name}")
                moves.submit_sheet(sheet, who)
            final = w.sheet(name, "final")
            reconcile.accept_all_proposals(final, w.leader)
            moves.submit_sheet(final, w.leader)
            moves.approve_sheet(final, w.district)
        publication.publish(db.session.get(Round, w.round.id), w.district, confirm_incomplete=True, confirm_no_subsidy=True)
        admin = factories_login_csrf(empty_app, "admin1")
        pages = [admin.get(url).get_data(as_text=True) for _ in range(2)]
        tokens = [p.split('data-testid="unlock"')[1].split('name="csrf_token"')[1][:200] for p in pages]
        assert all('data-testid="unlock"' in p for p in pages) and tokens[0] != tokens[1]
    finally:
        empty_app.config["WTF_CSRF_ENABLED"] = False


def factories_login_csrf(app, username: str):
    """Log in through the form with CSRF on (the token from the log-in page)."""
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": factories.PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    return client
