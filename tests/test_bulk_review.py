"""Approving a province one sheet at a time no more (issue 29, point 7): the district approves the submitted final
sheets that carry no flag in one confirmation, each audited as its own approval; a flagged sheet (members drafting,
成员评分已变化, a signature missing or made before a change, 自评虚高, a veto) is left out with why, and so is a sheet
that changed between the list and the confirmation."""
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, func, select, update

from evalapp.domain.vocabulary import BulkSkip, ReviewFlag
from evalapp.extensions import db
from evalapp.models import AuditEvent, Score, Sheet, SheetTransition, Signature
from evalapp.services import bulk_review, moves, reconcile, signatures
from evalapp.services.seed import fill_sheet
from tests.factories import (  # noqa: F401 (fixtures)
    OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, app_of_world, make_round, make_sheet,
)
from tests.test_signatures import zigzag

TEAMS = {TOWNSHIP: ("leader", ["leader", "inspector"]), VILLAGE: ("leader", ["leader", "inspector"]),
         OTHER_TOWNSHIP: ("inspector2", ["inspector2"]), OTHER_VILLAGE: ("inspector2", ["inspector2"])}


def ready_final(world, unit: str, *, veto: dict | None = None, sign: bool = True) -> Sheet:
    """The unit's final sheet as a team leaves it for the district: every member scored and submitted, the leader
    took the means (and recorded `veto`), every signer signed on the leader's tablet, and the leader submitted."""
    leader, members = TEAMS[unit]
    for username in members:
        sheet = make_sheet(world, unit, inspector=username)
        fill_sheet(sheet, world.people[username], f"bulk/{username}/{unit}")
        moves.submit_sheet(sheet, world.people[username])
    final = make_sheet(world, unit, "final")
    reconcile.accept_all_proposals(final, world.people[leader])
    if veto:
        reconcile.set_bonus_and_veto(final, [], veto, world.people[leader])
    if sign:
        for slot in signatures.signing(final).slots:
            signatures.sign(final, slot.key, "村代表张三" if slot.key == "representative" else "", zigzag(),
                            600, 240, world.people[leader])
    moves.submit_sheet(final, world.people[leader])
    return final


@pytest.fixture
def world(empty_app):
    return make_round("inspection")


@pytest.fixture
def finals(world):
    """Three clean final sheets waiting for the district, and a vetoed one."""
    made = {unit: ready_final(world, unit) for unit in (TOWNSHIP, VILLAGE, OTHER_VILLAGE)}
    made[OTHER_TOWNSHIP] = ready_final(world, OTHER_TOWNSHIP, veto={"V3": "台账补记，弄虚作假"})
    return made


def ask(*sheets, tokens=None):
    return [(s.id, (tokens or {}).get(s.id)) for s in sheets]


def by_id(outcomes):
    return {o.sheet_id: o for o in outcomes}


def test_clean_sheets_are_approved_in_one_commit_each_audited_as_its_own_approval(world, finals):
    district = world.people["district"]
    clean = [finals[TOWNSHIP], finals[VILLAGE], finals[OTHER_VILLAGE]]
    commits = []
    listener = lambda session: commits.append(1)  # noqa: E731
    event.listen(db.session, "after_commit", listener)
    try:
        outcomes = bulk_review.approve_clean(district, ask(*clean, finals[OTHER_TOWNSHIP]), address="10.0.0.9")
    finally:
        event.remove(db.session, "after_commit", listener)
    assert commits == [1]
    found = by_id(outcomes)
    assert [found[s.id].approved for s in clean] == [True, True, True]
    assert not found[finals[OTHER_TOWNSHIP].id].approved
    for sheet in clean:
        db.session.refresh(sheet)
        assert sheet.status == "approved"
        rows = db.session.execute(select(AuditEvent.action, AuditEvent.user_id, AuditEvent.ip).where(
            AuditEvent.object_type == "Sheet", AuditEvent.object_id == sheet.id,
            AuditEvent.action == "sheet.approved")).all()
        assert rows == [("sheet.approved", district.id, "10.0.0.9")]  # the single approval's action, one row each
        moved = db.session.scalars(select(SheetTransition).where(SheetTransition.sheet_id == sheet.id,
                                                                 SheetTransition.to_status == "approved")).all()
        assert [(t.actor_id, t.comment) for t in moved] == [(district.id, bulk_review.COMMENT)]
    assert db.session.get(Sheet, finals[OTHER_TOWNSHIP].id).status == "submitted"


