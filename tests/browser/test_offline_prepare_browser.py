"""离线准备 on a team with ten units (issue 31, point 2 and the size budget), in headless Chromium at 768×1024: the
worklist shows one sheet a page, and preparing stores every sheet assigned to the inspector (the API's
GET /api/v1/rounds/<id>/sheets?mine=1), each one opening with no network; what the prepare step fetches for the ten
sheets weighs ≤ 300 KB compressed as the browser takes it, photo thumbnails apart (≤ 30 KB each)."""
import io
import random
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Sheet
from evalapp.services import evidence
from evalapp.services.sheet_views import find_indicator
from tests.browser.conftest import log_in
from tests.browser.test_offline_browser import context, go_offline, prepare, server  # noqa: F401 (fixtures)
from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, PASSWORD, TOWNSHIP, VILLAGE, make_round
from tests.factories import app_of_world  # noqa: F401 (fixture)

TEAM_VILLAGES = [VILLAGE, "柳湾社区", "竹园社区", "桃源村", "杏林村", "梅溪社区", "枫林村", "石门村", "青山村"]
BUDGET = 300 * 1024  # the prepared data for 10 units, compressed, thumbnails apart
THUMB_BUDGET = 30 * 1024


@pytest.fixture
def world(empty_app):
    """The leader's team (leader, inspector) has 清溪镇 and nine villages: ten inspector sheets each."""
    return make_round("inspection", townships={TOWNSHIP: TEAM_VILLAGES, OTHER_TOWNSHIP: [OTHER_VILLAGE]})


def inspector_sheets(world) -> list[Sheet]:
    return list(db.session.scalars(select(Sheet).where(
        Sheet.round_id == world.round.id, Sheet.kind == "inspector",
        Sheet.inspector_id == world.people["inspector"].id).order_by(Sheet.id)))


def photo_bytes(seed: int) -> bytes:
    """A photo-like 2048×1536 JPEG: shapes, gradients and sensor noise (a thumbnail of it weighs like a real one's)."""
    rng = random.Random(seed)
    img = Image.linear_gradient("L").resize((2048, 1536)).convert("RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rng.randrange(2048), rng.randrange(1536)
        draw.rectangle((x, y, x + rng.randrange(40, 600), y + rng.randrange(40, 400)),
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    noise = Image.effect_noise((2048, 1536), 24).convert("RGB")
    img = Image.blend(img.filter(ImageFilter.GaussianBlur(2)), noise, 0.15)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88)
    return out.getvalue()


def test_prepare_stores_every_assigned_sheet_not_only_the_worklists_page(app, server, context, world):
    app.config["WORKLIST_PAGE_SIZE"] = 1  # ten pages of one sheet
    sheets = inspector_sheets(world)
    assert len(sheets) == 10
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    prepare(page, server.url)
    assert page.locator("a[data-sheet]").count() == 1  # the worklist's page shows one
    prepared = page.eval_on_selector_all("#offline-panel [data-prepared]", "els => els.map(e => e.dataset.prepared)")
    assert sorted(prepared) == sorted(f"/inspection/sheets/{s.id}" for s in sheets)
    assert "本机已存 10 张评分表" in page.inner_text("#offline-panel [data-role=offline-status]")

    go_offline(context, server)
    last = sheets[-1]  # on the worklist's last page: never shown on the one prepared from
    page.goto(f"{server.url}/inspection/sheets/{last.id}")
    page.wait_for_selector("#ind-A1")
    page.wait_for_selector("[data-testid=offline-badge]", state="visible")
    assert last.unit.name in page.inner_text("h1")


def test_the_prepared_data_for_ten_units_is_within_300_kb_compressed_thumbnails_apart(app, server, browser, context,
                                                                                        world, login_as):
    sheets = inspector_sheets(world)
    inspector = world.people["inspector"]
    for n, sheet in enumerate(sheets):  # a photo on two indicators of each sheet
        for code in ("A1", "B1"):
            evidence.add_photo(sheet, find_indicator(sheet, code), photo_bytes(n * 10 + len(code)), f"IMG_{n}{code}.jpg", inspector)
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    # The encodings this Chromium accepts, read from a page with no service worker (a request the worker passes
    # on shows Playwright none of the network's headers).
    plain = browser.new_context(service_workers="block")
    accepts = plain.new_page().goto(server.url + "/").request.all_headers()["accept-encoding"]
    plain.close()
    assert "gzip" in accepts
    page.goto(server.url + "/inspection/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    requests = []  # what the page asks for while preparing
    page.on("request", lambda r: requests.append(r))
    prepare(page, server.url)
    assert "本机已存 10 张评分表" in page.inner_text("#offline-panel [data-role=offline-status]")

    # The same requests again, each answered as the browser took it: the compressed body's length.
    client = login_as("inspector")
    data, thumbs = {}, {}
    for request in requests:
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.path.startswith("/static/"):
            continue  # the app shell: the service worker's cache, a budget of its own
        response = client.get(path, headers={"Accept-Encoding": accepts, "Accept": "*/*"})
        assert response.status_code == 200, path
        if response.mimetype.startswith("image/"):
            thumbs[path] = len(response.data)
        else:
            data[path] = len(response.get_data())
    assert sum(path.startswith("/inspection/sheets/") for path in data) == 10
    assert any(path.startswith("/api/v1/rounds/") and "/catalogue" in path for path in data)
    assert len(thumbs) == 20
    total = sum(data.values())
    print(f"prepared data for 10 units: {total / 1024:.1f} KB over {len(data)} responses; "
          f"thumbnails {min(thumbs.values()) / 1024:.1f}–{max(thumbs.values()) / 1024:.1f} KB")
    assert total <= BUDGET, sorted(data.items(), key=lambda kv: -kv[1])[:5]
    assert max(thumbs.values()) <= THUMB_BUDGET, thumbs
