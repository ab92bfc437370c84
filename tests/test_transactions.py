"""Transactions a reader can see (issue 26, point 3): a service that changes data commits once, at its end; a refused
call commits nothing; services that compose others (a round advancing, a member leaving, accept-all, the demo seed)
are one unit of work; a save that changes nothing leaves the caller's transaction as it was.

Commits and rollbacks are counted on the test's own session with SQLAlchemy session events, added for the block
and removed after it (never a listener inside evalapp/)."""
from contextlib import contextmanager
from decimal import Decimal

import pytest
import yaml
from sqlalchemy import event, func, select

from evalapp.domain.scoring import ScoreEntry
from evalapp.extensions import db
from evalapp.models import (
    ApiToken, AuditEvent, CatalogueVersion, EvidenceFile, OrgUnit, Round, Score, Sheet, SheetTransition, Team,
)
from evalapp.services import (
    accounts, audit, catalogue_io, documents, evidence, imports, moves, publication, reconcile, rounds, scores,
    selfassess, signatures, subsidy, teams, throttle, units, users,
)
from evalapp.services.errors import Conflict, Invalid, NotAllowed, ServiceError, _l
from evalapp.services.seed import fill_sheet, seed_demo
from evalapp.services.sheet_views import find_indicator
from evalapp.services.versions import results_version
from tests.factories import (
    OTHER_TOWNSHIP, OTHER_VILLAGE, PASSWORD, TOWNSHIP, VILLAGE, make_round, make_sheet, user as make_user,
)
from tests import files
from tests.test_evidence import image_bytes
from tests.test_publication_snapshot import _score_final
from tests.test_signatures import zigzag

NEW_PASSWORD = "Lantern-river-4817-quiet"


@contextmanager
def counted():
    """{"commit": n, "rollback": n}: the commits and rollbacks of the test's session inside the block."""
    session = db.session()
    seen = {"commit": 0, "rollback": 0}

    def committed(_session):
        seen["commit"] += 1

    def rolled_back(_session, _transaction):
        seen["rollback"] += 1

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_soft_rollback", rolled_back)
    try:
        yield seen
    finally:
        event.remove(session, "after_commit", committed)
        event.remove(session, "after_soft_rollback", rolled_back)


def once(call, *args, **kwargs):
    """Run a mutating service: it must commit exactly once. Returns what it returned."""
    with counted() as seen:
        result = call(*args, **kwargs)
    assert seen["commit"] == 1, f"{call.__module__}.{call.__qualname__} committed {seen['commit']} times"
    return result


def refused(error, call, *args, **kwargs) -> ServiceError:
    """Run a service that must refuse (raise `error`) without committing anything. Returns the error."""
    with counted() as seen, pytest.raises(error) as raised:
        call(*args, **kwargs)
    assert seen["commit"] == 0, f"{call.__module__}.{call.__qualname__} committed {seen['commit']} times on refusal"
    return raised.value


def audit_rows() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)))


def committed_name(unit_id: int) -> str:
    """The unit's name as committed, read on a connection of its own (not the session's transaction)."""
    with db.engine.connect() as other:
        return other.scalar(select(OrgUnit.name).where(OrgUnit.id == unit_id))


def scored_members(w) -> Sheet:
    """Both members of the first team fill 荷塘村 (seed.fill_sheet) and submit; returns its final sheet."""
    for username in ("leader", "inspector"):
        sheet = make_sheet(w, VILLAGE, inspector=username)
        fill_sheet(sheet, w.people[username], f"members/{username}")
        moves.submit_sheet(sheet, w.people[username])
    return make_sheet(w, VILLAGE, "final")


@pytest.fixture
def inspection(empty_app):
    """A round of the test's own in inspection, every self-assessment submitted."""
    return make_round("inspection", self_assessed=True)


# -- every mutating service commits once -----------------------------------------------------------------------------

