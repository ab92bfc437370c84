"""Issue 32, point 1: after publication the evaluated units see their own results — every indicator's score, the
deductions behind it, photos, bonus, veto, rank and points missing, the 问题清单 to print, self beside final — read
from the published version; nothing of another unit."""
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import EvidenceFile, Indicator, Score, Sheet
from evalapp.services import evidence, moves, publication, readmodel, reconcile, rounds as rounds_service
from evalapp.services.figures import refresh_figures
from evalapp.services.seed import fill_sheet
from evalapp.services.sheet_views import find_indicator
from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, PASSWORD, TOWNSHIP, VILLAGE, make_round, make_sheet
from tests.test_evidence import image_bytes
from tests.test_publication_snapshot import _score_final

HAN = re.compile(r"[\u4e00-\u9fff]")


def _client(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _team_final(w, unit_name: str) -> Sheet:
    """The unit scored by both members of the first team as the demo seed does (rules with counts, reasons), a
    photo on the inspector's sheet for the first indicator it deducted, the leader taking the means; submitted and
    approved."""
    for username in ("leader", "inspector"):
        sheet = make_sheet(w, unit_name, inspector=username)
        fill_sheet(sheet, w.people[username], f"units/{unit_name}/{username}")
        if username == "inspector":
            code = db.session.scalar(select(Indicator.code).join(Score, Score.indicator_id == Indicator.id)
                                     .where(Score.sheet_id == sheet.id, Score.points < Indicator.points)
                                     .order_by(Indicator.code))
            evidence.add_photo(sheet, find_indicator(sheet, code), image_bytes(), "台账.jpg", w.people[username])
        moves.submit_sheet(sheet, w.people[username])
    final = make_sheet(w, unit_name, "final")
    reconcile.accept_all_proposals(final, w.people["leader"])
    moves.submit_sheet(final, w.people["leader"])
    moves.approve_sheet(final, w.people["district"])
    return final


def _round_ready(w):
    for name in (TOWNSHIP, VILLAGE):
        _team_final(w, name)
    for name, total in ((OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        _score_final(w, name, total)
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    return w


@pytest.fixture
def scored(empty_app):
    """Every final sheet approved, the round in review: not yet published."""
    return _round_ready(make_round("inspection", self_assessed=True))


@pytest.fixture
def published(scored):
    publication.publish(scored.round, scored.people["district"], confirm_no_subsidy=True)
    return scored


def _url(w, unit_name, suffix=""):
    return f"/results/rounds/{w.round.id}/units/{w.units[unit_name].id}{suffix}"


def _api(w, unit_name):
    return f"/api/v1/rounds/{w.round.id}/units/{w.units[unit_name].id}/results"


def _text(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(dd|td|div|p)>', html, re.S)
    assert found, testid
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_a_village_lead_sees_its_published_figures_as_the_districts_results_page_shows_them(published, empty_app):
    w = published
    village = _client(empty_app, "village")
    html = village.get(_url(w, VILLAGE)).get_data(as_text=True)
    pub = readmodel.latest(w.round.id)
    unit = next(u for u in readmodel.unit_rows(pub.id) if u.name == VILLAGE)
    # The district's results page, its row for the village
    district = _client(empty_app, "district").get(f"/results/rounds/{w.round.id}").get_data(as_text=True)
    row = re.search(rf'<tr data-unit="{unit.code}">(.*?)</tr>', district, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert _text(html, "total") == f"{unit.final_total:.2f}" == cells[3]
    assert f'data-result="{unit.result}"' in html
    assert f"第{pub.version}版结果" in html and pub.sha256 in html
    if unit.rank:
        assert _text(html, "rank").startswith(f"第{unit.rank}名") and cells[6] == str(unit.rank)
    missing = _text(html, "missing")
    assert missing == ("已达合格线" if unit.missing == 0 else f"差{unit.missing:.2f}分")
    # every indicator with its maximum; the deducted ones in the 问题清单, most lost first, with the rules behind
    scores = [s for s in readmodel.score_rows(pub.id) if s.unit_code == unit.code]
    compare = re.search(r'data-testid="compare">(.*?)</table>', html, re.S).group(1)
    assert len(re.findall(r"<tr [^>]*data-code=", compare)) == len(scores)
    lost = sorted((s for s in scores if s.points < s.max_points), key=lambda s: (-(s.max_points - s.points),
                                                                                  s.indicator_code))
    assert lost, "the seed's sample deducts something"
    problems = re.search(r'data-testid="problems">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r'data-code="(\w+)"', problems) == [s.indicator_code for s in lost]
    rules = [r for s in lost for m in s.deductions for r in m["rules"]]
    assert rules and all(f"{code} {text}" in html for code, text, _count, _per in rules)
    # the photo behind a deducted indicator, through the evidence route, which now lets the village see it
    photo = re.search(r'src="(/evidence/(\d+)/thumb)"', problems)
    assert photo and village.get(photo.group(1)).status_code == 200
    # self beside final: the self-assessment's own figures
    assert _text(html, "self-total") == f"{unit.self_total:.2f}"


def test_another_units_page_is_404_to_a_village_page_and_api(published, empty_app):
    w = published
    village = _client(empty_app, "village")
    for name in (OTHER_VILLAGE, TOWNSHIP, OTHER_TOWNSHIP):
        assert village.get(_url(w, name)).status_code == 404, name
        assert village.get(_url(w, name, "/print")).status_code == 404, name
        response = village.get(_api(w, name))
        assert response.status_code == 404 and response.get_json()["code"] == "unit.not_found", name
    assert village.get(_url(w, VILLAGE)).status_code == 200
    assert village.get(_api(w, VILLAGE)).status_code == 200


def test_a_township_sees_its_villages_not_another_townships(published, empty_app):
    w = published
    township = _client(empty_app, "township")
    html = township.get(_url(w, TOWNSHIP)).get_data(as_text=True)
    villages = re.search(r'data-testid="villages">(.*?)</table>', html, re.S).group(1)
    assert VILLAGE in villages and OTHER_VILLAGE not in villages
    assert township.get(_url(w, VILLAGE)).status_code == 200
    for name in (OTHER_TOWNSHIP, OTHER_VILLAGE):
        assert township.get(_url(w, name)).status_code == 404
        assert township.get(_api(w, name)).status_code == 404
    outsider = _client(empty_app, "outsider_township")
    assert outsider.get(_url(w, TOWNSHIP)).status_code == 404 and outsider.get(_url(w, VILLAGE)).status_code == 404
    assert outsider.get(_url(w, OTHER_VILLAGE)).status_code == 200
    # the district, admin and finance see every unit's page; inspectors have none
    for who in ("district", "admin", "finance"):
        client = _client(empty_app, who)
        assert all(client.get(_url(w, n)).status_code == 200 for n in (TOWNSHIP, VILLAGE, OTHER_VILLAGE)), who
    assert _client(empty_app, "inspector").get(_url(w, VILLAGE)).status_code == 403


def test_a_photo_behind_another_units_result_stays_404_to_a_village(published, empty_app):
    w = published
    photo = db.session.scalar(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "inspector",
                                                  Sheet.unit_id == w.units[TOWNSHIP].id,
                                                  Sheet.inspector_id == w.people["inspector"].id))
    ev = db.session.scalar(select(EvidenceFile).where(EvidenceFile.sheet_id == photo.id))
    assert _client(empty_app, "township").get(f"/evidence/{ev.id}/thumb").status_code == 200
    assert _client(empty_app, "village").get(f"/evidence/{ev.id}/thumb").status_code == 404
    assert _client(empty_app, "outsider_township").get(f"/evidence/{ev.id}/thumb").status_code == 404
    assert _client(empty_app, "village").get(f"/api/v1/evidence/{ev.id}/thumb").status_code == 404


def test_before_publication_the_page_says_so_and_shows_no_figures(scored, empty_app):
    w = scored
    village = _client(empty_app, "village")
    response = village.get(_url(w, VILLAGE))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="not-published"' in html
    assert 'data-testid="total"' not in html and 'data-testid="problems"' not in html
    final = make_sheet(w, VILLAGE, "final")
    assert f"{final.score_sum:.2f}" not in html
    api = village.get(_api(w, VILLAGE)).get_json()
    assert api["published"] is False and "total" not in api and "indicators" not in api
    # and the photos stay the team's until then
    ev = db.session.scalar(select(EvidenceFile))
    assert village.get(f"/evidence/{ev.id}/thumb").status_code == 404
    assert _client(empty_app, "district").get(_url(w, VILLAGE)).status_code == 200


def test_a_score_changed_after_publication_shows_only_once_republished(published, empty_app):
    w = published
    final = make_sheet(w, VILLAGE, "final")
    publication.unlock(final, w.people["admin"], "核查发现台账缺失")
    score = db.session.scalar(select(Score).join(Indicator).where(Score.sheet_id == final.id, Score.points > 1)
                              .order_by(Indicator.code))
    code = db.session.get(Indicator, score.indicator_id).code
    before = score.points
    score.points = score.direct_score = before - 1
    score.reason = "复核后扣分"
    db.session.flush()
    refresh_figures(Sheet.id == final.id)
    db.session.commit()
    village = _client(empty_app, "village")

    def shown():
        html = village.get(_url(w, VILLAGE)).get_data(as_text=True)
        compare = re.search(r'data-testid="compare">(.*?)</table>', html, re.S).group(1)
        cell = re.search(rf'data-code="{code}">.*?data-final>([^<]*)<', compare, re.S).group(1)
        api = village.get(_api(w, VILLAGE)).get_json()
        return Decimal(cell), Decimal(next(i["score"] for i in api["indicators"] if i["code"] == code)), api

    page, api_score, api = shown()
    assert page == api_score == before and api["version"] == 1
    # a photo taken under the unlock is not shown, nor open to the village, until the next version
    later = evidence.add_photo(final, db.session.get(Indicator, score.indicator_id), image_bytes(), "补拍.jpg",
                               w.people["leader"])
    assert village.get(f"/evidence/{later.id}/thumb").status_code == 404
    assert f"/evidence/{later.id}/thumb" not in village.get(_url(w, VILLAGE)).get_data(as_text=True)
    moves.submit_sheet(final, w.people["leader"])
    moves.approve_sheet(final, w.people["district"])
    publication.publish(db.session.get(type(w.round), w.round.id), w.people["district"], confirm_no_subsidy=True)
    page, api_score, api = shown()
    assert page == api_score == before - 1 and api["version"] == 2
    assert village.get(f"/evidence/{later.id}/thumb").status_code == 200
    assert any(p["id"] == later.id for i in api["indicators"] for p in i["photos"])
    # under it, what its camera recorded (nothing: "无拍摄信息") and who sent it (issue 34, point 5): by role, not
    # by name, to the unit's own lead
    html = village.get(_url(w, VILLAGE)).get_data(as_text=True)
    assert re.search(rf'data-provenance="{later.id}">\s*<div>无拍摄信息</div>\s*<div>接收于 [^<]*· 工作组成员</div>', html)
    caption = re.search(rf'data-provenance="{later.id}">(.*?)</figcaption>', html, re.S).group(1)
    assert w.people["leader"].display_name not in caption
    assert f"/evidence/{later.id}/original" not in html  # the village is offered no original


def test_the_problem_list_prints_in_chinese_with_version_and_checksum_even_in_english(published, empty_app):
    w = published
    village = _client(empty_app, "village")
    village.post("/lang", data={"lang": "en"})
    html = village.get(_url(w, VILLAGE, "/print")).get_data(as_text=True)
    pub = readmodel.latest(w.round.id)
    assert "问题清单" in html and "扣分原因" in html and "失分" in html
    assert 'data-testid="running-head"' in html and f"第{pub.version}版" in html and pub.sha256 in html
    assert "Problem list" not in html


def test_an_english_session_reads_the_unit_page_in_english(published, empty_app):
    """No Chinese interface text once the database's own strings (names, indicator and rule texts, reasons) are
    taken out."""
    from tests.browser.test_english_browser import data_strings

    w = published
    township = _client(empty_app, "township")
    township.post("/lang", data={"lang": "en"})
    data = data_strings()
    for url in (_url(w, TOWNSHIP), _url(w, VILLAGE), "/results/units", "/selfassess/township"):
        html = township.get(url).get_data(as_text=True)
        body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
        text = re.sub(r"<[^>]+>", "\n", body)
        for value in data:
            text = text.replace(value, "")
        left = [line.strip() for line in text.splitlines() if HAN.search(line) and "中文" not in line]
        assert left == [], (url, left[:10])


def test_the_todo_and_nav_lead_a_village_to_its_page(published, empty_app):
    w = published
    village = _client(empty_app, "village")
    html = village.get("/selfassess/").get_data(as_text=True)
    link = re.search(rf'data-round-todo="results-{w.round.id}".*?href="([^"]+)">([^<]+)</a>', html, re.S)
    assert link and link.group(1) == _url(w, VILLAGE)
    assert link.group(2).strip() == "第1版结果已公布：查看本单位评估结果和问题清单"
    assert 'data-testid="nav-unit-results"' in html
    units = village.get("/results/units").get_data(as_text=True)
    assert _url(w, VILLAGE) in units
    township = _client(empty_app, "township").get("/selfassess/township").get_data(as_text=True)
    assert f'href="{_url(w, TOWNSHIP)}"' in township


def test_the_unit_todo_waits_for_publication_while_the_nav_leads_to_the_rounds(scored, empty_app):
    village = _client(empty_app, "village")
    html = village.get("/selfassess/").get_data(as_text=True)
    assert "data-round-todo=\"results-" not in html and 'data-testid="nav-unit-results"' in html
    rounds = village.get("/results/units").get_data(as_text=True)
    assert 'data-testid="not-published"' in rounds and _url(scored, VILLAGE) not in rounds


def test_the_districts_published_results_link_each_units_page(scored, empty_app):
    w = scored
    district = _client(empty_app, "district")
    assert 'data-testid="unit-page"' not in district.get(f"/results/rounds/{w.round.id}").get_data(as_text=True)
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    html = district.get(f"/results/rounds/{w.round.id}").get_data(as_text=True)
    links = set(re.findall(r'href="([^"]+)" data-testid="unit-page"', html))
    assert links == {_url(w, name) for name in (TOWNSHIP, VILLAGE, OTHER_TOWNSHIP, OTHER_VILLAGE)}


def test_compare_for_a_unit_lead_is_the_published_one_on_its_page(published, empty_app):
    w = published
    self_sheet = make_sheet(w, VILLAGE, "self")
    response = _client(empty_app, "village").get(f"/results/sheets/{self_sheet.id}/compare")
    assert response.status_code == 302 and response.headers["Location"].endswith(_url(w, VILLAGE) + "#compare")
    assert _client(empty_app, "district").get(f"/results/sheets/{self_sheet.id}/compare").status_code == 200


def test_the_api_gives_the_pages_content(published, empty_app):
    w = published
    data = _client(empty_app, "township").get(_api(w, TOWNSHIP)).get_json()
    pub = readmodel.latest(w.round.id)
    unit = next(u for u in readmodel.unit_rows(pub.id) if u.name == TOWNSHIP)
    assert data["published"] is True and data["version"] == pub.version and data["sha256"] == pub.sha256
    assert data["total"] == f"{unit.final_total:.2f}" and data["result"] == unit.result and data["rank"] == unit.rank
    assert [v["name"] for v in data["villages"]] == [VILLAGE]
    assert data["problems"] == [i["code"] for i in sorted(
        (i for i in data["indicators"] if i["lost"] != "0.00" and i["score"] is not None),
        key=lambda i: (-Decimal(i["lost"]), i["code"]))]
    assert _client(empty_app, "inspector").get(_api(w, TOWNSHIP)).status_code == 403
    assert _client(empty_app, "township").get(f"/api/v1/rounds/{w.round.id}/units/999999/results").status_code == 404


def test_the_published_answer_conforms_to_the_openapi_document(published, empty_app):
    """The fuzz test's world is not published: the published shape is held to the document here (schemathesis's
    checks, a token of each role that sees the unit)."""
    import schemathesis

    from evalapp.services import accounts
    from tests.test_api_fuzz import CHECKS, Isolated

    w = published
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", Isolated(empty_app))
    operation = schema["/rounds/{round_id}/units/{unit_id}/results"]["GET"]
    for username, unit in (("village", VILLAGE), ("township", TOWNSHIP), ("finance", OTHER_VILLAGE)):
        token, _ = accounts.issue_api_token(w.people[username])
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
        case = operation.Case(path_parameters={"round_id": w.round.id, "unit_id": w.units[unit].id})
        response = case.call(headers=headers)
        assert response.status_code == 200 and response.json()["published"] is True
        case.validate_response(response, checks=CHECKS, headers=headers)


def test_a_vetoed_village_and_a_townships_bonus_read_as_published(empty_app):
    """The veto finding and the bonus items of the version: a vetoed village reads 一票否决 instead of a rank and
    points missing, on the page, the paper and the API; the township's bonus items are listed and counted."""
    from tests.conftest import complete_round

    w = make_round("inspection", self_assessed=True)
    complete_round({VILLAGE: "98", TOWNSHIP: "94"}, vetoes={VILLAGE: "V3"}, bonus={TOWNSHIP: ["X1", "X2"]},
                   round_=w.round)
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    village = _client(empty_app, "village")
    html = village.get(_url(w, VILLAGE)).get_data(as_text=True)
    assert 'data-result="veto"' in html and "评估验收中弄虚作假" in html and "查实弄虚作假" in html
    assert _text(html, "rank") == "一票否决，不排名" and _text(html, "missing") == "一票否决"
    paper = village.get(_url(w, VILLAGE, "/print")).get_data(as_text=True)
    assert 'data-testid="veto"' in paper and "一票否决：评估验收中弄虚作假" in paper
    api = village.get(_api(w, VILLAGE)).get_json()
    assert api["vetoed"] is True and api["rank"] is None and api["points_missing"] is None
    assert api["veto_findings"] == [{"code": "V3", "text": "评估验收中弄虚作假", "finding": "查实弄虚作假"}]
    township = _client(empty_app, "township")
    html = township.get(_url(w, TOWNSHIP)).get_data(as_text=True)
    assert _text(html, "bonus").startswith("3.00") and "获得上级表彰" in html  # 2 + 1 within the cap of 3
    assert _text(html, "total") == "97.00" and _text(html, "missing") == "已达合格线"
    api = township.get(_api(w, TOWNSHIP)).get_json()
    assert [b["code"] for b in api["bonus_items"]] == ["X1", "X2"] and api["bonus_counted"] == "3.00"
    assert api["reached_line"] is True


def test_a_unit_outside_the_round_is_404_even_to_the_district(published, empty_app):
    from evalapp.services import units

    w = published
    outside = units.create_unit(f"{w.units[TOWNSHIP].code}099", "青山村", "村", w.units[TOWNSHIP].code,
                                w.people["admin"])
    for who in ("district", "township"):
        client = _client(empty_app, who)
        assert client.get(f"/results/rounds/{w.round.id}/units/{outside.id}").status_code == 404, who
        assert client.get(f"/api/v1/rounds/{w.round.id}/units/{outside.id}/results").status_code == 404, who
    assert _client(empty_app, "district").get(f"/results/rounds/{w.round.id}/units/{w.units[TOWNSHIP].id}"
                                              ).status_code == 200
