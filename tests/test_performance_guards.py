"""Regression guards for issue 9: work that must not grow with the number of units, and the results cache.

Query counts, not timings: the count of SQL statements is exact on any machine, and a query per row shows up as a
count that grows from 10 units to 100.
"""
from decimal import Decimal

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Round, Sheet, User
from evalapp.services.scale import generate
from tests.conftest import make_user
from tests.factories import PILOT_DISTRICT, VILLAGE, another_round, app_of_world, make_round, make_sheet  # noqa: F401
from tests.test_reconcile import team  # noqa: F401  (both members of a team scored 荷塘村 and submitted)
from tests.test_results import completed  # noqa: F401  (the round below, scored and approved)


@pytest.fixture
def world(empty_app):
    """A round of the test's own in inspection over factories.PILOT_DISTRICT (13 units), self-assessments
    submitted: what test_results' `completed` and test_reconcile's `team` build on."""
    return make_round("inspection", townships=PILOT_DISTRICT, self_assessed=True)


from tests.statements import counting  # noqa: E402  (beside the tests that use it)


def _open_for_scoring(round_: Round) -> tuple[User, Sheet]:
    """The round back in inspection with one inspector sheet editable, and that inspector able to log in."""
    from evalapp.services.accounts import hash_password

    sheet = db.session.scalar(select(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "inspector")
                              .order_by(Sheet.id.desc()))
    inspector = sheet.inspector
    inspector.password_hash = hash_password("demo-pass-2021")
    sheet.status = "draft"
    round_.status = "inspection"
    db.session.commit()
    return inspector, sheet


def _costs(app, townships: int, villages: int, seed: int) -> dict[str, int]:
    """Statements run by each hot path on a generated district of townships × (1 + villages) units."""
    from evalapp.services.downloads import eligibility_workbook, results_workbook
    from evalapp.services.results import round_report

    round_ = generate(townships, villages, seed=seed)
    inspector, sheet = _open_for_scoring(round_)
    make_user(f"district{seed}", "district")
    db.session.commit()
    costs = {}
    for name, run in (
        ("results", lambda: round_report(round_)),
        ("workbook", lambda: results_workbook(round_, inspector)),
        ("subsidy", lambda: eligibility_workbook(round_, inspector)),
    ):
        run()  # warm: the first call may load what later calls find in the session
        db.session.expire_all()
        with counting() as statements:
            run()
        costs[name] = len(statements)
    client = app.test_client()
    client.post("/login", data={"username": inspector.username, "password": "demo-pass-2021"})
    assert client.get(f"/inspection/sheets/{sheet.id}").status_code == 200
    with counting() as statements:
        assert client.get(f"/inspection/sheets/{sheet.id}").status_code == 200
    costs["scoring page"] = len(statements)
    district = app.test_client()
    district.post("/login", data={"username": f"district{seed}", "password": "demo-pass-2021"})
    assert district.get(f"/results/rounds/{round_.id}").status_code == 200
    with counting() as statements:
        assert district.get(f"/results/rounds/{round_.id}?page=2").status_code == 200
    costs["results page"] = len(statements)
    # The lists that grow with the units: the team leader's worklist (own sheets and the team's final sheets,
    # with the to-dos), and the district's home page with every final sheet in its review queue.
    from sqlalchemy import update

    from evalapp.services.accounts import hash_password

    leader = db.session.get(User, db.session.scalar(select(Round).where(Round.id == round_.id)).teams[0].leader_id)
    leader.password_hash = hash_password("demo-pass-2021")
    db.session.execute(update(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "final")
                       .values(status="submitted"))
    # The district's home shows each round's progress (a fixed number of queries per round): an earlier call's
    # round goes back to set-up, so both calls measure one round.
    db.session.execute(update(Round).where(Round.id != round_.id).values(status="setup"))
    db.session.commit()
    inspector_client = app.test_client()
    inspector_client.post("/login", data={"username": leader.username, "password": "demo-pass-2021"})
    for name, path, client in (("worklist", "/inspection/", inspector_client),
                               ("district home", "/results/", district)):
        assert client.get(path).status_code == 200
        with counting() as statements:
            html = client.get(path).get_data(as_text=True)
        assert html.count("data-sheet=") == min(50, townships * (villages + 1))  # a page of the list
        # cut in SQL, not loaded whole and sliced: the sheets come from a statement with a LIMIT
        assert any(s.lstrip().startswith("SELECT sheets.id") and "LIMIT" in s for s in statements), name
        costs[name] = len(statements)
    return costs


