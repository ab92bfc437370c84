"""The scoring page's own standing rule (static/js/standing.js, the file the page loads) run in Chromium over every
indicator and rule of both default catalogues (evalapp/data/indicators-2021.yaml), on fixed-seed generated entries —
rule counts, void rules, free deductions, direct scores — and whole sheets — full and partial, bonus over the cap,
veto, decided or not, totals at 95.00, 94.99 and 95.01 — against figures this test computes itself from the catalogue
with Decimal arithmetic (no evalapp code). Every case goes to the browser in one call.

The page computes from each card's data attributes (data-max, a rule's data-per or data-void): on real scoring pages
of both levels (factories.make_round: the inspector's sheets of 清溪镇 and 荷塘村) they are checked against the YAML."""
import json
import math
import os
import random
from decimal import Decimal

import pytest
import yaml

from tests.browser.conftest import log_in
from tests.factories import TOWNSHIP, VILLAGE, app_of_world, make_sheet, world  # noqa: F401 (fixtures)

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CATALOGUE_FILE = os.path.join(ROOT, "evalapp", "data", "indicators-2021.yaml")
STANDING_JS = os.path.join(ROOT, "evalapp", "static", "js", "standing.js")
LEVEL_UNIT = {"township": TOWNSHIP, "village": VILLAGE}
SEED = 20211101
THRESHOLD = Decimal("95")
ZERO = Decimal("0")
FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")


# -- the catalogue and the rule, as this test reads them ----------------------------------------------------------

def load_catalogues() -> list[dict]:
    with open(CATALOGUE_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)["catalogues"]


def dec(value) -> Decimal:
    """A YAML number (int or float such as 0.5) as the Decimal it is written as."""
    return Decimal(str(value))


def indicators(catalogue: dict) -> list[dict]:
    return [ind for category in catalogue["categories"] for ind in category["indicators"]]


def cents(value: Decimal) -> int:
    hundredths = value * 100
    assert hundredths == hundredths.to_integral_value(), value
    return int(hundredths)


def points_text(text: str) -> Decimal:
    return Decimal(text.strip().translate(FULL_WIDTH))


def expected_score(ind: dict, entry: dict) -> Decimal:
    """Rule 1: the direct score if given; else max − Σ per × count over the rules not void − free deduction, floored
    at 0; any void rule counted gives 0."""
    if "score" in entry:
        return points_text(entry["score"])
    rules = {r["code"]: r for r in ind.get("deductions", [])}
    taken = ZERO
    voided = False
    for d in entry.get("deductions", []):
        if d["count"] == 0:
            continue
        rule = rules[d["code"]]
        if rule.get("void"):
            voided = True
        else:
            taken += dec(rule["per"]) * d["count"]
    if voided:
        return ZERO
    free = points_text(entry["free_deduction"]) if entry.get("free_deduction") not in (None, "") else ZERO
    return max(dec(ind["points"]) - taken - free, ZERO)


def expected_standing(score_sum: Decimal, scored: int, bonus_sum: Decimal, veto: bool, threshold: Decimal,
                      bonus_cap: Decimal, count: int, decided: bool) -> dict:
    """The total (score sum + bonus up to its cap), the result (未完成 until decided with every indicator scored, then
    一票否决 under a veto, else 合格 at the threshold or above, else 不合格) and the points missing (none under a
    veto); no total at all while nothing is scored."""
    if scored == 0:
        return {"total": None, "bonusCounted": 0, "complete": False, "result": "incomplete", "missing": None,
                "vetoed": veto}
    counted = min(bonus_sum, bonus_cap)
    total = score_sum + counted
    complete = decided and scored >= count
    result = "incomplete" if not complete else "veto" if veto else "pass" if total >= threshold else "fail"
    return {"total": cents(total), "bonusCounted": cents(counted), "complete": complete, "result": result,
            "missing": None if veto else cents(max(threshold - total, ZERO)), "vetoed": veto}


def shown(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}"


# -- fixed-seed entries --------------------------------------------------------------------------------------------

def half_steps(rng: random.Random, top: Decimal, *, low: Decimal = ZERO) -> Decimal:
    """A multiple of 0.5 between low and top."""
    return Decimal(rng.randint(int(low * 2), int(top * 2))) / 2


