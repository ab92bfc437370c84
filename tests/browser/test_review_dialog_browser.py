"""The district's review of a submitted final sheet (scoring/sheet.html with `review`: no indicator cards on the page)
quotes the sheet's real total and result in its 审核通过 / 退回修改 questions and in the sticky bar, at 768×1024 in
Chromium. The page once summed the cards it shows (none here): "总分 0.00 分，合格", or the bonus alone.

On a round of the test's own (factories.make_round): the unit's two members score it, the leader takes their means,
records bonus items (and a veto) and submits (tests.test_review.make_reviewed_final). The expected total is read
from the database: the sheet's stored score sum plus its bonus sum capped by the catalogue's cap."""
import re
from decimal import Decimal

import pytest

from evalapp.extensions import db
from evalapp.models import CatalogueVersion, Sheet
from evalapp.services.sheet_views import catalogue_for_sheet
from tests.browser.conftest import log_in
from tests.factories import TOWNSHIP, VILLAGE, app_of_world, make_sheet, world  # noqa: F401 (fixtures)
from tests.test_review import make_reviewed_final

CENT = Decimal("0.01")
QUESTION = re.compile(r"(?P<unit>\S+)：总分 (?P<total>\S+) 分，(?P<result>[^\n]+)。\n")

CASES = {
    # bonus 2 + 1 over a cap lowered to 2
    "village-bonus-over-cap": dict(unit=VILLAGE, bonus=("X1", "X2"), bonus_cap="2", veto=None),
    "township-bonus-under-cap": dict(unit=TOWNSHIP, bonus=("X2",), bonus_cap=None, veto=None),
    "village-vetoed": dict(unit=VILLAGE, bonus=("X1",), bonus_cap=None, veto={"V3": "台账补记，查实弄虚作假"}),
}


def submitted_final(world, unit, *, bonus, bonus_cap, veto) -> Sheet:
    sheets = (make_sheet(world, unit, "final"), make_sheet(world, unit, inspector="leader"),
              make_sheet(world, unit, inspector="inspector"))
    return make_reviewed_final(*sheets, veto=veto, bonus=bonus, bonus_cap=bonus_cap, photo=False)


def server_figures(sheet_id: int) -> tuple[str, int, int]:
    """The total the server counts for the sheet (stored score sum + min(bonus sum, cap)), its scored indicators and
    its catalogue's number of indicators."""
    db.session.expire_all()
    sheet = db.session.get(Sheet, sheet_id)
    catalogue = db.session.get(CatalogueVersion, catalogue_for_sheet(sheet).id)
    indicators = sum(len(category.indicators) for category in catalogue.categories)
    total = (Decimal(sheet.score_sum) + min(Decimal(sheet.bonus_sum), Decimal(catalogue.bonus_cap))).quantize(CENT)
    return f"{total}", sheet.scored, indicators


def ask(page, button: str) -> str:
    """Click 审核通过 or 退回修改 and dismiss the question; the question's text."""
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer)
    page.click(f"[data-role=review-form] button:has-text('{button}')")
    page.wait_for_function("() => true")  # the click's handlers have run
    assert len(asked) == 1, f"{button}: no question asked"
    return asked[0]


@pytest.mark.parametrize("case", CASES)
def test_review_questions_and_sticky_bar_quote_the_sheets_real_total_and_result(live_server, page, world, case):
    spec = CASES[case]
    final = submitted_final(world, spec["unit"], bonus=spec["bonus"], bonus_cap=spec["bonus_cap"], veto=spec["veto"])
    total, scored, indicators = server_figures(final.id)
    assert scored == indicators > 0 and Decimal(total) > 0  # a complete sheet with a real total

    log_in(page, live_server, "district")
    page.goto(f"{live_server}/inspection/sheets/{final.id}")
    page.wait_for_selector("[data-testid=final-review]")
    assert page.locator(".indicator-card").count() == 0  # the review page: the values are in the review table
    result = page.inner_text("[data-testid=review-result]").strip()
    assert page.inner_text("[data-testid=review-total]").strip() == total

    for button in ("审核通过", "退回修改"):
        asked = QUESTION.search(ask(page, button))
        assert asked, f"{button}: the question does not quote a total"
        assert (asked["unit"], asked["total"], asked["result"]) == (spec["unit"], total, result), button
    assert db.session.get(Sheet, final.id).status == "submitted"  # dismissed: nothing sent

    bar = page.locator("#summary")
    assert bar.locator("[data-role=total]").inner_text() == total
    assert f"已评 {scored}/{indicators}" in bar.inner_text()
    assert bar.locator("[data-role=unscored-count]").inner_text() == "0"
    if spec["veto"]:
        assert result == "不合格(一票否决)"
        assert bar.locator("[data-role=veto]").is_visible()


def test_a_scoring_page_counts_from_the_servers_sums_and_shows_a_dash_for_no_total(live_server, page, world):
    """The inspector's sheet of the village: nothing scored shows no total (—) and no points missing; indicators the
    server has scored count from its sums while another is edited; an answer without a total (null) shows —."""
    from tests.factories import make_score

    sheet = make_sheet(world, VILLAGE)
    log_in(page, live_server, "inspector")
    page.goto(f"{live_server}/inspection/sheets/{sheet.id}")
    page.wait_for_selector("#ind-A1")
    bar = page.locator("#summary")
    assert bar.locator("[data-role=total]").inner_text() == "—"
    for role in ("missing", "missing-label", "reached", "veto"):
        assert not bar.locator(f"[data-role={role}]").is_visible(), role

    make_score(sheet, "A1", "2.5", by=world.people["inspector"])  # saved elsewhere: the server counts 2.50
    make_score(sheet, "A2", by=world.people["inspector"])  # and A2's full 6.00
    page.reload()
    page.wait_for_selector("#ind-A1")
    assert bar.locator("[data-role=total]").inner_text() == "8.50"
    assert bar.locator("[data-role=missing]").inner_text() == "86.50"
    held = []
    page.route("**/api/v1/sheets/*/scores/A3", lambda route: held.append(route))  # A3's save waits: A3 is edited
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='1']")  # 8 − 1
    page.wait_for_function("() => document.querySelector('[data-role=total]').textContent === '15.50'")
    assert bar.locator("[data-role=scored]").inner_text() == "3"
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "A3's save was not sent"
    page.click("#ind-A2 [data-action=full]")  # saved meanwhile, at what the server already counted
    wait_state(page, "A2", "已保存")
    assert bar.locator("[data-role=total]").inner_text() == "15.50"  # A3 is still being edited
    held[0].continue_()
    wait_state(page, "A3", "已保存")
    assert bar.locator("[data-role=total]").inner_text() == "15.50"  # the server's, now every card is saved
    assert bar.locator("[data-role=missing]").inner_text() == "79.50"

    def no_total(route):  # the server's answer, as it may be for a sheet without a total
        response = route.fetch()
        route.fulfill(response=response, json=dict(response.json(), sheet_total=None, missing_to_threshold=None))

    page.route("**/api/v1/sheets/*/scores/A2", no_total)
    page.click("#ind-A2 [data-rule='A2-1'] [data-step='1']")
    wait_state(page, "A2", "已保存")
    page.wait_for_function("() => document.querySelector('[data-role=total]').textContent === '—'")
    for role in ("missing", "missing-label", "reached"):
        assert not bar.locator(f"[data-role={role}]").is_visible(), role
    assert bar.locator("[data-role=scored]").inner_text() == "3"


def wait_state(page, code, text):
    page.wait_for_function(
        "([code, text]) => document.querySelector('#ind-' + code + ' [data-role=state]').textContent === text",
        arg=[code, text])
