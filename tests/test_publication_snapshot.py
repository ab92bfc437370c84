"""Issue 17: a publication is a frozen, versioned record; official outputs read only it."""
import hashlib
import io
import re
import threading
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select, text

from evalapp.extensions import db
from evalapp.models import (
    AuditEvent, Indicator, Publication, PublishedScore, PublishedUnit, Round, Score, Sheet, SubsidyRule,
)
from evalapp.services import publication, rounds as rounds_service, snapshots, units as unit_service
from evalapp.services import readmodel
from evalapp.services.catalogues import indicators_of, load_tree
from evalapp.services.errors import Conflict
from evalapp.services.figures import refresh_figures
from evalapp.services.moves import move_sheet
from tests.factories import (
    OTHER_TOWNSHIP, OTHER_VILLAGE, PASSWORD, TOWNSHIP, VILLAGE, fixed_subsidy, make_round,
)


def _score_final(w, unit_name: str, total: str, *, approve: bool = True) -> Sheet:
    """Give a unit's final sheet `total` points (taken off the indicators in order) and approve it, as the leader's
    reconciliation would leave it (written directly: a fixture)."""
    round_ = w.round
    sheet = db.session.scalar(select(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[unit_name].id))
    shortfall = Decimal("100") - Decimal(total)
    for ind in indicators_of(load_tree(round_.catalogue_for(sheet.unit.level).id)):
        taken = min(shortfall, ind.points)
        shortfall -= taken
        value = ind.points - taken
        db.session.add(Score(sheet_id=sheet.id, indicator_id=ind.id, points=value, direct_score=value,
                             reason="组长按实地核查确定" if taken else "", updated_by_id=w.people["admin"].id))
    db.session.flush()
    refresh_figures(Sheet.id == sheet.id)
    db.session.commit()
    if approve:
        for member in db.session.scalars(select(Sheet).where(
                Sheet.round_id == round_.id, Sheet.unit_id == sheet.unit_id, Sheet.kind == "inspector")):
            move_sheet(member, "submitted", w.people["admin"])
        move_sheet(sheet, "submitted", w.people["admin"])
        move_sheet(sheet, "approved", w.people["admin"])
    return sheet


@pytest.fixture
def published(empty_app):
    """A round of four units, all approved (荷塘村 at 94.50: fails), fixed subsidies, published once."""
    w = make_round("inspection")
    for name, total in ((TOWNSHIP, "97"), (VILLAGE, "94.5"), (OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        _score_final(w, name, total)
    fixed_subsidy(w.round, w.people["admin"], township_yuan="5000", village_yuan="2000")
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    return w


def _workbook(app, w, user="finance", query=""):
    client = app.test_client()
    client.post("/login", data={"username": user, "password": PASSWORD})
    response = client.get(f"/finance/rounds/{w.round.id}/eligibility.xlsx{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def _amounts(response) -> dict[str, tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    ws = wb["明细"]
    rows = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if "单位名称" in r)  # the header row (title rows may stand above it)
    head = list(rows[at])
    out = {}
    for row in rows[at + 1:]:
        if not isinstance(row[0], int):  # 合计, signature and seal rows below the lines
            continue
        out[row[head.index("单位名称")]] = (row[head.index("评估得分")], row[head.index("结果")],
                                         row[head.index("奖补金额(元)")])
    return out


def _notes(response) -> dict[str, str]:
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    return {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True) if len(r) > 1 and r[0]}


def test_publishing_writes_version_1_with_every_unit_and_a_checksum(published):
    pub = readmodel.latest(published.round.id)
    assert pub.version == 1 and pub.published_by_name == "district" and pub.unit_count == 4
    units = {u.name: u for u in readmodel.unit_rows(pub.id)}
    assert units[VILLAGE].final_total == Decimal("94.50") and units[VILLAGE].result == "fail"
    assert units[VILLAGE].missing == Decimal("0.50") and units[VILLAGE].amount_fen == 0
    assert units[TOWNSHIP].amount_fen == 500_000 and units[OTHER_VILLAGE].amount_fen == 200_000
    assert pub.total_fen == 500_000 + 500_000 + 200_000
    scores = readmodel.score_rows(pub.id)
    assert {s.unit_code for s in scores} == {u.code for u in units.values()}
    lost = [s for s in scores if s.unit_code == units[VILLAGE].code and s.points < s.max_points]
    assert lost and all(s.reason == "组长按实地核查确定" for s in lost)
    assert pub.sha256 == hashlib.sha256(snapshots.canonical(pub, list(units.values()), scores)).hexdigest()
    check = snapshots.verify(pub)
    assert check.ok, check.problems
    assert check.live_changes == []
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "round.publish"))
    assert audit.new["version"] == 1 and audit.new["sha256"] == pub.sha256


