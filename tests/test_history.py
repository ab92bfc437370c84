"""Issue 33, points 1–3: lineage across catalogue versions and units, a unit's history over published versions, and
the district's year-over-year comparison with its 连续失分 list.

Two rounds built with the factories: a 2021 pilot on the default catalogues, and a 2022 rollout whose village
catalogue is a copy edited with a renamed (B2 → B2X), a split (C2 → C2a + C2b) and a new indicator (E4), and whose
village 荷塘村 got an official code in between. Both published; every figure checked is computed here from the raw
published rows (PublishedScore, PublishedUnit) with fractions, not through evalapp's code.
"""
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
import yaml
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import (
    AuditEvent, CatalogueVersion, Indicator, IndicatorLineage, OrgUnit, Publication, PublishedScore, PublishedUnit,
    Round, Score, Sheet,
)
from evalapp.services import catalogue_io, lineage, publication, rounds as rounds_service
from evalapp.services.catalogues import indicators_of, load_tree
from evalapp.services.errors import Conflict, Invalid
from evalapp.services.figures import refresh_figures
from evalapp.services.moves import move_sheet
from tests.factories import (
    OTHER_TOWNSHIP, OTHER_VILLAGE, PASSWORD, TOWNSHIP, VILLAGE, make_round, team,
)

NEW_CODE = "430699001901"  # 荷塘村's official code, imported between the rounds
PILOT = {TOWNSHIP: {"A2": "2"}, OTHER_TOWNSHIP: {},
         VILLAGE: {"A1": "1", "B2": "2", "C2": "3", "E2": "6"},
         OTHER_VILLAGE: {"A1": "1", "B3": "1"}}
ROLLOUT = {TOWNSHIP: {"A2": "2.5"}, OTHER_TOWNSHIP: {"A1": "0"},
           VILLAGE: {"A1": "1", "B2X": "2", "C2a": "1", "E2": "6", "E4": "0"},
           OTHER_VILLAGE: {"A1": "3", "B2X": "1"}}


def _score(round_, unit, points: dict[str, str], admin) -> None:
    """The unit's final sheet: the points given, every other indicator full; approved (a fixture, written directly
    as tests/test_publication_snapshot.py does)."""
    sheet = db.session.scalar(select(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "final",
                                                  Sheet.unit_id == unit.id))
    for ind in indicators_of(load_tree(round_.catalogue_for(unit.level).id)):
        value = Decimal(points.get(ind.code, ind.points))
        db.session.add(Score(sheet_id=sheet.id, indicator_id=ind.id, points=value, direct_score=value,
                             reason="组长按实地核查确定" if value < ind.points else "", updated_by_id=admin.id))
    db.session.flush()
    refresh_figures(Sheet.id == sheet.id)
    db.session.commit()
    for member in db.session.scalars(select(Sheet).where(Sheet.round_id == round_.id, Sheet.unit_id == unit.id,
                                                         Sheet.kind == "inspector")):
        move_sheet(member, "submitted", admin)
    move_sheet(sheet, "submitted", admin)
    move_sheet(sheet, "approved", admin)


def _publish(round_, people, scores) -> None:
    for name, points in scores.items():
        _score(round_, db.session.scalar(select(OrgUnit).where(OrgUnit.name == name)), points, people["admin"])
    rounds_service.advance(round_, people["admin"], confirm=True)
    publication.publish(round_, people["district"], confirm_no_subsidy=True)


