"""The 操作手册's pictures (evalapp/static/manual/*.png), taken from the pages the app serves on the demo data.

Not a test of the suite (its name does not start with test_, so pytest never collects it on its own): run it with
`make manual-screenshots` after a change to a page the manual shows, look at the pictures, and commit them.
Each picture is the top of the page at the tablet's 768×1024, as the person sees it on opening it, reduced to
256 colours (a page of flat colours and text loses nothing visible; a tenth of the bytes).

The demo is taken a little further first, so that the pages show work in progress: both members of the first team
have scored and submitted 陆城镇 (its 汇总 has figures to reconcile) and the inspector has scored 陆城村.
"""
import os

from PIL import Image

from tests.conftest import sheet_of

from .conftest import log_in

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "evalapp", "static", "manual")

TOWN, VILLAGE = "陆城镇", "陆城村"
# name → (user or None for the log-in page, the page to open, the link on it to follow first or None); {insp} and
# {final} are the sheets prepared below.
SHOTS = {
    "login": (None, "/login", None),
    "village-home": ("village", "/selfassess/", None),
    "self-sheet": ("village", "/selfassess/", "table a[href*='/selfassess/sheets/']"),
    "township-home": ("township", "/selfassess/township", None),
    "worklist": ("inspector", "/inspection/", None),
    "inspector-sheet": ("inspector", "/inspection/sheets/{insp}", None),
    "reconcile": ("leader", "/inspection/sheets/{final}/reconcile", None),
    "district-home": ("district", "/results/", None),
    "district-results": ("district", "/results/", "table a[href*='/results/rounds/']"),
    "finance-round": ("finance", "/finance/", "table a[href*='/finance/rounds/']"),
    "admin-round": ("admin", "/admin/rounds", "[data-testid=rounds] a"),
}


def shrink(path: str) -> None:
    """The PNG in 256 colours, compressed as far as PNG goes."""
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def prepare() -> dict[str, int]:
    """陆城镇 scored and submitted by both members of the first team; 陆城村 scored by the inspector."""
    from evalapp.extensions import db
    from evalapp.models import User
    from evalapp.services import moves
    from evalapp.services.seed import fill_sheet

    people = {u: db.session.scalar(db.select(User).where(User.username == u)) for u in ("leader", "inspector")}
    for username, user in people.items():
        sheet = sheet_of(username, TOWN)
        fill_sheet(sheet, user, f"manual/{username}")
        moves.submit_sheet(sheet, user)
    insp = sheet_of("inspector", VILLAGE)
    fill_sheet(insp, people["inspector"], "manual/village")
    return {"insp": insp.id, "final": sheet_of("leader", TOWN, "final").id}


def test_take_the_manuals_pictures(app, live_server, browser):
    os.makedirs(OUT, exist_ok=True)
    ids = prepare()
    for name, (user, url, follow) in SHOTS.items():
        url = url.format(**ids)
        context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
        page = context.new_page()
        if user:
            log_in(page, live_server, user)
        page.goto(live_server + url)
        if follow:
            page.locator(follow).first.click()
            page.wait_for_load_state("networkidle")
        path = os.path.join(OUT, f"{name}.png")
        page.screenshot(path=path)
        shrink(path)
        context.close()
