"""Issue 19, point 6: signatures on the 评分表 — the drawing's rule, the binding to the sheet's content, the form and
the API refusing alike, scope, the print page and the queues."""
import io
import json
import re
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from evalapp.domain import signatures as rule
from evalapp.extensions import db
from evalapp.models import AuditEvent, Score, Signature
from evalapp.services import signatures
from evalapp.services import readmodel
from evalapp.services.signatures import content_digests
from tests.conftest import fill_all
from tests.factories import (  # noqa: F401 (fixture)
    INSPECTOR_NAME, LEADER_NAME, OTHER_VILLAGE, VILLAGE, app_of_world, make_round, make_sheet,
)


def zigzag(n=24, width=600, height=240):
    """A drawing on a width × height canvas: one stroke across it, up and down."""
    return [[[20 + i * (width - 40) / (n - 1), height * (0.3 if i % 2 else 0.7), i * 16] for i in range(n)]]


def post(client, final, slot, strokes=None, name="", width=600, height=240):
    data = {"slot": slot, "name": name, "strokes": json.dumps(zigzag() if strokes is None else strokes),
            "width": str(width), "height": str(height)}
    return client.post(f"/inspection/sheets/{final.id}/signatures", data=data)


def rows(final) -> list[Signature]:
    return db.session.scalars(select(Signature).where(Signature.sheet_id == final.id).order_by(Signature.id)).all()


# -- the drawing's rule (domain) ------------------------------------------------------------------------------------


def test_strokes_scale_into_the_box_with_one_factor_and_keep_their_times():
    drawing = rule.normalise([[[0, 0, 1000], [300, 120, 1016], [600, 240, 1100]] * 2], 600, 240)
    assert drawing.strokes == [[[0, 0, 0], [500, 200, 16], [1000, 400, 100]] * 2]
    # a wider canvas than 5 : 2 scales by the tighter side: the drawing keeps its shape (and stays in the box)
    assert rule.normalise([[[0, 0], [500, 100]] * 3], 1000, 200).strokes == [[[0, 0, 0], [500, 100, 0]] * 3]
    # outside the canvas: kept at its edge
    assert rule.normalise([[[-50, 0], [700, 300]] * 3], 600, 240).strokes[0][:2] == [[0, 0, 0], [1000, 400, 0]]
    # times as signature_pad gives them: Date.now() in ms
    now = 1_796_000_000_000
    assert rule.normalise([[[i * 50, 100, now + i * 16] for i in range(10)]], 600, 240).strokes[0][-1][2] == 144
    # signature_pad's own toData() groups are read too
    pad = [{"penColor": "#111", "points": [{"x": 10, "y": 10, "time": 5, "pressure": 0.5},
                                           {"x": 590, "y": 200, "time": 50, "pressure": 0.5}] * 3}]
    assert rule.normalise(pad, 600, 240).points == 6


@pytest.mark.parametrize("strokes, problem", [
    ([], "empty"),
    ([[]], "empty"),
    ([[[100, 100, 0]]], "too_small"),                                   # a tap
    ([[[100, 100, 0], [104, 101, 8], [106, 103, 16], [107, 104, 24], [108, 104, 32], [109, 105, 40]]], "too_small"),
    ([[[0, 0, 0], [600, 240, 5]]], "too_small"),                        # a long slip of two points
    ([[[i, i, i] for i in range(10)]] * 201, "too_large"),
    ([[[i % 600, 0, i] for i in range(7000)]], "too_large"),
    ("not a list", "malformed"),
    ([[["1", 2, 3]]], "malformed"),
    ([[[float("nan"), 2, 3]]], "malformed"),
    ([[[True, 2, 3]]], "malformed"),
    ([[[1, 2, 3, 4]]], "malformed"),
    ([[[1e8, 2, 3]] * 10], "malformed"),                              # a coordinate no canvas has
    ([[[1, 2, 1e15]] * 10], "malformed"),                             # a time no clock gives
    ([[{"x": 1}]], "malformed"),
])
def test_a_drawing_that_is_no_signature_is_refused(strokes, problem):
    with pytest.raises(rule.SignatureProblem) as found:
        rule.normalise(strokes, 600, 240)
    assert found.value.code == problem