def test_the_scoring_and_review_services_each_commit_once(inspection):
    w, leader = inspection, inspection.people["leader"]
    own = make_sheet(w, TOWNSHIP, inspector="leader")
    once(scores.save_score, own, "A1", ScoreEntry(), leader, 0)
    once(scores.save_score, own, "A1", ScoreEntry(direct=Decimal("0"), reason="现场未见台账"), leader, 1)
    for username in ("leader", "inspector"):  # 荷塘村's member sheets: filled (every indicator) and submitted
        sheet = make_sheet(w, VILLAGE, inspector=username)
        once(fill_sheet, sheet, w.people[username], f"members/{username}")
        once(moves.submit_sheet, sheet, w.people[username])
    final = make_sheet(w, VILLAGE, "final")
    once(reconcile.set_final_score, final, "A1", None, "", leader, 0)
    assert once(reconcile.accept_all_proposals, final, leader) > 1
    once(reconcile.set_bonus_and_veto, final, ["X1"], {}, leader)
    once(signatures.sign, final, "leader", "", zigzag(), 600, 240, leader)
    photo = once(evidence.add_photo, own, find_indicator(own, "A1"), image_bytes(), "IMG_0001.jpg", leader)
    once(evidence.remove, photo, leader)
    once(moves.submit_sheet, final, leader)
    district = w.people["district"]
    once(moves.return_sheet, final, district, "A3 扣分依据不足")
    once(moves.move_sheet, final, "submitted", leader)
    once(moves.approve_sheet, final, district)
    once(moves.review_sheet, make_sheet(w, OTHER_VILLAGE, "self"), district, "return", "请补充走访台账")
    once(selfassess.add_comment, make_sheet(w, TOWNSHIP, "self"), "A1", "台账齐全", district)


def test_the_self_assessment_services_each_commit_once(empty_app):
    w = make_round("self_assessment")
    village, township = w.people["village"], w.people["township"]
    sheet = make_sheet(w, VILLAGE, "self")
    once(selfassess.save_summary, sheet, "今年走访联系户四次。", village)
    doc = once(documents.add_document, sheet, files.PDF, "走访台账.pdf", village)
    once(documents.remove_document, doc, village)
    once(fill_sheet, sheet, village, "self")
    once(moves.submit_sheet, sheet, village)
    once(moves.review_sheet, sheet, township, "return", "请补充工作总结")
    once(moves.move_sheet, sheet, "submitted", village)
    once(moves.review_sheet, sheet, township, "approve", "")


def test_the_round_team_and_subsidy_services_each_commit_once(inspection):
    w, admin = inspection, inspection.people["admin"]
    cats = {c.level: c for c in db.session.scalars(select(CatalogueVersion))}
    form = {"name": "2032年度测试评估验收", "rollout": "pilot", "township_catalogue_id": str(cats["township"].id),
            "village_catalogue_id": str(cats["village"].id), "threshold": "95", "tolerance": "1"}
    made = once(rounds.create_round, form, admin)
    once(rounds.update_settings, made, {"threshold": "90", "tolerance": "1.5"}, admin)
    once(rounds.set_scope, made, {w.units[TOWNSHIP].id, w.units[VILLAGE].id}, admin)
    once(rounds.advance, made, admin)  # → self-assessment: the self sheets made in the same transaction
    once(subsidy.save_rule, made, "village", "fixed", "2000", "", admin)

    make_user("spare", "inspector")
    new_team = once(teams.create_team, made, "第三工作组", "spare", admin)
    once(teams.add_member, new_team, "inspector2", admin)
    once(teams.set_leader, new_team, "inspector2", admin)
    once(teams.assign, made, {w.units[TOWNSHIP].id: new_team.id, w.units[VILLAGE].id: new_team.id}, admin)

    # During inspection a member leaving closes their drafts and a member rejoining reopens them: several moves,
    # one commit each time.
    first = db.session.scalar(select(Team).where(Team.round_id == w.round.id, Team.name == "第一工作组"))
    inspector = w.people["inspector"]
    drafts = teams.member_drafts(first, inspector.id)
    assert len(drafts) >= 2
    once(teams.remove_member, first, inspector.id, admin, confirm=True)
    once(teams.add_member, first, "inspector", admin)
    assert sorted(s.id for s in teams.member_drafts(first, inspector.id)) == sorted(s.id for s in drafts)
    # Leaving inspection closes every member draft left: one commit for all of them.
    assert len(rounds.open_member_sheets(w.round.id)) >= 3
    once(rounds.advance, w.round, admin, confirm=True)
    assert rounds.open_member_sheets(w.round.id) == []


