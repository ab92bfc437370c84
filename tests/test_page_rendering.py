"""Pages render each request's own data: no rendered markup is kept between requests (issue 16), so nothing of one
sheet, viewer, language or round state shows on another's page; user text is escaped wherever it lands; a
transaction that wrote is rolled back however it ends.
"""
import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select, text

from evalapp.extensions import db
from evalapp.models import AuditEvent, OrgUnit, Sheet, User
from tests.factories import PILOT_DISTRICT, app_of_world, make_round  # noqa: F401 (fixture)
from tests.test_results import completed  # noqa: F401  (the round below, scored and approved)


@pytest.fixture
def world(empty_app):
    """A round of the test's own in inspection over factories.PILOT_DISTRICT, self-assessments submitted; the
    inspector's team has 清溪镇 and two of its villages."""
    return make_round("inspection", townships=PILOT_DISTRICT, self_assessed=True)


def _inspector_village_sheets(n: int) -> list[Sheet]:
    """n of the inspector's village sheets (same catalogue), editable."""
    inspector = db.session.scalar(select(User).where(User.username == "inspector"))
    sheets = db.session.scalars(
        select(Sheet).join(Sheet.unit).where(Sheet.inspector_id == inspector.id, Sheet.kind == "inspector")
        .where(OrgUnit.level == "village").order_by(Sheet.id)).all()
    assert len(sheets) >= n
    return sheets[:n]


def _card(html: str, code: str) -> str:
    """The whole <article> of one indicator card."""
    at = html.index(f'id="ind-{code}"')
    return html[html.rindex("<article", 0, at):html.index("</article>", at)]


def test_each_sheet_shows_its_own_values_escaped(app, login_as):
    first, second = _inspector_village_sheets(2)
    inspector = login_as("inspector")
    note, reason = '<script>alert("x")</script>', 'a "quoted" & <b>bold</b> reason'
    saved = inspector.put(f"/api/v1/sheets/{first.id}/scores/A3",
                          json={"deductions": [{"code": "A3-1", "count": 2}], "free_deduction": "0.5",
                                "reason": reason, "note": note, "version": 0})
    assert saved.status_code == 200, saved.get_json()
    assert inspector.put(f"/api/v1/sheets/{first.id}/scores/B1",
                         json={"deductions": [{"code": "B1-1", "count": 1}], "version": 0}).status_code == 200
    # The second sheet is rendered first: nothing of it may show on the first sheet's page.
    other = inspector.get(f"/inspection/sheets/{second.id}").get_data(as_text=True)
    page = inspector.get(f"/inspection/sheets/{first.id}").get_data(as_text=True)

    a3 = _card(page, "A3")
    assert str(escape(note)) in a3 and note not in page          # escaped, never raw
    assert str(escape(reason)) in a3 and reason not in page
    assert 'data-version="1"' in a3 and 'data-scored="1"' in a3 and "is-unscored" not in a3.split(">")[0]
    assert "is-unscored" in _card(page, "A1").split(">")[0]  # not saved on this sheet
    assert re.search(r'data-rule="A3-1"[^>]*>.*?data-role="count">2<', a3, re.S)
    assert 'rule-chip d-flex align-items-center justify-content-between gap-2 py-2 is-applied" data-rule="A3-1"' in a3
    assert 'value="0.50"' in a3
    assert re.search(r'id="r-B1-1" checked>', _card(page, "B1"))

    a3_other = _card(other, "A3")  # the other sheet of the same catalogue: nothing of the first one
    assert note not in other and str(escape(note)) not in other and str(escape(reason)) not in other
    assert 'data-version="0"' in a3_other and "is-unscored" in a3_other.split(">")[0]
    assert 'data-role="count">0<' in a3_other and "is-applied" not in a3_other
    assert not re.search(r'id="r-B1-1" checked', _card(other, "B1"))
    assert 'value=""' in a3_other


