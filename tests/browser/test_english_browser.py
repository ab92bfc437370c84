"""In English, no interface text stays Chinese: every demo role walks the pages it can reach (one page per shape,
as ../shared/tools/walk_pages.py does; the pages the other browser tests open are among them) and no Chinese is
left once the database's own strings are taken out.

Data stays as typed (unit, user, round and team names, indicator and rule texts, summaries, comments, the audit's
stored texts): every Chinese string the database holds is taken out of the page's text first, except the unit
types (org_units.kind), which are vocabulary. Text marked translate="no" (the language switch's 中文, the worksheet
names an import file must hold, truncated indicator titles) is skipped, and so are print pages and downloads
(official documents stay Chinese).
"""
import re
import urllib.parse

from sqlalchemy import String, Text, select

from evalapp.extensions import db

from .conftest import log_in
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

HAN = re.compile(r"[\u4e00-\u9fff]")
USERS = ["admin", "district", "leader", "inspector", "township", "village", "finance"]
# Print pages and files: official documents, Chinese in every language. Log-out would end the walk.
SKIP = re.compile(r"logout|/static/|\.xlsx|\.docx|\.pdf|/download|/export|/workbook|/evidence/|/documents/|/photos/"
                  r"|/print|/rounds/\d+/notice|/answer|/jobs/\d+/file", re.I)  # (/notice/…: the 公示 pages are walked)
VOCABULARY_COLUMNS = {("org_units", "kind")}
# Interface text built by code this check does not own yet, each with where it comes from: remove an entry when
# that code returns marked messages (issue 16 point 3, typed messages from services).
BUILT_ELSEWHERE = [
    re.compile(r"^以下单位尚未分配工作组："),  # services/rounds.py inspection_problems (admin/rounds/N)
]
MAX_PAGES = 30  # per user: more than any role reaches
# The 帮助 pages are one shape, whichever role's manual they show: each user walks the one the header links to (its
# headings and frame translated, the Chinese manual text marked lang="zh-CN" translate="no"), not all seven.
HELP = re.compile(r"^/help/[a-z]+$")
# Pages reached by a form sent with GET, not by a link: walked too ({final}: a final sheet of the demo's).
# A job's page (services.jobs) is reached by a POST: the district's workbook job and finance's evidence zip.
# The 评估总结's page ({round}: that sheet's round) is walked first, whatever the page budget leaves (issue 33).
# {vunit}: the village user's unit, {copy}: a copy of the village catalogue made for the walk (its lineage page).
FORM_PAGES = {"district": ["/results/review/approve?sheet={final}",  # the bulk approval's confirmation
                           "/jobs/{job}", "/results/rounds/{round}/summary",
                           "/results/history", "/results/units/{vunit}/history"],  # issue 33: across rounds
              "finance": ["/jobs/{zip}"],
              "village": ["/results/units/{vunit}/history"],
              "admin": ["/admin/catalogues/{copy}/lineage", "/admin/units/{vunit}/edit"]}

# Text the page shows: text nodes, the attributes a person reads or hears, the words scripts show (JSON the page
# carries for them, data-labels and data-messages attributes), and the title.
COLLECT = """() => {
  const out = [];
  const skipped = el => el && el.closest('[translate=no]');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const parent = n.parentElement;
    if (!parent || parent.closest('script, style, noscript') || skipped(parent)) continue;
    if (n.nodeValue.trim()) out.push(n.nodeValue.trim());
  }
  const attrs = ['placeholder', 'title', 'aria-label', 'alt', 'data-confirm'];
  for (const el of document.querySelectorAll('*')) {
    if (skipped(el)) continue;
    for (const a of attrs) if (el.hasAttribute(a)) out.push(el.getAttribute(a));
    if ((el.type === 'submit' || el.type === 'button') && el.tagName === 'INPUT') out.push(el.value);
  }
  const leaves = (v) => typeof v === 'string' ? [v] : (v && typeof v === 'object') ? Object.values(v).flatMap(leaves) : [];
  for (const el of document.querySelectorAll('[data-labels], [data-messages]'))
    out.push(...leaves(JSON.parse(el.dataset.labels || el.dataset.messages)));
  for (const el of document.querySelectorAll('script[type="application/json"]'))
    out.push(...leaves(JSON.parse(el.textContent)));
  out.push(document.title);
  return out;
}"""


def data_strings() -> list[str]:
    """Every Chinese string the database holds (and each of its lines), longest first."""
    found = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, (String, Text)) or (table.name, column.name) in VOCABULARY_COLUMNS:
                continue
            for value in db.session.scalars(select(column).distinct()):
                if isinstance(value, str) and HAN.search(value):
                    found.add(value)
                    found.update(line.strip() for line in value.splitlines() if line.strip())
    return sorted(found, key=len, reverse=True)


def untranslated(texts: list[str], data: list[str]) -> list[str]:
    """The texts that still hold Chinese once the data strings are taken out."""
    left = []
    for text in texts:
        if not text or not HAN.search(text):
            continue
        rest = text
        for d in data:
            if d in rest:
                rest = rest.replace(d, " ")
        if HAN.search(rest) and not any(p.search(text) for p in BUILT_ELSEWHERE):
            left.append(text)
    return left


