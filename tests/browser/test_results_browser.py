"""Dashboards render in Chromium; print pages fit A4 portrait."""
import os

from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import complete_round, sheet_of


def test_dashboard_charts_render_without_console_errors(app, live_server, page):
    round_ = complete_round({"道仁矶社区": "94.99", "坪田村": "90"})
    log_in(page, live_server, "district")
    page.goto(f"{live_server}/results/rounds/{round_.id}/dashboard")
    for chart in ("chart-pass-rate", "chart-distribution", "chart-lost", "chart-progress", "chart-scatter"):
        page.wait_for_selector(f"#{chart} canvas")
    assert page.locator(".chart canvas").count() == 5


def test_print_pages_fit_a4_without_cut_off_columns(app, live_server, page):
    round_ = complete_round({"道仁矶社区": "94.99", "坪田村": "90"})
    final = sheet_of(None, "道仁矶社区", kind="final")
    log_in(page, live_server, "district")
    os.makedirs(ARTIFACTS, exist_ok=True)
    for name, url in (("sheet", f"/results/sheets/{final.id}/print"), ("notice", f"/results/rounds/{round_.id}/notice")):
        page.goto(live_server + url)
        page.emulate_media(media="print")
        # A4 portrait less 12 mm margins each side is 186 mm ≈ 703 CSS px
        widths = page.evaluate("() => [document.body.scrollWidth, "
                               "Math.max(...[...document.querySelectorAll('table')].map(t => t.scrollWidth))]")
        assert max(widths) <= 703, f"{name}: content {widths} wider than A4"
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")
        with open(os.path.join(ARTIFACTS, f"print-{name}.pdf"), "wb") as f:
            f.write(pdf)
        page.emulate_media(media="screen")