def test_publishing_and_unlocking_each_commit_once(empty_app):
    w = make_round("inspection")
    for name, total in ((TOWNSHIP, "97"), (VILLAGE, "94.5"), (OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        _score_final(w, name, total)
    rounds.advance(w.round, w.people["admin"], confirm=True)
    once(publication.publish, w.round, w.people["district"], confirm_no_subsidy=True)
    final = make_sheet(w, VILLAGE, "final")
    once(publication.unlock, final, w.people["admin"], "复核发现A3扣分有误")
    assert final.status == "returned" and final.unlocked  # approved → back to the leader, in the same commit


def test_the_account_services_each_commit_once(inspection):
    w, admin = inspection, inspection.people["admin"]
    created = once(users.create_user, "wang5", "王五", "inspector", "", NEW_PASSWORD, admin)
    once(users.update_user, created, "王五（组员）", "inspector", "", admin)
    once(users.update_user, created, "王五", "district", "", admin)  # a new role: credentials end in it too
    once(users.set_active, created, False, admin)
    once(users.set_active, created, True, admin)
    once(users.reset_password, created, NEW_PASSWORD + "-2", admin)
    once(users.change_own_password, created, NEW_PASSWORD + "-2", NEW_PASSWORD + "-3")

    district = w.people["district"]
    assert once(accounts.authenticate, "district", PASSWORD) == district
    assert once(accounts.authenticate, "district", "wrong") is None
    assert once(accounts.authenticate, "x" * 65, "wrong") is None
    token = once(accounts.start_session, district, "127.0.0.1", "pytest")
    once(accounts.end_session, token)
    once(accounts.issue_api_token, district)
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == district.id))
    once(accounts.revoke_own_token, district, token_id)
    once(accounts.issue_api_token, district)
    assert once(accounts.revoke_all_tokens, district, admin) == 1
    attempt = once(throttle.check, "district", "127.0.0.1")
    once(throttle.succeeded, attempt)


def test_the_unit_catalogue_import_and_export_services_each_commit_once(inspection):
    admin = inspection.people["admin"]
    unit = once(units.create_unit, "430699001009", "新建村", "村", "430699001", admin)
    once(units.update_unit, unit, "新建社区", "社区", "430699001", admin)
    once(units.set_active, unit, False, admin)
    once(imports.import_units, imports.units_workbook().getvalue(), admin)

    village = db.session.scalar(select(CatalogueVersion).where(CatalogueVersion.level == "village"))
    text = yaml.safe_dump(catalogue_io.to_plain(village), allow_unicode=True)
    [imported] = once(catalogue_io.import_yaml, text, admin)
    draft = once(catalogue_io.clone, imported, admin)
    once(catalogue_io.replace_draft, draft, yaml.safe_dump(catalogue_io.to_plain(draft), allow_unicode=True), admin)

    filters, _ = audit.parse_filters({})
    once(audit.export, filters, admin).file.close()


def test_the_demo_seed_is_one_unit_of_work(empty_app):
    made = once(seed_demo, PASSWORD)
    assert made["rounds"] == 2 and db.session.scalar(select(func.count(Score.id))) > 0


# -- a refused call commits nothing ----------------------------------------------------------------------------------

