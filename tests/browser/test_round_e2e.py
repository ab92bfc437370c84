"""A whole round, every role at 768×1024 in Chromium (issue 15): self-assessments (summary, document, a return with
comments, resubmission, approval), two inspectors scoring a township and two villages (deductions, a void rule, a
direct score, a note, a photo), the leader's reconciliation (an override with a reason, a bonus, a veto on another
unit), finance setting the subsidy rules from its to-do, the district's return, the signatures on the leader's tablet,
the district's approval of the clean sheets at once (the vetoed one on its own) and publication, an admin unlock,
the leader's correction, republication from the district's 再次公布 to-do, a refused change of leader and refused
signatures (form and API) on the published round, and finance's download from its to-do; the inspector's to-do,
two days past the end of inspection, lists every unscored sheet as overdue. At each step it checks what the next person finds in their to-do; at the end the results
page, the print 评分表, the district workbook and the finance sheet must show the totals, results and amounts this
test computes itself from what it entered and the catalogue's rules."""
import os
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from PIL import Image

from evalapp.extensions import db
from evalapp.services import moves, rounds as round_service
from evalapp.services.catalogues import load_tree
from evalapp.services.moves import today_local
from tests import factories
from tests.browser.conftest import ARGS, ARTIFACTS, CHROMIUM  # noqa: F401 (CHROMIUM: skip marker)
from tests.browser.round_walk import (
    C, Actor, indicator_values, q2, read_sheet, score_sheet, sheet_id, status, submit_sheet, wait_summary_saved,
)
from tests.browser.test_signatures_browser import _draw as draw_signature
from tests.files import PDF

ROUND = "2026年度试点评估验收（端到端）"
TOWNSHIP, VILLAGE, VETOED = "清溪镇", "荷塘村", "柳湾社区"


@pytest.fixture
def app(empty_app):
    """This test builds its own district on an empty database (tests/factories.py), not the demo's rows."""
    return empty_app


@pytest.fixture
def world(app):
    units = factories.units({TOWNSHIP: [VILLAGE, VETOED]})
    admin = factories.user("admin", "admin", display_name="区民政局管理员")
    people = {
        "admin": admin,
        "district": factories.user("district", "district", display_name="区委组织部审核员"),
        "leader": factories.user("leader", "inspector", display_name="组长王明"),
        "inspector": factories.user("inspector", "inspector", display_name="评估员李华"),
        "township": factories.user("township", "township", units[TOWNSHIP], "清溪镇负责人"),
        "village": factories.user("village", "village", units[VILLAGE], "荷塘村协理员"),
        "village2": factories.user("village2", "village", units[VETOED], "柳湾社区协理员"),
        "finance": factories.user("finance", "finance", display_name="区财政局经办人"),
    }
    today = today_local()
    round_ = factories.round_(ROUND, [units[TOWNSHIP], units[VILLAGE], units[VETOED]], admin,
                              self_due=today + timedelta(days=3), township_due=today + timedelta(days=6),
                              inspection_start=today, inspection_end=today + timedelta(days=10))
    factories.team(round_, "第一工作组", people["leader"], [people["inspector"]],
                   [units[TOWNSHIP], units[VILLAGE], units[VETOED]], admin)
    round_service.advance(round_, admin)  # → self-assessment (finance sets the subsidy rules from its to-do)
    return {"round_id": round_.id, "units": {n: u.code for n, u in units.items()}, "people": people}


def test_a_whole_round_from_self_assessment_to_the_finance_sheet(world, live_server, browser, tmp_path, monkeypatch):
    os.makedirs(ARTIFACTS, exist_ok=True)
    shots: list[str] = []
    actors = []

    def actor(username):
        a = Actor(browser, live_server, username, shots)
        actors.append(a)
        return a

    try:
        _walk(world, live_server, actor, tmp_path, monkeypatch)
    except BaseException:
        for a in actors:  # where each person was when it went wrong
            a.page.screenshot(path=os.path.join(ARTIFACTS, f"e2e-failed-{a.username}.png"), full_page=True)
        raise
    for a in actors:
        a.close()