def test_an_unlock_leaves_the_official_sheet_as_published_then_republishing_writes_version_2(published, empty_app):
    w = published
    before = _workbook(empty_app, w)
    official = _amounts(before)
    assert official[TOWNSHIP] == (97, "合格", 5000)
    # The admin unlocks 清溪镇's final sheet; the leader lowers a score below the line and it is approved again.
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[TOWNSHIP].id))
    publication.unlock(final, w.people["admin"], "核查发现台账缺失")
    score = db.session.scalar(select(Score).join(Indicator).where(Score.sheet_id == final.id,
                                                                   Score.points > 5).order_by(Indicator.code))
    score.points = score.direct_score = score.points - 5
    db.session.flush()
    refresh_figures(Sheet.id == final.id)
    db.session.commit()
    # While unlocked: the 正式 sheet is version 1's, byte for byte, with the same checksum.
    during = _workbook(empty_app, w)
    assert during.data == before.data
    assert "%E6%AD%A3%E5%BC%8F" in during.headers["Content-Disposition"]  # 正式
    notes = _notes(during)
    assert notes["公布版本"] == "第1版" and notes["版本校验值SHA-256"] == readmodel.latest(w.round.id).sha256
    # ... and the pending state only as a 草稿.
    draft = _workbook(empty_app, w, query="?draft=1")
    assert "%E8%8D%89%E7%A8%BF" in draft.headers["Content-Disposition"]  # 草稿
    assert _amounts(draft)[TOWNSHIP] == (92, "未完成", 0)
    assert "尚未重新公布" in _notes(draft)["状态"]
    pending = readmodel.changes(readmodel.latest(w.round.id), w.round)
    assert [c.name for c in pending] == [TOWNSHIP]
    assert [(who, reason) for who, reason, _ in pending[0].unlocks] == [("admin", "核查发现台账缺失")]
    move_sheet(final, "submitted", w.people["admin"])
    move_sheet(final, "approved", w.people["admin"])
    v2 = publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    assert v2.version == 2 and snapshots.verify(v2).ok
    changed = readmodel.changes(readmodel.version_of(w.round.id, 1), w.round, v2)
    assert [(c.name, c.old_total, c.new_total, c.old_result, c.new_result, c.delta_fen) for c in changed] == [
        (TOWNSHIP, Decimal("97.00"), Decimal("92.00"), "pass", "fail", -500_000)]
    after = _workbook(empty_app, w)
    assert _amounts(after)[TOWNSHIP] == (92, "不合格", 0) and _notes(after)["公布版本"] == "第2版"
    sheet = openpyxl.load_workbook(io.BytesIO(after.data))["变更"]
    rows = list(sheet.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[2] == "单位名称")  # (title rows above it, issue 30)
    end = next(i for i, r in enumerate(rows) if r[0] == "合计")
    lines = rows[head + 1:end]
    assert [(r[2], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]) for r in lines] == [
        (TOWNSHIP, 97, 92, "合格", "不合格", 5000, 0, 0, 5000)]
    assert "核查发现台账缺失（admin" in lines[0][12]
    # The 变更 is a form (issue 30): a title above the table, its reasons wrapped in their column, a sign-off below.
    assert "变更明细" in rows[0][0] and sheet.cell(head + 2, 13).alignment.wrap_text
    assert any(isinstance(v, str) and v.startswith("制表人") for r in rows[end + 1:] for v in r)
    # Version 1 is untouched.
    v1 = readmodel.version_of(w.round.id, 1)
    assert snapshots.verify(v1).ok
    assert {u.name: u.amount_fen for u in readmodel.unit_rows(v1.id)}[TOWNSHIP] == 500_000