def test_query_counts_are_the_same_for_10_and_100_units(empty_app):
    small = _costs(empty_app, 2, 4, seed=11)     # 2 × (1 + 4) = 10 units
    large = _costs(empty_app, 5, 19, seed=12)    # 5 × (1 + 19) = 100 units
    assert small == large, (small, large)
    assert all(n > 0 for n in small.values())


def _version_of(sheet, code: str) -> int:
    from evalapp.models import Indicator, Score

    return db.session.scalar(select(Score.version).join(Indicator, Indicator.id == Score.indicator_id)
                             .where(Score.sheet_id == sheet.id, Indicator.code == code)) or 0


def test_the_results_version_moves_with_what_results_read_only(world, login_as):
    """Round results read units, rounds, catalogues, self-assessments and final sheets: the services changing them
    bump the round's results version once per save; an inspector's own sheet (what the final is reconciled from)
    bumps nothing."""
    from evalapp.services.versions import results_version
    from tests.conftest import fill_all

    sheet = make_sheet(world, VILLAGE)
    own = make_sheet(another_round(world, "self_assessment", "2032年度全面推行测试评估验收"), VILLAGE, "self")
    before = {r: results_version(r) for r in (sheet.round_id, own.round_id)}
    login_as("district")  # a log-in writes sessions and users, not results
    inspector = login_as("inspector")
    fill_all(inspector, sheet)  # every indicator of an inspector's own sheet
    assert inspector.post(f"/api/v1/sheets/{sheet.id}/submit").status_code == 200
    assert {r: results_version(r) for r in before} == before
    village = login_as("village")
    version = _version_of(own, "A1")
    assert village.put(f"/api/v1/sheets/{own.id}/scores/A1",
                       json={"deductions": [], "version": version}).status_code == 200
    assert results_version(own.round_id) == before[own.round_id] + 1  # a self-assessment is read by the results
    assert results_version(sheet.round_id) == before[sheet.round_id]  # the other round's stays
    refused = village.put(f"/api/v1/sheets/{own.id}/scores/A1",  # a stale version with another value
                          json={"score": "0", "reason": "核查", "version": version})
    assert refused.status_code == 409  # rolled back: nothing changed, nothing bumped
    assert results_version(own.round_id) == before[own.round_id] + 1


def test_the_leaders_final_sheet_and_its_moves_count(team):  # noqa: F811
    from evalapp.services.versions import results_version

    final = team["final"]
    before = results_version(final.round_id)
    response = team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/score",
                                   data={"code": "A3", "score": "6", "reason": "复核走访记录", "version": "0"})
    assert response.status_code == 302
    assert results_version(final.round_id) == before + 1
    assert team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/accept-all").status_code == 302
    accepted = results_version(final.round_id)
    assert accepted == before + 2  # accept-all is one unit of work: one bump for every indicator it took
    # A final sheet's status is what turns 未完成 into a result: its moves count too.
    assert team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/submit").status_code == 302
    db.session.refresh(final)
    assert final.status == "submitted"
    assert results_version(final.round_id) == accepted + 1


def test_an_inspectors_save_keeps_the_cached_results_and_they_stay_right(completed, app):  # noqa: F811
    """While a province scores, inspectors' saves leave the cached report (it never read their sheets); a final
    sheet's change still makes the next view compute afresh."""
    from evalapp.models import Indicator
    from evalapp.services import readmodel
    from evalapp.services.results import round_report

    def same(a, b):
        return (a.rows, a.townships, a.summary) == (b.rows, b.townships, b.summary)

    readmodel.live_report(completed)
    inspector_sheet = db.session.scalar(select(Sheet).where(Sheet.round_id == completed.id,
                                                            Sheet.kind == "inspector").order_by(Sheet.id))
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == completed.id, Sheet.kind == "final",
                                                  Sheet.unit_id == inspector_sheet.unit_id))
    indicator = db.session.get(Indicator, max(final.scores, key=lambda s: s.points).indicator_id)  # > 0 points
    user = db.session.scalar(select(User).where(User.role == "district"))

    def save(sheet, points):
        _change_score(sheet, indicator, user, _version_of(sheet, indicator.code), points)

    save(inspector_sheet, "0")
    with counting() as statements:
        report = readmodel.live_report(completed)
    assert not any("round_units" in s for s in statements)  # served from the cache
    assert same(report, round_report(completed))          # and still what a fresh computation gives

    row = next(r for r in report.rows if r.unit.final_sheet_id == final.id)
    save(final, "0")
    with counting() as statements:
        after = readmodel.live_report(completed)
    assert any("round_units" in s for s in statements)      # computed afresh
    assert next(r for r in after.rows if r.unit.final_sheet_id == final.id).unit.final_total < row.unit.final_total


