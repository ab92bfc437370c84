"""A review's attacks on the signatures of the 评分表 (issue 19, point 6): each test showed a defect of the first
version (failed on 2f67ae2) and says what a user (or an attacker) saw; they hold the fixes."""
import json
import re
import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import Signature, User
from tests.factories import OTHER_VILLAGE, VILLAGE, app_of_world, make_sheet  # noqa: F401 (fixture)
from tests.test_signatures import team, world, zigzag  # noqa: F401 (fixtures: a reconciled 荷塘村)


def form(client, final, slot, strokes=None, name="", width="600", height="240"):
    data = {"slot": slot, "name": name, "strokes": json.dumps(zigzag() if strokes is None else strokes),
            "width": width, "height": height}
    return client.post(f"/inspection/sheets/{final.id}/signatures", data=data)


def api(client, final, slot, strokes=None, name="", width=600, height=240):
    return client.post(f"/api/v1/sheets/{final.id}/signatures", json={
        "slot": slot, "name": name, "strokes": zigzag() if strokes is None else strokes, "width": width,
        "height": height})


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature))


# -- bad input: a number JSON allows but a float cannot scale ------------------------------------------------------


@pytest.mark.parametrize("strokes", [
    [[[1.7e308, 100, 0]] + [[20 + i * 20, 100 + 50 * (i % 2), i * 16] for i in range(24)]],   # x × scale = inf
    [[[20, 100, -1.7e308]] + [[20 + i * 20, 100 + 50 * (i % 2), 1.7e308] for i in range(24)]],  # t − start = inf
])
def test_a_huge_but_finite_coordinate_or_time_is_a_field_message_not_a_500(team, strokes):
    """domain/signatures.normalise: round(x * scale) and round(t - start) of finite numbers can overflow to
    infinity, and round(inf) raises OverflowError — the tablet user (or the API client) gets 服务器错误 (500)
    instead of 签名数据无效."""
    final = team["final"]
    page = form(team["leader"], final, "leader", strokes)
    assert page.status_code == 422 and "签名数据无效" in page.get_data(as_text=True)
    body = api(team["leader"], final, "leader", strokes)
    assert body.status_code == 422 and "签名数据无效" in body.json["fields"]["strokes"]
    assert count() == 0


# -- the representative's name ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["\u200b\u200b", "\u2060", "\u200e\u200f", "\u202e\u202d", "\ufeff"])
def test_a_representative_name_of_invisible_characters_only_is_refused(team, name):
    """The name is required, but a name made only of format characters (zero-width space, word joiner, LRM/RLM,
    bidi overrides, BOM) passes str.strip() and text_problem (which refuses Cc and Cs only): the print page and the
    signing panel then show a signature by nobody (an empty 姓名 cell), and the audit log names nobody."""
    final = team["final"]
    page = form(team["leader"], final, "representative", name=name)
    assert page.status_code == 422 and "请填写被评单位代表的姓名" in page.get_data(as_text=True)
    assert count() == 0


def test_a_bidi_override_in_the_representatives_name_is_refused(team):
    """U+202E (RIGHT-TO-LEFT OVERRIDE) in the typed name is stored and printed: the 姓名 cell shows the name's
    characters reversed from the override on (“王丽\u202e明小” prints as 王丽小明), a name that differs from what was
    typed is then on the paper and in the audit log."""
    final = team["final"]
    page = form(team["leader"], final, "representative", name="王丽\u202e明小")
    assert page.status_code == 422
    assert count() == 0


# -- who records whose signature ----------------------------------------------------------------------------------


def test_a_member_on_their_own_tablet_cannot_sign_in_the_leaders_or_another_members_name(team):
    """access.can_sign_sheet lets any team member record any slot from their own session: the inspector, alone on
    their own tablet, draws the 工作组组长's signature (and the other member's), and the panel, the queues and the
    print page show it as the leader's 已签名 (recorded_by is kept but shown nowhere). The shared tablet is the
    leader's (the issue: members and the representative sign on it); a member's own session should record only
    the member's own slot (and the representative, who signs on an inspector's tablet)."""
    final, people = team["final"], team["world"].people
    assert form(team["inspector"], final, "leader").status_code in (403, 422)
    assert form(team["inspector"], final, f"inspector:{people['leader'].id}").status_code in (403, 422)
    assert count() == 0


# -- the content a signature is bound to -------------------------------------------------------------------------------