def test_the_totals_are_the_review_pages(world, finals, login_as):
    """The confirmation's total and result for a sheet are the figures its single review page shows."""
    check = bulk_review.checks([finals[VILLAGE]])[finals[VILLAGE].id]
    page = login_as("district").get(f"/inspection/sheets/{finals[VILLAGE].id}").get_data(as_text=True)
    shown = page.split('data-testid="review-total">')[1].split("<")[0]
    assert f"{check.total:.2f}" == shown and check.total is not None and check.clean


def _unsigned(world, finals):
    db.session.execute(delete(Signature).where(Signature.sheet_id == finals[VILLAGE].id,
                                               Signature.role == "representative"))


def _signature_changed(world, finals):  # signed on another content than the sheet's as it stands
    db.session.execute(update(Signature).where(Signature.sheet_id == finals[VILLAGE].id,
                                               Signature.role == "leader").values(content_sha256="0" * 64))


def _self_inflated(world, finals):  # the unit's self total two points above the final's
    final = db.session.get(Sheet, finals[VILLAGE].id)
    db.session.execute(update(Sheet).where(Sheet.id == make_sheet(world, VILLAGE, "self").id).values(
        score_sum=final.score_sum + 2 + final.bonus_sum, scored=final.scored, bonus_sum=0))


def _stale_mean(world, finals):  # a member's score moved after the leader took the mean
    member = make_sheet(world, VILLAGE)
    db.session.execute(update(Score).where(Score.sheet_id == member.id, Score.points > 1)
                       .values(points=Score.points - 1))


def _members_pending(world, finals):
    db.session.execute(update(Sheet).where(Sheet.id == make_sheet(world, VILLAGE).id).values(status="draft"))


FLAGGED = [(_unsigned, ReviewFlag.UNSIGNED, "签名未齐：已签2/3"),
           (_signature_changed, ReviewFlag.SIGNATURE_CHANGED, "签名后有改动：1个签名"),
           (_self_inflated, ReviewFlag.SELF_INFLATED, "自评虚高：自评"),
           (_stale_mean, ReviewFlag.STALE_MEAN, "成员评分已变化："),
           (_members_pending, ReviewFlag.MEMBERS_PENDING, "成员未提交：第一组评估员")]


@pytest.mark.parametrize("flagging, flag, reason", FLAGGED, ids=[f.value for _, f, _ in FLAGGED])
def test_each_flag_leaves_its_sheet_out_with_the_reason(world, finals, flagging, flag, reason):
    flagging(world, finals)
    db.session.commit()
    outcomes = by_id(bulk_review.approve_clean(world.people["district"], ask(finals[VILLAGE], finals[TOWNSHIP])))
    left = outcomes[finals[VILLAGE].id]
    assert not left.approved and flag in left.check.flags
    assert any(str(r).startswith(reason) for r in left.reasons), [str(r) for r in left.reasons]
    assert outcomes[finals[TOWNSHIP].id].approved
    assert db.session.get(Sheet, finals[VILLAGE].id).status == "submitted"


def test_a_veto_leaves_its_sheet_out(world, finals):
    outcome = bulk_review.approve_clean(world.people["district"], ask(finals[OTHER_TOWNSHIP]))[0]
    assert not outcome.approved and outcome.check.flags == (ReviewFlag.VETO,)
    assert [str(r) for r in outcome.reasons] == ["一票否决"] and outcome.codes == ["veto"]