def test_results_page_reuses_its_report_until_a_score_changes(completed, app, login_as):  # noqa: F811
    district = login_as("district")
    first = district.get(f"/results/rounds/{completed.id}").get_data(as_text=True)
    with counting() as statements:
        again = district.get(f"/results/rounds/{completed.id}").get_data(as_text=True)
    assert _without_csrf(again) == _without_csrf(first)
    assert not any("FROM scores" in s or "FROM sheets" in s for s in statements)  # served from the cache
    # Publishing changes the round: the page shows it at once.
    assert 'data-testid="draft"' in again
    assert district.post(f"/results/rounds/{completed.id}/publish",
                         data={"confirm_no_subsidy": "1", "confirm_incomplete": "1"}).status_code in (302, 303)
    published = district.get(f"/results/rounds/{completed.id}").get_data(as_text=True)
    assert 'data-testid="draft"' not in published


def _without_csrf(html: str) -> str:
    """The page with its CSRF tokens blanked: a token is signed with the second it was made in, so two renders a
    second apart differ there and only there (the header's log-out form and the page's forms alike)."""
    import re

    return re.sub(r'(name="csrf_token"(?: type="hidden")? value=")[^"]+"', r'\1"', html)


def test_results_page_is_paginated_and_keeps_the_filters(completed, app, login_as):  # noqa: F811
    app.config["RESULTS_PAGE_SIZE"] = 4
    district = login_as("district")
    html = district.get(f"/results/rounds/{completed.id}?level=village").get_data(as_text=True)
    units = html.split('data-testid="units"')[1].split("</table>")[0]
    assert units.count("data-unit=") == 4
    assert 'data-testid="pager-page"' in html and "第1/" in html
    second = district.get(f"/results/rounds/{completed.id}?level=village&page=2").get_data(as_text=True)
    page2 = second.split('data-testid="units"')[1].split("</table>")[0]
    assert page2.count("data-unit=") >= 1 and not set(_units(page2)) & set(_units(units))
    assert "level=village" in second.split('data-testid="pager-page"')[1].split("</nav>")[0]
    for bad in ("abc", "-3", "99999", "1e9", "\x00"):
        response = district.get(f"/results/rounds/{completed.id}", query_string={"page": bad})
        assert response.status_code == 200


def _units(html: str) -> list[str]:
    import re

    return re.findall(r'data-unit="([^"]+)"', html)


def _store_final(sheet, score, points: Decimal) -> None:
    """A final sheet's score changed as the service that stores scores changes it."""
    from evalapp.models import Indicator

    user = db.session.scalar(select(User).where(User.role == "district"))
    _change_score(sheet, db.session.get(Indicator, score.indicator_id), user, score.version, points)


def _change_score(sheet, indicator, user, version: int, points) -> None:
    """A score changed as a save changes it — the row (scores.write_score), the sheet's figures, the results
    version — written directly: the sheets of these rounds are submitted and approved, closed to their owners'
    saves (figures.open_to_owner), and what is tested is what the caches make of a change."""
    from evalapp.services import versions
    from evalapp.services.figures import refresh_figures
    from evalapp.services.scores import write_score

    write_score(sheet, indicator, user, version, points=Decimal(points), direct_score=Decimal(points),
                free_deduction=Decimal(0), reason="测试", note="", deductions={})
    refresh_figures(Sheet.id == sheet.id)
    versions.bump_sheet(sheet)
    db.session.commit()


@pytest.mark.parametrize("total", [Decimal("95.00"), Decimal("94.99")])
def test_cached_results_still_apply_the_threshold(completed, login_as, total):  # noqa: F811
    """A final score saved through the service reaches the cached results, the threshold applied (95.00 passes)."""
    from evalapp.services import readmodel

    report = readmodel.live_report(completed)
    final = next(r for r in report.rows if r.unit.level == "village" and r.unit.result.value == "pass")
    sheet = db.session.get(Sheet, final.unit.final_sheet_id)
    score = max(sheet.scores, key=lambda s: s.points)
    _store_final(sheet, score, score.points - (final.unit.final_total - total))
    again = next(r for r in readmodel.live_report(completed).rows if r.unit.code == final.unit.code)
    assert again.unit.final_total == total
    assert again.unit.result.value == ("pass" if total >= 95 else "fail")


