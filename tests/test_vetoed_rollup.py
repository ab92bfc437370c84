"""Issue 29 point 9.1: a vetoed unit's total is kept out of the roll-ups' standing figures (mean, lowest, highest) and
counted apart — in the live results and in versions published from now on; a version published under the first
rule (its `figures_rule` 1) keeps the figures it was published with, and its seal still verifies. Point 9.4: the
admin's results rows show 已解锁 instead of an unlock form for a final sheet already unlocked."""
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from evalapp.domain.aggregation import FIRST_ROLLUP_RULE, ROLLUP_RULE, roll_up
from evalapp.extensions import db
from evalapp.models import Sheet
from evalapp.services import publication, readmodel, rounds as rounds_service, snapshots
from evalapp.services.results import round_report
from tests.conftest import complete_round
from tests.factories import PILOT_DISTRICT, make_round

# factories.PILOT_DISTRICT: 东岗街道's villages are 梅溪社区 (100 points, vetoed) and 枫林村 (90).
TOTALS = {"梅溪社区": "100", "枫林村": "90", "竹园社区": "99", "荷塘村": "95.00", "柳湾社区": "94.99",
          "石桥村": "96.50", "杏林村": "96.50", "清溪镇": "99", "白沙镇": "93.5"}
VETOED = "梅溪社区"
D = Decimal


@pytest.fixture
def vetoed_round(empty_app):
    """A round of the test's own over factories.PILOT_DISTRICT, every final sheet approved, 梅溪社区 vetoed."""
    world = make_round("inspection", townships=PILOT_DISTRICT, self_assessed=True)
    return complete_round(TOTALS, vetoes={VETOED: "V3"}, round_=world.round)


def _publish(round_):
    from evalapp.models import User

    district = db.session.scalar(select(User).where(User.role == "district").order_by(User.id))
    if round_.status != "published":
        rounds_service.advance(round_, district, confirm=True)
    return publication.publish(round_, district, confirm_no_subsidy=True, confirm_incomplete=True)


def _client(app, role):
    from tests.factories import PASSWORD
    from evalapp.models import User

    user = db.session.scalar(select(User).where(User.role == role).order_by(User.id))
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def _township(report, name):
    return next(t.villages for t in report.townships if t.township and t.township.unit.name == name)


def test_the_rule_keeps_a_vetoed_total_out_of_mean_lowest_and_highest_and_counts_it():
    units = [(D("100"), True, False, True), (D("90"), True, True, False), (D("96"), True, True, False),
             (None, False, False, False)]
    now = roll_up(units)
    assert (now.scored, now.vetoed, now.mean, now.lowest, now.highest) == (3, 1, D("93.00"), D("90"), D("96"))
    assert now.pass_rate == D("50.00") and now.rule == ROLLUP_RULE == 2
    first = roll_up(units, FIRST_ROLLUP_RULE)  # as versions published before kept it: the vetoed 100 included
    assert (first.mean, first.lowest, first.highest) == (D("95.33"), D("90"), None)
    only_vetoed = roll_up([(D("100"), True, False, True)])
    assert only_vetoed.mean is None and only_vetoed.lowest is None and only_vetoed.vetoed == 1


def test_live_roll_ups_leave_the_vetoed_village_out(vetoed_round):
    report = round_report(vetoed_round)
    dong = _township(report, "东岗街道")
    assert dong.vetoed == 1 and dong.scored == 2
    assert (dong.mean, dong.lowest, dong.highest) == (D("90.00"), D("90.00"), D("90.00"))
    villages = report.summary["village"]
    others = [r.unit.final_total for r in report.rows if r.unit.level == "village" and r.unit.name != VETOED]
    assert villages.vetoed == 1 and villages.scored == len(others) + 1
    assert villages.mean == (sum(others) / len(others)).quantize(D("0.01"))


def test_results_page_says_how_many_were_vetoed_and_shows_the_figures_without_them(vetoed_round, empty_app):
    html = _client(empty_app, "district").get(f"/results/rounds/{vetoed_round.id}").get_data(as_text=True)
    summary = html.split('data-testid="summary"')[1].split("</h2>")[0]
    township_card, village_card = summary.split('class="col-md-6"')[1:3]
    assert "一票否决 <b>0</b>" in township_card and "一票否决 <b>1</b>" in village_card
    assert "最高分 <b>" in village_card
    assert "一票否决的单位不计入平均分、最低分和最高分" in village_card
    townships = html.split('data-testid="townships"')[1].split("</table>")[0]
    dong = townships[townships.index("东岗街道"):]
    dong = dong[:dong.index("</tr>")]
    assert "90.00" in dong and "95.00" not in dong and "不含一票否决1个" in dong


def test_a_version_published_now_carries_the_rule_and_reads_back_without_the_vetoed_total(vetoed_round):
    pub = _publish(vetoed_round)
    assert pub.figures_rule == ROLLUP_RULE
    report, _ = readmodel.published(pub, vetoed_round, fresh=True)
    dong = _township(report, "东岗街道")
    assert (dong.mean, dong.lowest, dong.vetoed) == (D("90.00"), D("90.00"), 1)
    assert snapshots.verify(pub).ok


def test_an_older_version_keeps_the_figures_it_was_published_with_and_its_seal(vetoed_round, monkeypatch):
    # A version as the code before the rule wrote it: rule 1, sealed without the rule.
    monkeypatch.setattr(snapshots, "ROLLUP_RULE", FIRST_ROLLUP_RULE)
    pub = _publish(vetoed_round)
    db.session.commit()
    assert pub.figures_rule == FIRST_ROLLUP_RULE
    readmodel.clear_cache()
    report, _ = readmodel.published(pub, vetoed_round, fresh=True)
    dong = _township(report, "东岗街道")
    assert (dong.mean, dong.lowest, dong.highest, dong.rule) == (D("95.00"), D("90.00"), None, 1)
    assert snapshots.verify(pub).ok


def test_the_rule_of_a_version_is_sealed(vetoed_round):
    pub = _publish(vetoed_round)
    db.session.commit()
    db.session.execute(text("UPDATE publications SET figures_rule = 1 WHERE id = :id"), {"id": pub.id})
    db.session.commit()
    db.session.refresh(pub)
    problems = snapshots.verify(pub).problems
    assert any("印记" in p for p in problems), problems


def _unlock_cell(html: str, name: str) -> str:
    start = html.index(f'<span class="text-nowrap">{name}</span>')
    return html[start:html.index("</tr>", start)]


def test_admin_results_rows_show_unlocked_instead_of_a_second_unlock_form(vetoed_round, empty_app):
    _publish(vetoed_round)
    db.session.commit()
    from evalapp.models import User, OrgUnit

    admin = db.session.scalar(select(User).where(User.role == "admin").order_by(User.id))
    final = db.session.scalar(select(Sheet).join(OrgUnit, OrgUnit.id == Sheet.unit_id).where(
        Sheet.round_id == vetoed_round.id, Sheet.kind == "final", OrgUnit.name == "枫林村"))
    publication.unlock(final, admin, "核查发现台账缺失")
    html = _client(empty_app, "admin").get(f"/results/rounds/{vetoed_round.id}").get_data(as_text=True)
    unlocked, other = _unlock_cell(html, "枫林村"), _unlock_cell(html, "竹园社区")
    assert 'data-testid="unlocked"' in unlocked and "已解锁" in unlocked
    assert 'data-testid="unlock"' not in unlocked
    assert 'data-testid="unlock"' in other and "已解锁" not in other