@pytest.mark.parametrize("width, height", [(0, 240), (600, -1), ("600", 240), (None, 240), (600, 1e9),
                                           (float("inf"), 240)])
def test_a_canvas_size_that_is_no_size_is_refused(width, height):
    with pytest.raises(rule.SignatureProblem):
        rule.normalise(zigzag(), width, height)


def test_the_content_digest_does_not_depend_on_the_order_read():
    a = rule.content_sha256(1, "U1", [("A1", "9.00", "", []), ("A2", "8.00", "r", [])], ["J1", "J2"], [("F1", "x")])
    b = rule.content_sha256(1, "U1", [("A2", "8.00", "r", []), ("A1", "9.00", "", [])], ["J2", "J1"], [("F1", "x")])
    c = rule.content_sha256(1, "U1", [("A2", "8.00", "r", []), ("A1", "9.50", "", [])], ["J2", "J1"], [("F1", "x")])
    assert a == b != c


def test_slots_parse_strictly():
    assert rule.parse_slot("leader") == ("leader", None)
    assert rule.parse_slot("inspector:12") == ("inspector", 12)
    for bad in ("", "inspector:", "inspector:-1", "inspector:１２", "inspector:1:2", "admin", "inspector:" + "9" * 11):
        assert rule.parse_slot(bad) is None


# -- the flow --------------------------------------------------------------------------------------------------------


@pytest.fixture
def world(empty_app):
    return make_round("inspection", self_assessed=True)


@pytest.fixture
def team(login_as, app, world):
    """Both members scored 荷塘村 and submitted; the leader reconciled (the members' mean throughout)."""
    leader, inspector = login_as("leader"), login_as("inspector")
    for client, username in ((leader, "leader"), (inspector, "inspector")):
        sheet = make_sheet(world, VILLAGE, inspector=username)
        fill_all(client, sheet)
        assert client.post(f"/api/v1/sheets/{sheet.id}/submit").status_code == 200
    final = make_sheet(world, VILLAGE, "final")
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    return {"leader": leader, "inspector": inspector, "final": final, "world": world}


def test_the_slots_are_the_members_the_leader_and_the_units_representative(team):
    found = signatures.signing(team["final"])
    people = team["world"].people
    # The leader scores (the team's default) and has one slot, named as both (issue 29, point 5).
    assert [(s.key, s.name, s.title.zh) for s in found.slots] == [
        (f"inspector:{people['inspector'].id}", INSPECTOR_NAME, "评估员"),
        ("leader", LEADER_NAME, "工作组组长、评估员"), ("representative", "", "被评单位代表")]
    assert found.signed == 0 and all(s.state.value == "unsigned" for s in found.slots)


def test_the_leader_signs_on_the_reconcile_page_strokes_and_image_kept_bound_to_the_content(team):
    final = team["final"]
    response = post(team["leader"], final, "leader")
    assert response.status_code == 302 and response.headers["Location"].endswith("#signatures")
    [sig] = rows(final)
    assert sig.role == "leader" and sig.signer_name == LEADER_NAME and sig.superseded_at is None
    assert sig.content_sha256 == content_digests([final])[final.id]
    assert sig.strokes[0][0] == [33, 280, 0] and len(sig.strokes[0]) == 24  # in the box: 20 px of 600 → 33
    image = Image.open(io.BytesIO(sig.image))
    assert image.format == "PNG" and image.size == (500, 200)
    assert image.getextrema()[0] < 60  # ink on it
    html = team["leader"].get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    assert 'data-slot="leader" data-state="signed"' in html and "已签1 / 3" in html
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signature.sign"))
    assert event.new["role"] == "leader" and event.new["content_sha256"] == sig.content_sha256
    assert event.user_id == team["world"].people["leader"].id and event.unit_id == final.unit_id


def test_a_member_signs_on_the_leaders_tablet_and_the_representative_types_a_name(team):
    final, people = team["final"], team["world"].people
    assert post(team["leader"], final, f"inspector:{people['inspector'].id}").status_code == 302
    assert post(team["leader"], final, "representative", name="  村委会主任 王丽  ").status_code == 302
    found = {s.key: s for s in signatures.signing(final).slots}
    assert found[f"inspector:{people['inspector'].id}"].signed
    assert found["representative"].signed and found["representative"].name == "村委会主任 王丽"
    assert {s.recorded_by_id for s in rows(final)} == {people["leader"].id}  # whose tablet recorded it


