"""A signature drawn with no network (issue 31, point 4, the page's side): the leader prepares the team's sheets,
loses the network (browser offline, server stopped), opens the final sheet's signing page from the device and
signs; the signature waits, sealed, with the versions of the content the leader saw, and once the network is back
the server binds it to the content (nothing changed since) and the page shows it signed. Another one drawn on
content changed meanwhile is recorded marked 签名后有改动."""
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Signature
from tests.browser.conftest import log_in
from tests.browser.test_offline_browser import context, go_offline, go_online, prepare, ready, server, shot  # noqa: F401,E501
from tests.browser.test_reconcile_browser import final, world  # noqa: F401 (fixtures)
from tests.browser.test_signatures_browser import _draw, _open, _state, signable  # noqa: F401
from tests.factories import PASSWORD, app_of_world  # noqa: F401 (fixture)


def _signatures(sheet):
    db.session.expire_all()
    return db.session.scalars(select(Signature).where(Signature.sheet_id == sheet.id,
                                                      Signature.superseded_at.is_(None))).all()


def test_a_signature_drawn_offline_waits_with_what_was_seen_and_is_bound_once_online(server, context, signable,
                                                                                      world):
    final = signable
    reconcile = f"{server.url}/inspection/sheets/{final.id}/reconcile"
    page = context.new_page()
    log_in(page, server.url, "leader", PASSWORD)
    prepare(page, server.url)
    assert page.locator(f"#offline-panel [data-prepared='/inspection/sheets/{final.id}/reconcile']").count() == 1

    go_offline(context, server)
    page.goto(reconcile + "#signatures")
    page.wait_for_selector("#signatures")
    assert ready(page)
    _open(page, "leader")
    _draw(page)
    page.click("#sign-form button[type=submit]")
    page.wait_for_selector("tr[data-slot=leader] [data-queued-signature]")
    assert "签名待同步" in page.inner_text("tr[data-slot=leader] [data-queued-signature]")
    page.wait_for_selector("#sign-modal", state="hidden")
    page.wait_for_selector(".modal-backdrop", state="detached")
    shot(page.locator("#signatures"), "signature-pending")
    assert _signatures(final) == []

    with page.expect_navigation():  # the server took it: the page shows it as recorded
        go_online(context, server)
    page.wait_for_selector("#signatures")
    assert _state(page, "leader") == "signed"
    [sig] = _signatures(final)
    assert sig.role == "leader" and sig.changed_after is False
    # the versions the leader saw: every decided indicator of the final sheet, as stored
    from evalapp.models import Indicator, Score
    stored = dict(db.session.execute(select(Indicator.code, Score.version).join(Score.indicator).where(
        Score.sheet_id == final.id)).all())
    assert sig.seen_versions == stored and stored


def test_a_signature_that_arrives_after_publication_is_refused_kept_and_shown(server, context, signable, world):
    """Drawn offline, sent after the round was published: 被拒绝 with the server's reason, kept on the device and
    shown on the leader's signing panel; nothing recorded."""
    from evalapp.services.moves import move_sheet
    from tests.test_official_paper import _publish

    final = signable
    context.allowed_statuses.add(409)  # the refusal
    page = context.new_page()
    log_in(page, server.url, "leader", PASSWORD)
    prepare(page, server.url)
    go_offline(context, server)
    page.goto(f"{server.url}/inspection/sheets/{final.id}/reconcile#signatures")
    page.wait_for_selector("#signatures")
    assert ready(page)
    _open(page, "leader")
    _draw(page)
    page.click("#sign-form button[type=submit]")
    page.wait_for_selector("tr[data-slot=leader] [data-queued-signature]")
    move_sheet(final, "submitted", world.people["admin"])  # meanwhile: reviewed and published
    move_sheet(final, "approved", world.people["admin"])
    _publish(world)

    go_online(context, server)
    page.wait_for_function("() => document.querySelector('tr[data-slot=leader] [data-queued-signature]')"
                           ".textContent.startsWith('签名被拒绝')")
    assert "公布" in page.inner_text("tr[data-slot=leader] [data-queued-signature]")
    page.wait_for_selector("#sign-modal", state="hidden")
    shot(page.locator("#signatures"), "signature-rejected")
    assert _signatures(final) == []
    kept = page.evaluate("""() => EvalappOffline.ready.then(r => EvalappOffline.queue(r.user, r.key))
        .then(q => q.map(i => [i.op.type, i.state, i.result.data.code]))""")
    assert kept == [["signature", "rejected", "signature.published"]]