def test_refused_calls_commit_nothing(inspection):
    w, admin, leader = inspection, inspection.people["admin"], inspection.people["leader"]
    own = make_sheet(w, TOWNSHIP, inspector="leader")
    once(scores.save_score, own, "A1", ScoreEntry(), leader, 0)
    stale = ScoreEntry(direct=Decimal("0"), reason="现场未见台账")
    assert refused(Conflict, scores.save_score, own, "A1", stale, leader, 0).code == "score.conflict"
    assert refused(Invalid, moves.submit_sheet, own, leader).code == "sheet.unscored"
    assert refused(Invalid, moves.return_sheet, make_sheet(w, VILLAGE, "self"), w.people["district"], " ").code \
        == "sheet.return_comment_required"
    assert refused(Conflict, moves.move_sheet, own, "approved", admin).code == "sheet.move_not_allowed"
    final = make_sheet(w, VILLAGE, "final")
    assert refused(Invalid, reconcile.set_final_score, final, "A1", None, "", leader, 0).code \
        == "final.no_member_scores"
    assert refused(Invalid, rounds.create_round, {"name": ""}, admin).code == "round.name_required"
    assert refused(Conflict, rounds.set_scope, w.round, set(), admin).code == "round.scope_closed"
    first = db.session.scalar(select(Team).where(Team.round_id == w.round.id, Team.name == "第一工作组"))
    assert refused(Invalid, teams.set_leader, first, "inspector2", admin).code == "team.leader_not_member"
    assert refused(Invalid, teams.add_member, first, "district", admin).code == "team.not_inspector"
    # Leaving inspection with member drafts open needs the confirmation: refused, nothing closed or committed.
    assert refused(Conflict, rounds.advance, w.round, admin).code == "round.advance_open_sheets"
    assert refused(Conflict, publication.unlock, final, admin, "理由").code == "sheet.unlock_not_published"
    assert refused(Invalid, users.create_user, "admin", "重名", "admin", "", NEW_PASSWORD, admin).code \
        == "user.username_taken"
    temporary = users.create_user("zhao6", "赵六", "district", "", NEW_PASSWORD, admin)  # must change it first
    assert refused(NotAllowed, accounts.issue_api_token, temporary).code == "token.password_change_first"
    # Nothing to take: accept-all commits nothing (no member has submitted yet).
    with counted() as seen:
        assert reconcile.accept_all_proposals(final, leader) == 0
    assert seen == {"commit": 0, "rollback": 0}


# -- units of work that compose others -------------------------------------------------------------------------------

def test_accept_all_is_one_commit_and_one_audit_row_naming_every_indicator_taken(inspection):
    w, leader = inspection, inspection.people["leader"]
    final = scored_members(w)
    codes = [row.indicator.code for row in reconcile.reconciliation(final).rows]
    rows, version = audit_rows(), results_version(w.round.id)
    assert once(reconcile.accept_all_proposals, final, leader) == len(codes)
    assert audit_rows() == rows + 1
    row = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert (row.action, row.object_type, row.object_id) == ("score.save", "Sheet", final.id)
    assert list(row.new["accepted"]) == codes and row.detail.startswith("采用成员平均分：")
    assert row.user_id == leader.id and row.unit_id == final.unit_id and row.round_id == w.round.id
    assert results_version(w.round.id) == version + 1  # one bump for the lot
    stored = db.session.scalars(select(Score).where(Score.sheet_id == final.id)).all()
    assert len(stored) == len(codes) and all(s.note == reconcile.NOTE_MEAN for s in stored)
    db.session.refresh(final)
    assert final.scored == len(codes)  # the figures recomputed once, over every value taken
    with counted() as seen:  # a second click: nothing left to take, nothing committed
        assert reconcile.accept_all_proposals(final, leader) == 0
    assert seen["commit"] == 0 and audit_rows() == rows + 1


@pytest.mark.parametrize("failure", [RuntimeError("injected"), Conflict("score.conflict", _l("x"))])
def test_accept_all_failing_halfway_leaves_the_sheet_exactly_as_it_was(inspection, monkeypatch, failure):
    w, leader = inspection, inspection.people["leader"]
    final = scored_members(w)
    once(reconcile.set_final_score, final, "A2", "0", "现场核查", leader, 0)  # one decided already

    def state():
        db.session.expire_all()
        sheet = db.session.get(Sheet, final.id)
        return {"sheet": (sheet.status, sheet.version, sheet.score_sum, sheet.scored, sheet.figures_version,
                          sheet.updated_at),
                "scores": sorted((s.indicator_id, s.points, s.version, s.note)
                                 for s in db.session.scalars(select(Score).where(Score.sheet_id == final.id))),
                "audit": audit_rows(), "version": results_version(w.round.id)}

    before = state()
    real, calls = reconcile._take_mean, []

    def third_fails(*args, **kwargs):
        calls.append(args[1].indicator.code)
        if len(calls) == 3:
            raise failure
        return real(*args, **kwargs)

    monkeypatch.setattr(reconcile, "_take_mean", third_fails)
    with counted() as seen, pytest.raises(type(failure)):
        reconcile.accept_all_proposals(final, leader)
    assert len(calls) == 3 and "A2" not in calls
    assert seen["commit"] == 0
    assert not db.session.new and not db.session.dirty  # rolled back: nothing of it pending either
    assert state() == before  # no value, no figure, no version, no audit row of the two taken before the failure


