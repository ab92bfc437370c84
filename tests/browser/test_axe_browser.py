"""Every page each role reaches, at 768×1024 in Chromium, checked by axe-core (vendored, tests/browser/vendor) and
measured as a person on a tablet meets it: no serious or critical axe violation, no control under 44 px, no short
table cell wrapped onto a second line, and an untouched indicator card no taller than a compact summary.

The pages are found as a person finds them: from the role's home page, following every same-site link (GET only,
no log-out, no download), one page per URL shape (/sheets/N once), on a round of the test's own (make_round)."""
import os
import re
import urllib.parse

import pytest
from sqlalchemy import select

from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import PASSWORD, another_round, make_round

AXE = os.path.join(os.path.dirname(__file__), "vendor", "axe-core", "axe.min.js")
SKIP = re.compile(r"logout|/static/|\.xlsx|\.docx|/jobs/\d+/file|\.pdf|/download|/export|/evidence/|/documents/|/photos/", re.I)
PER_SHAPE = 3
ROLES = ["admin", "district", "leader", "inspector", "township", "village", "finance"]

MEASURE = """() => {
  const visible = el => { const r = el.getBoundingClientRect(), st = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && st.visibility !== 'hidden' && el.type !== 'hidden'; };
  const name = el => (el.innerText || el.value || el.getAttribute('aria-label') || el.name || el.tagName)
    .trim().replace(/\\s+/g, ' ').slice(0, 30);
  // A control is a touch target unless it is a link inside running text (WCAG 2.5.8's inline exception).
  const small = [];
  for (const el of document.querySelectorAll('a, button, select, input, summary, [role=button], .form-check-input')) {
    if (!visible(el) || el.closest('.visually-hidden')) continue;
    if (el.tagName === 'A' && el.closest('p, li, td, small, .form-text, .alert') && !el.matches('.btn, .nav-link'))
      continue;
    const target = el.matches('.form-check-input') && el.closest('.form-check') ? el.closest('.form-check') : el;
    const r = target.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) small.push(`${name(el)} (${Math.round(r.width)}×${Math.round(r.height)})`);
  }
  // A header, or a short cell (a name, a number, a date, a status), read on one line.
  const wrapped = [];
  for (const cell of document.querySelectorAll('td, th')) {
    const text = cell.innerText.trim().replace(/\\s+/g, ' ');
    if (!visible(cell) || !text || (cell.tagName === 'TD' && text.length > 12)) continue;
    // a piece of text broken across lines (镇(街 道), 名 次, 剩5 天); a cell's own lines (a caption under a header
    // in a block of its own, a badge beside a name) are not wraps
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const rects = [...range.getClientRects()].filter(r => r.width > 0).sort((a, b) => a.top - b.top);
      if (rects.length > 1 && rects[rects.length - 1].top >= rects[0].bottom - 2) { wrapped.push(text); break; }
    }
  }
  const cards = [...document.querySelectorAll('.indicator-card[data-scored="0"]')].filter(visible)
    .map(c => { const h = sel => c.querySelector(sel).getBoundingClientRect().height;
      return {code: c.dataset.code, rest: Math.round(c.getBoundingClientRect().height - h('.card-header')
                                                      - h('[data-role=deductions]'))}; });
  // Ids once a page (a label, aria-describedby or a fragment finds the first only); one h1; header cells named.
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) ids[el.id] = (ids[el.id] || 0) + 1;
  const repeated = Object.entries(ids).filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);
  const h1 = document.querySelectorAll('h1').length;
  const emptyTh = [...document.querySelectorAll('th')].filter(th => !th.textContent.trim()
    && !th.getAttribute('aria-label')).length;
  return {small, wrapped, cards, repeated, h1, emptyTh, overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth};
}"""


def _same_site_links(page, base):
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    out = []
    for h in hrefs:
        url = urllib.parse.urljoin(page.url, h).split("#")[0]
        if url.startswith(base) and not SKIP.search(url):
            out.append(url)
    return out


def _shape(url):
    return re.sub(r"\d+", "N", urllib.parse.urlparse(url).path)