def typed(rng: random.Random, value: Decimal) -> str:
    """The value as someone types it: "7", "7.5", "7.50", " 7.5 " or full-width "７．５"."""
    plain = f"{value.normalize():f}" if value else "0"
    form = rng.randrange(5)
    if form == 1:
        return f"{value:.2f}"
    if form == 2:
        return f" {plain} "
    if form == 3:
        return plain.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    return plain


def indicator_entries(rng: random.Random, ind: dict) -> list[dict]:
    """For one indicator: no deduction; each rule alone at counts 0..several and past the floor; void rules with
    others; a free deduction alone and with rules; random mixes; direct scores."""
    top = dec(ind["points"])
    rules = ind.get("deductions", [])
    entries: list[dict] = [{"deductions": []}]
    for rule in rules:
        if rule.get("void"):
            entries.append({"deductions": [{"code": rule["code"], "count": 1}]})
            entries.append({"deductions": [{"code": rule["code"], "count": 0}]})
            continue
        to_floor = math.ceil(top / dec(rule["per"]))
        for count in (*range(0, 7), to_floor - 1, to_floor, to_floor + 1, 99):
            if count >= 0:
                entries.append({"deductions": [{"code": rule["code"], "count": count}]})
    for _ in range(10):  # a free deduction alone, 0 to the maximum in steps of 0.5
        entries.append({"deductions": [], "free_deduction": typed(rng, half_steps(rng, top))})
    entries.append({"deductions": [], "free_deduction": ""})
    for _ in range(40):  # mixes: counts, voids now and then, a free deduction half of the time
        deductions = []
        for rule in rules:
            count = (1 if rng.random() < 0.15 else 0) if rule.get("void") else rng.choice([0, 0, 1, 1, 2, 3, 5, 8])
            if count or rng.random() < 0.2:
                deductions.append({"code": rule["code"], "count": count})
        entry = {"deductions": deductions}
        if rng.random() < 0.5:
            entry["free_deduction"] = typed(rng, half_steps(rng, top))
        entries.append(entry)
    for value in (ZERO, top, *(half_steps(rng, top) for _ in range(10))):
        entries.append({"score": typed(rng, value)})
    return entries


def js_spec(ind: dict) -> dict:
    """The spec indicatorScore takes (hundredths), as the page builds it from a card."""
    return {"max": cents(dec(ind["points"])),
            "rules": [{"code": r["code"], "per": 0 if r.get("void") else cents(dec(r["per"])), "void": bool(r.get("void"))}
                      for r in ind.get("deductions", [])]}


# -- the pages -----------------------------------------------------------------------------------------------------

def open_scoring_page(page, base: str, sheet_id: int) -> None:
    page.goto(f"{base}/inspection/sheets/{sheet_id}")
    page.wait_for_selector(".indicator-card")


def script_paths(page) -> list[str]:
    return page.evaluate("() => [...document.scripts].filter(s => s.src).map(s => new URL(s.src).pathname)")


def test_scoring_pages_load_standing_js_and_their_cards_carry_the_catalogues_rules(live_server, page, world):
    catalogues = {c["level"]: c for c in load_catalogues()}
    assert set(catalogues) == set(LEVEL_UNIT)
    log_in(page, live_server, "inspector")
    for level, unit in LEVEL_UNIT.items():
        open_scoring_page(page, live_server, make_sheet(world, unit).id)
        scripts = script_paths(page)
        assert "/static/js/standing.js" in scripts and "/static/js/scoring.js" in scripts, scripts
        assert scripts.index("/static/js/standing.js") < scripts.index("/static/js/scoring.js"), scripts
        cards = page.evaluate("""() => [...document.querySelectorAll('.indicator-card')].map(card => ({
            code: card.dataset.code, max: card.dataset.max,
            rules: [...card.querySelectorAll('[data-rule]')].map(row => ({
                code: row.dataset.rule, per: row.dataset.per || null, void: row.dataset.void || null}))}))""")
        expected = indicators(catalogues[level])
        assert [c["code"] for c in cards] == [ind["code"] for ind in expected], level
        for card, ind in zip(cards, expected):
            assert Decimal(card["max"]) == dec(ind["points"]), (level, ind["code"])
            rules = ind.get("deductions", [])
            assert [r["code"] for r in card["rules"]] == [r["code"] for r in rules], (level, ind["code"])
            for shown_rule, rule in zip(card["rules"], rules):
                if rule.get("void"):
                    assert shown_rule["void"] == "1" and shown_rule["per"] is None, (level, rule["code"])
                else:
                    assert shown_rule["void"] is None and Decimal(shown_rule["per"]) == dec(rule["per"]), (
                        level, rule["code"])