def edited_copy(village_catalogue, admin) -> CatalogueVersion:
    """The pilot's village catalogue copied, then edited as a draft: B2 renamed B2X, C2 split into C2a and C2b, E2
    cut from 8 to 6 points for a new E4 of 2."""
    copy = catalogue_io.clone(village_catalogue, admin)
    plain = catalogue_io.to_plain(copy)
    for cat in plain["categories"]:
        out = []
        for ind in cat["indicators"]:
            if ind["code"] == "B2":
                ind["code"], ind["title"] = "B2X", ind["title"] + "（更名）"
                for n, rule in enumerate(ind["deductions"]):
                    rule["code"] = f"B2X-{n + 1}"
            if ind["code"] == "C2":
                for part, points in (("a", 4), ("b", 3)):
                    out.append({**ind, "code": f"C2{part}", "points": points, "title": ind["title"] + part,
                                "deductions": [{**r, "code": f"C2{part}-{n + 1}"}
                                               for n, r in enumerate(ind["deductions"])]})
                continue
            if ind["code"] == "E2":
                ind["points"] = 6
                out.append(ind)
                out.append({**ind, "code": "E4", "points": 2, "title": "新增指标",
                            "deductions": [{**r, "code": f"E4-{n + 1}"} for n, r in enumerate(ind["deductions"])]})
                continue
            out.append(ind)
        cat["indicators"] = out
    return catalogue_io.replace_draft(copy, yaml.safe_dump(plain, allow_unicode=True), admin)


@pytest.fixture
def two_rounds(empty_app):
    w = make_round("inspection", "2021年度试点评估验收")
    people, admin = w.people, w.people["admin"]
    _publish(w.round, people, PILOT)
    v1 = w.round.village_catalogue
    v2 = edited_copy(v1, admin)
    lineage.save(v2, {**{c: ("same", [c]) for c in lineage.codes_of(v2.id) if c in lineage.codes_of(v1.id)},
                      "B2X": ("renamed", ["B2"]), "C2a": ("split", ["C2"]), "C2b": ("split", ["C2"]),
                      "E4": ("new", [])}, admin)
    lineage.recode_unit(w.units[VILLAGE], NEW_CODE, "official_code", admin)
    r2 = rounds_service.create_round({
        "name": "2022年度全面推行评估验收", "rollout": "full", "threshold": "95", "tolerance": "1",
        "township_catalogue_id": str(w.round.township_catalogue_id), "village_catalogue_id": str(v2.id)}, admin)
    scope = [w.units[n] for n in (TOWNSHIP, VILLAGE, OTHER_TOWNSHIP, OTHER_VILLAGE)]
    rounds_service.set_scope(r2, {u.id for u in scope}, admin)
    team(r2, "第一工作组", people["leader"], [people["inspector"]], scope[:2], admin)
    team(r2, "第二工作组", people["inspector2"], [], scope[2:], admin)
    rounds_service.advance(r2, admin, confirm=True)
    rounds_service.advance(r2, admin, confirm=True)
    _publish(r2, people, ROLLOUT)
    return {"world": w, "r1": w.round, "r2": r2, "v1": v1, "v2": v2}


# ---------------------------------------------------------------- raw figures, computed here


def _raw_rates(unit_id: int) -> dict[tuple[int, str], Fraction]:
    """(year, indicator code) → points ÷ maximum of the unit's rows in each round's last version."""
    out = {}
    for year, points, maximum, code in db.session.execute(
            select(Round.year, PublishedScore.points, PublishedScore.max_points, PublishedScore.indicator_code)
            .join(Publication, Publication.id == PublishedScore.publication_id)
            .join(Round, Round.id == Publication.round_id)
            .join(PublishedUnit, (PublishedUnit.publication_id == Publication.id)
                  & (PublishedUnit.code == PublishedScore.unit_code))
            .where(PublishedUnit.unit_id == unit_id)):
        out[(year, code)] = Fraction(points) / Fraction(maximum)
    return out


def _pct(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


# ---------------------------------------------------------------- point 1: lineage


def test_a_copy_is_filled_for_identical_codes_and_the_admin_confirms_renamed_split_and_new(two_rounds):
    v1, v2 = two_rounds["v1"], two_rounds["v2"]
    found = lineage.lineage_of(v2.id)
    assert found.predecessor_id == v1.id and found.confirmed_at is not None and not found.frozen
    links = {(link.old_code, link.new_code): link.relation for link in found.links}
    assert links[("B2", "B2X")] == "renamed" and links[("A1", "A1")] == "same" and links[(None, "E4")] == "new"
    assert links[("C2", "C2a")] == links[("C2", "C2b")] == "split"
    assert ("C2", None) not in links and ("B2", None) not in links  # named by the admin: not retired
    assert lineage.comparable_between(v1.id, v2.id) == {c: c for c in lineage.codes_of(v1.id)
                                                        if c not in ("B2", "C2")} | {"B2": "B2X"}
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "catalogue.lineage")) is not None