def test_a_member_signs_on_their_own_tablet(team):
    final, people = team["final"], team["world"].people
    assert post(team["inspector"], final, f"inspector:{people['inspector'].id}").status_code == 302
    assert rows(final)[0].recorded_by_id == people["inspector"].id


@pytest.mark.parametrize("strokes, message", [
    ([], "请在框内签名后再确认"),
    ([[[100, 100, 0]]], "签名过短"),
    ("garbage", "签名数据无效"),
    ("[" * 5000, "签名数据无效"),
])
def test_an_empty_signature_is_refused_by_the_form_and_the_api_alike(team, strokes, message):
    final = team["final"]
    page = team["leader"].post(f"/inspection/sheets/{final.id}/signatures", data={
        "slot": "representative", "name": "王丽", "strokes": strokes if isinstance(strokes, str) else json.dumps(strokes),
        "width": "600", "height": "240"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert message in html and 'data-open="1"' in html and 'value="王丽"' in html  # the panel open again, name kept
    if strokes == "[" * 5000:
        assert rows(final) == []
        return  # (the API's body: tests/test_api_auth_errors.py)
    api = team["leader"].post(f"/api/v1/sheets/{final.id}/signatures", json={
        "slot": "representative", "name": "王丽", "strokes": strokes, "width": 600, "height": 240})
    assert api.status_code == 422 and api.json["code"] == "signature.invalid"
    assert message in api.json["fields"]["strokes"]
    assert rows(final) == []


def test_the_representative_needs_a_name_and_a_slot_must_be_one_of_the_sheets(team):
    final = team["final"]
    for client_post in (lambda **kw: post(team["leader"], final, **kw),
                        lambda **kw: team["leader"].post(f"/api/v1/sheets/{final.id}/signatures", json={
                            "slot": kw["slot"], "name": kw.get("name", ""), "strokes": zigzag(),
                            "width": 600, "height": 240})):
        assert client_post(slot="representative", name="   ").status_code == 422
        assert client_post(slot="representative", name="王\x00丽").status_code == 422
        assert client_post(slot="representative", name="王" * 51).status_code == 422
        assert client_post(slot="inspector:999999").status_code == 422  # nobody of this sheet
        assert client_post(slot="district").status_code == 422
    api = team["leader"].post(f"/api/v1/sheets/{final.id}/signatures",
                              json={"slot": "representative", "strokes": zigzag(), "width": 600, "height": 240})
    assert api.json["fields"]["name"] == "请填写被评单位代表的姓名"
    assert rows(final) == []


def test_a_change_after_signing_marks_the_signature_and_signing_again_keeps_the_old_row(team):
    final = team["final"]
    assert post(team["leader"], final, "leader").status_code == 302
    a1 = db.session.scalar(select(Score).join(Score.indicator).where(Score.sheet_id == final.id,
                                                                     Score.indicator.has(code="A1")))
    changed = team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/score", data={
        "code": "A1", "score": str(a1.points - Decimal("1")), "reason": "复核台账", "version": str(a1.version)})
    assert changed.status_code == 302
    found = {s.key: s for s in signatures.signing(final).slots}
    assert found["leader"].state.value == "stale"
    html = team["leader"].get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    assert 'data-slot="leader" data-state="stale"' in html and 'data-testid="signatures-stale"' in html
    api = team["leader"].get(f"/api/v1/sheets/{final.id}/signatures").json
    assert api["stale"] == 1 and [s["state"] for s in api["slots"] if s["slot"] == "leader"] == ["stale"]
    assert post(team["leader"], final, "leader").status_code == 302
    old, new = rows(final)
    assert old.superseded_at is not None and new.superseded_at is None and old.content_sha256 != new.content_sha256
    assert {s.key: s for s in signatures.signing(final).slots}["leader"].signed


def test_a_bonus_or_a_member_deduction_changes_the_content_digest(team):
    final = team["final"]
    before = content_digests([final])[final.id]
    team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/bonus-veto", data={"bonus": ["X1"]})
    assert content_digests([final])[final.id] != before


def test_signing_does_not_hold_up_submitting(team):
    final = team["final"]
    assert rows(final) == []
    assert team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/submit").status_code == 302
    db.session.refresh(final)
    assert final.status == "submitted"