def _walk(world, live_server, actor, tmp_path, monkeypatch):
    rid, codes = world["round_id"], world["units"]

    document = tmp_path / "走访记录汇总.pdf"
    document.write_bytes(PDF)  # a real one-page PDF (services.filecheck opens it)
    photo = tmp_path / "服务点.jpg"
    Image.new("RGB", (80, 60), (200, 40, 40)).save(photo, "JPEG")

    # ---- 1. The village fills its self-assessment: scores, a 工作总结 (autosaved), a document; submits. ----------
    village_self = sheet_id(rid, codes[VILLAGE], "self")
    village = actor("village")
    assert "剩3天" in village.todo(village_self).inner_text()
    page = village.open_todo(village_self)
    score_sheet(page, {"A3": ("rule", "A3-1", 1)})
    summary = "荷塘村“党建+社会救助”试点工作总结：建立四级联系结对，党员每两个月走访联系户，服务点实行首问负责。"
    page.fill("#summary-text", summary)
    wait_summary_saved(page)
    page.set_input_files("input[name=document]", str(document))
    with page.expect_navigation():
        page.click("#documents button[type=submit]")
    assert "走访记录汇总.pdf" in page.inner_text("#documents")
    assert page.input_value("#summary-text").strip() == summary  # the upload reloaded the page; nothing lost
    submit_sheet(page, "提交自评表")
    assert "提交后由镇(街道)审核" in village.dialogs[-1] and "99.00" in village.dialogs[-1]
    assert status(village_self) == "submitted"
    village.shot("village-submitted")

    # The other village's self-assessment is filled by its own user, quickly.
    vetoed_self = sheet_id(rid, codes[VETOED], "self")
    village2 = actor("village2")
    page = village2.open_todo(vetoed_self)
    score_sheet(page, {})
    page.fill("#summary-text", "柳湾社区工作总结。")
    page.click("[data-role=summary-save]")  # saved through the API: the page stays
    wait_summary_saved(page)
    submit_sheet(page, "提交自评表")
    assert status(vetoed_self) == "submitted"

    # ---- 2. The township lead returns the village's sheet with a comment on A3. ----------------------------------
    township = actor("township")
    page = township.open_todo(village_self)
    assert summary in page.inner_text("#summary-section")
    page.fill("#ind-A3 input[name=comment]", "请补充A3走访记录照片")
    with page.expect_navigation():
        page.click("#ind-A3 .comment-form button")
    page.fill("#review-comment", "A3走访记录不全，请补充后重新提交")
    with page.expect_navigation():
        page.click("button[value=return]")
    assert "确认退回修改" in township.dialogs[-1]
    assert status(village_self) == "returned"

    # ---- 3. The village sees why, keeps its summary, resubmits. --------------------------------------------------
    assert "被退回" in village.todo(village_self).inner_text()
    page = village.open_todo(village_self)
    assert "A3走访记录不全" in page.inner_text("[data-testid=returned]")
    assert "请补充A3走访记录照片" in page.inner_text("#ind-A3")
    assert page.input_value("#summary-text").strip() == summary
    village.shot("village-returned")
    submit_sheet(page, "提交自评表")
    assert status(village_self) == "submitted"

    # ---- 4. The township approves both villages, then fills and submits its own. ---------------------------------
    for sid in (village_self, vetoed_self):
        page = township.open_todo(sid)
        with page.expect_navigation():
            page.click("button[value=approve]")
        assert status(sid) == "approved"
    township_self = sheet_id(rid, codes[TOWNSHIP], "self")
    page = township.open_todo(township_self)
    score_sheet(page, {})
    page.fill("#summary-text", "清溪镇工作总结：镇村两级服务窗口全部设立。")
    page.click("[data-role=summary-save]")  # saved through the API: the page stays
    wait_summary_saved(page)
    submit_sheet(page, "提交自评表")
    assert "提交后由区级审核" in township.dialogs[-1]

    # ---- 5. The district approves the township's self-assessment. ------------------------------------------------
    district = actor("district")
    page = district.open_todo(township_self)
    with page.expect_navigation():
        page.click("button[value=approve]")
    assert status(township_self) == "approved"

    # ---- 6. The admin opens inspection. ----------------------------------------------------------------------------
    admin = actor("admin")
    page = admin.page
    page.goto(f"{live_server}/admin/rounds/{rid}")
    with page.expect_navigation():
        page.click("button:has-text('开始实地评估')")
    db.session.expire_all()
    assert sheet_id(rid, codes[VILLAGE], "inspector", "inspector") is not None

    # ---- 6a. Finance is asked for the subsidy rules of both levels and sets them from its to-do. --------------------
    finance = actor("finance")
    page = finance.home()
    item = page.locator(f"[data-testid=todos] [data-round-todo='subsidy_rules-{rid}']")
    assert "设置奖补规则" in item.inner_text() and "镇(街道)、村(社区)" in item.inner_text()
    with page.expect_navigation():
        item.locator("a").click()
    for level, yuan in (("township", "5000"), ("village", "3000")):
        page.select_option(f"#mode-{level}", "fixed")
        page.fill(f"#amount-{level}", yuan)
        with page.expect_navigation():
            page.click(f"form[action$='/rules/{level}'] button[type=submit]")
    assert finance.home().locator(f"[data-round-todo='subsidy_rules-{rid}']").count() == 0

    # ---- 7. The two members score. ---------------------------------------------------------------------------------
    entries = {  # what each member enters, by unit
        "inspector": {
            VILLAGE: {"A1": ("rule", "A1-1", 1), "B1": ("void", "B1-1"), "C1": ("direct", "5", "一次排查未留痕"),
                      "D1": ("note", "抽查10户，核查准确")},
            TOWNSHIP: {"A3": ("rule", "A3-1", 2)},
            VETOED: {},
        },
        "leader": {VILLAGE: {}, TOWNSHIP: {}, VETOED: {}},
    }
    members = {"inspector": actor("inspector"), "leader": actor("leader")}
    # Two days past the end of inspection (the server's clock moved: services.moves.today_local), the inspector's
    # to-do lists every sheet not yet scored, each marked overdue — never hidden.
    with monkeypatch.context() as late:
        late.setattr(moves, "today_local", lambda: today_local() + timedelta(days=12))
        page = members["inspector"].home()
        for unit in (VILLAGE, TOWNSHIP, VETOED):
            item = page.locator(f"[data-testid=todos] [data-todo='{sheet_id(rid, codes[unit], 'inspector', 'inspector')}']")
            assert "已逾期2天" in item.inner_text(), unit
        members["inspector"].shot("inspector-overdue")
    for username, member in members.items():
        for unit in (VILLAGE, TOWNSHIP, VETOED):
            sid = sheet_id(rid, codes[unit], "inspector", username)
            page = member.home()
            page.click(f"#sheet-{sid}")
            page.wait_for_selector("#ind-A1")
            score_sheet(page, entries[username][unit],
                        photo=("B1", str(photo)) if (username, unit) == ("inspector", VILLAGE) else None)
            submit_sheet(page)
            assert status(sid) == "submitted", (username, unit)
    members["inspector"].shot("inspector-worklist")

    # ---- 8. The leader reconciles: the means, an override with a reason, a bonus; a veto on the other village. ----
    leader = members["leader"]
    finals = {unit: sheet_id(rid, codes[unit], "final") for unit in (VILLAGE, TOWNSHIP, VETOED)}
    for unit in (VILLAGE, TOWNSHIP, VETOED):
        assert "可以汇总定分" in leader.todo(finals[unit]).inner_text()
    page = leader.open_todo(finals[VILLAGE])
    assert page.get_attribute("#row-B1", "data-flagged") == "1"  # 0 and 4: over the tolerance
    with page.expect_navigation():
        page.click("button:has-text('未定分的指标全部采用平均分')")
    page.fill("#row-B1 input[name=score]", "3")
    leader.console.allowed_statuses.add(422)  # the refusal below is the page's answer, not an error
    with page.expect_navigation():  # no reason: refused beside the field, the value kept
        page.click("#row-B1 button[type=submit]")
    assert "与成员平均分不同时须填写调整理由" in page.inner_text("#row-B1")
    assert page.input_value("#row-B1 input[name=score]") == "3"
    # The page opens at the field in error (focused, on screen), with a summary at the top linking to it.
    assert page.evaluate("() => document.activeElement.name + '@' + document.activeElement.closest('tr').id") \
        == "reason@row-B1"
    page.wait_for_function("""() => { const r = document.activeElement.getBoundingClientRect();
                                      return r.top >= 0 && r.bottom <= window.innerHeight; }""", timeout=5000)
    assert page.get_attribute("[data-testid=error-summary] a", "href") == "#row-B1"
    page.fill("#row-B1 input[name=reason]", "复核：服务点已设立，标识不全")
    with page.expect_navigation():
        page.click("#row-B1 button[type=submit]")
    page.check("#bonus-X1")
    with page.expect_navigation():
        page.click("button:has-text('保存加分与否决情况')")
    leader.shot("leader-reconcile")
    with page.expect_navigation():
        page.click("button:has-text('提交区级审核')")
    assert "最终得分" in leader.dialogs[-1]
    for unit in (TOWNSHIP, VETOED):
        page = leader.open_todo(finals[unit])
        with page.expect_navigation():
            page.click("button:has-text('未定分的指标全部采用平均分')")
        if unit == VETOED:
            page.check("#veto-V3")
            page.fill("[name=veto_text_V3]", "入户核查发现台账补记，弄虚作假")
            with page.expect_navigation():
                page.click("button:has-text('保存加分与否决情况')")
        with page.expect_navigation():
            page.click("button:has-text('提交区级审核')")
    assert {status(s) for s in finals.values()} == {"submitted"}

    # ---- 9. The district returns the village's final sheet once; the leader sees why and corrects. ---------------
    page = district.home()
    for unit in (VILLAGE, TOWNSHIP, VETOED):
        assert page.locator(f"[data-testid=review-queue] [data-sheet='{finals[unit]}']").count() == 1
    page = district.open_todo(finals[VETOED])
    assert "入户核查发现台账补记" in page.inner_text("[data-testid=review-veto]")
    page = district.open_todo(finals[VILLAGE])
    review = page.inner_text("[data-testid=final-review]")
    assert "一次排查未留痕" in review and "复核：服务点已设立" in review and "抽查10户" in review
    assert page.locator("[data-testid=final-review] [data-photo]").count() == 1
    district.shot("district-review")
    page.fill("#review-comment", "B1调整须写明依据（现场照片）")
    with page.expect_navigation():
        page.click("button[value=return]")
    assert status(finals[VILLAGE]) == "returned"
    assert "被退回" in leader.todo(finals[VILLAGE]).inner_text()
    page = leader.open_todo(finals[VILLAGE])
    assert "B1调整须写明依据" in page.inner_text("[data-testid=returned]")
    version = page.get_attribute("#row-B1 input[name=version]", "value")
    assert version
    page.fill("#row-B1 input[name=reason]", "复核：服务点已设立，标识不全（见现场照片）")
    with page.expect_navigation():
        page.click("#row-B1 button[type=submit]")
    with page.expect_navigation():
        page.click("button:has-text('提交区级审核')")
    assert status(finals[VILLAGE]) == "submitted"

    # ---- 9b. The leader's tablet goes round: the member, the leader (one slot) and the representative sign. --
    page = leader.page
    for unit in (VILLAGE, TOWNSHIP):
        page.goto(f"{live_server}/inspection/sheets/{finals[unit]}/reconcile#signatures")
        for slot in page.eval_on_selector_all("#signatures [data-sign]", "els => els.map(e => e.dataset.sign)"):
            page.click(f'[data-sign="{slot}"]')
            page.wait_for_selector("#sign-modal[data-ready='1']")
            if slot == "representative":
                page.fill("#sign-name", "张桂芳")
            draw_signature(page)
            with page.expect_navigation():
                page.click("#sign-form button[type=submit]")
        assert "已签3 / 3" in page.inner_text("#signatures h2"), unit  # the leader (who scores) signs once

    # ---- 10. The district approves the two clean sheets at once, the vetoed one on its own, and publishes. -------
    page = district.home()
    queue = page.locator("[data-testid=review-queue]")
    assert "一票否决" in queue.locator(f"[data-sheet='{finals[VETOED]}']").inner_text()
    assert page.locator(f"input[name=sheet][value^='{finals[VETOED]}:']").count() == 0  # flagged: no box
    page.get_by_text("全选无异常的评分表").click()
    with page.expect_navigation():
        page.click("button:has-text('批量审核通过所选')")
    ready = page.locator("[data-testid=bulk-ready]")
    assert ready.locator("tbody tr").count() == 2
    assert ready.locator(f"tr[data-sheet='{finals[VILLAGE]}'] [data-total]").inner_text().strip() == "100.00"
    assert ready.locator(f"tr[data-sheet='{finals[TOWNSHIP]}'] [data-total]").inner_text().strip() == "99.50"
    district.shot("district-bulk-confirm")
    with page.expect_navigation():
        page.click("button:has-text('确认审核通过2份')")
    assert "已审核通过2份评分表" in page.inner_text(".alert-success")
    assert status(finals[VILLAGE]) == status(finals[TOWNSHIP]) == "approved"
    page = district.open_todo(finals[VETOED])
    with page.expect_navigation():
        page.click("button[value=approve]")
    assert status(finals[VETOED]) == "approved"
    page.goto(f"{live_server}/results/rounds/{rid}")
    with page.expect_navigation():
        page.click("[data-testid=publish] button[type=submit]")
    assert "评估结果已公布" in page.inner_text(".alert-success")

    # ---- 11. The admin unlocks the township's final sheet; the leader corrects F1; the district republishes. -----
    page = admin.page
    page.goto(f"{live_server}/results/rounds/{rid}")
    row = page.locator(f"tr[data-unit='{codes[TOWNSHIP]}']")
    row.locator("input[name=reason]").fill("复核发现群众满意度测评未落实")
    with page.expect_navigation():
        row.locator("button:has-text('解锁')").click()
    assert status(finals[TOWNSHIP]) == "returned"
    item = leader.todo(finals[TOWNSHIP])
    assert "被退回" in item.inner_text() and "已解锁" in item.inner_text()
    page = leader.open_todo(finals[TOWNSHIP])
    assert "复核发现群众满意度测评未落实" in page.inner_text("[data-testid=returned]")
    page.fill("#row-F1 input[name=score]", "0")
    page.fill("#row-F1 input[name=reason]", "满意度测评未开展，复核后不得分")
    with page.expect_navigation():
        page.click("#row-F1 button[type=submit]")
    with page.expect_navigation():
        page.click("button:has-text('提交区级审核')")
    page = district.open_todo(finals[TOWNSHIP])
    with page.expect_navigation():
        page.click("button[value=approve]")
    page = district.home()  # reminded to publish again, and taken to the round's page from the to-do
    item = page.locator(f"[data-testid=todos] [data-round-todo='republish-{rid}']")
    assert "再次公布" in item.inner_text()
    with page.expect_navigation():
        item.locator("a").click()
    with page.expect_navigation():
        page.click("[data-testid=publish] button[type=submit]")
    assert "评估结果已公布" in page.inner_text(".alert-success")
    assert district.home().locator(f"[data-round-todo='republish-{rid}']").count() == 0
    district.shot("district-republished")

    # ---- 12. Published, the round is frozen: the admin's change of leader waits for 解锁设置, and the leader's tablet
    # can no longer sign the 评分表, by the page's form or by the API (the printed paper's handwriting counts now). ---
    admin.console.allowed_statuses.add(409)
    leader.console.allowed_statuses.add(409)
    page = admin.page
    page.goto(f"{live_server}/admin/rounds/{rid}")
    page.locator("[data-testid=set-leader] select").first.select_option("inspector")
    with page.expect_navigation():
        page.locator("[data-testid=set-leader] button").first.click()
    assert "解锁设置" in page.locator(".alert-danger").first.inner_text()
    page = leader.page
    page.goto(f"{live_server}/inspection/sheets/{finals[VILLAGE]}/reconcile#signatures")
    assert page.locator("#signatures [data-sign]").count() == 0  # no 签名 button on the published sheet…
    assert "手写签名为准" in page.inner_text("[data-testid=signatures-frozen]")  # …and why
    strokes = [[[100, 100], [400, 250], [800, 300]]]
    refused = page.evaluate("""async ([api, form, strokes]) => {
        const csrf = document.querySelector('input[name=csrf_token]').value;
        const json = await fetch(api, {method: 'POST', credentials: 'same-origin', headers: {
            'Content-Type': 'application/json', 'X-CSRFToken': csrf, 'Accept': 'application/json'},
            body: JSON.stringify({slot: 'leader', strokes: strokes, width: 1000, height: 400})});
        const body = new FormData();
        for (const [k, v] of Object.entries({csrf_token: csrf, slot: 'leader', strokes: JSON.stringify(strokes),
                                             width: '1000', height: '400'})) body.append(k, v);
        const page = await fetch(form, {method: 'POST', credentials: 'same-origin', body: body});
        return [json.status, (await json.json()).code, page.status, await page.text()];
    }""", [f"{live_server}/api/v1/sheets/{finals[VILLAGE]}/signatures",
           f"{live_server}/inspection/sheets/{finals[VILLAGE]}/signatures", strokes])
    assert refused[:3] == [409, "signature.published", 409] and "不能再在平板上签名" in refused[3]

    # ---- What everyone must now see, computed here from what was entered. ----------------------------------------
    db.session.expire_all()
    from evalapp.models import Round

    round_ = db.session.get(Round, rid)
    cats = {"village": load_tree(round_.village_catalogue_id), "township": load_tree(round_.township_catalogue_id)}
    expected = {}
    for unit, level in ((VILLAGE, "village"), (TOWNSHIP, "township"), (VETOED, "village")):
        mine = indicator_values(cats[level], entries["inspector"][unit])
        theirs = indicator_values(cats[level], entries["leader"][unit])
        finals_by_code = {code: q2((mine[code] + theirs[code]) / 2) for code in mine}
        if unit == VILLAGE:
            finals_by_code["B1"] = Decimal("3.00")
        if unit == TOWNSHIP:
            finals_by_code["F1"] = Decimal("0.00")
        bonus = min(Decimal(2), Decimal(cats[level].bonus_cap)) if unit == VILLAGE else Decimal(0)
        total = q2(sum(finals_by_code.values()) + bonus)
        vetoed = unit == VETOED
        passed = not vetoed and total >= Decimal("95")
        amount = (Decimal(3000) if level == "village" else Decimal(5000)) if passed else Decimal(0)
        expected[unit] = {"total": total, "result": "不合格(一票否决)" if vetoed else ("合格" if passed else "不合格"),
                          "amount": amount, "values": finals_by_code}
    assert expected[VILLAGE]["total"] == Decimal("100.00")  # A1 −0.5, B1 −1 (the override), C1 −0.5; bonus +2
    assert expected[TOWNSHIP]["total"] == Decimal("93.50")  # A3 −0.5, F1 −6: below 95 after the correction
    assert expected[VETOED]["total"] == Decimal("100.00")

    # The results page.
    page = district.page
    page.goto(f"{live_server}/results/rounds/{rid}")
    for unit, want in expected.items():
        row = page.locator(f"tr[data-unit='{codes[unit]}']")
        cells = row.inner_text()
        assert f"{want['total']:.2f}" in cells and want["result"] in cells, (unit, cells)
    vetoed_row = page.locator(f"tr[data-unit='{codes[VETOED]}']")
    assert vetoed_row.locator("[data-rank]").inner_text().strip() == "—"
    assert "一票否决" in vetoed_row.locator("[data-missing]").inner_text()
    district.shot("results")

    # The print 评分表 of each final sheet.
    for unit, want in expected.items():
        page.goto(f"{live_server}/results/sheets/{finals[unit]}/print")
        text = page.inner_text("body")
        assert f"{want['total']:.2f}" in text and want["result"] in text, unit
    page.goto(f"{live_server}/results/sheets/{finals[VILLAGE]}/print")
    assert "复核：服务点已设立，标识不全（见现场照片）" in page.inner_text("body")

    # The district workbook.
    response = page.request.get(f"{live_server}/results/rounds/{rid}/workbook.xlsx")
    assert response.ok
    rows = read_sheet(response.body())
    for unit, want in expected.items():
        row = rows[unit]
        assert q2(row["评估得分"]) == want["total"] and row["结果"] == want["result"], (unit, row)
        for code, value in want["values"].items():
            key = next((h for h in row if h and re.match(rf"^{code}\b", h)), None)
            if key:
                assert q2(row[key]) == value, (unit, code, row[key])

    # Finance downloads the eligibility sheet of the published version, from its to-do.
    page = finance.home()
    item = page.locator(f"[data-testid=todos] [data-round-todo='eligibility-{rid}']")
    assert "下载奖补资格表" in item.inner_text() and "第2版" in item.inner_text()
    with page.expect_navigation():
        item.locator("a").click()
    with page.expect_download() as download:
        page.click("[data-testid=download]")
    path = tmp_path / "finance.xlsx"
    download.value.save_as(path)
    assert "草稿" not in download.value.suggested_filename
    rows = read_sheet(path.read_bytes(), "明细")
    for unit, want in expected.items():
        row = rows[unit]
        assert Decimal(str(row["奖补金额(元)"])).quantize(C) == want["amount"].quantize(C), (unit, row)
        assert row["结果"] == want["result"] and q2(row["评估得分"]) == want["total"], (unit, row)
    finance.shot("finance")
    assert finance.home().locator(f"[data-round-todo='eligibility-{rid}']").count() == 0  # downloaded: done
