"""Issue 30, point 1: the printed 评分表 as a clerk files it, printed by Chromium to PDF and read back (pdftotext): the
vetoed unit's result 不合格(一票否决) whole (and 一票否决 under 距合格线), every direct-score reason in 扣分情况, no
number split across lines, a void rule as 该项不得分, no category title alone at the foot of a page."""
import os
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import DeductionRule, Indicator, Score, ScoreDeduction, Sheet
from evalapp.services import publication, rounds as rounds_service
from evalapp.services.catalogues import indicators_of, load_tree
from evalapp.services.figures import refresh_figures
from evalapp.services.subsidy import save_rule
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import complete_round
from tests.factories import PASSWORD, PILOT_DISTRICT, make_round

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
SHOTS = "/tmp/shots-paper"
DIRECT_REASONS = ["首问负责登记簿记录不全", "救助对象台账未按月更新"]


@pytest.fixture
def app(empty_app):
    return empty_app


def _members_deduct(w, unit: str):
    """The unit's members: one types two scores directly with reasons, the other applies a rule twice (扣0.50分 and
    more) and a void rule (该项不得分) — written directly, as the tablet's saves leave them."""
    members = db.session.scalars(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "inspector",
                                                     Sheet.unit_id == w.units[unit].id).order_by(Sheet.id)).all()
    catalogue = load_tree(w.round.catalogue_for(w.units[unit].level).id)
    indicators = indicators_of(catalogue)
    first = members[0]
    for ind, reason in zip(indicators[:2], DIRECT_REASONS):
        value = ind.points - Decimal("0.5")
        db.session.add(Score(sheet_id=first.id, indicator_id=ind.id, points=value, direct_score=value, reason=reason,
                             updated_by_id=w.people["admin"].id))
    second = members[-1]
    rules = db.session.scalars(select(DeductionRule).join(Indicator, Indicator.id == DeductionRule.indicator_id)
                               .where(DeductionRule.catalogue_id == catalogue.id)
                               .order_by(Indicator.position, DeductionRule.position)).all()
    taken = {ind.id for ind in indicators[:2]}
    counted = next(r for r in rules if not r.void and r.per is not None and r.indicator_id not in taken)
    void = next((r for r in rules if r.void and r.indicator_id not in taken | {counted.indicator_id}), None)
    if void is None:  # a catalogue without one: the last indicator's first rule made void for this test
        void = next(r for r in reversed(rules) if r.indicator_id not in taken | {counted.indicator_id})
        void.void, void.per = True, None
    ind_points = {i.id: i.points for i in indicators}
    for rule, count in ((counted, 2), (void, 1)):
        lost = Decimal("0") if rule.void else rule.per * count
        s = Score(sheet_id=second.id, indicator_id=rule.indicator_id, updated_by_id=w.people["admin"].id,
                  points=Decimal("0") if rule.void else ind_points[rule.indicator_id] - lost)
        db.session.add(s)
        db.session.flush()
        db.session.add(ScoreDeduction(score_id=s.id, rule_id=rule.id, count=count))
    db.session.flush()
    refresh_figures(Sheet.id.in_([m.id for m in members]))
    db.session.commit()
    return counted, void


def _pages(pdf_path: str) -> list[str]:
    info = subprocess.run(["pdfinfo", pdf_path], capture_output=True, text=True, check=True).stdout
    count = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", pdf_path, "-"],
                           capture_output=True, text=True, check=True).stdout for n in range(1, count + 1)]


def _print(page, url, name) -> tuple[str, list[str]]:
    page.goto(url)
    page.emulate_media(media="print")
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"paper-sheet-{name}.pdf")
    with open(path, "wb") as f:
        f.write(page.pdf(format="A4", print_background=True, prefer_css_page_size=True))
    page.emulate_media(media="screen")
    os.makedirs(SHOTS, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", path, os.path.join(SHOTS, f"sheet-{name}")], check=True)
    return path, _pages(path)


def test_the_printed_sheet_reads_whole_as_filed(app, live_server, page):
    w = make_round("inspection", townships=PILOT_DISTRICT)
    counted, void = _members_deduct(w, "梅溪社区")
    complete_round({"梅溪社区": "97", "荷塘村": "96"}, vetoes={"梅溪社区": "V3"}, leave_out={"桃源村"}, round_=w.round)
    save_rule(w.round, "township", "fixed", "30000", "", w.people["admin"])
    save_rule(w.round, "village", "fixed", "20000", "", w.people["admin"])
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, w.people["district"], confirm_incomplete=True)
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units["梅溪社区"].id))
    log_in(page, live_server, "district", PASSWORD)
    path, pages = _print(page, f"{live_server}/results/sheets/{final.id}/print", "veto")
    text = "\n".join(pages)
    # In reading order (no -layout), a cell's wrapped lines follow each other.
    flat = re.sub(r"\s+", "", subprocess.run(["pdftotext", "-raw", path, "-"], capture_output=True, text=True,
                                             check=True).stdout)
    assert "不合格(一票否决)" in text  # on one line, whole
    missing_line = next(line for line in text.splitlines() if "距合格线" in line)
    assert "一票否决" in missing_line
    for reason in DIRECT_REASONS:
        assert f"直接评分：{reason}" in flat, reason
    assert f"{void.code}" in flat and "该项不得分" in flat and "作废" not in flat
    lost = f"扣{counted.per * 2:.2f}分"
    assert lost in flat
    # No number split over two lines: every number of the 扣分情况 reads whole on one line.
    for token in (lost, counted.code, void.code):
        assert any(token in line.replace(" ", "") for line in text.splitlines()), token
    # A category's title never ends a page: the next table line on its page is one of its indicators.
    for n, body in enumerate(pages[:-1], start=1):
        lines = [line for line in body.splitlines() if line.strip() and "页" not in line]
        assert not re.match(r"^\s*[一二三四五六七八九十A-Z]+[.、]", lines[-1]), f"page {n} ends with {lines[-1]!r}"