def _check(page, base, problems):
    """axe-core and the measures on the page as it stands; each finding appended to `problems`."""
    where = page.url[len(base):]
    page.add_script_tag(path=AXE)
    found = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    for v in found["violations"]:
        if v["impact"] not in ("serious", "critical"):
            continue
        for node in v["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            problems.append(f"{where}: axe {v['id']} ({v['impact']}) at {node['target']}: {summary[:240]}")
    m = page.evaluate(MEASURE)
    problems += [f"{where}: touch target under 44 px: {s}" for s in m["small"]]
    problems += [f"{where}: cell wrapped at 768 px: {t!r}" for t in m["wrapped"]]
    problems += [f"{where}: id repeated: {r}" for r in m["repeated"]]
    if m["h1"] != 1:
        problems.append(f"{where}: {m['h1']} h1 headings (one names the page)")
    if m["emptyTh"]:
        problems.append(f"{where}: {m['emptyTh']} header cells without text")
    if m["overflow"] > 0:
        problems.append(f"{where}: scrolls sideways by {m['overflow']} px")
    # Compact: below its title and its rules an untouched card holds two rows of fields (2 × 44–48 px, gaps and
    # padding); it held ~390 px of stacked labels, textareas and the photo button before.
    problems += [f"{where}: untouched card {c['code']}: {c['rest']} px below its rules (over 140)"
                 for c in m["cards"] if c["rest"] > 140]
    return m


def _walk(page, base, role, problems, visited):
    """Breadth first from the home page; up to PER_SHAPE pages of one shape (/selfassess/sheets/N: the unit's own
    sheet and a village's under review are the same shape and not the same page)."""
    queue, asked, checked = [page.url], set(), {}
    while queue:
        url = queue.pop(0)
        if url in asked or checked.get(_shape(url), 0) >= PER_SHAPE:
            continue
        asked.add(url)
        response = page.goto(url, wait_until="load")
        if not response.ok:
            problems.append(f"{url[len(base):]}: HTTP {response.status}")
            continue
        queue.extend(u for u in _same_site_links(page, base) if u not in asked)
        if page.url != url and page.url in asked:  # "/" lands on a page seen
            continue
        asked.add(page.url)
        checked[_shape(page.url)] = checked.get(_shape(page.url), 0) + 1
        visited.append(page.url[len(base):])
        _check(page, base, problems)
        # what a person sees first, to look at (CI keeps test-artifacts/): test-artifacts/axe/<role>/<page>.png
        os.makedirs(os.path.join(ARTIFACTS, "axe", role), exist_ok=True)
        name = urllib.parse.urlparse(page.url).path.strip("/").replace("/", "_") or "home"
        page.screenshot(path=os.path.join(ARTIFACTS, "axe", role, name + ".png"))


@pytest.fixture
def world(empty_app):
    """A round in inspection with every self sheet submitted, and another still in self-assessment."""
    made = make_round("inspection", self_assessed=True)
    another_round(made, "self_assessment", "2032年度测试评估验收")
    return made


@pytest.fixture
def app(empty_app, world):
    empty_app.config["WTF_CSRF_ENABLED"] = True  # forms render their token as a person's browser gets them
    return empty_app


@pytest.fixture
def page(browser, request):
    """A tablet page whose Content-Security-Policy lets the test inject axe-core (the app's own scripts are checked
    under the policy by the other browser tests); console errors fail the test."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"console errors: {errors}"


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_passes_axe_at_tablet_size(live_server, page, role):
    problems, visited = [], []
    page.goto(live_server + "/login")
    _check(page, live_server, problems)
    log_in(page, live_server, role, PASSWORD)
    assert "/login" not in page.url
    _walk(page, live_server, role, problems, visited)
    print(f"{role}: {len(visited)} pages checked: {visited}")
    found = _by_finding(problems)
    assert not found, f"{len(found)} problems on {role}'s pages:\n" + "\n".join(found)


def _by_finding(problems):
    """The same finding on many pages once, with the pages it is on."""
    pages = {}
    for p in problems:
        where, finding = p.split(": ", 1)
        pages.setdefault(finding, {})[where] = True
    return [f"{finding} — on {', '.join(where)}" for finding, where in pages.items()]


# ---------------------------------------------------------------- pages in the states a walk does not reach


def _tablet(browser, errors):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", bypass_csp=True)
    tab = context.new_page()
    tab.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, tab


def test_the_signing_dialog_open_and_a_published_round_with_a_veto_and_an_unlock_pass_axe(
        live_server, browser, world, empty_app):
    """Issue 29 point 9: the signing dialog as the leader sees it open; the results page of a published round with a
    vetoed village (its roll-ups) and an unlocked final sheet (已解锁) as the admin sees it; that round's dashboard
    and 通报; a village's read-only 工作总结."""
    from evalapp.extensions import db
    from evalapp.models import Sheet
    from evalapp.services import publication, rounds as rounds_service
    from tests.conftest import complete_round, fill_all
    from tests.factories import VILLAGE, make_sheet

    # 荷塘村 scored by both members and reconciled: the leader's page offers the signing.
    empty_app.config["WTF_CSRF_ENABLED"] = False  # (the setting up posts without a browser's token)
    clients = {}
    for username in ("leader", "inspector"):
        clients[username] = client = empty_app.test_client()
        client.post("/login", data={"username": username, "password": PASSWORD})
        sheet = make_sheet(world, VILLAGE, inspector=username)
        fill_all(client, sheet)
        assert client.post(f"/api/v1/sheets/{sheet.id}/submit").status_code == 200
    final = make_sheet(world, VILLAGE, "final")
    assert clients["leader"].post(f"/inspection/sheets/{final.id}/reconcile/accept-all").status_code == 302
    # Another round, published with 荷塘村 vetoed; then one final sheet unlocked.
    other = another_round(world, "inspection", "2033年度测试评估验收", self_assessed=True)
    complete_round({}, vetoes={VILLAGE: "V3"}, round_=other.round)
    people = other.people
    rounds_service.advance(other.round, people["district"], confirm=True)
    publication.publish(other.round, people["district"], confirm_no_subsidy=True, confirm_incomplete=True)
    unlocked = db.session.scalars(select(Sheet).where(Sheet.round_id == other.round.id, Sheet.kind == "final")
                                  .order_by(Sheet.id)).first()
    publication.unlock(unlocked, people["admin"], "核查发现台账缺失")
    own = make_sheet(world, VILLAGE, "self")
    empty_app.config["WTF_CSRF_ENABLED"] = True

    problems, errors = [], []
    context, tab = _tablet(browser, errors)
    log_in(tab, live_server, "leader", PASSWORD)
    tab.goto(f"{live_server}/inspection/sheets/{final.id}/reconcile")
    tab.click('[data-sign="leader"]')
    tab.wait_for_selector("#sign-modal[data-ready='1']")
    _check(tab, live_server, problems)
    shots = os.path.join(ARTIFACTS, "axe", "states")
    os.makedirs(shots, exist_ok=True)
    tab.screenshot(path=os.path.join(shots, "signing-dialog.png"))
    context.close()
    for role, paths in (("admin", [f"/results/rounds/{other.round.id}"]),
                        ("district", [f"/results/rounds/{other.round.id}/dashboard",
                                      f"/results/rounds/{other.round.id}/notice"]),
                        ("village", [f"/selfassess/sheets/{own.id}"])):
        context, tab = _tablet(browser, errors)
        log_in(tab, live_server, role, PASSWORD)
        for path in paths:
            assert tab.goto(live_server + path).ok, path
            _check(tab, live_server, problems)
            tab.screenshot(path=os.path.join(shots, f"{role}-{path.strip('/').replace('/', '_')}.png"), full_page=True)
        if role == "district":  # the scatter's axes as drawn: over the scores' range, not ECharts' 49–160
            tab.goto(f"{live_server}/results/rounds/{other.round.id}/dashboard")
            tab.wait_for_selector("#chart-scatter canvas")
            for axis in ("xAxis", "yAxis"):
                low, high = tab.evaluate(
                    "a => echarts.getInstanceByDom(document.getElementById('chart-scatter')).getModel()"
                    ".getComponent(a, 0).axis.scale.getExtent()", axis)
                assert 0 <= low < high <= 100 and high - low <= 50, (axis, low, high)
        if role == "admin":
            assert tab.locator('[data-testid="unlocked"]').count() == 1
            assert tab.locator('[data-testid="summary"] [data-vetoed] b').last.inner_text() == "1"
        context.close()
    found = _by_finding(problems)
    assert not found, f"{len(found)} problems:\n" + "\n".join(found)
    assert errors == [], f"console errors: {errors}"