def test_an_edited_draft_keeps_its_lineage_filled_for_identical_codes(empty_app):
    w = make_round("setup")
    v1 = w.round.village_catalogue
    copy = catalogue_io.clone(v1, w.people["admin"])
    links = {(x.old_code, x.new_code): x.relation for x in lineage.lineage_of(copy.id).links}
    assert set(links.values()) == {"same"} and len(links) == len(lineage.codes_of(v1.id))
    plain = catalogue_io.to_plain(copy)
    plain["categories"][0]["indicators"][0]["code"] = "A1N"
    for n, rule in enumerate(plain["categories"][0]["indicators"][0]["deductions"]):
        rule["code"] = f"A1N-{n}"
    edited = catalogue_io.replace_draft(copy, yaml.safe_dump(plain, allow_unicode=True), w.people["admin"])
    links = {(x.old_code, x.new_code): x.relation for x in lineage.lineage_of(edited.id).links}
    assert links[(None, "A1N")] == "new" and links[("A1", None)] == "retired" and links[("A2", "A2")] == "same"


def test_relations_that_do_not_hold_are_refused_with_a_message_per_indicator_and_a_frozen_lineage_is_not_edited(
        two_rounds):
    v2, admin = two_rounds["v2"], two_rounds["world"].people["admin"]
    before = [(x.old_code, x.new_code, x.relation) for x in lineage.lineage_of(v2.id).links]
    with pytest.raises(Invalid) as bad:
        lineage.save(v2, {"B2X": ("renamed", ["ZZ"]), "C2a": ("split", ["C2"])}, admin)
    assert set(bad.value.fields) >= {"B2X", "C2a"}
    assert lineage.freeze_lineage(v2, back_to=two_rounds["v1"]) == [lineage.lineage_of(v2.id).id]
    db.session.commit()
    with pytest.raises(Conflict):
        lineage.save(v2, {"B2X": ("renamed", ["B2"])}, admin)
    assert [(x.old_code, x.new_code, x.relation) for x in db.session.scalars(
        select(IndicatorLineage).where(IndicatorLineage.lineage_id == lineage.lineage_of(v2.id).id)
        .order_by(IndicatorLineage.position))] == before


def test_a_recoded_unit_keeps_its_old_code_in_its_lineage(two_rounds):
    village = two_rounds["world"].units[VILLAGE]
    assert village.code == NEW_CODE
    [row] = lineage.unit_lineage(village.id)
    assert (row.change, row.old_code, row.new_code) == ("official_code", "430699001001", NEW_CODE)
    with pytest.raises(Invalid):
        lineage.recode_unit(village, "12", "official_code", two_rounds["world"].people["admin"])


# ---------------------------------------------------------------- point 2: a unit's history


