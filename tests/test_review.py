"""The district's review of a final sheet (services.review.final_review and scoring/_final_review.html): the veto,
bonus items with the cap applied, the total and result as published, and each member's values behind them."""
import io
from decimal import Decimal

import pytest
from flask import render_template
from PIL import Image
from sqlalchemy import event, select

from evalapp.domain.scoring import ScoreEntry
from evalapp.extensions import db
from evalapp.models import CatalogueVersion, Score, Sheet, User
from evalapp.services import catalogues, evidence, moves, reconcile, scores, sheet_views
from evalapp.services.review import final_review
from tests.factories import app_of_world, make_sheet, VILLAGE as UNIT, world  # the leader's team: leader and inspector


def unit_sheets(world) -> tuple[Sheet, Sheet, Sheet]:
    """The unit's final sheet and its two members' sheets (the leader's, the inspector's)."""
    return (make_sheet(world, UNIT, "final"), make_sheet(world, UNIT, inspector="leader"),
            make_sheet(world, UNIT, inspector="inspector"))


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _score(sheet: Sheet, code: str, entry: ScoreEntry, user: User) -> None:
    indicator = sheet_views.find_indicator(sheet, code)
    current = db.session.scalar(select(Score).where(Score.sheet_id == sheet.id, Score.indicator_id == indicator.id))
    scores.save_score(sheet, code, entry, user, current.version if current else 0)


def _fill(sheet: Sheet, user: User, special: dict[str, ScoreEntry]) -> None:
    for ind in catalogues.indicators_of(catalogues.load_tree(sheet_views.catalogue_for_sheet(sheet).id)):
        _score(sheet, ind.code, special.get(ind.code, ScoreEntry()), user)


def make_reviewed_final(final: Sheet, mine: Sheet, theirs: Sheet, *, veto: dict[str, str] | None = None, bonus=("X1", "X2"), bonus_cap: str | None = "2",
                        photo: bool = True) -> Sheet:
    """The unit's members (`mine`: the leader's sheet, `theirs`: the inspector's) score it (A1 with deductions, notes, a free deduction with a reason, a photo), the leader
    takes the members' means, records bonus items and any veto, and submits the final sheet for review."""
    leader, member = _user("leader"), _user("inspector")
    if bonus_cap is not None:  # the default catalogue's bonus items cannot exceed its cap of 3
        version = db.session.get(CatalogueVersion, sheet_views.catalogue_for_sheet(final).id)
        version.bonus_cap = Decimal(bonus_cap)
        db.session.commit()
        catalogues._trees.clear()
    _fill(mine, leader, {"A1": ScoreEntry(deductions={"A1-1": 2}, note="会议记录缺两次")})
    _fill(theirs, member, {"A1": ScoreEntry(free_deduction=Decimal("0.5"), reason="责任人未书面明确"),
                           "A2": ScoreEntry(deductions={"A2-1": 1})})
    if photo:
        a1 = sheet_views.find_indicator(mine, "A1")
        evidence.add_photo(mine, a1, _jpeg(), "会议记录.jpg", leader)
    for sheet, user in ((mine, leader), (theirs, member)):
        moves.submit_sheet(db.session.get(Sheet, sheet.id), user)
    final = db.session.get(Sheet, final.id)
    reconcile.accept_all_proposals(final, leader)
    reconcile.set_bonus_and_veto(final, list(bonus), veto or {}, leader)
    moves.submit_sheet(db.session.get(Sheet, final.id), leader)
    return db.session.get(Sheet, final.id)


@pytest.fixture
def vetoed_final(world):
    return make_reviewed_final(*unit_sheets(world), veto={"V3": "台账补记，查实弄虚作假"})


def test_review_of_a_vetoed_final_sheet_shows_the_veto_and_the_result_as_published(vetoed_final):
    review = final_review(vetoed_final)
    assert [(v.code, v.finding) for v in review.vetoes] == [("V3", "台账补记，查实弄虚作假")]
    assert review.vetoed and review.result.value == "veto" and review.missing is None
    # bonus X1 (2) + X2 (1) = 3, capped at 2
    assert [b.code for b in review.bonuses] == ["X1", "X2"]
    assert (review.bonus_sum, review.bonus_cap, review.bonus_counted) == (Decimal("3.00"), Decimal("2.00"),
                                                                          Decimal("2.00"))
    assert review.capped and review.total == review.score_sum + Decimal("2.00")


