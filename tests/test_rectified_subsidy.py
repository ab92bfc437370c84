"""Issue 32, point 6 (money after rectification): a round's subsidy rules say what a 整改后通过 unit gets — a share
of what it would have had as 合格, or 暂缓; in pool mode the share is of the unit's would-be amount and what is
withheld is 结余, not shared out again. 复查 results reach finance only through a published version: recording one
marks the round for republication; the next version carries it, sealed with the rest; the 奖补资格表 shows those
units in a section of their own and the 变更 sheet says what rectification changed."""
import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from evalapp.domain.scoring import Result
from evalapp.domain.subsidy import Candidate, SubsidyRule, allocate
from evalapp.extensions import db
from evalapp.models import Publication, Round, SubsidyRule as RuleRow, Team
from evalapp.services import publication, readmodel, rectification as service, snapshots, subsidy
from evalapp.services.errors import Invalid
from evalapp.services.todos import todos_for
from tests.factories import OTHER_VILLAGE, VILLAGE
from tests.files import PDF
from tests.test_publication_snapshot import _workbook, published  # noqa: F401  (荷塘村 fails at 94.50)

TODAY = date(2031, 12, 20)


@pytest.fixture
def app(empty_app, published):
    return empty_app


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch):
    from evalapp.rectify import routes
    from evalapp.services import moves

    monkeypatch.setattr(routes, "_today", lambda: TODAY)
    monkeypatch.setattr(moves, "today_local", lambda: TODAY)


def _passes_recheck(w):
    """荷塘村: 整改通知, report, a 复查 by 第二工作组 that finds every indicator at full marks (整改后通过)."""
    rect = service.issue(w.round, w.units[VILLAGE].id, w.people["district"], today=TODAY)
    service.submit_report(rect, "已补齐台账", PDF, "整改报告.pdf", w.people["village"])
    team = db.session.scalar(select(Team).where(Team.round_id == w.round.id, Team.name == "第二工作组"))
    recheck = service.assign_recheck(rect, team.id, "failed", w.people["district"])
    lines = service.recheck_lines(rect, "failed")
    recheck = service.record_recheck(recheck, {line.code: str(line.max_points) for line in lines}, {}, False, "",
                                     w.people["inspector2"])
    assert recheck.outcome == "passed"
    return rect


def _rule(w, level, mode, amount, rectified):
    subsidy.save_rule(w.round, level, mode, amount, "", w.people["admin"], reason="整改后通过单位的奖补比例",
                      rectified=rectified)


def _sheet(wb, name):
    rows = list(wb[name].iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if "单位名称" in r)
    head = list(rows[at])
    return head, [dict(zip(head, r)) for r in rows[at + 1:] if isinstance(r[0], int)], rows


def _book(app, w, query=""):
    return openpyxl.load_workbook(io.BytesIO(_workbook(app, w, query=query).data))


def test_the_domain_gives_a_share_of_the_fixed_amount_or_defers_it():
    cands = [Candidate("a", 97, Result.PASS), Candidate("b", 94, Result.FAIL, True), Candidate("c", 90, Result.FAIL)]
    share = allocate(SubsidyRule("fixed", 200000, (), 60), cands)
    assert [(a.amount_fen, a.withheld_fen) for a in share] == [(200000, 0), (120000, 80000), (0, 0)]
    deferred = allocate(SubsidyRule("fixed", 200000), cands)
    assert [(a.amount_fen, a.withheld_fen) for a in deferred] == [(200000, 0), (0, 200000), (0, 0)]
    assert "暂缓" in deferred[1].basis
    # pool: the rectified unit's weight is in the pool; what it does not get is not shared out again
    pool = allocate(SubsidyRule("pool", 1000000, (), 60), cands[:2])
    full_b = 1000000 * 94 // (97 + 94)
    assert pool[0].amount_fen + pool[1].amount_fen + pool[1].withheld_fen == 1000000
    assert pool[1].amount_fen == (pool[1].amount_fen + pool[1].withheld_fen) * 60 // 100
    assert abs(pool[1].amount_fen + pool[1].withheld_fen - full_b) <= 1