def test_a_composed_service_refused_halfway_leaves_nothing(inspection, monkeypatch):
    """Leaving inspection closes every member draft in the round's own transaction: a move refused on the second
    draft (another request moved it) leaves the first open, the round where it was, and no audit row."""
    w, admin = inspection, inspection.people["admin"]
    open_before = sorted(s.id for s in rounds.open_member_sheets(w.round.id))
    rows, transitions = audit_rows(), db.session.scalar(select(func.count(SheetTransition.id)))
    real, calls = rounds.move_sheet_in, []

    def second_refused(*args, **kwargs):
        calls.append(args[0].id)
        if len(calls) == 2:
            raise Conflict("sheet.status_changed", _l("评分表状态已被他人更改，请刷新页面"))
        return real(*args, **kwargs)

    monkeypatch.setattr(rounds, "move_sheet_in", second_refused)
    assert refused(Conflict, rounds.advance, w.round, admin, confirm=True).code == "sheet.status_changed"
    db.session.expire_all()
    assert db.session.get(Round, w.round.id).status == "inspection"
    assert sorted(s.id for s in rounds.open_member_sheets(w.round.id)) == open_before
    assert audit_rows() == rows and db.session.scalar(select(func.count(SheetTransition.id))) == transitions


# -- a save that changes nothing leaves the caller's transaction alone ----------------------------------------------

@pytest.fixture
def saved(inspection):
    """The leader's 清溪镇 sheet with A1 saved at full marks (version 1), and 荷塘村 renamed in the session, not
    committed: a change of the caller's own, pending."""
    w, leader = inspection, inspection.people["leader"]
    sheet = make_sheet(w, TOWNSHIP, inspector="leader")
    once(scores.save_score, sheet, "A1", ScoreEntry(), leader, 0)
    unit = w.units[VILLAGE]
    unit.name = "改名村"
    return sheet, leader, unit


def no_op_save(sheet, leader):
    with counted() as seen:
        result = scores.save_score(sheet, "A1", ScoreEntry(), leader, 1)  # what is stored already
    assert result.figures is None and result.score.version == 1  # acknowledged, nothing written
    assert seen == {"commit": 0, "rollback": 0}  # neither committed nor rolled back


def test_a_no_op_save_leaves_the_callers_change_pending_and_the_caller_can_roll_it_back(saved):
    sheet, leader, unit = saved
    no_op_save(sheet, leader)
    assert unit.name == "改名村" and committed_name(unit.id) == VILLAGE  # still the caller's, not committed
    db.session.rollback()
    assert unit.name == VILLAGE and committed_name(unit.id) == VILLAGE  # the caller's rollback took it back


def test_a_no_op_save_does_not_lose_the_callers_change(saved):
    sheet, leader, unit = saved
    no_op_save(sheet, leader)
    assert unit.name == "改名村"
    db.session.commit()  # the caller's own commit, when it decides
    assert committed_name(unit.id) == "改名村"


def test_a_no_op_summary_save_leaves_the_callers_transaction_alone(empty_app):
    w = make_round("self_assessment")
    sheet, village = make_sheet(w, VILLAGE, "self"), w.people["village"]
    version = once(selfassess.save_summary, sheet, "今年走访联系户四次。", village)
    unit = w.units[VILLAGE]
    unit.name = "改名村"
    with counted() as seen:
        assert selfassess.save_summary(sheet, "今年走访联系户四次。", village, version - 1) == version
    assert seen == {"commit": 0, "rollback": 0} and unit.name == "改名村"
    db.session.rollback()
    assert unit.name == VILLAGE


def test_an_upload_refused_by_content_commits_nothing_and_stores_no_row(empty_app):
    w = make_round("self_assessment")
    sheet, village = make_sheet(w, VILLAGE, "self"), w.people["village"]
    assert refused(Invalid, documents.add_document, sheet, b"MZ\x90\x00", "a.exe", village).code == "document.type"
    assert db.session.scalar(select(func.count(EvidenceFile.id))) == 0