def test_who_may_sign_and_see_signatures(team, login_as, world):
    final = team["final"]
    assert post(team["leader"], final, "leader").status_code == 302
    sig = rows(final)[0]
    other = login_as("inspector2")  # another team's
    assert post(other, final, "leader").status_code == 404
    assert other.post(f"/api/v1/sheets/{final.id}/signatures", json={
        "slot": "leader", "strokes": zigzag(), "width": 600, "height": 240}).status_code == 404
    assert other.get(f"/api/v1/sheets/{final.id}/signatures").status_code == 404
    assert other.get(f"/results/signatures/{sig.id}.png").status_code == 404
    assert other.get(f"/api/v1/signatures/{sig.id}/image").status_code == 404
    district = login_as("district")
    assert post(district, final, "leader").status_code == 403
    api = district.post(f"/api/v1/sheets/{final.id}/signatures", json={
        "slot": "leader", "strokes": zigzag(), "width": 600, "height": 240})
    assert api.status_code == 403 and api.json["code"] == "signature.not_allowed"
    image = district.get(f"/results/signatures/{sig.id}.png")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == sig.image
    assert login_as("village").get(f"/results/signatures/{sig.id}.png").status_code == 403
    assert login_as("village").get(f"/api/v1/signatures/{sig.id}/image").status_code == 404
    url = team["leader"].get(f"/api/v1/sheets/{final.id}/signatures").json["slots"][1]["signature"]["image"]
    assert url == f"/api/v1/signatures/{sig.id}/image" and district.get(url).data == sig.image
    for bad in ("0", str(2**31), str(2**63), "abc", "-1"):
        assert district.get(f"/results/signatures/{bad}.png").status_code == 404
        assert district.get(f"/api/v1/signatures/{bad}/image").status_code == 404
    member_sheet = make_sheet(world, VILLAGE, inspector="inspector")
    assert team["leader"].post(f"/api/v1/sheets/{member_sheet.id}/signatures", json={
        "slot": "leader", "strokes": zigzag(), "width": 600, "height": 240}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1


def test_the_districts_view_of_the_final_sheet_shows_the_signing_read_only(team, login_as):
    final = team["final"]
    post(team["leader"], final, "leader")
    html = login_as("district").get(f"/inspection/sheets/{final.id}").get_data(as_text=True)
    assert 'data-testid="signatures"' in html and 'data-slot="leader" data-state="signed"' in html
    assert "data-sign=" not in html and 'id="sign-modal"' not in html


def test_the_print_page_shows_valid_signatures_above_the_lines_and_marks_stale_ones(team, login_as):
    final, people = team["final"], team["world"].people
    post(team["leader"], final, "leader")
    post(team["leader"], final, "representative", name="王丽")
    html = login_as("district").get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    assert html.count('class="e-signature"') == 2 and "王丽" in html and "平板签名" in html
    assert html.count('class="sign-line"') == 3  # every signer keeps the line for the handwritten signature
    assert f'data-slot="inspector:{people["inspector"].id}" data-state="unsigned"' in html
    team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/bonus-veto", data={"bonus": ["X1"]})
    html = login_as("district").get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    assert 'class="e-signature"' not in html and html.count("电子签名后评分表有改动，须重新签名") == 2


def test_the_queues_show_signing(team, login_as):
    final = team["final"]
    post(team["leader"], final, "leader")
    html = team["leader"].get("/inspection/").get_data(as_text=True)
    assert f'data-final="{final.id}"' in html and "签名 1/3" in html
    team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/submit")
    html = login_as("district").get("/results/").get_data(as_text=True)
    assert f'data-sheet="{final.id}"' in html and "签名 1/3" in html
    # the district's queue shows a change since signing too
    db.session.execute(Score.__table__.update().where(Score.sheet_id == final.id).values(reason="改过"))
    db.session.commit()
    assert "签名后有改动" in login_as("district").get("/results/").get_data(as_text=True)


def test_a_signature_before_publication_still_matches_the_published_sheet(world, login_as):
    """The version's content gives the same digest as the live sheet it was frozen from."""
    from evalapp.services import publication, rounds as rounds_service
    from tests.test_publication_snapshot import _score_final

    w = world
    finals = {name: _score_final(w, name, total) for name, total in ((VILLAGE, "96"), (OTHER_VILLAGE, "97"))}
    for name in w.units:
        if name not in finals and w.units[name].level != "district":
            _score_final(w, name, "98")
    leader = login_as("leader")
    final = finals[VILLAGE]
    assert post(leader, final, "leader").status_code == 302
    live = content_digests([final])[final.id]
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    from evalapp.services import snapshots

    pub = readmodel.latest(w.round.id)
    assert signatures.published_digests(pub, [final.id]) == {final.id: live}
    html = login_as("district").get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    assert 'data-testid="version"' in html and 'data-slot="leader" data-state="signed"' in html



def test_each_session_is_offered_the_slots_it_may_record_and_the_page_says_whose_tablet(team):
    final, people = team["final"], team["world"].people
    own = f"inspector:{people['inspector'].id}"
    html = team["inspector"].get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    assert set(re.findall(r'data-sign="([^"]+)"', html)) == {own, "representative"}
    assert "其他成员和组长请在组长的平板上签名。" in html
    html = team["leader"].get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    assert set(re.findall(r'data-sign="([^"]+)"', html)) == {own, "leader", "representative"}
    response = post(team["leader"], final, own)
    assert response.headers["Location"].endswith(f"?signed=inspector:{people['inspector'].id}#signatures") or \
        response.headers["Location"].endswith(f"?signed=inspector%3A{people['inspector'].id}#signatures")
    html = team["leader"].get(response.headers["Location"]).get_data(as_text=True)
    assert f"在{LEADER_NAME}的平板上签名" in html and 'data-testid="signed-now"' in html


def test_a_sheet_not_fully_decided_offers_no_signing_and_says_why(team, world, login_as):
    township = make_sheet(world, "清溪镇", "final")
    html = team["leader"].get(f"/inspection/sheets/{township.id}/reconcile").get_data(as_text=True)
    assert 'data-testid="signatures-not-ready"' in html and 'id="sign-modal"' not in html
    assert re.search(r'data-sign="leader"[^>]*disabled', html)
    api = team["leader"].post(f"/api/v1/sheets/{township.id}/signatures", json={
        "slot": "leader", "strokes": zigzag(), "width": 600, "height": 240})
    assert api.status_code == 422 and api.json["code"] == "signature.not_ready"


def test_a_member_closed_as_unsubmitted_has_no_slot(team, world):
    from evalapp.services.moves import move_sheet

    final, people = team["final"], world.people
    member = make_sheet(world, VILLAGE, inspector="inspector")
    member.status = "draft"  # as if it had never been submitted, then closed when the member left
    db.session.commit()
    move_sheet(member, "closed", people["admin"])
    keys = [s.key for s in signatures.signing(final).slots]
    assert f"inspector:{people['inspector'].id}" not in keys and "leader" in keys


def test_the_signing_reads_in_english(team):
    final = team["final"]
    post(team["leader"], final, "leader")
    team["leader"].post("/lang", data={"lang": "en"})
    html = team["leader"].get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    for text in ("Signatures", "1 of 3 signed", "Team leader and inspector", "Signer: ", ">Sign<", "Sign again", "Signature</th>"):
        assert text in html, text


def test_the_largest_drawing_the_rule_allows_fits_the_forms_body_limit(team):
    """Signatures take the default body limit (bodylimits.py, 1 MB): the most points the rule allows, each as the
    page sends it (one decimal, the time as Date.now()), posted as the page's form, is read and kept; one point more
    is the rule's refusal (422), not the body limit's (413)."""
    now = 1_733_540_000_000
    per_stroke = rule.MAX_POINTS // rule.MAX_STROKES
    drawing = [[[9000.5 - i * 37.3 - s, 3000.5 + (i % 2) * 777.7, now + s * 1000 + i * 16] for i in range(per_stroke)]
               for s in range(rule.MAX_STROKES)]
    body = json.dumps(drawing)
    assert sum(map(len, drawing)) == rule.MAX_POINTS and len(body) > 150_000
    assert post(team["leader"], team["final"], "leader", drawing, width=9999.5, height=3999.5).status_code == 302
    drawing[0].append(drawing[0][-1])
    assert post(team["leader"], team["final"], "leader", drawing, width=9999.5, height=3999.5).status_code == 422
