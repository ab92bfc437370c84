"""A sheet's figures carry a version that goes up with every recomputation, in commit order, and every autosave
answer names it: the page keeps the newest figures when answers cross (tests/browser/test_answer_order_browser.py)."""
from tests.factories import VILLAGE, app_of_world, make_sheet, world  # noqa: F401 (fixtures: a round of its own)


def test_each_save_answers_with_a_higher_figures_version(world, login_as):
    inspector = login_as("inspector")
    sheet = make_sheet(world, VILLAGE)
    seen = []
    for code in ("A1", "A2", "A1"):
        version = 0 if len(seen) < 2 else 1
        answer = inspector.put(f"/api/v1/sheets/{sheet.id}/scores/{code}",
                               json={"deductions": [], "version": version} if code != "A1" or not seen
                               else {"score": "1", "reason": "核查", "version": version})
        assert answer.status_code == 200, answer.get_json()
        seen.append(answer.get_json()["figures_version"])
    assert seen == sorted(seen) and len(set(seen)) == 3
    unchanged = inspector.put(f"/api/v1/sheets/{sheet.id}/scores/A2", json={"deductions": [], "version": 1})
    assert unchanged.status_code == 200 and unchanged.get_json()["figures_version"] == seen[-1]  # nothing recomputed