def walk(page, base: str, extra=()) -> dict[str, list[str]]:
    """Each page shape this user reaches by links (and the `extra` URLs) → its untranslated texts."""
    queue, seen, found = [page.url, *extra], set(), {}
    data = data_strings()
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        shape = HELP.sub("/help/R", re.sub(r"\d+", "N", urllib.parse.urlparse(url).path))
        if shape in seen:
            continue
        seen.add(shape)
        response = page.goto(url)
        assert response.status < 400, f"{url}: {response.status}"
        left = untranslated(page.evaluate(COLLECT), data)
        if left:
            found[url[len(base):]] = sorted(set(left))
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urllib.parse.urljoin(page.url, href).split("#")[0]
            if target.startswith(base) and not SKIP.search(target):
                queue.append(target)
    return found


def test_no_chinese_interface_text_on_any_page_in_english(app, live_server, browser):
    from evalapp.models import Sheet

    from evalapp.models import Round, User
    from evalapp.services import catalogue_io, jobs

    final, round_id = db.session.execute(select(Sheet.id, Sheet.round_id).where(Sheet.kind == "final")
                                         .order_by(Sheet.id).limit(1)).one()
    round_ = db.session.scalar(select(Round).order_by(Round.id))
    admin, district, finance = (db.session.scalar(select(User).where(User.username == u))
                                for u in ("admin", "district", "finance"))
    copy = catalogue_io.clone(round_.village_catalogue, admin)
    ids = {"final": final, "round": round_id, "copy": copy.id,
           "vunit": db.session.scalar(select(User.unit_id).where(User.username == "village")),
           "job": jobs.request_job("results_workbook", jobs.workbook_params(round_, False), district).id,
           "zip": jobs.request_job("evidence_zip", jobs.evidence_params(round_, finance), finance).id}
    report = {}
    for user in USERS:
        context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en-US")
        page = context.new_page()
        log_in(page, live_server, user)
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state("domcontentloaded")
        assert page.locator("html").get_attribute("lang") == "en"
        found = walk(page, live_server, [live_server + url.format(**ids) for url in FORM_PAGES.get(user, [])])
        context.close()
        report.update({f"{user} {url}": texts for url, texts in found.items()})
    assert report == {}, "Chinese left in the English interface:\n" + "\n".join(
        f"{where}: {texts}" for where, texts in report.items())


def test_the_check_finds_chinese_outside_data():
    data = ["荷塘村", "第一工作组"]
    assert untranslated(["荷塘村 · Self-assessment", "第一工作组", "Team"], data) == []
    assert untranslated(["荷塘村 · 自评表", "自评阶段"], data) == ["荷塘村 · 自评表", "自评阶段"]


def test_the_proxy_pages_are_english_too(app, live_server, browser):
    """代填 (issue 29 point 6): the township's list of villages without an account, and such a village's sheet as
    its township fills it in (the banner) once something is saved (the mark) — pages the walk reaches by shape only
    through another sheet."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en-US")
    page = context.new_page()
    log_in(page, live_server, "township")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state("domcontentloaded")
    page.goto(live_server + "/selfassess/township")
    data = data_strings()
    assert untranslated(page.evaluate(COLLECT), data) == []
    page.locator("[data-testid=proxy-list] a").first.click()
    page.wait_for_selector("[data-testid=proxy-filling]")
    page.click(".indicator-card [data-action=full] >> nth=0")
    page.wait_for_selector(".indicator-card [data-role=state]:text('Saved')")
    page.reload()
    assert page.locator("[data-testid=proxy-mark]").count() == 1
    assert untranslated(page.evaluate(COLLECT), data_strings()) == []
    page.goto(live_server + "/selfassess/township")
    assert page.locator("[data-testid=proxy-badge]").count() == 1  # in the villages' list
    assert untranslated(page.evaluate(COLLECT), data_strings()) == []
    context.close()


def test_the_set_up_page_and_the_user_import_pages_in_english(app, live_server, browser):
    """The pages no link reaches: the set-up page (before log-in) and what a user import answers (its problems, the
    printable codes). The problems name the file's cells; the roles a file may hold stay as the file holds them."""
    import io

    from openpyxl import Workbook

    def workbook(rows) -> bytes:
        wb = Workbook()
        wb.active.append(["用户名", "姓名", "角色", "所属单位代码"])
        for row in rows:
            wb.active.append(list(row))
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    def left(page) -> list[str]:
        return untranslated(page.evaluate(COLLECT), data_strings())

    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/setup")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("html").get_attribute("lang") == "en" and left(page) == []
    page.fill("#username", "nobody")
    page.fill("#code", "AAAA-BBBB-CCCC")
    page.get_by_role("button", name="Set password").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Wrong username or set-up code" in page.inner_text("body") and left(page) == []

    log_in(page, live_server, "admin")
    page.goto(live_server + "/admin/users")
    form = page.locator("[data-testid=import-users]")
    bad = [("wang.fang", "", "工作组成员", "430603101"), ("wang.fang", "王芳", "村(社区)协理员", ""),
           ("li.ming", "李明", "镇(街道)负责人", "430603999")]
    form.locator("input[type=file]").set_input_files({"name": "u.xlsx", "mimeType": "application/octet-stream",
                                                      "buffer": workbook(bad)})
    form.get_by_role("button", name="Import").click()
    page.wait_for_load_state("domcontentloaded")
    problems = page.locator("[data-testid=problems]").inner_text()
    assert "Row 2, column B (Name): The name is missing" in problems and left(page) == []
    form = page.locator("[data-testid=import-users]")
    form.locator("input[type=file]").set_input_files({"name": "u.xlsx", "mimeType": "application/octet-stream",
                                                      "buffer": workbook([("wang.fang", "王芳", "工作组成员", "")])})
    form.get_by_role("button", name="Import").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("[data-testid=setup-codes] tbody tr").count() == 1 and left(page) == []
    context.close()