def test_review_shows_each_members_deductions_reasons_notes_and_photos(vetoed_final):
    review = final_review(vetoed_final)
    assert [m.inspector.username for m in review.members] == sorted(
        ["leader", "inspector"], key=lambda n: _user(n).id)
    a1 = next(r for r in review.indicators if r.indicator.code == "A1")
    by_member = {e.sheet.inspector.username: e for e in a1.members}
    leader, member = by_member["leader"], by_member["inspector"]
    assert [(d.code, d.count, d.points) for d in leader.deductions] == [("A1-1", 2, Decimal("2.00"))]
    assert leader.deductions[0].text == "缺少专题研究记录或未明确责任人"
    assert leader.points == Decimal("1.00") and leader.note == "会议记录缺两次"
    assert [p.original_name for p in leader.photos] == ["会议记录.jpg"]
    assert member.free_deduction == Decimal("0.50") and member.reason == "责任人未书面明确"
    assert member.points == Decimal("2.50")
    assert a1.proposed == Decimal("1.75") and a1.final.points == Decimal("1.75") and not a1.adjusted
    a2 = next(r for r in review.indicators if r.indicator.code == "A2")
    assert {e.sheet.inspector.username: e.points for e in a2.members} == {"leader": Decimal("6.00"),
                                                                          "inspector": Decimal("5.50")}


def test_review_of_a_sheet_without_veto_or_cap(world):
    final = make_reviewed_final(*unit_sheets(world), bonus=("X2",), bonus_cap=None, photo=False)
    review = final_review(final)
    assert not review.vetoes and not review.capped and review.bonus_counted == Decimal("1.00")
    assert review.result.value in ("pass", "fail") and review.missing is not None


def test_review_runs_a_fixed_number_of_queries(world):
    final = make_reviewed_final(*unit_sheets(world), veto={"V3": "x"})

    def count() -> int:
        n = [0]

        def before(*args):
            n[0] += 1

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            final_review(db.session.get(Sheet, final.id))
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        return n[0]

    count()  # warm the catalogue tree
    before = count()
    # more deductions, notes and photos on more indicators of both members: no more queries
    sheet = db.session.get(Sheet, make_sheet(world, UNIT, inspector="inspector").id)
    db.session.execute(Sheet.__table__.update().where(Sheet.id == sheet.id).values(status="draft"))
    db.session.commit()
    for code in ("A3", "A4"):
        _score(sheet, code, ScoreEntry(deductions={f"{code}-1": 1}, note="抽查"), _user("inspector"))
        evidence.add_photo(sheet, sheet_views.find_indicator(sheet, code), _jpeg(), f"{code}.jpg", _user("inspector"))
    assert count() == before


def test_partial_renders_the_veto_banner_bonus_cap_and_members_values(app, vetoed_final):
    review = final_review(vetoed_final)
    with app.test_request_context():
        html = render_template("scoring/_final_review.html", review=review)
    banner = html.split('data-testid="review-veto"')[1].split("</ul>")[0]
    assert "一票否决" in banner and "台账补记，查实弄虚作假" in banner and "V3" in banner
    assert "不合格(一票否决)" in html.split('data-testid="review-result"')[1].split("</dd>")[0]
    assert "一票否决" in html.split('data-testid="review-missing"')[1].split("</dd>")[0]
    bonus = html.split('data-testid="review-bonus"')[1].split("</dd>")[0]
    assert "+2.00" in bonus and "3.00" in bonus
    a1 = html.split('data-code="A1"')[1].split("</tr>")[0]
    assert "A1-1" in a1 and "×2" in a1 and "−2.00" in a1 and "会议记录缺两次" in a1
    assert "责任人未书面明确" in a1 and "−0.50" in a1 and "data-photo=" in a1 and "1.75" in a1


def test_partial_escapes_what_people_typed(app, world):
    final = make_reviewed_final(*unit_sheets(world), veto={"V3": "<script>alert(1)</script>"}, photo=False)
    with app.test_request_context():
        html = render_template("scoring/_final_review.html", review=final_review(final))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