def test_a_sheet_returned_and_resubmitted_since_the_list_is_skipped(world, finals):
    district, leader = world.people["district"], world.people["leader"]
    shown = {o.sheet_id: o.check.token for o in bulk_review.preview(district, ask(finals[VILLAGE], finals[TOWNSHIP]))}
    moves.return_sheet(finals[VILLAGE], district, "请补充照片")
    moves.submit_sheet(finals[VILLAGE], leader)  # submitted again: the same status, another sheet than was shown
    outcomes = by_id(bulk_review.approve_clean(district, ask(finals[VILLAGE], finals[TOWNSHIP], tokens=shown)))
    assert outcomes[finals[VILLAGE].id].skip is BulkSkip.CHANGED and not outcomes[finals[VILLAGE].id].approved
    assert outcomes[finals[TOWNSHIP].id].approved
    assert db.session.get(Sheet, finals[VILLAGE].id).status == "submitted"


def test_a_sheet_flagged_or_decided_since_the_list_is_skipped(world, finals):
    district = world.people["district"]
    shown = {o.sheet_id: o.check.token for o in bulk_review.preview(district, ask(*finals.values()))}
    _unsigned(world, finals)  # a signature withdrawn: the token is the same, the flag is new
    db.session.commit()
    moves.approve_sheet(finals[TOWNSHIP], district)  # another reviewer approved it meanwhile
    outcomes = by_id(bulk_review.approve_clean(district, ask(finals[VILLAGE], finals[TOWNSHIP], finals[OTHER_VILLAGE],
                                                             tokens=shown)))
    assert outcomes[finals[VILLAGE].id].check.flags == (ReviewFlag.UNSIGNED,)
    assert outcomes[finals[TOWNSHIP].id].skip is BulkSkip.NOT_WAITING
    assert [o.sheet_id for o in outcomes.values() if o.approved] == [finals[OTHER_VILLAGE].id]
    approvals = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "sheet.approved", AuditEvent.object_id == finals[TOWNSHIP].id))
    assert approvals == 1  # its own approval, not a second one


def test_ids_that_are_no_waiting_final_sheet_are_reported(world, finals):
    district = world.people["district"]
    self_sheet = make_sheet(world, VILLAGE, "self")
    outcomes = by_id(bulk_review.approve_clean(district, [(2**31 - 1, None), (self_sheet.id, None)]))
    assert outcomes[2**31 - 1].skip is BulkSkip.NOT_FOUND and outcomes[self_sheet.id].skip is BulkSkip.NOT_FINAL
    assert bulk_review.approve_clean(world.people["admin"], ask(finals[VILLAGE]))[0].skip is BulkSkip.NOT_WAITING


def test_tokens_parse_strictly():
    assert bulk_review.parse_tokens(["12:3:4", "12", "7", "x", "0", "99999999999", "5:1", "²", None]) == [
        (12, "12:3:4"), (7, None)]
    assert len(bulk_review.parse_tokens([str(i) for i in range(1, 500)])) == bulk_review.MAX_SHEETS


def test_the_check_reads_a_fixed_number_of_statements(world, finals):
    from tests.statements import counting

    from evalapp.services.overview import _sheet_options

    def loaded(ids):  # as the queue and the approval load them
        db.session.expire_all()
        return db.session.scalars(select(Sheet).where(Sheet.id.in_(ids)).options(*_sheet_options())).all()

    ids = [s.id for s in finals.values()]
    with counting() as few:
        bulk_review.checks(loaded(ids[:1]))
    with counting() as many:
        bulk_review.checks(loaded(ids))
    assert len(many) == len(few), "\n".join(s for s in many if s not in few)


def test_total_is_points_not_float(world, finals):
    check = bulk_review.checks([finals[TOWNSHIP]])[finals[TOWNSHIP].id]
    assert isinstance(check.total, Decimal)
