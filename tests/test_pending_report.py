"""A published round with an unlocked sheet: the 草稿 workbook's 变更 sheet and the pending count reuse the live
report the model already holds (services.readmodel), and the 通报 list of a version and of the live data come from
one function (results.failing_list)."""
from decimal import Decimal

from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Sheet
from evalapp.services import publication, readmodel, results
from tests.factories import TOWNSHIP, VILLAGE
from tests.test_publication_snapshot import _amounts, _workbook, published  # noqa: F401 (fixture)


def _count_reports(monkeypatch) -> list:
    """Every computation of a round's report from its rows, wherever it is called from."""
    calls = []
    original = results.round_report

    def counted(round_):
        calls.append(round_.id)
        return original(round_)

    monkeypatch.setattr(results, "round_report", counted)
    monkeypatch.setattr(readmodel, "round_report", counted)
    return calls


def _unlock(w, unit_name: str) -> Sheet:
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[unit_name].id))
    publication.unlock(final, w.people["admin"], "复核台账")
    db.session.commit()
    return final


def test_a_pending_rounds_draft_workbook_computes_the_report_once(published, empty_app, monkeypatch):  # noqa: F811
    w = published
    _unlock(w, TOWNSHIP)
    readmodel.clear_cache()
    calls = _count_reports(monkeypatch)
    draft = _workbook(empty_app, w, query="?draft=1")
    # The 明细 lines, the pending count and the 变更 sheet all from the one report (two before: the 变更 sheet
    # computed its own).
    assert calls == [w.round.id]
    assert _amounts(draft)[TOWNSHIP][1] == "未完成"
    changed = readmodel.changes(readmodel.latest(w.round.id), w.round)
    assert [c.name for c in changed] == [TOWNSHIP]
    assert calls == [w.round.id]  # nothing changed since: the cached report again


def test_changes_take_the_live_report_given(published, monkeypatch):  # noqa: F811
    w = published
    _unlock(w, TOWNSHIP)
    live = results.round_report(w.round)
    calls = _count_reports(monkeypatch)
    readmodel.clear_cache()
    changed = readmodel.changes(readmodel.latest(w.round.id), w.round, live=live)
    assert [c.name for c in changed] == [TOWNSHIP] and calls == []


def test_the_notice_list_of_a_version_is_the_live_ones_while_nothing_changed(published):  # noqa: F811
    w = published
    frozen = readmodel.round_model(w.round, failing=True).failing
    live = readmodel.round_model(w.round, draft=True, failing=True).failing
    assert [f.unit.name for f in frozen] == [VILLAGE]  # 94.50: the one unit that fails
    assert [(f.unit.code, f.lowest, f.vetoes) for f in frozen] == [(f.unit.code, f.lowest, f.vetoes) for f in live]
    # 5.50 points taken off in indicator order (tests.test_publication_snapshot._score_final): most lost first.
    assert [(code, lost) for code, _, lost in frozen[0].lowest] == [("A1", Decimal("3.00")), ("A2", Decimal("2.50"))]


def test_the_pending_count_is_counted_once_per_results_version(published, monkeypatch):  # noqa: F811
    w = published
    _unlock(w, TOWNSHIP)
    readmodel.clear_cache()
    read = []
    original = readmodel.published_lines
    monkeypatch.setattr(readmodel, "published_lines", lambda pub: read.append(pub.id) or original(pub))
    first = readmodel.round_model(w.round)
    assert first.official and first.pending == 1 and len(read) == 1
    for _ in range(3):  # the official view again and again: counted once
        assert readmodel.round_model(w.round).pending == 1
    assert len(read) == 1
    _unlock(w, VILLAGE)  # an unlock bumps the results version: counted again, and right
    assert readmodel.round_model(w.round).pending == 2 and len(read) == 2
