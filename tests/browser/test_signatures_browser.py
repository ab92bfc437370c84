"""Signatures on the 评分表 at 768×1024 (issue 19, point 6), on a round of the test's own: the leader signs on the
reconcile page, a member on their own tablet, the village's representative types a name and signs on the leader's
tablet — turned to landscape between two strokes, no stroke lost; an empty drawing and a tap are refused (the page
before sending, the server when sent anyway); a change of a score marks the signature and the leader signs again;
the district sees the state in its queue and the signatures on the printed 评分表 above the lines kept for ink."""
import json
import os

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Signature
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_reconcile_browser import final, world  # noqa: F401 (fixtures)
from tests.factories import PASSWORD, app_of_world  # noqa: F401 (fixture)


@pytest.fixture
def signable(final, login_as):
    """The reconcile browser test's 荷塘村 (both members submitted), the leader having taken the members' mean."""
    login_as("leader").post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    return final


def _shot(page, name):
    page.screenshot(path=os.path.join(ARTIFACTS, f"signatures-{name}.png"))


def _draw(page, stroke_from=0.1, stroke_to=0.9):
    """One stroke across the canvas, zigzag, with the mouse (pointer events, as a finger's)."""
    box = page.locator("#sign-modal canvas").bounding_box()
    x0, x1 = box["x"] + box["width"] * stroke_from, box["x"] + box["width"] * stroke_to
    page.mouse.move(x0, box["y"] + box["height"] * 0.6)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(x0 + (x1 - x0) * i / 12, box["y"] + box["height"] * (0.35 if i % 2 else 0.65), steps=3)
    page.mouse.up()


def _open(page, slot):
    page.click(f'[data-sign="{slot}"]')
    page.wait_for_selector("#sign-modal[data-ready='1']")


def _state(page, slot):
    return page.get_attribute(f'#signatures tr[data-slot="{slot}"]', "data-state")


def _signatures(final):
    db.session.expire_all()
    return db.session.scalars(select(Signature).where(Signature.sheet_id == final.id,
                                                      Signature.superseded_at.is_(None))).all()


