"""Issue 26: one read model of a round's results (services.readmodel), one standing rule (domain.scoring.standing),
and reads that leave the caller's transaction as it was."""
import ast
import pathlib
from decimal import Decimal

from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import OrgUnit, Round, Sheet, User
from evalapp.services import downloads, publication, readmodel, review
from tests.factories import VILLAGE
from tests.test_publication_snapshot import published  # noqa: F401 (fixture: a published round, two levels)

EVALAPP = pathlib.Path(__file__).resolve().parent.parent / "evalapp"


def _imports(path: pathlib.Path, package: str) -> set[str]:
    """The services modules a module imports, at its top and inside its functions (relative and absolute)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:  # from .x import …
                found.add(node.module.split(".")[0])
            elif node.level == 1:  # from . import x, y
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith(package + "."):
                found.add(node.module[len(package) + 1:].split(".")[0])
            elif node.module == package:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name[len(package) + 1:].split(".")[0] for a in node.names if a.name.startswith(package + "."))
    return found


def test_no_import_circle_in_services_counting_imports_inside_functions():
    folder = EVALAPP / "services"
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    graph = {m: _imports(folder / f"{m}.py", "evalapp.services") & modules for m in modules}
    assert graph["downloads"] >= {"readmodel", "export", "eligibility_sheet"}  # the scan sees imports at all

    def cycle_from(start):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return path + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
        return None

    circles = [c for m in sorted(modules) if (c := cycle_from(m))]
    assert circles == [], f"import circles in evalapp/services: {circles[:3]}"


def test_the_standing_rules_parts_are_called_by_standing_only():
    """capped_total, evaluate and points_missing are called in evalapp only by domain.scoring.standing (and
    unit_total, the rule over raw scores, held to it by the domain's tests)."""
    callers = set()
    for path in EVALAPP.rglob("*.py"):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, ast.FunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Call):
                        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                        if name in ("capped_total", "evaluate", "points_missing"):
                            callers.add((path.name, fn.name))
    assert callers == {("scoring.py", "standing"), ("scoring.py", "unit_total")}


def test_a_read_leaves_the_callers_transaction_as_it_was(published):  # noqa: F811
    """A rename left uncommitted, then the read model (live and official, with everything), then rollback: the
    rename is gone — the read committed nothing. And without the rollback the caller's change is still there to
    commit."""
    w = published
    unit = db.session.get(OrgUnit, w.units[VILLAGE].id)
    unit.name = "改名未提交"
    db.session.flush()
    for draft in (False, True):
        model = readmodel.round_model(w.round, draft=draft, extras=True, failing=True, changes=True)
        assert VILLAGE in {r.unit.name for r in model.report.rows}  # the read sees committed data only
    assert db.session.get(OrgUnit, unit.id).name == "改名未提交"  # the caller's change still pending
    db.session.rollback()
    assert db.session.get(OrgUnit, unit.id).name == VILLAGE


def test_a_read_then_the_callers_commit_keeps_the_callers_change(published):  # noqa: F811
    w = published
    unit = db.session.get(OrgUnit, w.units[VILLAGE].id)
    unit.name = "改名后提交"
    db.session.flush()
    readmodel.round_model(w.round, extras=True)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(OrgUnit, unit.id).name == "改名后提交"


def test_finance_download_builds_the_model_once(published, monkeypatch):  # noqa: F811
    w = published
    built = []
    original = readmodel.build
    monkeypatch.setattr(readmodel, "build", lambda *a, **k: built.append(k) or original(*a, **k))
    finance = db.session.scalar(select(User).where(User.role == "finance"))
    data, name, digest = downloads.eligibility_workbook(w.round, finance)
    assert len(built) == 1 and "正式" in name
    built.clear()
    downloads.eligibility_workbook(w.round, finance, draft=True)
    downloads.results_workbook(w.round, finance)
    assert len(built) == 2


def test_publishing_computes_the_rounds_results_once(empty_app, monkeypatch):
    from evalapp.services import results, rounds as rounds_service
    from tests.factories import make_round
    from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP
    from tests.test_publication_snapshot import _score_final

    w = make_round("inspection")
    for name in (TOWNSHIP, VILLAGE, OTHER_TOWNSHIP, OTHER_VILLAGE):
        _score_final(w, name, "96")
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    readmodel.clear_cache()
    computed = []
    original = results.round_report
    monkeypatch.setattr(readmodel, "round_report", lambda r: computed.append(r.id) or original(r))
    made = publication.publish(w.round, w.people["district"], confirm_incomplete=True, confirm_no_subsidy=True)
    assert computed == [w.round.id] and made.version == 1


def test_the_review_quotes_the_total_that_is_published(published):  # noqa: F811
    """The district's review of a final sheet: its total and result are the results' (the figures a reviewer
    confirms are those published), from the sheet's stored sums through the standing rule."""
    w = published
    report = readmodel.round_model(w.round).report
    for row in report.rows:
        if row.unit.final_sheet_id is None:
            continue
        seen = review.final_review(db.session.get(Sheet, row.unit.final_sheet_id))
        assert (seen.total, seen.result) == (row.unit.final_total, row.unit.result), row.unit.name
        assert seen.total is None or seen.total > Decimal("2")  # not the bonus alone


def test_the_model_reads_one_snapshot_whatever_commits_meanwhile(published, monkeypatch):  # noqa: F811
    """A rename committed by another connection while the model is being built (after it read the round, before it
    computed the units) is not in the model: every statement of the build reads the same snapshot (REPEATABLE
    READ on PostgreSQL; one WAL snapshot on SQLite). Forced at that point, not timed."""
    from sqlalchemy import text

    w = published
    unit_id = w.units[VILLAGE].id
    readmodel.clear_cache()
    original = readmodel.live_report
    committed = []

    def rename_elsewhere_then_compute(round_):
        if not committed:
            with db.engine.connect() as other:
                other.execute(text("UPDATE org_units SET name = '别处改名' WHERE id = :id"), {"id": unit_id})
                other.commit()
            committed.append(True)
        return original(round_)

    monkeypatch.setattr(readmodel, "live_report", rename_elsewhere_then_compute)
    model = readmodel.round_model(w.round, draft=True)
    assert committed and VILLAGE in {r.unit.name for r in model.report.rows}
    assert "别处改名" not in {r.unit.name for r in model.report.rows}
    readmodel.clear_cache()
    assert "别处改名" in {r.unit.name for r in readmodel.round_model(w.round, draft=True).report.rows}