def build_cases() -> dict:
    """The fixed-seed cases over both default catalogues and the figures this test expects for them. `keys` names
    each spec's indicator as (level, code), for a page that builds the specs itself (the offline parity test)."""
    catalogues = load_catalogues()
    rng = random.Random(SEED)
    specs, keys, indicator_cases, expected_scores, generated = [], [], [], [], {}
    by_catalogue = []  # per catalogue: (indicator index in specs, indicator) in order
    for catalogue in catalogues:
        mine = []
        for ind in indicators(catalogue):
            specs.append(js_spec(ind))
            keys.append([catalogue["level"], ind["code"]])
            mine.append((len(specs) - 1, ind))
            generated[len(specs) - 1] = indicator_entries(rng, ind)
            for entry in generated[len(specs) - 1]:
                indicator_cases.append([len(specs) - 1, entry])
                expected_scores.append(cents(expected_score(ind, entry)))
        by_catalogue.append((catalogue, mine))

    # Whole sheets: every indicator or some of them scored with generated entries (the browser sums its own
    # indicator scores), bonus items with extra bonus past lowered caps, veto and decided on and off.
    sheet_cases, expected_sheets = [], []
    for catalogue, mine in by_catalogue:
        bonus_items = [cents(dec(b["points"])) for b in catalogue.get("bonus", [])]
        for n in range(400):
            shape = rng.random()
            chosen = mine if shape < 0.6 else [] if shape < 0.68 else rng.sample(mine, rng.randint(1, len(mine) - 1))
            entries, score_sum = [], ZERO
            for index, ind in chosen:
                entry = rng.choice(generated[index]) if rng.random() < 0.5 else (
                    {"deductions": []} if rng.random() < 0.7 else {"score": typed(rng, half_steps(rng, dec(ind["points"])))})
                entries.append([index, entry])
                score_sum += expected_score(ind, entry)
            bonus = sum(rng.sample(bonus_items, rng.randint(0, len(bonus_items))), 0) + rng.choice([0, 0, 50, 100, 250])
            cap = rng.choice([cents(dec(catalogue["bonus_cap"])), cents(dec(catalogue["bonus_cap"])), 200, 100, 50, 0])
            threshold = rng.choice([9500, 9500, 9500, 9000, 10000])
            veto, decided = rng.random() < 0.2, rng.random() < 0.8
            line = {"threshold": threshold, "bonusCap": cap, "indicators": len(mine)}
            sheet_cases.append({"entries": entries, "bonusSum": bonus, "veto": veto, "line": line,
                                "decided": decided})
            expected_sheets.append(expected_standing(score_sum, len(chosen), Decimal(bonus) / 100, veto,
                                                     Decimal(threshold) / 100, Decimal(cap) / 100, len(mine), decided))

    # Sums straight: totals at 95.00, 94.99 and 95.01 reached by the scores alone, with bonus under the cap and with
    # bonus past it; full and partial, veto and decided on and off; and nothing scored.
    sum_cases, expected_sums = [], []
    for target in (Decimal("95.00"), Decimal("94.99"), Decimal("95.01")):
        for bonus, cap in ((ZERO, Decimal(3)), (Decimal(1), Decimal(3)), (Decimal(3), Decimal(3)),
                           (Decimal("3.5"), Decimal(2)), (Decimal(5), Decimal("0.01"))):
            score_sum = target - min(bonus, cap)
            for scored in (25, 24, 20, 1):
                for veto in (False, True):
                    for decided in (True, False):
                        sum_cases.append({"sums": {"scoreSum": cents(score_sum), "scored": scored,
                                                   "bonusSum": cents(bonus), "veto": veto},
                                          "line": {"threshold": 9500, "bonusCap": cents(cap), "indicators": 25},
                                          "decided": decided})
                        expected_sums.append(expected_standing(score_sum, scored, bonus, veto, THRESHOLD, cap, 25,
                                                               decided))
    for veto in (False, True):
        sum_cases.append({"sums": {"scoreSum": 0, "scored": 0, "bonusSum": 300, "veto": veto},
                          "line": {"threshold": 9500, "bonusCap": 300, "indicators": 20}, "decided": True})
        expected_sums.append(expected_standing(ZERO, 0, Decimal(3), veto, THRESHOLD, Decimal(3), 20, True))
    assert {e["result"] for e in expected_sheets + expected_sums} == {"pass", "fail", "veto", "incomplete"}
    assert len(indicator_cases) > 3000 and len(sheet_cases) == 800

    return {"specs": specs, "keys": keys, "indicator_cases": indicator_cases, "expected_scores": expected_scores,
            "sheet_cases": sheet_cases, "expected_sheets": expected_sheets, "sum_cases": sum_cases,
            "expected_sums": expected_sums}