def test_the_village_history_shows_both_rounds_and_compares_through_lineage(two_rounds, empty_app):
    village = two_rounds["world"].units[VILLAGE]
    from evalapp.services import history

    found = history.unit_history(village)
    assert [str(e.ref.label) for e in found.entries] == ["2021 第1版", "2022 第1版"]
    assert [e.code for e in found.entries] == ["430699001001", NEW_CODE]  # the code each version holds
    raw = _raw_rates(village.id)
    rows = {u.publication_id: u for u in db.session.scalars(select(PublishedUnit).where(
        PublishedUnit.unit_id == village.id))}
    for e in found.entries:
        assert e.total == rows[e.ref.publication_id].final_total and e.ref.threshold == Decimal("95.00")
        assert e.result.value == rows[e.ref.publication_id].result
        for rate in e.indicators:
            assert rate.rate == _pct(raw[(e.ref.year, rate.code)])
    [pair] = found.comparisons
    assert str(pair.label) == "2021 第1版 vs 2022 第1版" and pair.linked
    by_code = {c.code: c for c in pair.indicators}
    assert by_code["B2X"].before.code == "B2" and by_code["B2X"].relation == "renamed"
    assert by_code["B2X"].before.rate == _pct(raw[(2021, "B2")])
    assert by_code["C2a"].before is None and by_code["C2a"].relation == "split"
    assert by_code["E4"].before is None and by_code["E4"].relation == "new"
    assert by_code["E2"].delta == _pct(raw[(2022, "E2")]) - _pct(raw[(2021, "E2")])  # maxima 8 then 6
    # category C at category level: Σ points ÷ Σ maxima of its indicators in each version
    cat_c = {}
    for year, catalogue in ((2021, two_rounds["v1"]), (2022, two_rounds["v2"])):
        codes = set(db.session.scalars(select(Indicator.code).where(Indicator.catalogue_id == catalogue.id,
                                                                    Indicator.code.like("C%"))))
        pts = [(p, m) for p, m, c in db.session.execute(
            select(PublishedScore.points, PublishedScore.max_points, PublishedScore.indicator_code)
            .join(PublishedUnit, (PublishedUnit.publication_id == PublishedScore.publication_id)
                  & (PublishedUnit.code == PublishedScore.unit_code))
            .join(Publication, Publication.id == PublishedScore.publication_id)
            .join(Round, Round.id == Publication.round_id)
            .where(PublishedUnit.unit_id == village.id, Round.year == year)) if c in codes]
        cat_c[year] = _pct(Fraction(sum(Fraction(p) for p, _ in pts)) / Fraction(sum(Fraction(m) for _, m in pts)))
    cat = next(c for c in pair.categories if c.code == "C")
    assert (cat.before.rate, cat.after.rate) == (cat_c[2021], cat_c[2022])
    assert found.chart["labels"] == ["2021 第1版", "2022 第1版"]