def test_a_rectified_unit_at_60_percent_reaches_finance_only_through_the_next_version(published, app, login_as):
    w = published
    _rule(w, "village", "fixed", "2000", "60")
    v1 = readmodel.latest(w.round.id)
    v1_sha = v1.sha256
    _passes_recheck(w)
    db.session.expire_all()
    round_ = db.session.get(Round, w.round.id)
    assert round_.changed_since_publication is True  # waits for 再次公布, as after an unlock
    todo = todos_for(w.people["district"], TODAY)
    assert any(item.round.id == w.round.id and item.action.value == "republish" for item in todo.rounds), todo
    # the official sheet is still version 1: no money, no section
    wb = _book(app, w)
    _head, lines, _rows = _sheet(wb, "明细")
    assert next(r for r in lines if r["单位名称"] == VILLAGE)["奖补金额(元)"] == 0
    assert "整改后通过" not in wb.sheetnames
    # republished: version 2 carries the 复查 outcome, 60 % of 2,000 yuan, 800 withheld
    publication.publish(round_, w.people["district"], confirm_no_subsidy=True)
    v2 = readmodel.latest(w.round.id)
    assert v2.version == 2 and VILLAGE not in str(v2.rules) and w.units[VILLAGE].code in v2.rules["rectified"]
    assert v2.rules["rectified"][w.units[VILLAGE].code]["withheld_fen"] == 80000
    assert db.session.get(Publication, v1.id).sha256 == v1_sha  # version 1 unchanged
    wb = _book(app, w)
    _head, lines, _rows = _sheet(wb, "明细")
    village = next(r for r in lines if r["单位名称"] == VILLAGE)
    assert (village["结果"], village["是否符合奖补条件"], village["奖补金额(元)"]) == ("不合格", "整改后通过", 1200)
    head, section, rows = _sheet(wb, "整改后通过")
    assert [(r["单位名称"], r["合格应得金额(元)"], r["本次拨付(元)"], r["暂缓/结余(元)"]) for r in section] == [
        (VILLAGE, 2000, 1200, 800)]
    assert "60%" in section[0]["拨付规则"] and section[0]["复查得分"] == 100
    notes = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True) if r[0]}
    assert "60%" in notes["整改后通过单位"] and "暂缓" in notes["整改后通过单位"]  # (the townships': 暂缓)
    # the 变更 sheet says what rectification changed
    _h, changes, _r = _sheet(wb, "变更")
    moved = next(r for r in changes if r["单位名称"] == VILLAGE)
    assert moved["原金额(元)"] == 0 and moved["新金额(元)"] == 1200
    assert any("复查结论：整改后通过" in str(v) for v in moved.values())
    # verify-publication passes on both versions; the old one reads as it did
    runner = app.test_cli_runner()
    for version in (1, 2):
        out = runner.invoke(args=["verify-publication", "--round", str(w.round.id), "--version", str(version)])
        assert out.exit_code == 0 and "校验通过" in out.output, out.output
    old_lines = readmodel.published_lines(db.session.get(Publication, v1.id))
    assert old_lines[w.units[VILLAGE].code][5] == 0


def test_a_tampered_rectified_share_fails_verification(published, app):
    w = published
    _rule(w, "village", "fixed", "2000", "60")
    _passes_recheck(w)
    publication.publish(db.session.get(Round, w.round.id), w.people["district"], confirm_no_subsidy=True)
    v2 = readmodel.latest(w.round.id)
    assert snapshots.verify(v2).ok
    rules = dict(v2.rules)
    code = w.units[VILLAGE].code
    rules["rectified"] = {code: {**rules["rectified"][code], "withheld_fen": 0}}
    v2.rules = rules
    db.session.commit()
    check = snapshots.verify(v2)
    assert not check.ok and any("校验值不符" in p for p in check.problems)


def test_in_pool_mode_the_share_is_of_the_would_be_amount_and_the_rest_is_surplus(published, app):
    w = published
    _rule(w, "village", "pool", "10000", "60")
    _passes_recheck(w)
    publication.publish(db.session.get(Round, w.round.id), w.people["district"], confirm_no_subsidy=True)
    wb = _book(app, w)
    _h, lines, _r = _sheet(wb, "明细")
    other = next(r for r in lines if r["单位名称"] == OTHER_VILLAGE)["奖补金额(元)"]
    _h, section, rows = _sheet(wb, "整改后通过")
    row = section[0]
    # the pool shared by weight 99 : 94.5 as if both passed; 荷塘村 gets 60 % of its part, the rest is 结余
    assert round(other + row["合格应得金额(元)"], 2) == 10000
    assert row["合格应得金额(元)"] == pytest.approx(10000 * 94.5 / 193.5, abs=0.01)
    assert row["本次拨付(元)"] == pytest.approx(row["合格应得金额(元)"] * 0.6, abs=0.01)
    surplus = [r for r in rows if r and isinstance(r[0], str) and r[0].startswith("资金池结余")]
    assert surplus and f"{row['暂缓/结余(元)']:,.2f}" in surplus[0][0]
    assert round(other + row["本次拨付(元)"] + row["暂缓/结余(元)"], 2) == 10000  # not redistributed