# Run in the page: [specs, indicatorCases, sheetCases, sumCases] as JSON text in, [scores, sheets, sums] out.
RUN_JS = """text => {
        const [specs, indicatorCases, sheetCases, sumCases] = JSON.parse(text);
        const S = window.EvalappStanding;
        const scores = indicatorCases.map(([i, entry]) => S.indicatorScore(specs[i], entry));
        const figures = st => Object.assign({text: S.fmt(st.total), missingText: S.fmt(st.missing)}, st);
        const sheets = sheetCases.map(sheet => {
            let scoreSum = 0, scored = 0;
            for (const [i, entry] of sheet.entries) {
                const score = S.indicatorScore(specs[i], entry);
                if (score === null) { return {unread: entry}; }
                scoreSum += score; scored += 1;
            }
            return figures(S.standing({scoreSum, scored, bonusSum: sheet.bonusSum, veto: sheet.veto}, sheet.line,
                                      sheet.decided));
        });
        const sums = sumCases.map(c => figures(S.standing(c.sums, c.line, c.decided)));
        return JSON.stringify([scores, sheets, sums]);
    }"""


def run_in_page(page, c: dict, specs: list | None = None) -> tuple[list, list, list]:
    """One round trip, as JSON text both ways (Playwright's own serialization of some 20,000 objects takes seconds)."""
    return json.loads(page.evaluate(RUN_JS, json.dumps([c["specs"] if specs is None else specs, c["indicator_cases"],
                                                        c["sheet_cases"], c["sum_cases"]])))


def check_figures(c: dict, scores: list, sheets: list, sums: list) -> None:
    """The browser's figures against this test's own."""
    wrong = [(c["indicator_cases"][i], got, want) for i, (got, want) in enumerate(zip(scores, c["expected_scores"]))
             if got != want]
    assert not wrong, f"{len(wrong)} of {len(scores)} indicator scores differ, e.g. {wrong[:5]}"
    for name, got_all, want_all, cases in (("sheet", sheets, c["expected_sheets"], c["sheet_cases"]),
                                           ("sums", sums, c["expected_sums"], c["sum_cases"])):
        wrong = []
        for case, got, want in zip(cases, got_all, want_all):
            want = dict(want, text=shown(None if want["total"] is None else Decimal(want["total"]) / 100),
                        missingText=shown(None if want["missing"] is None else Decimal(want["missing"]) / 100))
            if got != want:
                wrong.append((case, got, want))
        assert not wrong, f"{name}: {len(wrong)} of {len(cases)} standings differ, e.g. {wrong[:3]}"
    # the boundary itself: 95.00 passes, 94.99 fails, 95.01 passes (complete, decided, no veto)
    at_line = {k["sums"]["scoreSum"] + min(k["sums"]["bonusSum"], k["line"]["bonusCap"]): s["result"]
               for k, s in zip(c["sum_cases"], sums) if k["decided"] and k["sums"]["scored"] == 25 and not k["sums"]["veto"]}
    assert at_line == {9500: "pass", 9499: "fail", 9501: "pass"}


def test_the_pages_standing_rule_matches_the_catalogue_on_generated_entries_and_sheets(live_server, page, world):
    c = build_cases()
    # The page's own standing.js: the file a real scoring page loads, as it is in the repository.
    log_in(page, live_server, "inspector")
    open_scoring_page(page, live_server, make_sheet(world, VILLAGE).id)
    src = page.evaluate("() => [...document.scripts].map(s => s.src).find(s => s.includes('/static/js/standing.js'))")
    assert src, script_paths(page)
    with open(STANDING_JS, "rb") as f:
        assert page.request.get(src).body() == f.read()
    check_figures(c, *run_in_page(page, c))