def _login(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_the_history_page_names_the_versions_compared_and_is_scoped(two_rounds, empty_app):
    w = two_rounds["world"]
    vid, tid = w.units[VILLAGE].id, w.units[TOWNSHIP].id
    page = _login(empty_app, "village").get(f"/results/units/{vid}/history")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "2021 第1版 vs 2022 第1版" in text and 'id="history-chart"' in text
    assert re.search(r"B2X.*?更名", text, re.S)
    assert _login(empty_app, "village").get(f"/results/units/{tid}/history").status_code == 404
    assert _login(empty_app, "outsider_village").get(f"/results/units/{vid}/history").status_code == 404
    assert _login(empty_app, "township").get(f"/results/units/{vid}/history").status_code == 200
    assert _login(empty_app, "finance").get(f"/results/units/{vid}/history").status_code == 404
    assert _login(empty_app, "district").get(f"/results/units/{tid}/history").status_code == 200


# ---------------------------------------------------------------- point 3: across the district


def test_the_district_comparison_counts_like_with_like_and_lists_consecutive_losses(two_rounds, empty_app):
    from evalapp.services import history

    r1, r2 = two_rounds["r1"], two_rounds["r2"]
    found = history.district(below=60)
    assert (found.before.round_id, found.after.round_id) == (r1.id, r2.id)
    # raw: units in both last versions by unit id (the recoded village too), per (level, township of 2022)
    last = {r.id: db.session.scalar(select(Publication.id).where(Publication.round_id == r.id)
                                    .order_by(Publication.version.desc())) for r in (r1, r2)}
    rows = {rid: {u.unit_id: u for u in db.session.scalars(select(PublishedUnit).where(
        PublishedUnit.publication_id == pid))} for rid, pid in last.items()}
    groups: dict[tuple, list] = {}
    for unit_id, b in rows[r2.id].items():
        a = rows[r1.id].get(unit_id)
        if a is not None and a.final_total is not None and b.final_total is not None:
            groups.setdefault((b.level, b.township_name), []).append((a, b))
    assert sum(len(g) for g in groups.values()) == 4  # the village with a new code is still the same unit
    got = {(t.level, t.township): t for t in found.townships}
    assert set(got) == set(groups)
    for key, pairs in groups.items():
        line = got[key]
        assert line.n == len(pairs)
        assert line.passed_before == sum(a.result == "pass" for a, _ in pairs)
        assert line.passed_after == sum(b.result == "pass" for _, b in pairs)
        assert line.mean_after == (sum(b.final_total for _, b in pairs) / len(pairs)).quantize(Decimal("0.01"),
                                                                                              ROUND_HALF_UP)
        assert line.mean_before == (sum(a.final_total for a, _ in pairs) / len(pairs)).quantize(Decimal("0.01"),
                                                                                               ROUND_HALF_UP)
    # half-up, as every figure of the app: 2022's mean over the four units is 95.125 → 95.13
    assert found.total.mean_after == Decimal("95.13")
    # 连续失分 under 60 %: raw rates per (unit, code) in both years, an indicator followed through same / renamed
    follow = {"B2": "B2X"}
    expected = set()
    for unit_name in (VILLAGE, OTHER_VILLAGE, TOWNSHIP, OTHER_TOWNSHIP):
        unit = two_rounds["world"].units[unit_name]
        raw = _raw_rates(unit.id)
        for (year, code), value in raw.items():
            later = follow.get(code, code)
            if year == 2021 and value < Fraction(3, 5) and raw.get((2022, later), 1) < Fraction(3, 5) \
                    and code not in ("C2",):
                expected.add((unit.id, code, later))
    units = two_rounds["world"].units
    assert expected == {(units[VILLAGE].id, "A1", "A1"), (units[VILLAGE].id, "B2", "B2X"),
                        (units[TOWNSHIP].id, "A2", "A2")}  # the data are as meant (C2 was split: not followed)
    assert {(s.unit_id, s.steps[0].code, s.steps[-1].code) for s in found.streaks} == expected
    streak = next(s for s in found.streaks if s.steps[-1].code == "B2X")
    raw = _raw_rates(two_rounds["world"].units[VILLAGE].id)
    assert [st.rate for st in streak.steps] == [_pct(raw[(2021, "B2")]), _pct(raw[(2022, "B2X")])]
    assert streak.proposal == "rectify"
    # the indicators lost most often in 2022, counted from the raw rows
    lost = {}
    for s, level in db.session.execute(select(PublishedScore, PublishedUnit.level).join(
            PublishedUnit, (PublishedUnit.publication_id == PublishedScore.publication_id)
            & (PublishedUnit.code == PublishedScore.unit_code)).where(PublishedScore.publication_id == last[r2.id])):
        if s.points < s.max_points:
            lost[(level, s.indicator_code)] = lost.get((level, s.indicator_code), 0) + 1
    assert {(x.level, x.code): x.units for x in found.lost} == lost


def test_the_admin_confirms_relations_on_the_page_with_messages_beside_the_fields(two_rounds, empty_app):
    v2 = two_rounds["v2"]
    admin = _login(empty_app, "admin")
    page = admin.get(f"/admin/catalogues/{v2.id}/lineage")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-code="B2X"' in text
    codes = lineage.codes_of(v2.id)
    form = {}
    for n, code in enumerate(codes):
        form[f"rows-{n}-code"] = code
        form[f"rows-{n}-relation"] = "same" if code not in ("B2X", "C2a", "C2b", "E4") else "renamed"
        form[f"rows-{n}-olds"] = code if code not in ("B2X", "C2a", "C2b", "E4") else ""
    bad = admin.post(f"/admin/catalogues/{v2.id}/lineage", data=form)
    assert bad.status_code == 422 and "须填一个原指标编码" in bad.get_data(as_text=True)
    form.update({f"rows-{codes.index('B2X')}-olds": "B2", f"rows-{codes.index('C2a')}-relation": "split",
                 f"rows-{codes.index('C2a')}-olds": "C2", f"rows-{codes.index('C2b')}-relation": "split",
                 f"rows-{codes.index('C2b')}-olds": "C2", f"rows-{codes.index('E4')}-relation": "new"})
    assert admin.post(f"/admin/catalogues/{v2.id}/lineage", data=form).status_code == 302
    assert lineage.comparable_between(two_rounds["v1"].id, v2.id)["B2"] == "B2X"
    assert admin.get(f"/admin/catalogues/{two_rounds['v1'].id}/lineage").status_code == 404  # no predecessor


def test_a_merged_unit_shows_its_predecessors_rows_labelled_and_a_bad_code_is_refused_beside_the_field(
        two_rounds, empty_app):
    from evalapp.services import history, units as unit_service

    w = two_rounds["world"]
    admin = _login(empty_app, "admin")
    merged = unit_service.create_unit("430699001950", "荷石村", "村", w.units[TOWNSHIP].code, w.people["admin"])
    page = admin.post(f"/admin/units/{merged.id}/lineage",
                      data={"change": "merged", "predecessors": f"{NEW_CODE}、{w.units[OTHER_VILLAGE].code}"})
    assert page.status_code == 302
    found = history.unit_history(db.session.get(OrgUnit, merged.id))
    assert sorted((str(e.ref.label), e.name, e.relation) for e in found.entries) == sorted([
        ("2021 第1版", VILLAGE, "merged"), ("2021 第1版", OTHER_VILLAGE, "merged"),
        ("2022 第1版", VILLAGE, "merged"), ("2022 第1版", OTHER_VILLAGE, "merged")])
    assert found.comparisons == []  # two predecessors in each version: shown, not compared one with the other
    assert "前身" in admin.get(f"/results/units/{merged.id}/history").get_data(as_text=True)
    bad = admin.post(f"/admin/units/{w.units[OTHER_VILLAGE].id}/lineage",
                     data={"change": "official_code", "new_code": "123"})
    assert bad.status_code == 422 and "应为12位数字" in bad.get_data(as_text=True)
    assert db.session.get(OrgUnit, w.units[OTHER_VILLAGE].id).code != "123"


def test_reads_take_a_fixed_number_of_statements_whatever_the_rows(two_rounds):
    """A statement per question, none per unit or indicator row: the history of a unit and the district's page read
    as many statements with their caches cold, whatever the units' and indicators' count (here 4 units and 23 to
    25 indicators a version; measured: 14 and 22 statements, none of them per row)."""
    from evalapp.services import history, readmodel
    from tests.statements import counting

    readmodel.clear_cache()
    with counting() as unit_statements:
        history.unit_history(two_rounds["world"].units[VILLAGE])
    readmodel.clear_cache()
    with counting() as district_statements:
        history.district(below=60)
    assert len(unit_statements) <= 14 and len(district_statements) <= 22


def test_the_history_and_the_comparison_export_as_xlsx_with_the_same_figures(two_rounds, empty_app):
    import io

    import openpyxl

    w = two_rounds["world"]
    village = w.units[VILLAGE]
    raw = _raw_rates(village.id)
    response = _login(empty_app, "village").get(f"/results/units/{village.id}/history.xlsx")
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(wb["历年结果"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["2021 第1版", "2022 第1版"] and rows[2][3] == NEW_CODE
    compared = {r[2]: r for r in wb["对比"].iter_rows(min_row=2, values_only=True) if r[1] == "二级指标"}
    assert compared["B2X"][5] == "B2" and compared["B2X"][6] == float(_pct(raw[(2021, "B2")]))
    assert compared["C2a"][6] is None and compared["C2a"][4] == "拆分"
    wb.close()
    response = _login(empty_app, "district").get("/results/history.xlsx?below=60")
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert sum(r[2] for r in wb["同比"].iter_rows(min_row=2, values_only=True) if r[0] != "合计") == 4
    streaks = [r for r in wb["连续失分"].iter_rows(min_row=2, values_only=True)]
    assert len(streaks) == 3 and all(r[4] == "建议整改" for r in streaks)
    wb.close()
    assert _login(empty_app, "outsider_village").get(f"/results/units/{village.id}/history.xlsx").status_code == 404


def test_a_streak_with_a_rectification_already_issued_proposes_an_interview_and_shows_the_outcome(
        two_rounds, empty_app):
    """屡查屡犯: 荷塘村 (不合格 in 2021) was told to rectify after the pilot and still loses the same points in
    2022 — the list proposes a 约谈 and shows the 整改 beside it, linked."""
    from datetime import date

    from evalapp.services import history, rectification

    w = two_rounds["world"]
    rect = rectification.issue(two_rounds["r1"], w.units[VILLAGE].id, w.people["district"], today=date(2022, 1, 5))
    found = history.district(below=60)
    village = [s for s in found.streaks if s.unit_id == w.units[VILLAGE].id]
    assert village and all(s.proposal == "interview" for s in village)
    assert [o.id for o in village[0].rectifications] == [rect.id] and village[0].rectifications[0].status
    township = next(s for s in found.streaks if s.unit_id == w.units[TOWNSHIP].id)
    assert township.proposal == "rectify" and township.rectifications == []
    text = _login(empty_app, "district").get("/results/history?below=60").get_data(as_text=True)
    assert f"/rectify/{rect.id}" in text and "/rectify/interviews/new?unit=" in text


def test_importing_a_catalogue_under_an_existing_code_links_it_to_the_version_before(empty_app):
    w = make_round("setup")
    v1 = w.round.village_catalogue
    plain = catalogue_io.to_plain(v1)
    plain["categories"][0]["indicators"][0]["title"] = "改写的标题"
    [v2] = catalogue_io.import_yaml(yaml.safe_dump(plain, allow_unicode=True), w.people["admin"])
    found = lineage.lineage_of(v2.id)
    assert v2.version == 2 and found.predecessor_id == v1.id and found.confirmed_at is None
    assert {x.relation for x in found.links} == {"same"}
    plain["code"] = "VC-NEW"
    [other] = catalogue_io.import_yaml(yaml.safe_dump(plain, allow_unicode=True), w.people["admin"])
    assert lineage.lineage_of(other.id) is None  # a catalogue of its own: nothing before it


def test_the_district_page_shows_n_and_links_to_rectification(two_rounds, empty_app):
    r2 = two_rounds["r2"]
    district = _login(empty_app, "district")
    page = district.get("/results/history?below=60")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "2021 第1版 vs 2022 第1版" in text
    assert re.search(r"<td class=\"text-end\" data-n>1</td>", text) and text.count('data-testid="streak"') == 3
    assert f"/rectify/rounds/{r2.id}" in text and "/results/history.xlsx?" in text
    assert "75.00%" in text  # 合计: 3 of the 4 units passed in each version
    for query, field in (("below=abc", "below"), ("below=0", "below"), ("before=abc", "before")):
        bad = district.get(f"/results/history?{query}")
        assert bad.status_code == 422 and f'data-field="{field}"' in bad.get_data(as_text=True), query
    assert _login(empty_app, "village").get("/results/history").status_code == 403
    assert _login(empty_app, "finance").get("/results/history").status_code == 403


def test_a_summary_generated_on_the_rollout_freezes_its_catalogues_lineage(two_rounds):
    """Issue 33, point 1: once a 评估总结 has gone out on a version, the lineage it stands on is never edited again."""
    from evalapp.services import summary

    r2, v2, district = two_rounds["r2"], two_rounds["v2"], two_rounds["world"].people["district"]
    admin = two_rounds["world"].people["admin"]
    assert not lineage.lineage_of(v2.id).frozen
    lineage.save(v2, {"B2X": ("renamed", ["B2"])}, admin)  # still editable before the summary
    summary.prepare_summary(r2, 1, "张三", district)
    assert lineage.lineage_of(v2.id).frozen
    with pytest.raises(Conflict):
        lineage.save(v2, {"B2X": ("renamed", ["B2"])}, admin)