def test_with_many_townships_the_filter_is_typed_by_name_or_code(completed, login_as, monkeypatch):  # noqa: F811
    from evalapp.results import routes

    monkeypatch.setattr(routes, "TOWNSHIP_CHOICES", 2)  # the district's 5 townships count as "many" here
    # PILOT_DISTRICT: 清溪镇 has 荷塘村 and 柳湾社区, 白沙镇 has 石桥村 and 杏林村
    district = login_as("district")
    html = district.get(f"/results/rounds/{completed.id}").get_data(as_text=True)
    assert '<input class="form-control" id="f-township" name="township"' in html
    assert '<select class="form-select" id="f-township"' not in html
    by_name = district.get(f"/results/rounds/{completed.id}", query_string={"township": "白沙"}).get_data(as_text=True)
    units = by_name.split('data-testid="units"')[1].split("</table>")[0]
    assert "石桥村" in units and "荷塘村" not in units
    assert 'value="白沙"' in by_name  # what was typed stays in the box
    exact = district.get(f"/results/rounds/{completed.id}", query_string={"township": "清溪镇"}).get_data(as_text=True)
    assert "荷塘村" in exact.split('data-testid="units"')[1] and "石桥村" not in exact.split('data-testid="units"')[1]


def test_a_typed_township_prefers_the_exact_name_then_any_name_containing_it():
    from types import SimpleNamespace as NS

    from evalapp.results.routes import township_codes

    report = NS(townships=[NS(township=NS(unit=NS(code=c, name=n)))
                           for c, n in (("T1", "测试镇1"), ("T10", "测试镇10"), ("T2", "测试镇2"))] + [NS(township=None)])
    assert township_codes(report, "测试镇1") == {"测试镇1", "T1"}                  # exact name: not 测试镇10
    assert township_codes(report, "测试镇") == {"测试镇", "T1", "T10", "T2"}       # part of a name: all of them
    assert township_codes(report, "T10") == {"T10"}                               # a code
    assert township_codes(report, "") == set()


def test_autosave_and_scoring_page_statements(world, login_as):
    """A fixed number of statements, each a plain one: a scoring page reads 5 (session, sheet, the inspector's
    team check, scores, photos); an autosave 8 on either database (session, sheet with its row lock on PostgreSQL,
    team check, score, its insert, the sheet's figures recomputed with RETURNING — the answer is made from them,
    not read back — the rows the audit row links to and the audit row; refresh_sheet(locked=True) takes no second
    lock: the load holds it)."""
    client = login_as("inspector")
    sheet_id = make_sheet(world, VILLAGE).id  # (the test's own session reloads an object after a request)
    assert client.get(f"/inspection/sheets/{sheet_id}").status_code == 200
    with counting() as page:
        assert client.get(f"/inspection/sheets/{sheet_id}").status_code == 200
    assert len(page) == 5, [s[:90] for s in page]
    with counting() as save:
        response = client.put(f"/api/v1/sheets/{sheet_id}/scores/A1", json={"deductions": [], "version": 0})
    assert response.status_code == 200, response.get_json()
    postgresql = db.engine.dialect.name == "postgresql"
    assert len(save) == 8, [s[:90] for s in save]
    load = next(s for s in save if "FROM sheets" in s)
    if postgresql:
        assert "FOR NO KEY UPDATE OF sheets" in load
    # An inspector of another team still gets nothing: the check is the same, only asked in the same query.
    other = login_as("inspector2")  # the second team's inspector
    assert other.get(f"/inspection/sheets/{sheet_id}").status_code == 404
    assert other.put(f"/api/v1/sheets/{sheet_id}/scores/A1", json={"deductions": [], "version": 1}).status_code == 404


def test_exports_reuse_the_current_report_and_see_every_change(completed, app):  # noqa: F811
    """The district workbook and the eligibility sheet take their totals from the results page's cached report
    while the change counter says it is current, and from a fresh one as soon as anything changed."""
    import openpyxl

    from evalapp.services import readmodel
    from evalapp.services.downloads import results_workbook

    district = db.session.scalar(select(User).where(User.role == "district"))
    report = readmodel.live_report(completed)
    with counting() as statements:
        results_workbook(completed, district)
        readmodel.round_model(completed, extras=True)
    assert not any("round_units" in s for s in statements), "the results were computed again"

    row = next(r for r in report.rows if r.unit.level == "village" and r.unit.result.value == "pass")
    sheet = db.session.get(Sheet, row.unit.final_sheet_id)
    score = max(sheet.scores, key=lambda s: s.points)
    expected = row.unit.final_total - score.points
    _store_final(sheet, score, Decimal("0"))

    buffer, _ = results_workbook(completed, district)
    ws = openpyxl.load_workbook(buffer)["村(社区)"]
    line = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[1] == row.unit.code)
    assert Decimal(str(line[5])).quantize(Decimal("0.01")) == expected
    assert line[6] == ("合格" if expected >= completed.threshold else "不合格")
    assert next(x for x in readmodel.round_model(completed, extras=True).lines if x.row.unit.code == row.unit.code).row.unit.final_total \
        == expected
