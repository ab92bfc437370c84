"""One vocabulary: every value the database allows has its label, labels translate at use and stay Chinese for
official documents, and every message the app marks has its English translation."""
import os

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from evalapp.domain import subsidy as domain_subsidy, vocabulary as v
from evalapp.domain.workflow import ROUND_PHASES, SHEET_KINDS, SHEET_STATUSES
from evalapp.models import OrgUnit, Round, Sheet, User
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

ROOT = os.path.join(os.path.dirname(__file__), "..")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None, "M_": None, "lazy_gettext": None}


def _allowed(model, name: str) -> set[str]:
    """The values a CHECK constraint `name IN (...)` allows."""
    for c in model.__table__.constraints:
        if getattr(c, "name", "") and str(c.name).endswith(name) and " IN (" in str(c.sqltext):
            inside = str(c.sqltext).split(" IN (", 1)[1].rstrip(")")
            return {x.strip().strip("'") for x in inside.split(",")}
    raise AssertionError(f"no CHECK on {model.__tablename__}.{name}")


def test_every_stored_value_has_its_label():
    assert {m.value for m in v.SheetKind} == set(SHEET_KINDS) == _allowed(Sheet, "kind")
    assert {m.value for m in v.SheetStatus} == set(SHEET_STATUSES) == _allowed(Sheet, "status")
    assert {m.value for m in v.RoundPhase} == set(ROUND_PHASES)
    assert {m.value for m in v.ROUND_STATUSES} == _allowed(Round, "status")
    assert {m.value for m in v.Rollout} == _allowed(Round, "rollout")
    assert {m.value for m in v.Role} == _allowed(User, "role")
    assert {m.value for m in v.UnitLevel} == _allowed(OrgUnit, "level")
    assert {m.value for m in v.UnitKind} == _allowed(OrgUnit, "kind")


def test_the_domains_own_words_are_the_vocabularys():
    """The finance page translates the allocation's notes and modes by their Chinese text: the same words."""
    assert {r.value: note for r, note in domain_subsidy.NO_MONEY.items()} == {
        r.value: note for r, note in v.NO_SUBSIDY.items()}
    assert domain_subsidy.MODES == v.SubsidyMode.zh_labels()
    from evalapp.domain import scoring, workflow
    from evalapp.models import sheet

    assert scoring.Result is v.Result  # the domain's results are the vocabulary's, labels and all
    assert sheet.SHEET_KIND_LABELS == v.SheetKind.zh_labels() and sheet.SHEET_STATUS_LABELS == v.SheetStatus.zh_labels()
    assert set(workflow.ROUND_PHASES) == {p.value for p in v.RoundPhase}


def test_labels_translate_at_use_and_stay_chinese_for_documents(app):
    with app.test_request_context():
        from flask import session

        session["lang"] = "en"
        from flask_babel import refresh

        refresh()
        assert v.RoundPhase.SELF_ASSESSMENT.label == "Self-assessment"
        assert v.RoundPhase.SELF_ASSESSMENT.zh == "自评阶段"
        assert v.UnitKind.label_of("街道") == "Sub-district"
        assert v.Result.labels()["veto"] == "Fail (veto)"
        assert v.SheetStatus.label_of("no-such-status") == "no-such-status"  # an odd stored value shows as itself
    with app.test_request_context():
        from flask_babel import refresh

        refresh()  # (the fixture's app context is shared with this request: drop the English kept there)
        assert v.UnitKind.label_of("街道") == "街道"  # Chinese by default


@pytest.fixture(scope="module")
def catalogue():
    with open(os.path.join(ROOT, "evalapp", "translations", "en", "LC_MESSAGES", "messages.po"), "rb") as f:
        return read_po(f)


def test_every_marked_message_has_an_english_translation(catalogue):
    method_map = [("evalapp/**.py", "python"), ("evalapp/templates/**.html", "jinja2")]
    missing = set()
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map, keywords=KEYWORDS, options_map={"evalapp/templates/**.html": {}}):
        msgid = message[0] if isinstance(message, tuple) else message
        if not msgid or filename.startswith((".venv", "tests")):
            continue
        entry = catalogue.get(msgid)
        if entry is None or not entry.string or entry.fuzzy:
            missing.add(f"{filename}: {msgid}")
    assert sorted(missing) == []


def test_official_documents_keep_chinese_labels_in_an_english_session(app, login_as):
    """The 通报 is an official document: its result column is Chinese whatever the reader's language."""
    from sqlalchemy import select

    from evalapp.extensions import db
    from evalapp.models import Round

    district = login_as("district")
    assert district.post("/lang", data={"lang": "en", "next": "/"}).status_code in (302, 303)
    round_id = db.session.scalar(select(Round.id).order_by(Round.id))
    notice = district.get(f"/results/rounds/{round_id}/notice").get_data(as_text=True)
    assert "<td>未完成</td>" in notice and "<td>Incomplete</td>" not in notice
