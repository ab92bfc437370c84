"""The read-model issue's parity test on the offline page (issue 31, point 3): the inspector prepares the worklist
(离线准备), the network goes (the browser offline and the server stopped, so the service worker's own requests fail
too), and the scoring pages of both levels open from the device — the page from IndexedDB, standing.js from the
service worker's cache. The same fixed-seed entries and sheets as tests/browser/test_standing_parity_browser.py are
computed there by the page's standing rule with every indicator's rule read from the catalogue stored in IndexedDB
(the API's catalogue operation, kept by 离线准备), and give the figures that test computes itself from the YAML."""
import json
from decimal import Decimal

from tests.browser.conftest import log_in
from tests.browser.test_offline_browser import context, go_offline, prepare, server  # noqa: F401 (fixtures)
from tests.browser.test_standing_parity_browser import (LEVEL_UNIT, STANDING_JS, build_cases, check_figures, dec,
                                                        indicators, load_catalogues, run_in_page)
from tests.factories import PASSWORD, app_of_world, make_sheet, world  # noqa: F401 (fixtures)

# In the page: the catalogues of both levels as 离线准备 stored them (sealed in IndexedDB, opened with the user's
# key), and the specs built from them for the test's (level, code) keys.
SPECS_FROM_STORE = """async ([round, keys]) => {
    const O = window.EvalappOffline, S = window.EvalappStanding;
    const stored = {};
    for (const level of ["village", "township"]) {
        const response = await O.storedResponse("/api/v1/rounds/" + round + "/catalogue?kind=" + level);
        if (!response) { return {missing: level}; }
        stored[level] = await response.json();
    }
    const specs = keys.map(([level, code]) => {
        const ind = stored[level].indicators.find(i => i.code === code);
        if (!ind) { return {unknown: [level, code]}; }
        return {max: S.toCents(ind.max),
                rules: ind.rules.map(r => ({code: r.code, per: r.void ? 0 : S.toCents(r.per), void: !!r.void}))};
    });
    return JSON.stringify({stored, specs});
}"""


def test_the_offline_page_scores_the_generated_entries_from_the_stored_catalogue_like_the_rule(server, context,
                                                                                                 world):
    c = build_cases()
    catalogues = {cat["level"]: cat for cat in load_catalogues()}
    sheets = {level: make_sheet(world, unit) for level, unit in LEVEL_UNIT.items()}
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    prepare(page, server.url)
    for sheet in sheets.values():
        assert page.locator(f"#offline-panel [data-prepared='/inspection/sheets/{sheet.id}']").count() == 1

    go_offline(context, server)
    with open(STANDING_JS, encoding="utf-8") as f:
        standing_source = f.read()
    for level, sheet in sheets.items():
        page.goto(f"{server.url}/inspection/sheets/{sheet.id}")  # from the device: the server is down
        page.wait_for_selector(".indicator-card")
        page.wait_for_selector("[data-testid=offline-badge]", state="visible")
        assert page.evaluate("() => navigator.serviceWorker.controller !== null")
        # The standing rule the page runs is the repository's standing.js, served by the worker from its cache.
        src = page.evaluate("() => [...document.scripts].map(s => s.src).find(s => s.includes('/static/js/standing.js'))")
        assert src
        assert page.evaluate("src => fetch(src).then(r => r.text())", src) == standing_source

        found = json.loads(page.evaluate(SPECS_FROM_STORE, [world.round.id, c["keys"]]))
        assert "missing" not in found, found
        stored = found["stored"]
        # The stored catalogue is the default one (its line and bonus cap too) ...
        for lvl, cat in catalogues.items():
            assert [i["code"] for i in stored[lvl]["indicators"]] == [i["code"] for i in indicators(cat)], lvl
            assert Decimal(stored[lvl]["bonus_cap"]) == dec(cat["bonus_cap"])
            assert Decimal(stored[lvl]["threshold"]) == Decimal("95")
        # ... and the offline page's cards, which the page computes from, carry the stored catalogue's rules.
        cards = page.evaluate("""() => [...document.querySelectorAll('.indicator-card')].map(card => ({
            code: card.dataset.code, max: card.dataset.max,
            rules: [...card.querySelectorAll('[data-rule]')].map(row => ({
                code: row.dataset.rule, per: row.dataset.per || null, void: !!row.dataset.void}))}))""")
        assert [card["code"] for card in cards] == [i["code"] for i in stored[level]["indicators"]]
        for card, ind in zip(cards, stored[level]["indicators"]):
            assert Decimal(card["max"]) == Decimal(ind["max"]), ind["code"]
            assert [(r["code"], r["void"], None if r["per"] is None else Decimal(r["per"])) for r in card["rules"]] == [
                (r["code"], r["void"], None if r["void"] else Decimal(r["per"])) for r in ind["rules"]], ind["code"]

        # The specs built from IndexedDB are those the online test builds from the YAML, and the figures agree.
        assert found["specs"] == c["specs"]
        check_figures(c, *run_in_page(page, c, specs=found["specs"]))