def _published(w, login_as):
    """荷塘村's member took A1's points off (a direct 0: the member's name is in the content); every unit's final
    sheet decided and approved; the round published. Returns 荷塘村's final sheet."""
    from evalapp.services import publication, rounds as rounds_service
    from tests.test_publication_snapshot import _score_final

    inspector = login_as("inspector")
    member = make_sheet(w, VILLAGE, inspector="inspector")
    assert inspector.put(f"/api/v1/sheets/{member.id}/scores/A1", json={
        "score": "0.00", "reason": "无成立文件", "version": 0}).status_code == 200
    finals = {name: _score_final(w, name, total) for name, total in ((VILLAGE, "96"), (OTHER_VILLAGE, "97"))}
    for name in w.units:
        if name not in finals and w.units[name].level != "district":
            _score_final(w, name, "98")
    return finals[VILLAGE], lambda: (rounds_service.advance(w.round, w.people["admin"], confirm=True),
                                     publication.publish(w.round, w.people["district"], confirm_no_subsidy=True))


def test_after_publication_a_members_corrected_name_leaves_the_printed_sheet_unsignable(world, login_as):
    """After publication the print page compares signatures with the version's content (names as frozen), but a
    signature is always bound to the live content (services/signatures.sign: content_digests), which holds each
    member's display name in the deductions. The admin corrects a member's name after publication: the leader's
    signature shows 已签名 on the printed 评分表 but 签名后有改动 on the reconcile page and in the worklist (the pages
    disagree), and when the leader signs again as asked, the new signature shows on the printed 评分表 as
    “电子签名后评分表有改动，须重新签名” — no signature drawn from now on can ever be valid on the official paper."""
    from evalapp.services import users

    final, publish = _published(world, login_as)
    leader = login_as("leader")
    assert form(leader, final, "leader").status_code == 302
    publish()
    users.update_user(db.session.get(User, world.people["inspector"].id), "李四（更正）", "inspector", "",
                      world.people["admin"])
    district = login_as("district")

    def state(html, slot):
        return re.search(f'data-slot="{slot}" data-state="(\\w+)"', html).group(1)

    printed = district.get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    page = leader.get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    # A published 评分表 takes no tablet signature any more (issue 29: the printed version's handwriting counts).
    assert form(leader, final, "representative", name="王丽").status_code == 409
    found = {"leader on paper": state(printed, "leader"), "leader on the reconcile page": state(page, "leader")}
    assert found == dict.fromkeys(found, "signed")


def test_signing_again_after_an_unlock_does_not_take_the_valid_signature_off_the_published_sheet(world, login_as):
    """The admin unlocks a published 评分表 and the leader changes a score: the reconcile page marks the leader's
    signature 签名后有改动 and asks for signing again. The leader signs again — and the printed 评分表 (still the
    published version until the round is republished) loses the leader's signature, which matched it: the new one is
    bound to the changed content and shows “电子签名后评分表有改动”, the old one is superseded and no longer shown
    (services/signatures._current reads only rows not superseded)."""
    from evalapp.models import Score
    from evalapp.services import publication

    final, publish = _published(world, login_as)
    leader = login_as("leader")
    assert form(leader, final, "leader").status_code == 302
    publish()
    publication.unlock(final, world.people["admin"], "核对台账")
    db.session.commit()
    a2 = db.session.scalar(select(Score).where(Score.sheet_id == final.id, Score.indicator.has(code="A2")))
    changed = leader.post(f"/inspection/sheets/{final.id}/reconcile/score", data={
        "code": "A2", "score": f"{a2.points - 1}", "reason": "复核后扣分", "version": str(a2.version)})
    assert changed.status_code == 302, changed.get_data(as_text=True)[:2000]
    page = leader.get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    assert 'data-slot="leader" data-state="stale"' in page  # asked to sign again
    assert form(leader, final, "leader").status_code == 302
    printed = login_as("district").get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    assert 'data-testid="version"' in printed  # the published version is what is printed
    assert 'data-slot="leader" data-state="signed"' in printed, "the version's valid signature is gone"


def test_a_final_sheet_with_nothing_decided_cannot_be_signed(team, world):
    """A final sheet where no final score is decided yet (最终得分 0.00, 已定分 0/25, the members still scoring) takes
    signatures: the unit's representative signs a blank 评分表 on the tablet, and the print page shows the drawing
    above the lines of an empty sheet with “平板电子签名与本表内容绑定”. Signing should wait for every indicator's final
    score (the page saying so), or at least warn."""
    from evalapp.models import Sheet

    leader = team["leader"]
    township = db.session.scalar(select(Sheet).where(Sheet.round_id == world.round.id, Sheet.kind == "final",
                                                     Sheet.unit_id == world.units["清溪镇"].id))
    assert township.score_sum in (None, 0) and not township.scored
    page = form(leader, township, "representative", name="王丽")
    assert page.status_code == 422
    assert count() == 0
