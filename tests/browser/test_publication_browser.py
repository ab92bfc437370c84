"""Issue 17 in Chromium at tablet size: the district publishes version 1, the admin unlocks a sheet, finance still
sees and downloads version 1 with the pending note, the district reads the changes and republishes version 2."""
import io
import os

import openpyxl

from evalapp.extensions import db
from evalapp.services import rounds as rounds_service
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import (  # noqa: F401  (app_of_world, world: fixtures)
    OTHER_TOWNSHIP, OTHER_VILLAGE, PASSWORD, TOWNSHIP, VILLAGE, app_of_world, fixed_subsidy, world,
)
from tests.test_publication_snapshot import _score_final


def _as(browser, live_server, username):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())  # the publish and unlock confirmations: 确定
    log_in(page, live_server, username, PASSWORD)
    page.errors = errors
    return page


def _shot(page, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"publication-{name}.png"), full_page=True)


def _official_amounts(page, round_id):
    with page.expect_download() as info:
        page.click('[data-testid="download"]')
    download = info.value
    assert "正式_第" in download.suggested_filename
    with open(download.path(), "rb") as f:
        wb = openpyxl.load_workbook(io.BytesIO(f.read()))
    rows = list(wb["明细"].iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if "单位名称" in r)  # the header row (title rows may stand above it)
    head = list(rows[at])
    return {row[head.index("单位名称")]: row[head.index("奖补金额(元)")]
            for row in rows[at + 1:] if isinstance(row[0], int)}, wb


def test_publish_unlock_and_republish_as_each_role_sees_it(app, world, live_server, browser):
    w = world
    for name, total in ((TOWNSHIP, "97"), (VILLAGE, "94.5"), (OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        _score_final(w, name, total)
    fixed_subsidy(w.round, w.people["admin"], township_yuan="5000", village_yuan="2000")
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    rid = w.round.id
    db.session.commit()

    district = _as(browser, live_server, "district")
    district.goto(f"{live_server}/results/rounds/{rid}")
    district.click('[data-testid="publish"] button[type=submit]')
    district.wait_for_selector('[data-testid="official"]')
    assert "正式 — 第1版" in district.inner_text('[data-testid="official"]')
    _shot(district, "1-published")

    admin = _as(browser, live_server, "admin")
    admin.goto(f"{live_server}/results/rounds/{rid}")
    row = admin.locator(f'tr[data-unit="{w.units[TOWNSHIP].code}"]')
    row.locator('input[name="reason"]').fill("核查发现台账缺失")
    row.locator('button[type=submit]').click()
    admin.wait_for_selector('[data-testid="changed"]')
    assert "有待重新公布的改动（1个单位）" in admin.inner_text('[data-testid="changed"]')
    _shot(admin, "2-unlocked")

    finance = _as(browser, live_server, "finance")
    finance.goto(f"{live_server}/finance/rounds/{rid}")
    assert "正式 — 第1版" in finance.inner_text('[data-testid="official"]')
    assert "有待重新公布的改动（1个单位）" in finance.inner_text('[data-testid="changed"]')
    amounts, wb = _official_amounts(finance, rid)
    assert amounts[TOWNSHIP] == 5000 and amounts[VILLAGE] == 0  # version 1's, whatever was unlocked since
    assert {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True) if len(r) > 1 and r[0]}["公布版本"] == "第1版"
    assert finance.locator('[data-testid="download-draft"]').count() == 1
    _shot(finance, "3-finance-pending")

    district.goto(f"{live_server}/results/rounds/{rid}/changes")
    row = district.locator(f'tr[data-unit="{w.units[TOWNSHIP].code}"]')
    assert "核查发现台账缺失" in row.inner_text() and row.locator("[data-delta]").get_attribute("data-delta") == "-500000"
    _shot(district, "4-changes")

    # The leader's reconciliation is not this test's job: the final sheet is approved again as it was, and the
    # district republishes — version 2, with nothing changed.
    from evalapp.models import Sheet
    from evalapp.services.moves import move_sheet
    from sqlalchemy import select

    db.session.expire_all()
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == rid, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[TOWNSHIP].id))
    move_sheet(final, "submitted", w.people["admin"])
    move_sheet(final, "approved", w.people["admin"])
    district.goto(f"{live_server}/results/rounds/{rid}")
    district.click('[data-testid="publish"] button[type=submit]')
    district.wait_for_selector('[data-testid="official"]')
    assert "正式 — 第2版" in district.inner_text('[data-testid="official"]')
    assert district.locator('[data-testid="changed"]').count() == 0
    _shot(district, "5-republished")
    finance.goto(f"{live_server}/finance/rounds/{rid}")
    amounts, wb = _official_amounts(finance, rid)
    assert amounts[TOWNSHIP] == 5000 and "变更" in wb.sheetnames
    for p in (district, admin, finance):
        assert p.errors == []
        p.context.close()
