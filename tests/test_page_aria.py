"""Issue 29 point 9, the page wording and what assistive technology is told: the self-assessment's submit question
says 自评表 (9.3); every stepper button names its rule (9.5); the signing dialog is a modal dialog named by its
title, the 通报's seal box has a role for its label, and no label points at anything but a form control (9.6)."""
import json
import re

import pytest

from tests.factories import VILLAGE, another_round, app_of_world, make_round, make_sheet  # noqa: F401 (fixture)
from tests.test_signatures import team  # noqa: F401  (the fixture: 荷塘村 reconciled, ready to sign)


@pytest.fixture
def world(empty_app):
    return make_round("inspection", self_assessed=True)


def _config(html: str) -> dict:
    return json.loads(html.split('<script type="application/json" id="sheet-config">')[1].split("</script>")[0])


def _labels_point_at_form_controls(html: str) -> None:
    controls = {m.group(2): m.group(1) for m in re.finditer(r'<(\w+)\b[^>]*\sid="([^"]+)"', html)}
    for target in re.findall(r'<label\b[^>]*\sfor="([^"]+)"', html):
        assert controls.get(target) in ("input", "select", "textarea", "button", "output", "meter", "progress"), (
            target, controls.get(target))


def test_the_self_assessments_submit_question_says_self_assessment(world, login_as):
    made = another_round(world, "self_assessment", "2032年度自评提交测试")
    own = make_sheet(made, VILLAGE, "self")
    question = _config(login_as("village").get(f"/selfassess/sheets/{own.id}").get_data(as_text=True))[
        "messages"]["submitQuestion"]
    assert "自评表" in question and "评分表" not in question


def test_an_inspectors_submit_question_still_says_score_sheet(world, login_as):
    sheet = make_sheet(world, VILLAGE, inspector="inspector")
    question = _config(login_as("inspector").get(f"/inspection/sheets/{sheet.id}").get_data(as_text=True))[
        "messages"]["submitQuestion"]
    assert "评分表" in question and "自评表" not in question


def test_every_stepper_button_names_its_rule(world, login_as):
    sheet = make_sheet(world, VILLAGE, inspector="inspector")
    html = login_as("inspector").get(f"/inspection/sheets/{sheet.id}").get_data(as_text=True)
    steppers = re.findall(r'<div class="stepper btn-group" role="group" aria-label="([^"]+)">\s*'
                          r'<button[^>]*data-step="-1" aria-label="([^"]+)">−</button>.*?'
                          r'<button[^>]*data-step="1" aria-label="([^"]+)">\+</button>', html, re.S)
    assert len(steppers) > 10
    rules = re.findall(r'data-rule="([^"]+)" data-per=', html)
    assert len(rules) == len(steppers)
    for code, (group, less, more) in zip(rules, steppers):
        assert group.startswith(f"次数：{code} ") and less.startswith(f"减少：{code} ") and more.startswith(f"增加：{code} ")
    assert len({less for _, less, _ in steppers}) == len(steppers)  # no two buttons announced alike
    # in English too
    client = login_as("inspector")
    client.post("/lang", data={"lang": "en", "next": "/"})
    english = client.get(f"/inspection/sheets/{sheet.id}").get_data(as_text=True)
    assert f'aria-label="One more: {rules[0]} ' in english


def test_the_signing_dialog_is_a_modal_dialog_named_by_its_title(team):
    final = team["final"]
    html = team["leader"].get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    modal = re.search(r'<div class="modal fade" id="sign-modal"[^>]*>', html).group(0)
    assert 'role="dialog"' in modal and 'aria-modal="true"' in modal and 'aria-labelledby="sign-title"' in modal
    assert 'id="sign-title"' in html
    _labels_point_at_form_controls(html)


def test_the_notices_seal_box_has_a_role_for_its_label(world, login_as):
    html = login_as("district").get(f"/results/rounds/{world.round.id}/notice").get_data(as_text=True)
    seal = re.search(r'<div class="seal-box"[^>]*>', html).group(0)
    assert 'role="img"' in seal and 'aria-label="盖章处"' in seal


def test_a_read_only_summary_has_a_heading_not_a_label_pointing_at_text(world, login_as):
    own = make_sheet(world, VILLAGE, "self")  # submitted: inspection is open
    html = login_as("village").get(f"/selfassess/sheets/{own.id}").get_data(as_text=True)
    assert 'data-testid="summary-read-only"' in html
    assert 'for="summary-text"' not in html and 'id="summary-heading"' in html
    _labels_point_at_form_controls(html)