def test_signing_the_sheet_on_the_tablet(live_server, page, browser, signable, world):
    final, people = signable, world.people
    reconcile = f"{live_server}/inspection/sheets/{final.id}/reconcile"
    page.console.allowed_statuses.add(422)  # the tap sent past the page's check, refused
    log_in(page, live_server, "leader", PASSWORD)
    page.goto(reconcile + "#signatures")
    assert page.inner_text("#signatures h2").startswith("签名确认") and "已签0 / 3" in page.inner_text("#signatures h2")

    # An empty drawing: refused on the page, nothing sent.
    _open(page, "leader")
    assert page.evaluate("innerWidth") == 768 and page.locator("#sign-modal .modal-dialog").bounding_box()["width"] == 768
    page.click("#sign-form button[type=submit]")
    assert page.locator("[data-strokes-error]").inner_text() == "请在框内签名后再确认"
    assert page.url == reconcile + "#signatures"

    # The leader signs.
    _draw(page)
    _shot(page, "1-leader-drawing")
    with page.expect_navigation():
        page.click("#sign-form button[type=submit]")
    assert "/reconcile?signed=leader#signatures" in page.url, page.inner_text("main")[:800]
    assert "的签名已保存" in page.inner_text(".alert-success")
    assert _state(page, "leader") == "signed"
    assert page.evaluate("document.querySelector('tr[data-slot=leader] img').naturalWidth") == 500
    [sig] = _signatures(final)
    assert sig.role == "leader" and len(sig.strokes) == 1 and len(sig.strokes[0]) >= 12

    # A tap sent anyway (past the page's check) is refused by the server: the panel comes back open, the name kept.
    _open(page, "representative")
    page.fill("#sign-name", "王丽")
    page.evaluate("""() => { const f = document.getElementById('sign-form');
        f.elements.strokes.value = JSON.stringify([[[100, 100, 0]]]); f.elements.width.value = '600';
        f.elements.height.value = '240'; f.submit(); }""")
    page.wait_for_selector("#sign-modal[data-ready='1']")
    assert "签名过短" in page.inner_text("[data-strokes-error]") and page.input_value("#sign-name") == "王丽"
    _shot(page, "2-tap-refused")
    page.click("[data-sign-clear]")

    # The representative signs on the leader's tablet; the tablet turns to landscape between two strokes.
    _draw(page, 0.05, 0.45)
    before = page.evaluate("document.querySelector('#sign-modal canvas').getBoundingClientRect().width")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_function(f"() => document.querySelector('#sign-modal canvas').getBoundingClientRect().width "
                           f"!= {before}")
    page.wait_for_timeout(100)
    _draw(page, 0.55, 0.95)
    _shot(page, "3-representative-landscape")
    with page.expect_navigation():
        page.click("#sign-form button[type=submit]")
    assert _state(page, "representative") == "signed"
    rep = next(s for s in _signatures(final) if s.role == "representative")
    assert rep.signer_name == "王丽" and len(rep.strokes) == 2
    first, second = ([p[0] for p in s] for s in rep.strokes)
    # the first stroke, drawn in portrait over 5–45 % of the box, is still there after the turn (scaled, not lost)
    assert 30 <= min(first) <= 70 and 420 <= max(first) <= 480, (min(first), max(first))
    assert 530 <= min(second) and max(second) <= 970
    page.set_viewport_size({"width": 768, "height": 1024})

    # A member signs on their own tablet.
    member = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN").new_page()
    log_in(member, live_server, "inspector", PASSWORD)
    member.goto(reconcile + "#signatures")
    slot = f"inspector:{people['inspector'].id}"
    member.click(f'[data-sign="{slot}"]')
    member.wait_for_selector("#sign-modal[data-ready='1']")
    _draw(member)
    with member.expect_navigation():
        member.click("#sign-form button[type=submit]")
    assert member.get_attribute(f'#signatures tr[data-slot="{slot}"]', "data-state") == "signed", (
        member.url, member.inner_text("main")[:600])
    member.context.close()

    # The leader's worklist shows how far signing has come.
    page.goto(f"{live_server}/inspection/")
    assert page.inner_text(f'[data-final="{final.id}"] [data-testid=signed]') == "签名 3/3"

    # A changed score: every signature is marked, the leader signs again.
    page.goto(reconcile)
    code = page.eval_on_selector_all("tr[data-code]", "rows => rows[0].dataset.code")
    row = f"#row-{code}"
    placeholder = page.get_attribute(f"{row} input[name=score]", "placeholder")
    page.fill(f"{row} input[name=score]", f"{float(placeholder) - 1:.2f}")
    page.fill(f"{row} [name=reason]", "复核台账后调整")
    with page.expect_navigation():
        page.click(f"{row} button[type=submit]")
    page.goto(reconcile + "#signatures")
    assert page.is_visible("[data-testid=signatures-stale]")
    assert {_state(page, s) for s in ("leader", "representative", slot)} == {"stale"}
    _shot(page, "4-changed-since-signing")
    _open(page, "leader")
    _draw(page)
    with page.expect_navigation():
        page.click("#sign-form button[type=submit]")
    assert _state(page, "leader") == "signed" and _state(page, "representative") == "stale"
    assert page.is_visible("[data-testid=signatures-stale]")  # two still to sign again

    # Signing does not hold up submitting.
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click("form[action$='/reconcile/submit'] button[type=submit]")
    assert "已提交区级审核" in page.inner_text(".alert-success")

    # The district: the queue shows the change since signing; the print page shows the valid signature only.
    district = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN").new_page()
    log_in(district, live_server, "district", PASSWORD)
    district.goto(f"{live_server}/results/")
    assert district.inner_text(f'[data-sheet="{final.id}"] [data-testid=signed]') == "签名后有改动"
    district.goto(f"{live_server}/results/sheets/{final.id}/print")
    assert district.get_attribute('tr[data-slot="leader"]', "data-state") == "signed"
    assert district.evaluate("document.querySelector('tr[data-slot=leader] img.e-signature').naturalWidth") == 500
    assert district.locator("img.e-signature").count() == 1
    assert district.locator(".sign-stale").count() == 2
    assert district.locator("td.sign-line").count() == 3  # every signer (the leader, who scores, once) keeps the line for ink
    district.screenshot(path=os.path.join(ARTIFACTS, "signatures-5-print.png"), full_page=True)
    district.context.close()
    assert json.dumps(page.console.errors) == "[]"