def test_two_downloads_of_one_version_are_the_same_bytes(published, empty_app):
    first = _workbook(empty_app, published)
    second = _workbook(empty_app, published, user="admin")  # another user, another moment
    assert first.data == second.data
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.subsidy")
                              .order_by(AuditEvent.id)).all()
    assert [r.new["version"] for r in rows] == [1, 1] and rows[0].user_id != rows[1].user_id


def test_verify_fails_where_a_snapshot_row_was_changed_behind_the_apps_back(published, empty_app):
    pub = readmodel.latest(published.round.id)
    runner = empty_app.test_cli_runner()
    ok = runner.invoke(args=["verify-publication", "--round", str(published.round.id)])
    assert ok.exit_code == 0, ok.output
    assert "校验通过" in ok.output and pub.sha256 in ok.output
    db.session.execute(text("UPDATE published_units SET amount_fen = amount_fen + 100 "
                            "WHERE publication_id = :p AND amount_fen > 0"), {"p": pub.id})
    db.session.commit()
    bad = runner.invoke(args=["verify-publication", "--round", str(published.round.id), "--version", "1"])
    assert bad.exit_code == 1
    assert "校验值不符" in bad.output and "奖补金额应为" in bad.output


def test_verify_reports_an_inconsistent_total_even_with_a_matching_checksum(published):
    """The figures are recomputed from the inputs the version holds, not only hashed."""
    pub = readmodel.latest(published.round.id)
    from types import SimpleNamespace

    units = [SimpleNamespace(**u._mapping) for u in readmodel.unit_rows(pub.id)]
    scores = readmodel.score_rows(pub.id)
    units[0].final_total = units[0].final_total - 1  # in memory only
    problems = snapshots.recompute(pub, units, scores)
    assert any("评估得分应为" in p for p in problems)
    db.session.rollback()


def test_moves_renames_and_deactivations_after_publication_change_no_version(published, empty_app):
    w = published
    pub = readmodel.latest(w.round.id)
    before = snapshots.canonical(pub, readmodel.unit_rows(pub.id), readmodel.score_rows(pub.id))
    official = _workbook(empty_app, w).data
    village = w.units[VILLAGE]
    unit_service.update_unit(village, "荷塘新村", village.kind, w.units[OTHER_TOWNSHIP].code, w.people["admin"])
    db.session.expire_all()
    pub = readmodel.latest(w.round.id)
    assert snapshots.canonical(pub, readmodel.unit_rows(pub.id), readmodel.score_rows(pub.id)) == before
    assert snapshots.verify(pub).ok
    assert _workbook(empty_app, w).data == official
    assert any("名称或所属镇(街道)已改为" in line for line in snapshots.verify(pub).live_changes)


def test_a_refused_publication_writes_no_version(empty_app):
    w = make_round("inspection")
    _score_final(w, TOWNSHIP, "97", approve=False)
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    with pytest.raises(Exception):
        publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)  # incomplete units, not confirmed
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Publication)) == 0


def test_republishing_unchanged_is_refused(published):
    with pytest.raises(Conflict):
        publication.publish(published.round, published.people["district"], confirm_no_subsidy=True)
    db.session.rollback()
    assert [p.version for p in readmodel.versions(published.round.id)] == [1]


def test_ten_parallel_publish_requests_one_succeeds_the_others_409(empty_app):
    w = make_round("inspection")
    for name in (TOWNSHIP, VILLAGE, OTHER_TOWNSHIP, OTHER_VILLAGE):
        _score_final(w, name, "98")
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    round_id = w.round.id
    clients = []
    for _ in range(10):
        client = empty_app.test_client()
        client.post("/login", data={"username": "district", "password": PASSWORD})
        page = client.get(f"/results/rounds/{round_id}")
        token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
        clients.append((client, token))
    barrier = threading.Barrier(10)
    statuses = []

    def publish(client, token):
        with empty_app.app_context():
            barrier.wait()
            response = client.post(f"/results/rounds/{round_id}/publish", data={"confirm_no_subsidy": "1", "csrf_token": token},
                                   headers={"Accept": "application/json"})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=publish, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert sorted(statuses) == [302] + [409] * 9, statuses
    assert [p.version for p in readmodel.versions(round_id)] == [1]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action.in_(["round.publish", "round.republish"]))) == 1