def test_deferred_payment_pays_nothing_and_shows_what_waits(published, app, login_as):
    w = published
    _rule(w, "village", "fixed", "2000", "")  # 暂缓
    _passes_recheck(w)
    publication.publish(db.session.get(Round, w.round.id), w.people["district"], confirm_no_subsidy=True)
    wb = _book(app, w)
    _h, section, _r = _sheet(wb, "整改后通过")
    assert [(r["本次拨付(元)"], r["暂缓/结余(元)"]) for r in section] == [(0, 2000)]
    assert "暂缓" in section[0]["拨付规则"]
    page = login_as("finance").get(f"/finance/rounds/{w.round.id}").get_data(as_text=True)
    assert "data-rectified" in page and "暂缓拨付" in page


def test_a_share_outside_0_to_100_is_refused_beside_its_field_and_changes_nothing(published, login_as):
    w = published
    before = db.session.scalar(select(RuleRow.rectified_percent).where(RuleRow.round_id == w.round.id,
                                                                        RuleRow.level == "village"))
    with pytest.raises(Invalid):
        _rule(w, "village", "fixed", "2000", "120")
    db.session.rollback()
    finance = login_as("finance")
    page = finance.post(f"/finance/rounds/{w.round.id}/rules/village",
                        data={"mode": "fixed", "amount": "2000", "rectified": "abc", "reason": "更正"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'value="abc"' in html and "invalid-feedback" in html and "0至100之间的整数" in html
    db.session.expire_all()
    assert db.session.scalar(select(RuleRow.rectified_percent).where(RuleRow.round_id == w.round.id,
                                                                      RuleRow.level == "village")) == before
    ok = finance.post(f"/finance/rounds/{w.round.id}/rules/village",
                      data={"mode": "fixed", "amount": "2000", "rectified": "60", "reason": "整改后通过按六成拨付"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(RuleRow.rectified_percent).where(RuleRow.round_id == w.round.id,
                                                                      RuleRow.level == "village")) == 60


def test_a_deferred_rectified_unit_is_listed_in_the_versions_changes_though_no_money_moves(published, app,
                                                                                            login_as):
    """暂缓: the 整改后通过 village is paid nothing in version 2 as in version 1, its total and result unchanged; the
    change of its standing is still what rectification changed, so version 2's 变更 — the sheet and the page —
    lists it with the 复查 conclusion (the page said only "—" under 解锁理由 before)."""
    w = published
    _rule(w, "village", "fixed", "2000", "")  # 暂缓
    _passes_recheck(w)
    publication.publish(db.session.get(Round, w.round.id), w.people["district"], confirm_no_subsidy=True)
    _h, changes, _r = _sheet(_book(app, w), "变更")
    assert [(r["单位名称"], r["原金额(元)"], r["新金额(元)"]) for r in changes] == [(VILLAGE, 0, 0)]
    assert any("复查结论：整改后通过" in str(v) for v in changes[0].values())
    page = login_as("district").get(f"/results/rounds/{w.round.id}/changes").get_data(as_text=True)
    row = page.split(f'data-unit="{w.units[VILLAGE].code}"')[1].split("</tr>")[0]
    assert "data-rectified" in row and "复查结论：整改后通过（复查记录于" in row
    english = login_as("district")
    english.post("/lang", data={"lang": "en", "next": "/"})
    page = english.get(f"/results/rounds/{w.round.id}/changes").get_data(as_text=True)
    assert "Re-inspection: passed after rectification (recorded " in page and "Reason for the change" in page
    assert f'data-unit="{w.units[OTHER_VILLAGE].code}"' not in page


def test_a_superscript_digit_as_the_share_is_refused_beside_its_field_not_a_500(published, login_as):
    """"²" is str.isdigit() but no int(): it was a 500."""
    w = published
    before = db.session.scalar(select(RuleRow.rectified_percent).where(RuleRow.round_id == w.round.id,
                                                                        RuleRow.level == "village"))
    with pytest.raises(Invalid):
        _rule(w, "village", "fixed", "2000", "²")
    db.session.rollback()
    page = login_as("finance").post(f"/finance/rounds/{w.round.id}/rules/village",
                                    data={"mode": "fixed", "amount": "2000", "rectified": "²", "reason": "更正"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'value="²"' in html and "invalid-feedback" in html and "0至100之间的整数" in html
    db.session.expire_all()
    assert db.session.scalar(select(RuleRow.rectified_percent).where(RuleRow.round_id == w.round.id,
                                                                      RuleRow.level == "village")) == before
