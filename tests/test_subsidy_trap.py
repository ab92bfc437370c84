"""Issue 29, point 1: publishing without subsidy rules no longer fixes every amount at 0 for good. Publishing asks
for the rules of both levels or an explicit 本批次不设奖补资金 (recorded); a published round's rules are corrected
through the versioned path (a reason, the round marked changed, effective when republished); no official sheet says
是 beside a rule left unset."""
import io

import openpyxl
import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Round, SubsidyRule
from evalapp.services import publication, readmodel, rounds as rounds_service
from evalapp.services.errors import Invalid
from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, PASSWORD, TOWNSHIP, VILLAGE, make_round
from tests.test_publication_snapshot import _score_final


@pytest.fixture
def ready(empty_app):
    """Four units approved (荷塘村 94.50: fails), no subsidy rule set: the trap's starting point."""
    w = make_round("inspection")
    for name, total in ((TOWNSHIP, "97"), (VILLAGE, "94.5"), (OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        _score_final(w, name, total)
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    return w


def _client(app, username):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD})
    return client


def _detail(response) -> dict[str, list]:
    """明细 rows of the eligibility sheet by unit name: the whole row."""
    ws = openpyxl.load_workbook(io.BytesIO(response.data))["明细"]
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if "单位名称" in r)
    name_at = list(rows[head]).index("单位名称")
    return {r[name_at]: list(r) for r in rows[head + 1:] if isinstance(r[0], int)}, list(rows[head])


def test_publishing_without_rules_is_refused_naming_the_consequence(ready, empty_app):
    w = ready
    with pytest.raises(Invalid) as refused:
        publication.publish(w.round, w.people["district"])
    assert refused.value.code == "round.no_subsidy_rules" and "0元" in refused.value.message
    db.session.rollback()
    district = _client(empty_app, "district")
    page = district.get(f"/results/rounds/{w.round.id}").get_data(as_text=True)
    assert 'data-testid="no-subsidy-rules"' in page and 'name="confirm_no_subsidy"' in page
    answer = district.post(f"/results/rounds/{w.round.id}/publish", follow_redirects=True)
    assert "尚未设置奖补规则" in answer.get_data(as_text=True)
    assert readmodel.latest(w.round.id) is None
    assert db.session.scalar(select(SubsidyRule.id).where(SubsidyRule.round_id == w.round.id)) is None


def test_an_explicit_no_subsidy_is_recorded_and_the_sheet_never_says_yes_beside_it(ready, empty_app):
    w = ready
    district = _client(empty_app, "district")
    assert district.post(f"/results/rounds/{w.round.id}/publish",
                         data={"confirm_no_subsidy": "1"}).status_code == 302
    modes = dict(db.session.execute(select(SubsidyRule.level, SubsidyRule.mode)
                                    .where(SubsidyRule.round_id == w.round.id)).all())
    assert modes == {"township": "none", "village": "none"}
    recorded = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "subsidy.rule")).all()
    assert len(recorded) == 2 and all(a.detail == "公布时确认本批次不设奖补资金" for a in recorded)
    sheet = _client(empty_app, "finance").get(f"/finance/rounds/{w.round.id}/eligibility.xlsx")
    rows, head = _detail(sheet)
    eligible, basis = head.index("是否符合奖补条件"), head.index("奖补方式/档次")
    assert rows[TOWNSHIP][eligible] == "合格，不设奖补" and rows[TOWNSHIP][basis] == "本批次不设奖补资金"
    assert rows[VILLAGE][eligible] == "否"
    assert "是" not in [r[eligible] for r in rows.values()]


def test_a_published_rule_is_corrected_with_a_reason_and_takes_effect_when_republished(ready, empty_app):
    w = ready
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    finance = _client(empty_app, "finance")
    url = f"/finance/rounds/{w.round.id}/rules/village"
    refused = finance.post(url, data={"mode": "fixed", "amount": "2000"})
    assert refused.status_code == 422 and "更正奖补规则须填写理由" in refused.get_data(as_text=True)
    assert finance.post(url, data={"mode": "fixed", "amount": "2000", "reason": "区财政追加奖补资金"}).status_code == 302
    round_ = db.session.get(Round, w.round.id)
    db.session.refresh(round_)
    assert round_.changed_since_publication
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "subsidy.rule")
                               .order_by(AuditEvent.id.desc())).first()
    assert audit.detail == "区财政追加奖补资金" and audit.new["after_publication"] is True
    # The published version keeps its amounts until the district republishes.
    page = finance.get(f"/finance/rounds/{w.round.id}").get_data(as_text=True)
    assert 'data-testid="changed"' in page and 'data-testid="rule-pending-village"' in page
    assert readmodel.round_model(round_, extras=True).total_fen == 0
    v2 = publication.publish(round_, w.people["district"])
    passing = [r for r in readmodel.unit_rows(v2.id) if r.level == "village" and r.result == "pass"]
    assert passing and v2.version == 2 and v2.total_fen == len(passing) * 200000
    assert all(r.amount_fen == 200000 for r in passing)
    changes = _client(empty_app, "district").get(f"/results/rounds/{w.round.id}/changes").get_data(as_text=True)
    assert f"追加 {len(passing) * 2000:,}.00 元" in changes