def _client(app, username):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD})
    return client


def test_results_page_notice_and_workbook_show_the_version_while_a_sheet_is_unlocked(published, empty_app):
    w = published
    district = _client(empty_app, "district")
    rid = w.round.id
    page = district.get(f"/results/rounds/{rid}").get_data(as_text=True)
    pub = readmodel.latest(rid)
    assert "正式 — 第1版" in page and pub.sha256 in page and "有待重新公布的改动" not in page
    workbook_before = district.get(f"/results/rounds/{rid}/workbook.xlsx")
    notice_before = district.get(f"/results/rounds/{rid}/notice").get_data(as_text=True)
    assert VILLAGE in notice_before and "第1版" in notice_before
    # 石桥社区 (99, 合格) is unlocked — back to its leader, so today it stands 未完成 with no money: official
    # pages keep version 1, with the pending note.
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == rid, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[OTHER_VILLAGE].id))
    publication.unlock(final, w.people["admin"], "群众反映走访记录不实")
    page = district.get(f"/results/rounds/{rid}").get_data(as_text=True)
    assert "正式 — 第1版" in page and "有待重新公布的改动（1个单位）" in page
    row = page.split(f'data-unit="{w.units[OTHER_VILLAGE].code}"')[1].split("</tr>")[0]
    assert "99.00" in row and "合格" in row
    draft = district.get(f"/results/rounds/{rid}?view=draft").get_data(as_text=True)
    row = draft.split(f'data-unit="{w.units[OTHER_VILLAGE].code}"')[1].split("</tr>")[0]
    assert "草稿 — 第1版公布后的改动" in draft and "未完成" in row
    assert district.get(f"/results/rounds/{rid}/workbook.xlsx").data == workbook_before.data
    notice = district.get(f"/results/rounds/{rid}/notice").get_data(as_text=True)
    # 石桥社区 passed in version 1: among the 合格 units, not among those that did not pass (today it stands 未完成)
    passed, failing = notice.split('data-testid="notice"')
    assert OTHER_VILLAGE in passed and OTHER_VILLAGE not in failing and VILLAGE in failing
    changes = district.get(f"/results/rounds/{rid}/changes").get_data(as_text=True)
    assert "待重新公布的改动" in changes and "群众反映走访记录不实" in changes
    row = changes.split(f'data-unit="{w.units[OTHER_VILLAGE].code}"')[1].split("</tr>")[0]
    assert 'data-delta="-200000"' in row
    assert "追加 0.00 元，收回 2,000.00 元" in changes
    for other in ("village", "township", "inspector"):
        assert _client(empty_app, other).get(f"/results/rounds/{rid}/changes").status_code in (403, 404)