def test_cards_follow_language_and_editability(app, login_as):
    first, second = _inspector_village_sheets(2)
    inspector = login_as("inspector")
    chinese = inspector.get(f"/inspection/sheets/{first.id}").get_data(as_text=True)
    assert "满分" in _card(chinese, "A3") and "<fieldset >" in _card(chinese, "A3")
    assert inspector.post("/lang", data={"lang": "en", "next": "/"}).status_code in (302, 303)
    english = inspector.get(f"/inspection/sheets/{first.id}").get_data(as_text=True)
    assert "Max." in _card(english, "A3") and "满分" not in _card(english, "A3")
    inspector.post("/lang", data={"lang": "zh_Hans_CN", "next": "/"})

    # A submitted sheet of the same catalogue is read-only: disabled fields, no photo button.
    db.session.execute(Sheet.__table__.update().where(Sheet.id == second.id).values(status="submitted"))
    db.session.commit()
    read_only = inspector.get(f"/inspection/sheets/{second.id}").get_data(as_text=True)
    assert "<fieldset disabled>" in _card(read_only, "A3") and 'data-role="photo-input"' not in read_only
    editable = inspector.get(f"/inspection/sheets/{first.id}").get_data(as_text=True)
    assert "<fieldset >" in _card(editable, "A3") and 'data-role="photo-input"' in editable


def _csrf(html: str) -> list[str]:
    return re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', html)


def test_results_pages_carry_each_viewers_token_and_role_and_the_rounds_state(completed, app, login_as):  # noqa: F811
    district_a, district_b, admin = login_as("district"), login_as("district"), login_as("admin")
    app.config["WTF_CSRF_ENABLED"] = True  # logged in already: the pages now carry real tokens
    url = f"/results/rounds/{completed.id}"
    page_a = district_a.get(url).get_data(as_text=True)
    page_b = district_b.get(url).get_data(as_text=True)
    tokens_a, tokens_b = _csrf(page_a), _csrf(page_b)
    body_a = page_a.split("<main")[1].split("</main>")[0]
    assert tokens_a and tokens_b and set(tokens_a).isdisjoint(tokens_b)  # each viewer's own session token
    assert body_a.replace(tokens_a[0], "T") == page_b.split("<main")[1].split("</main>")[0].replace(tokens_b[0], "T")
    assert 'data-testid="publish"' in page_a
    # The admin sees the same report through the admin's page: no publish form (district only).
    admin_page = admin.get(url).get_data(as_text=True)
    assert 'data-testid="publish"' not in admin_page

    app.config["WTF_CSRF_ENABLED"] = False
    assert district_a.post(f"{url}/publish", data={"confirm_no_subsidy": "1", "confirm_incomplete": "1"}).status_code in (302, 303)
    app.config["WTF_CSRF_ENABLED"] = True
    published_admin = admin.get(url).get_data(as_text=True)
    assert 'action="/results/sheets/' in published_admin and "/unlock" in published_admin  # admin: unlock forms
    assert _csrf(published_admin)
    published_district = district_b.get(url).get_data(as_text=True)
    assert "/unlock" not in published_district and 'data-testid="draft"' not in published_district
    # The same query with another page argument is another body.
    assert district_b.get(url + "?level=village").get_data(as_text=True) != published_district


def test_a_transaction_that_wrote_is_rolled_back_whatever_ended_it(app):
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    db.session.connection().execute(AuditEvent.__table__.insert().values(action="probe", object_type="", detail=""))
    db.session.close()  # no commit: the write is undone
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before
    db.session.execute(select(Sheet.id).limit(1)).all()
    db.session.connection().execute(text("UPDATE users SET display_name = display_name || 'x'"))
    db.session.rollback()
    assert not db.session.scalar(select(func.count(User.id)).where(User.display_name.like("%x")))


def test_template_gettext_matches_jinja_newstyle(app):
    """`{{ _() }}` is called directly (Jinja's newstyle wrapper cost two context calls and a format per string);
    the output is the same: translated, markup, variables escaped, %% as %."""
    from jinja2.ext import _make_new_gettext

    from evalapp.templating import _gettext, _translations

    jinja = app.jinja_env.from_string("{{ jinja('总分%(t)s分以上(含%(t)s分)为合格', t=t) }}|{{ jinja('100%%') }}|"
                                      "{{ jinja('评分表') }}")
    ours = app.jinja_env.from_string("{{ _('总分%(t)s分以上(含%(t)s分)为合格', t=t) }}|{{ _('100%%') }}|"
                                     "{{ _('评分表') }}")
    for lang in ("zh_Hans_CN", "en"):
        with app.test_request_context("/"):
            from flask import session

            session["lang"] = lang
            reference = _make_new_gettext(lambda s: _translations().ugettext(s))
            for t in ("95.00", "<b>&"):
                expected = jinja.render(jinja=reference, t=t)
                assert ours.render(t=t) == expected
                assert "&lt;b&gt;&amp;" in expected or t == "95.00"
            assert "100%|" in ours.render(t="1")
    assert app.jinja_env.globals["_"] is _gettext  # the direct call is what templates use
