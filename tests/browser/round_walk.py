"""The whole-round browser walk's people and hands (tests/browser/test_round_e2e.py): a person at their tablet, the
scoring of a sheet as a member does it, and the test's own arithmetic and workbook reading."""
import io
import os
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Sheet, User
from evalapp.services.catalogues import indicators_of
from tests import factories
from tests.browser.conftest import ARTIFACTS, Console

C = Decimal("0.01")


class Actor:
    """One person at their tablet: a browser context of their own, logged in; every dialog is answered yes and
    kept; console errors fail the test."""

    def __init__(self, browser, base, username, shots):
        self.context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN",
                                           accept_downloads=True)
        self.page = self.context.new_page()
        self.console = Console()
        self.page.on("console", self.console.record)
        self.page.on("pageerror", lambda exc: self.console.errors.append(str(exc)))
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.accept()))
        self.base, self.username, self.shots = base, username, shots
        self.page.goto(base + "/login")
        self.page.fill("#username", username)
        self.page.fill("#password", factories.PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("domcontentloaded")

    def home(self):
        self.page.goto(self.base + "/")
        return self.page

    def shot(self, name):
        self.shots.append(name)
        self.page.screenshot(path=os.path.join(ARTIFACTS, f"e2e-{len(self.shots):02d}-{name}.png"), full_page=True)

    def todo(self, sheet_id):
        """The to-do entry for this sheet on the person's home page (fails if it is not there)."""
        page = self.home()
        item = page.locator(f"[data-testid=todos] [data-todo='{sheet_id}']")
        assert item.count() == 1, f"{self.username}: sheet {sheet_id} not in the to-do once"
        return item

    def open_todo(self, sheet_id):
        item = self.todo(sheet_id)
        with self.page.expect_navigation():
            item.locator("a").click()
        return self.page

    def close(self):
        self.context.close()
        assert self.console.errors == [], f"{self.username}: console errors {self.console.errors}"


def sheet_id(round_id, unit_code, kind, inspector=None):
    from evalapp.models import OrgUnit

    query = (select(Sheet.id).join(OrgUnit, OrgUnit.id == Sheet.unit_id)
             .where(Sheet.round_id == round_id, OrgUnit.code == unit_code, Sheet.kind == kind))
    if inspector:
        query = query.join(User, User.id == Sheet.inspector_id).where(User.username == inspector)
    db.session.expire_all()
    return db.session.scalar(query)


def status(sid):
    db.session.expire_all()
    return db.session.get(Sheet, sid).status


def wait_all_saved(page):
    page.wait_for_function("""() => [...document.querySelectorAll('.indicator-card [data-role=state]')]
        .every(e => e.textContent.startsWith('已保存'))""")


def score_sheet(page, entries, photo=None):
    """Fill a scoring page: `entries` code → ("rule", rule code, count) | ("void", rule code) | ("direct", value,
    reason) | ("note", text); every other indicator 无扣分. A note alone leaves its card unscored, so it is followed
    by 无扣分 here."""
    codes = page.eval_on_selector_all(".indicator-card", "els => els.map(e => e.dataset.code)")
    for code in codes:
        entry = entries.get(code)
        card = f"#ind-{code}"
        if entry is None:
            page.click(f"{card} [data-action=full]")
        elif entry[0] == "rule":
            for _ in range(entry[2]):
                page.click(f"{card} [data-rule='{entry[1]}'] [data-step='1']")
        elif entry[0] == "void":
            page.click(f"{card} [data-rule='{entry[1]}'] input")
        elif entry[0] == "direct":
            page.fill(f"#reason-{code}", entry[2])
            page.fill(f"#direct-{code}", entry[1])
        elif entry[0] == "note":
            page.fill(f"#note-{code}", entry[1])
            page.wait_for_function("c => document.querySelector('#ind-' + c + ' [data-role=state]').textContent"
                                   ".startsWith('已保存（未评分）')", arg=code)
            assert page.get_attribute(card, "data-scored") == "0"  # a note alone is not a score
            page.click(f"{card} [data-action=full]")
    if photo:
        code, path = photo
        page.set_input_files(f"#ind-{code} [data-role=photo-input]", path)
        page.wait_for_selector(f"#ind-{code} [data-photo] img")
    wait_all_saved(page)


def wait_summary_saved(page):
    page.wait_for_function("() => (document.querySelector('[data-role=summary-state]') || {}).textContent"
                           " && document.querySelector('[data-role=summary-state]').textContent.startsWith('已保存')")


def submit_sheet(page, label="提交评分表"):
    with page.expect_navigation():
        page.click(f"button:has-text('{label}')")


def q2(value):
    return Decimal(value).quantize(C, rounding=ROUND_HALF_UP)


def indicator_values(catalogue, entries):
    """What the rules give for each indicator of an entry set (this test's own arithmetic, from the catalogue)."""
    out = {}
    for ind in indicators_of(catalogue):
        entry = entries.get(ind.code)
        value = Decimal(ind.points)
        if entry and entry[0] == "rule":
            rule = next(r for r in ind.rules if r.code == entry[1])
            value = max(value - Decimal(rule.per) * entry[2], Decimal(0))
        elif entry and entry[0] == "void":
            value = Decimal(0)
        elif entry and entry[0] == "direct":
            value = Decimal(entry[1])
        out[ind.code] = value
    return out


def read_sheet(data: bytes, title_hint: str | None = None):
    """Every row of a workbook's sheets (those whose title holds `title_hint`) as dicts keyed by their sheet's header
    row, found by its 单位名称 cell (title rows above it are skipped); by unit name."""
    wb = load_workbook(io.BytesIO(data), data_only=False)
    out = {}
    for ws in wb.worksheets:
        if title_hint is not None and title_hint not in ws.title:
            continue
        rows = list(ws.iter_rows(values_only=True))
        for i, row in enumerate(rows):
            if row and "单位名称" in row:
                head = [str(h) if h is not None else "" for h in row]
                name = head.index("单位名称")
                out.update({r[name]: dict(zip(head, r)) for r in rows[i + 1:] if r and r[name]})
                break
    assert out, f"no sheet with a 单位名称 header in {[ws.title for ws in wb.worksheets]}"
    return out