def test_the_printed_sheet_of_a_published_unit_is_the_versions_with_the_members_deductions(empty_app):
    """The 评分表 of a published unit reads the version: the members' rules with counts and points, free deductions
    with reasons, the leader's reason — and keeps them after an unlock changes the live sheet."""
    from evalapp.domain.scoring import ScoreEntry
    from evalapp.models import DeductionRule
    from evalapp.services.scores import save_score
    from tests.factories import make_sheet

    w = make_round("inspection")
    member = make_sheet(w, VILLAGE, "inspector", "inspector")
    rule = db.session.scalar(select(DeductionRule).join(Indicator, Indicator.id == DeductionRule.indicator_id)
                             .where(Indicator.catalogue_id == w.round.village_catalogue_id,
                                    DeductionRule.void.is_(False)).order_by(Indicator.code, DeductionRule.position))
    code = rule.indicator.code
    save_score(member, code, ScoreEntry(deductions={rule.code: 2}, free_deduction=Decimal("0.5"),
                                        reason="公示栏未更新"), w.people["inspector"], 0)
    db.session.commit()
    for name in (TOWNSHIP, VILLAGE, OTHER_TOWNSHIP, OTHER_VILLAGE):
        _score_final(w, name, "98")
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[VILLAGE].id))
    district = _client(empty_app, "district")
    page = district.get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    row = re.sub(r"<span[^>]*>|</span>", "", page.split(f'data-indicator="{code}"')[1].split("</tr>")[0])
    lost = rule.per * 2
    assert f"{rule.code} {rule.text} ×2，扣{lost:.2f}分" in row
    assert "其他扣0.50分：公示栏未更新" in row and f"{w.people['inspector'].display_name}（" in row
    assert "第1版" in page and readmodel.latest(w.round.id).sha256 in page and "草稿" not in page
    publication.unlock(final, w.people["admin"], "复核")
    db.session.execute(text("DELETE FROM score_deductions"))
    db.session.commit()
    again = re.sub(r"<span[^>]*>|</span>", "", district.get(f"/results/sheets/{final.id}/print").get_data(as_text=True))
    assert f"{rule.code} {rule.text} ×2" in again  # the version's, not today's
    draft = re.sub(r"<span[^>]*>|</span>", "", district.get(f"/results/sheets/{final.id}/print?view=draft").get_data(as_text=True))
    assert "草稿 — 未公布" in draft and f"{rule.code} {rule.text} ×2" not in draft


def test_a_round_published_before_versions_gets_version_1_from_freeze_publications(published, empty_app):
    rid = published.round.id
    db.session.execute(text("DELETE FROM publications"))  # as a round published before migration 0011
    db.session.commit()
    readmodel.clear_cache()
    assert readmodel.round_model(db.session.get(Round, rid)).official is False  # its outputs say 草稿 until frozen
    result = empty_app.test_cli_runner().invoke(args=["freeze-publications"])
    assert result.exit_code == 0 and "已写入第1版" in result.output, result.output
    pub = readmodel.latest(rid)
    assert pub.version == 1 and snapshots.verify(pub).ok
    again = empty_app.test_cli_runner().invoke(args=["freeze-publications"])
    assert "没有需要补写版本" in again.output and [p.version for p in readmodel.versions(rid)] == [1]


def test_the_api_answers_the_published_version_and_the_draft_on_request(published, empty_app):
    w = published
    rid = w.round.id
    api = _client(empty_app, "district")
    body = api.get(f"/api/v1/rounds/{rid}/results").get_json()
    pub = readmodel.latest(rid)
    assert body["official"] is True and body["version"] == 1 and body["sha256"] == pub.sha256
    assert body["pending_units"] is None
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == rid, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[TOWNSHIP].id))
    publication.unlock(final, w.people["admin"], "复核台账")
    body = api.get(f"/api/v1/rounds/{rid}/results").get_json()
    township = next(u for u in body["units"] if u["code"] == w.units[TOWNSHIP].code)
    assert body["official"] is True and body["pending_units"] == 1 and township["result"] == "pass"
    draft = api.get(f"/api/v1/rounds/{rid}/results?view=draft").get_json()
    township = next(u for u in draft["units"] if u["code"] == w.units[TOWNSHIP].code)
    assert draft["official"] is False and draft["version"] is None and township["result"] == "incomplete"


def test_the_dashboard_of_a_published_round_charts_the_version(published):
    """Points lost per indicator come from the version's scores; a leader's change after an unlock shows only in
    the draft view."""
    from evalapp.services.dashboard import dashboard_data

    w = published
    rid = w.round.id
    pub = readmodel.latest(rid)
    before = dashboard_data(w.round, readmodel.published(pub, w.round)[0], pub)["lost"]
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == rid, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[OTHER_VILLAGE].id))
    publication.unlock(final, w.people["admin"], "复核")
    score = db.session.scalar(select(Score).join(Indicator).where(Score.sheet_id == final.id)
                              .order_by(Indicator.code.desc()))
    score.points = score.direct_score = Decimal("0")
    refresh_figures(Sheet.id == final.id)
    db.session.commit()
    view = readmodel.round_model(w.round)
    assert dashboard_data(w.round, view.report, view.publication)["lost"] == before
    draft = readmodel.round_model(w.round, draft=True)
    assert dashboard_data(w.round, draft.report, draft.publication)["lost"] != before
