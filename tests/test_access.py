"""Access matrix: every route × every role (and anonymous, and the out-of-scope personas) → the expected status.

A new route fails `test_every_route_is_in_the_matrix` until it is added here with its expectations. A persona whose
request would change state is not exercised here: its entry names the test that covers it (`Elsewhere`), and so does
each route left out of the matrix (`ELSEWHERE`); `test_every_named_test_exists` fails when one of them is renamed.
"""
import ast
import dataclasses
import os

import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import Round, Sheet
from tests.factories import (  # noqa: F401 (fixture)
    TOWNSHIP, VILLAGE, another_round, app_of_world, make_round, make_sheet,
)

PERSONAS = ["anon", "admin", "district", "leader", "inspector", "inspector2", "township", "outsider_township",
            "village", "outsider_village", "finance"]
ALL = set(PERSONAS) - {"anon"}
SEEING = {"admin", "district", "finance"}


SELF_ROUND = "2032年度全面推行测试评估验收"


@pytest.fixture
def world(empty_app):
    """Two rounds of the test's own over one district (tests/factories.py): `r` in inspection, every
    self-assessment submitted and every member sheet a draft; `r22`, a full roll-out, in self-assessment."""
    made = make_round("inspection", self_assessed=True)
    another_round(made, "self_assessment", SELF_ROUND, rollout="full")
    return made


def ids(world):
    """The ids the matrix's URLs name; a photo on the inspector's sheet and the leader's signature on the final
    sheet are made here (once per world: the photo and signature routes need a row to ask about)."""
    from evalapp.services import evidence, signatures
    from evalapp.services.sheet_views import find_indicator
    from tests.test_evidence import image_bytes
    from tests.test_signatures import zigzag

    r22 = dataclasses.replace(world, round=db.session.scalar(select(Round).where(Round.name == SELF_ROUND)))
    insp, final = make_sheet(world, VILLAGE), make_sheet(world, VILLAGE, "final")
    inspector, leader = world.people["inspector"], world.people["leader"]
    photo = evidence.add_photo(insp, find_indicator(insp, "A1"), image_bytes(), "IMG_0001.jpg", inspector)
    signature = signatures.sign(_decided_final(world, TOWNSHIP), "leader", "", zigzag(), 600, 240, leader)
    return {"proxy22": _account_less_village_sheet(r22),
        "r": world.round.id, "r22": r22.round.id,
        "insp": insp.id, "final": final.id,
        "self22": make_sheet(r22, VILLAGE, "self").id,
        "self21": make_sheet(world, VILLAGE, "self").id,
        "photo": photo.id, "signature": signature.id, "job": _workbook_job(world),
        "vunit": world.units[VILLAGE].id, "tunit": world.units[TOWNSHIP].id,
    }


def _workbook_job(world) -> int:
    """The district's workbook of the round, made by a job (services.jobs; run at once under the tests' runner)."""
    from evalapp.services import jobs

    district = world.people["district"]
    return jobs.request_job("results_workbook", jobs.workbook_params(world.round, draft=True), district).id


def _account_less_village_sheet(r22):
    """The r22 self sheet of a village of 清溪镇 without an account (added to the round's scope): its township lead
    fills it in (代填, tests/test_proxy.py)."""
    from evalapp.models import RoundUnit
    from evalapp.services import rounds, units

    admin = r22.people["admin"]
    village = units.create_unit(f"{r22.units[TOWNSHIP].code}099", "青山村", "村", r22.units[TOWNSHIP].code, admin)
    scope = set(db.session.scalars(select(RoundUnit.unit_id).where(RoundUnit.round_id == r22.round.id)))
    rounds.set_scope(r22.round, scope | {village.id}, admin)
    return db.session.scalar(select(Sheet.id).where(Sheet.round_id == r22.round.id, Sheet.unit_id == village.id,
                                                    Sheet.kind == "self"))


def _decided_final(world, unit_name):
    """The unit's final sheet with every indicator decided (the members filled and submitted theirs, the leader
    took their means): ready to be signed."""
    from evalapp.services import moves, reconcile
    from evalapp.services.seed import fill_sheet

    for username in ("leader", "inspector"):
        sheet = make_sheet(world, unit_name, inspector=username)
        fill_sheet(sheet, world.people[username], f"matrix/{username}")
        moves.submit_sheet(sheet, world.people[username])
    final = make_sheet(world, unit_name, "final")
    reconcile.accept_all_proposals(final, world.people["leader"])
    return final


class Elsewhere(str):
    """This persona may make the request; it changes state, so the named test ("tests/file.py::test_name") covers
    it instead of the matrix."""


def expect(ok: set[str], ok_status: int = 200, scoped_out: set[str] = frozenset(), api: bool = False):
    """Status per persona: ok_status for `ok`, 404 for those whose role may but whose scope may not, 403 else."""
    out = {}
    for p in PERSONAS:
        if p == "anon":
            out[p] = 401 if api else 302
        elif p in ok:
            out[p] = ok_status
        elif p in scoped_out:
            out[p] = 404
        else:
            out[p] = 403
    return out


INSPECTORS = {"leader", "inspector"}
MEMBER_SHEETS = {"admin", "district"} | INSPECTORS  # who sees a member's own sheet (finance does not, by any face)
SELF21 = SEEING | INSPECTORS | {"village", "township"}  # a submitted self sheet once inspection is open
UNIT_LEADS = {"township", "outsider_township", "village", "outsider_village"}  # every unit is in the round's scope
OBJECTION_READERS = {"admin", "district", "leader", "inspector", "inspector2"} | UNIT_LEADS
MATRIX = [
    # (method, url template, endpoint, expectations)
    ("GET", "/", "main.home", {**expect(ALL, 302)}),
    ("GET", "/login", "auth.login", {p: 200 for p in PERSONAS} | {p: 302 for p in ALL}),
    ("GET", "/healthz", "main.healthz", {p: 200 for p in PERSONAS}),
    # Offline scoring (issue 31): the service worker is code, served to anyone; the key that seals a user's offline
    # data is that user's alone (tests/test_offline.py).
    ("GET", "/sw.js", "offline.service_worker", {p: 200 for p in PERSONAS}),
    ("GET", "/offline/key", "offline.key", expect(ALL, api=True)),
    # The second step of a log-in: nothing half logged in here, so back to the password (anon) or home (the rest);
    # the steps themselves: tests/test_second_factor.py
    ("GET", "/login/code", "auth.login_code", {p: 302 for p in PERSONAS}),
    ("POST", "/login/code", "auth.login_code", {p: 302 for p in PERSONAS}),
    ("GET", "/login/enrol", "auth.enrol", {p: 302 for p in PERSONAS}),
    ("POST", "/login/enrol", "auth.enrol", {p: 302 for p in PERSONAS}),
    ("GET", "/inspection/", "inspection.worklist", expect(INSPECTORS | {"inspector2"})),
    ("GET", "/inspection/sheets/{insp}", "inspection.sheet",
     expect(INSPECTORS | {"admin", "district"}, scoped_out={"inspector2"})),
    ("GET", "/inspection/sheets/{final}/reconcile", "inspection.reconcile",
     expect(INSPECTORS | {"admin", "district"}, scoped_out={"inspector2"})),
    ("GET", "/selfassess/", "selfassess.village_home", expect({"village", "outsider_village"})),
    ("GET", "/selfassess/township", "selfassess.township_home", expect({"township", "outsider_township"})),
    ("GET", "/selfassess/sheets/{self22}", "selfassess.sheet",
     expect(SEEING | {"village", "township"}, scoped_out={"outsider_village", "outsider_township", "leader",
                                                          "inspector", "inspector2"})),
    ("GET", "/results/", "results.index", expect({"admin", "district"})),
    ("GET", "/results/rounds/{r}", "results.round_results", expect(SEEING)),
    ("GET", "/results/rounds/{r}/dashboard", "results.dashboard", expect(SEEING)),
    ("GET", "/results/rounds/{r}/changes", "results.changes", expect(SEEING)),
    ("GET", "/results/rounds/{r}/notice", "results.notice", expect({"admin", "district"})),
    ("GET", "/results/rounds/{r}/workbook.xlsx", "results.workbook", expect({"admin", "district"})),
    # The 评估总结 to 市民政局 (issue 33, point 4; tests/test_summary_report.py): the district and the admin only. The
    # round in inspection has no version: the generation is refused (no 签发人 posted), and so is an upload without
    # a file; the narratives save (the matrix posts none) and the default is restored.
    ("GET", "/results/rounds/{r}/summary", "results.summary_page", expect({"admin", "district"})),
    ("POST", "/results/rounds/{r}/summary", "results.summary_page", expect({"admin", "district"}, 302)),
    ("POST", "/results/rounds/{r}/summary.docx", "results.summary_docx", expect({"admin", "district"}, 422)),
    ("GET", "/results/summary/download/template.docx", "results.summary_template", expect({"admin", "district"})),
    ("POST", "/results/rounds/{r}/summary/template", "results.summary_template_upload",
     expect({"admin", "district"}, 422)),
    ("POST", "/results/rounds/{r}/summary/template/default", "results.summary_template_restore",
     expect({"admin", "district"}, 302)),
    ("GET", "/results/sheets/{final}/print", "results.print_sheet",
     expect(SEEING | INSPECTORS, scoped_out={"inspector2"})),
    ("GET", "/finance/", "finance.index", expect({"finance", "admin"})),
    ("GET", "/finance/rounds/{r}", "finance.round_view", expect({"finance", "admin"})),
    ("GET", "/finance/rounds/{r}/eligibility.xlsx", "finance.download", expect({"finance", "admin", "district"})),
    ("GET", "/admin/", "admin.index", expect({"admin"})),
    ("GET", "/admin/units", "admin.units", expect({"admin"})),
    ("GET", "/admin/units/export.xlsx", "admin.export_units", expect({"admin"})),
    ("GET", "/admin/units/template.xlsx", "admin.units_template", expect({"admin"})),
    ("GET", "/admin/users", "admin.users", expect({"admin"})),
    ("GET", "/admin/users/template.xlsx", "admin.users_template", expect({"admin"})),
    # The set-up page is for people not logged in (a wrong code: 401); the rest are sent home, as by /login.
    ("GET", "/setup", "auth.setup", {p: 200 for p in PERSONAS} | {p: 302 for p in ALL}),
    ("POST", "/setup", "auth.setup", {p: 401 for p in PERSONAS} | {p: 302 for p in ALL}),
    ("GET", "/admin/catalogues", "admin.catalogues", expect({"admin"})),
    ("GET", "/admin/catalogues/template.xlsx", "admin.catalogue_template", expect({"admin"})),
    ("GET", "/admin/rounds", "admin.rounds", expect({"admin"})),
    ("GET", "/admin/rounds/{r}", "admin.round_detail", expect({"admin"})),
    ("GET", "/admin/audit", "admin.audit_log", expect({"admin"})),
    ("GET", "/admin/audit/export.xlsx", "admin.audit_export", expect({"admin"})),
    ("GET", "/account/password", "auth.change_password", expect(ALL)),
    ("GET", "/account", "auth.account", expect(ALL)),
    ("POST", "/account/tokens/1/revoke", "auth.revoke_token", expect(set(), scoped_out=ALL)),  # no one's: 404
    ("POST", "/admin/units", "admin.create_unit", expect({"admin"}, 422)),
    ("POST", "/admin/users", "admin.create_user", expect({"admin"}, 422)),
    ("POST", "/admin/rounds/{r}/advance", "admin.round_advance", expect({"admin"}, 409)),  # drafts: asks first
    ("GET", "/api/v1/rounds", "api.rounds", expect(ALL, api=True)),
    ("GET", "/api/v1/rounds/{r}/results", "api.results", expect(SEEING, api=True)),
    ("GET", "/api/v1/sheets/{insp}", "api.get_sheet", expect(MEMBER_SHEETS, api=True, scoped_out=ALL - MEMBER_SHEETS)),
    ("GET", "/api/v1/sheets/{final}", "api.get_sheet",
     expect(SEEING | INSPECTORS, api=True, scoped_out=ALL - SEEING - INSPECTORS)),
    ("GET", "/api/v1/sheets/{self21}", "api.get_sheet", expect(SELF21, api=True, scoped_out=ALL - SELF21)),
    ("GET", "/api/v1/sheets/{self22}", "api.get_sheet",
     expect(SEEING | {"village", "township"}, api=True, scoped_out=ALL - SEEING - {"village", "township"})),
    ("PUT", "/api/v1/sheets/{insp}/scores/A1", "api.put_score",
     {**expect({"inspector"}, api=True, scoped_out=ALL - MEMBER_SHEETS), "leader": 403, "admin": 403,
      "district": 403}),
    ("PUT", "/api/v1/sheets/{final}/scores/A1", "api.put_score",  # deductions on a final sheet: 422
     {**expect({"leader"}, 422, api=True, scoped_out=ALL - SEEING - INSPECTORS), "inspector": 403}),
    ("PUT", "/api/v1/sheets/{self22}/scores/A1", "api.put_score",
     {**expect({"village"}, api=True, scoped_out=ALL - SEEING - {"village", "township"}), "township": 403,
      **{p: 403 for p in SEEING}}),
    ("POST", "/api/v1/sheets/{final}/approve", "api.approve",
     {**expect(set(), api=True, scoped_out={"inspector2", "township", "outsider_township", "village",
                                            "outsider_village"})}),
    # the district's bulk approval (tests/test_bulk_review.py): the confirmation reads only; the POST without sheets
    # and the API without a body are refused before anything is written
    ("GET", "/results/review/approve?sheet={final}", "results.bulk_confirm", expect({"district"})),
    ("POST", "/results/review/approve", "results.bulk_approve", expect({"district"}, 302)),
    ("POST", "/api/v1/sheets/approve", "api.approve_many", expect({"district"}, 422, api=True)),
    ("POST", "/inspection/sheets/{final}/reconcile/accept-all", "inspection.reconcile_accept_all",
     {**expect({"leader"}, 302, scoped_out={"inspector2"}), "inspector": 403}),
    # incomplete units and no confirmation: the round's page again, saying which (422)
    ("POST", "/results/rounds/{r}/publish", "results.publish", expect({"district"}, 303)),  # refused: back to the page
    ("POST", "/results/sheets/{final}/unlock", "results.unlock", expect({"admin"}, 303)),  # not published: refused
    ("POST", "/finance/rounds/{r}/rules/village", "finance.save_rule", expect({"finance", "admin"}, 422)),
    ("GET", "/api/v1/sheets/{self22}/summary", "api.get_summary",
     expect(SEEING | {"village", "township"}, api=True, scoped_out=ALL - SEEING - {"village", "township"})),
    ("PUT", "/api/v1/sheets/{self22}/summary", "api.put_summary",
     {**expect({"village"}, 422, api=True, scoped_out=ALL - SEEING - {"village", "township"}), "township": 403,
      **{p: 403 for p in SEEING}}),
    ("POST", "/api/v1/sheets/{self22}/documents", "api.add_document",  # no file in the body: 422
     {**expect({"village"}, 422, api=True, scoped_out=ALL - SEEING - {"village", "township"}), "township": 403,
      **{p: 403 for p in SEEING}}),
    ("POST", "/selfassess/sheets/{self22}/summary", "selfassess.summary",
     {**expect({"village"}, 302, scoped_out={"outsider_village", "outsider_township"}), "township": 403}),
    ("POST", "/selfassess/sheets/{self22}/comment", "selfassess.comment",
     {**expect(set(), scoped_out={"outsider_township"}), "township": 403, "district": 403}),
    # 代填: 清溪镇's lead fills in and submits the sheet of its village without an account (青山村); no one else does
    ("GET", "/selfassess/sheets/{proxy22}", "selfassess.sheet",
     expect(SEEING | {"township"}, scoped_out=ALL - SEEING - {"township"})),
    ("PUT", "/api/v1/sheets/{proxy22}/scores/A1", "api.put_score",
     {**expect({"township"}, api=True, scoped_out=ALL - SEEING - {"township"}), **{p: 403 for p in SEEING}}),
    ("PUT", "/api/v1/sheets/{proxy22}/summary", "api.put_summary",  # no summary in the body: 422
     {**expect({"township"}, 422, api=True, scoped_out=ALL - SEEING - {"township"}), **{p: 403 for p in SEEING}}),
    ("POST", "/selfassess/sheets/{proxy22}/summary", "selfassess.summary",
     expect({"township"}, 302, scoped_out={"village", "outsider_village", "outsider_township"})),
    ("POST", "/api/v1/sheets/{proxy22}/submit", "api.submit",  # one indicator scored: 422
     {**expect({"township"}, 422, api=True, scoped_out=ALL - SEEING - {"township"}), **{p: 403 for p in SEEING}}),
    ("POST", "/api/v1/sheets/{proxy22}/approve", "api.approve",  # a draft: no one reviews it yet
     expect(set(), api=True, scoped_out=ALL - SEEING - {"township"})),
    ("GET", "/api/v1/openapi.json", "api.openapi", {p: 200 for p in PERSONAS}),
    # an offline tablet's sync batch and device report (issue 31): no body, 422 for anyone signed in (tests/test_sync.py)
    ("POST", "/api/v1/sync", "api.sync", expect(ALL, 422, api=True)),
    ("POST", "/api/v1/devices/report", "api.device_report", expect(ALL, 422, api=True)),
    ("GET", "/api/v1/rounds/{r}/catalogue?kind=village", "api.catalogue", expect(ALL, api=True)),
    ("POST", "/api/v1/auth/refresh", "api.refresh_token", {p: 422 for p in PERSONAS}),  # no refresh token: 422
    ("GET", "/api/v1/csrf", "api.csrf_token", expect(ALL, api=True)),
    ("POST", "/api/v1/auth/token", "api.issue_token", {p: 422 for p in PERSONAS}),  # no credentials in the body
    # visible sheets only: tests/test_api_scoring.py::test_round_sheets_lists_only_what_the_caller_may_see
    ("GET", "/api/v1/rounds/{r}/sheets", "api.round_sheets", expect(ALL, api=True)),
    ("POST", "/api/v1/sheets/{insp}/submit", "api.submit",  # the inspector's sheet is not complete: 422
     {**expect({"inspector"}, 422, api=True, scoped_out=ALL - MEMBER_SHEETS), "leader": 403}),
    ("POST", "/api/v1/sheets/{final}/submit", "api.submit",  # a member still drafting: 409
     {**expect({"leader"}, 409, api=True, scoped_out=ALL - SEEING - INSPECTORS), "inspector": 403}),
    ("POST", "/api/v1/sheets/{self22}/submit", "api.submit",  # nothing scored yet: 422
     {**expect({"village"}, 422, api=True, scoped_out=ALL - SEEING - {"village", "township"}), "township": 403}),
    ("POST", "/api/v1/sheets/{self21}/approve", "api.approve",  # frozen once inspection opened: no one reviews
     expect(set(), api=True, scoped_out=ALL - SELF21)),
    ("POST", "/api/v1/sheets/{self21}/return", "api.return_", expect(set(), api=True, scoped_out=ALL - SELF21)),
    ("POST", "/api/v1/sheets/{final}/return", "api.return_",  # not submitted: no one may return it yet
     expect(set(), api=True, scoped_out={"inspector2", "township", "outsider_township", "village",
                                         "outsider_village"})),
    ("POST", "/api/v1/sheets/{insp}/scores/A1/photos", "api.add_photo",  # no photo in the body: 422
     {**expect({"inspector"}, 422, api=True, scoped_out=ALL - MEMBER_SHEETS), "leader": 403}),
    ("POST", "/api/v1/sheets/{self22}/scores/A1/photos", "api.add_photo",
     {**expect({"village"}, 422, api=True, scoped_out=ALL - SEEING - {"village", "township"}), "township": 403}),
    ("GET", "/api/v1/evidence/{photo}/full", "api.evidence_file",
     expect(MEMBER_SHEETS, api=True, scoped_out=ALL - MEMBER_SHEETS)),
    ("GET", "/api/v1/evidence/{photo}/thumb", "api.evidence_file",
     expect(MEMBER_SHEETS, api=True, scoped_out=ALL - MEMBER_SHEETS)),
    ("GET", "/evidence/{photo}/full", "main.evidence_file", expect(MEMBER_SHEETS, scoped_out=ALL - MEMBER_SHEETS)),
    # The original upload (EXIF GPS: personal information): district and admin only, audited (tests/test_provenance.py)
    ("GET", "/evidence/{photo}/original", "main.evidence_original", expect({"admin", "district"})),
    ("DELETE", "/api/v1/evidence/{photo}", "api.delete_evidence",  # seen but not the sheet's own inspector: 403
     {**expect(set(), api=True, scoped_out=ALL - MEMBER_SHEETS),
      "inspector": Elsewhere("tests/test_evidence.py::test_only_the_sheets_inspector_removes_its_photos")}),
    ("GET", "/api/v1/signatures/{signature}/image", "api.signature_image",
     expect(SEEING | INSPECTORS, api=True, scoped_out=ALL - SEEING - INSPECTORS)),
    ("GET", "/results/signatures/{signature}.png", "results.signature_image",
     expect(SEEING | INSPECTORS, scoped_out={"inspector2"})),
    ("GET", "/api/v1/sheets/{self21}/signatures", "api.get_signatures",  # only final sheets are signed
     expect(set(), api=True, scoped_out=ALL)),
    ("GET", "/api/v1/rounds/{r22}/results", "api.results", expect(SEEING, api=True)),
    ("GET", "/api/v1/rounds/{r22}/sheets", "api.round_sheets", expect(ALL, api=True)),
    ("GET", "/api/v1/rounds/{r}/sheets?mine=1", "api.round_sheets", expect(ALL, api=True)),
    ("GET", "/api/v1/sheets/{self21}/summary", "api.get_summary", expect(SELF21, api=True, scoped_out=ALL - SELF21)),
    ("PUT", "/api/v1/sheets/{self21}/summary", "api.put_summary",  # submitted, and frozen since inspection
     expect(set(), api=True, scoped_out=ALL - SELF21)),
    # The pages answer a request the sheet's state or owner refuses with a redirect and a message (302): the leader
    # on a member's sheet, the township lead on a village's.
    ("POST", "/inspection/sheets/{insp}/submit", "inspection.submit",
     {**expect({"leader"}, 302, scoped_out={"inspector2"}),
      "inspector": Elsewhere("tests/test_queues.py::test_a_final_sheet_whose_members_all_submitted_is_in_the_leaders_todo")}),
    ("POST", "/inspection/sheets/{final}/reconcile/score", "inspection.reconcile_score",
     {**expect(set(), scoped_out={"inspector2"}),
      "leader": Elsewhere("tests/test_reconcile.py::test_override_needs_a_reason_and_keeps_what_was_typed")}),
    ("POST", "/inspection/sheets/{final}/reconcile/bonus-veto", "inspection.reconcile_bonus_veto",
     {**expect(set(), scoped_out={"inspector2"}),
      "leader": Elsewhere("tests/test_reconcile.py::test_bonus_is_capped_and_veto_needs_a_description")}),
    ("POST", "/inspection/sheets/{final}/reconcile/submit", "inspection.reconcile_submit",
     {**expect(set(), scoped_out={"inspector2"}),
      "leader": Elsewhere("tests/test_reconcile.py::test_submit_final_then_district_returns_then_approves")}),
    ("POST", "/inspection/sheets/{final}/signatures", "inspection.sign",  # no strokes in the form: 422
     expect(INSPECTORS, 422, scoped_out={"inspector2"})),
    ("GET", "/api/v1/sheets/{final}/signatures", "api.get_signatures",
     expect(SEEING | INSPECTORS, api=True, scoped_out=ALL - SEEING - INSPECTORS)),
    ("POST", "/api/v1/sheets/{final}/signatures", "api.post_signature",  # no body: 422 (403 with one: SEEING)
     expect(SEEING | INSPECTORS, 422, api=True, scoped_out=ALL - SEEING - INSPECTORS)),
    ("POST", "/inspection/sheets/{final}/review", "inspection.review",
     {**expect(set()), "district": Elsewhere("tests/test_reconcile.py::test_only_the_district_reviews_final_sheets")}),
    ("POST", "/selfassess/sheets/{self22}/submit", "selfassess.submit",
     {**expect({"township"}, 302, scoped_out={"outsider_village", "outsider_township"}),
      "village": Elsewhere("tests/test_selfassess.py::test_the_whole_loop_fill_submit_return_fix_resubmit_approve")}),
    ("POST", "/selfassess/sheets/{self21}/review", "selfassess.review",
     {**expect(set(), scoped_out={"outsider_township"}),
      "township": Elsewhere("tests/test_selfassess.py::test_the_whole_loop_fill_submit_return_fix_resubmit_approve"),
      "district": Elsewhere("tests/test_selfassess.py::test_township_submits_its_own_sheet_to_the_district")}),
    ("POST", "/selfassess/sheets/{self22}/documents", "selfassess.upload_document",  # no file in the form: 422
     expect({"village"}, 422, scoped_out={"outsider_village", "outsider_township"})),
    # the unit's own people compare once the round is published (tests/test_reconcile.py); a 404 for all others
    ("GET", "/results/sheets/{self21}/compare", "results.compare",
     expect(SEEING | INSPECTORS, scoped_out=ALL - SEEING - INSPECTORS)),
    # A unit's own results (issue 32; tests/test_unit_results.py): its lead (a township's also its villages'), the
    # district, admin and finance; another unit's is a 404; r is not published yet, so the page says so (200)
    ("GET", "/results/units", "results.my_units",
     expect({"township", "village", "outsider_township", "outsider_village"})),
    ("GET", "/results/rounds/{r}/units/{vunit}", "results.unit_results_page",
     expect(SEEING | {"township", "village"}, scoped_out={"outsider_township", "outsider_village"})),
    ("GET", "/results/rounds/{r}/units/{tunit}", "results.unit_results_page",
     expect(SEEING | {"township"}, scoped_out={"village", "outsider_township", "outsider_village"})),
    ("GET", "/results/rounds/{r}/units/{vunit}/print", "results.unit_problems_print",
     expect(SEEING | {"township", "village"}, scoped_out={"outsider_township", "outsider_village"})),
    ("GET", "/api/v1/rounds/{r}/units/{vunit}/results", "api.unit_results_json",
     expect(SEEING | {"township", "village"}, api=True, scoped_out={"outsider_township", "outsider_village"})),
    ("GET", "/api/v1/rounds/{r}/units/{tunit}/results", "api.unit_results_json",
     expect(SEEING | {"township"}, api=True, scoped_out={"village", "outsider_township", "outsider_village"})),
    # A unit's history across rounds (issue 33; tests/test_history.py): the district and admin any unit's, its lead
    # (a township's also its villages'); a 404 for everyone else, finance and the teams included
    ("GET", "/results/units/{vunit}/history", "results.unit_history",
     expect({"admin", "district", "township", "village"}, scoped_out=ALL - {"admin", "district", "township", "village"})),
    ("GET", "/results/units/{tunit}/history", "results.unit_history",
     expect({"admin", "district", "township"}, scoped_out=ALL - {"admin", "district", "township"})),
    ("GET", "/results/history", "results.district_history", expect({"admin", "district"})),
    ("GET", "/results/units/{vunit}/history.xlsx", "results.unit_history_xlsx",
     expect({"admin", "district", "township", "village"}, scoped_out=ALL - {"admin", "district", "township", "village"})),
    ("GET", "/results/history.xlsx", "results.district_history_xlsx", expect({"admin", "district"})),
    ("GET", "/results/history?below=0", "results.district_history", expect({"admin", "district"}, 422)),
    # 公示, 异议, 复核 (issue 32; tests/test_objections.py, tests/test_notice_pages.py): the round in inspection has
    # no notice yet; objection 1 does not exist, so those who may ask are told 404
    ("GET", "/notice/calendar", "notice.calendar", expect({"admin"})),
    ("POST", "/notice/calendar", "notice.calendar", expect({"admin"}, 422)),  # no day in the form
    ("GET", "/notice/", "notice.index", expect(ALL)),  # the rounds each may see, and their own reminders
    ("GET", "/notice/rounds/{r}", "notice.round_notice", expect(SEEING | UNIT_LEADS)),
    ("GET", "/notice/rounds/{r}/print", "notice.print_notice", expect(set(), scoped_out=SEEING | UNIT_LEADS)),
    ("GET", "/notice/rounds/{r}/dashboard", "notice.dashboard", expect(SEEING)),
    ("POST", "/notice/rounds/{r}/open", "notice.open_notice", expect({"district"}, 422)),  # no start date
    ("POST", "/notice/rounds/{r}/objections", "notice.file_objection",
     expect({"district"} | UNIT_LEADS, 422)),  # no notice: no unit to object for
    ("POST", "/notice/rounds/{r}/settle", "notice.settle", expect({"district"}, 303)),  # no notice: refused
    ("GET", "/notice/objections/1", "notice.objection", expect(set(), scoped_out=OBJECTION_READERS)),
    ("GET", "/notice/objections/1/files/1", "notice.objection_file", expect(set(), scoped_out=OBJECTION_READERS)),
    ("GET", "/notice/objections/1/answer", "notice.answer", expect(set(), scoped_out=OBJECTION_READERS)),
    ("POST", "/notice/objections/1/assign", "notice.assign", expect(set(), scoped_out={"district"})),
    ("POST", "/notice/objections/1/decide", "notice.decide", expect(set(), scoped_out=INSPECTORS | {"inspector2"})),
    ("GET", "/api/v1/rounds/{r}/objections", "api.round_objections",
     expect(SEEING | UNIT_LEADS, api=True, scoped_out=INSPECTORS | {"inspector2"})),
    ("POST", "/api/v1/rounds/{r}/objections", "api.file_objection",
     expect({"district"} | UNIT_LEADS, 422, api=True)),  # no unit_id
    ("GET", "/api/v1/objections/1", "api.get_objection", expect(set(), api=True, scoped_out=ALL)),
    ("POST", "/api/v1/objections/1/assign", "api.assign_objection", expect(set(), api=True, scoped_out=ALL)),
    ("POST", "/api/v1/objections/1/decide", "api.decide_objection", expect(set(), api=True, scoped_out=ALL)),
    # 帮助: every role reads every role's manual (tests/test_manual.py); /help/ sends each to their own role's page
    ("GET", "/help/", "manual.index", expect(ALL, 302)),
    ("GET", "/help/village", "manual.page", expect(ALL)),
    ("GET", "/help/admin", "manual.page", expect(ALL)),
    ("GET", "/help/all", "manual.all_roles", expect(ALL)),
    # 整改与约谈 (issue 32): the lists; the district's page of a round (issuing is refused before publication: the
    # unit named in the form is in no published version, 404) and the 约谈 form (nothing filled in: 422)
    ("GET", "/rectify/", "rectify.index", expect(ALL)),
    ("GET", "/rectify/rounds/{r}", "rectify.round_view", expect(SEEING)),
    ("POST", "/rectify/rounds/{r}/issue", "rectify.issue", expect({"admin", "district"}, 404)),
    ("GET", "/rectify/interviews/new", "rectify.new_interview", expect({"admin", "district"})),
    ("POST", "/rectify/interviews", "rectify.create_interview", expect({"admin", "district"}, 422)),
    # Long exports as jobs (issue 34, point 2): asking (a POST: the job's page), the page, its status, its file and
    # a retry; the job is the district's workbook: finance may open some job's page, not this one's (404)
    ("POST", "/jobs/rounds/{r}/workbook", "jobs.request_workbook", expect({"admin", "district"}, 303)),
    ("POST", "/jobs/rounds/{r}/evidence", "jobs.request_evidence", expect(SEEING, 303)),
    ("POST", "/jobs/audit", "jobs.request_audit", expect({"admin"}, 303)),
    ("GET", "/jobs/{job}", "jobs.show", expect({"admin", "district"}, scoped_out={"finance"})),
    ("GET", "/jobs/{job}/status", "jobs.status", expect({"admin", "district"}, scoped_out={"finance"})),
    ("GET", "/jobs/{job}/file", "jobs.file", expect({"admin", "district"}, scoped_out={"finance"})),
    ("POST", "/jobs/{job}/retry", "jobs.retry", expect({"admin", "district"}, 303, scoped_out={"finance"})),
    ("POST", "/lang", "main.set_language", {p: 302 for p in PERSONAS}),  # last: the pages after it are in English
]

ADMIN_WRITES = [  # (method, url template, endpoint): role_required("admin") before anything is read or written
    ("POST", "/admin/units/{unit}/edit", "admin.edit_unit"),
    ("POST", "/admin/units/{unit}/active", "admin.toggle_unit"),
    ("POST", "/admin/units/{unit}/lineage", "admin.unit_lineage"),  # (tests/test_history.py)
    ("POST", "/admin/units/import", "admin.import_units"),
    ("POST", "/admin/users/{user}", "admin.update_user"),
    ("POST", "/admin/users/{user}/active", "admin.toggle_user"),
    ("POST", "/admin/users/{user}/password", "admin.reset_password"),
    ("POST", "/admin/users/{user}/tokens/revoke", "admin.revoke_tokens"),
    ("POST", "/admin/users/{user}/second-factor/reset", "admin.reset_second_factor"),
    ("POST", "/admin/users/import", "admin.import_users"),
    ("POST", "/admin/users/{user}/setup-code", "admin.issue_setup_code"),
    ("GET", "/admin/catalogues/{catalogue}", "admin.catalogue"),
    ("POST", "/admin/catalogues/import", "admin.import_catalogue"),
    ("POST", "/admin/catalogues/{catalogue}/edit", "admin.edit_catalogue"),
    ("POST", "/admin/catalogues/{catalogue}/clone", "admin.clone_catalogue"),
    ("GET", "/admin/catalogues/{catalogue}/export.xlsx", "admin.export_catalogue"),
    ("GET", "/admin/catalogues/{catalogue}/lineage", "admin.catalogue_lineage"),  # (tests/test_history.py)
    ("POST", "/admin/catalogues/{catalogue}/lineage", "admin.save_catalogue_lineage"),
    ("POST", "/admin/rounds", "admin.create_round"),
    ("POST", "/admin/rounds/{r}/settings", "admin.round_settings"),
    ("POST", "/admin/rounds/{r}/scope", "admin.round_scope"),
    ("POST", "/admin/rounds/{r}/teams", "admin.create_team"),
    ("POST", "/admin/rounds/{r}/teams/{team}/members", "admin.add_member"),
    ("POST", "/admin/rounds/{r}/teams/{team}/members/{user}/remove", "admin.remove_member"),
    ("POST", "/admin/rounds/{r}/teams/{team}/leader", "admin.set_leader"),
    ("POST", "/admin/rounds/{r}/teams/{team}/leader-scores", "admin.set_leader_scores"),
    ("POST", "/admin/rounds/{r}/setup-unlock", "admin.setup_unlock_open"),
    ("POST", "/admin/rounds/{r}/assign", "admin.assign"),
    ("POST", "/notice/calendar/1/remove", "notice.calendar_remove"),
]


def _client(app, persona):
    from tests.conftest import AuthActions

    client = app.test_client()
    if persona != "anon":
        assert AuthActions(client).login(persona).status_code == 302
    return client


@pytest.mark.parametrize("persona", PERSONAS)
def test_matrix(app, world, persona):
    values = ids(world)
    client = _client(app, persona)
    failures = []
    for method, template, _endpoint, expected in MATRIX:
        if isinstance(expected[persona], Elsewhere):
            continue
        url = template.format(**values)
        kwargs = {"json": {"deductions": [], "version": 0}} if method == "PUT" else {}
        if method == "POST" and "/api/" not in url:
            kwargs = {"data": {"reason": "矩阵测试", "comment": "矩阵测试", "summary": "矩阵测试", "mode": "fixed",
                               "amount": "-1"}}
        status = client.open(url, method=method, **kwargs).status_code
        if status != expected[persona]:
            failures.append(f"{method} {url}: {status}, expected {expected[persona]}")
    assert failures == []


PAGES_OF_KIND = {"self": ["/selfassess/sheets/{id}"], "inspector": ["/inspection/sheets/{id}"],
                 "final": ["/inspection/sheets/{id}", "/results/sheets/{id}/print"]}


@pytest.mark.parametrize("persona", sorted(ALL))
def test_pages_and_api_show_each_persona_the_same_sheets(app, world, persona):
    """One rule for both faces (access.can_view_sheet): a sheet is listed by the API, read by the API and shown by a
    page (200, or the leader's redirect to the reconcile page) for the same personas — every sheet of both rounds,
    drafts included. (Finance read the members' own sheets through the API while the pages refused them.)"""
    from evalapp.models import Sheet

    rounds = db.session.scalars(select(Round.id).order_by(Round.id)).all()
    sheets = db.session.execute(select(Sheet.id, Sheet.kind).where(Sheet.round_id.in_(rounds))).all()
    client = _client(app, persona)
    listed = {s["id"] for r in rounds for s in client.get(f"/api/v1/rounds/{r}/sheets").get_json()["sheets"]}
    disagree = []
    for sheet_id, kind in sheets:
        api = client.get(f"/api/v1/sheets/{sheet_id}").status_code
        pages = [client.get(url.format(id=sheet_id)).status_code for url in PAGES_OF_KIND[kind]]
        faces = (sheet_id in listed, api == 200, any(status in (200, 302) for status in pages))
        if len(set(faces)) != 1:
            disagree.append(f"{kind} sheet {sheet_id}: listed {faces[0]}, API {api}, pages {pages}")
    assert disagree == []
    if persona == "finance":  # the case that was open
        assert not {kind for sheet_id, kind in sheets if sheet_id in listed} & {"inspector"}


@pytest.mark.parametrize("persona", sorted(set(PERSONAS) - {"admin"}))
def test_admin_writes_refuse_everyone_else_and_change_nothing(app, world, persona):
    """Every admin-only route sends the anonymous to log in and refuses every other role, whatever it posts; the
    admin's own use of each is tested in tests/test_admin.py and tests/test_credentials.py."""
    from evalapp.models import AuditEvent, OrgUnit, Team, User

    r2021 = world.round
    values = {"r": r2021.id, "catalogue": r2021.township_catalogue_id,
              "unit": db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == VILLAGE)),
              "user": db.session.scalar(select(User.id).where(User.username == "village")),
              "team": db.session.scalar(select(Team.id).where(Team.round_id == r2021.id).order_by(Team.id))}
    client = _client(app, persona)
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    data = {"name": "矩阵测试", "username": "matrix", "role": "admin", "password": "Matrix-test-pass-77",
            "reason": "矩阵测试", "action": "deactivate"}
    expected = 302 if persona == "anon" else 403
    failures = []
    for method, template, _endpoint in ADMIN_WRITES:
        url = template.format(**values)
        status = client.open(url, method=method, data=data if method == "POST" else None).status_code
        if status != expected:
            failures.append(f"{method} {url}: {status}, expected {expected}")
    assert failures == []
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events  # every change is audited: none was made


# Routes the matrix cannot reach without rows of their own (documents, photos) or that end its session (log-out),
# each with the test that covers who may use it.
ELSEWHERE = {
    "auth.logout": "tests/test_auth.py::test_logout_ends_the_session_on_the_server_so_an_old_cookie_is_refused",
    "selfassess.document": "tests/test_selfassess.py::test_documents_are_checked_by_content",
    "api.get_document":
        "tests/test_upload_types.py::test_documents_are_downloaded_through_the_api_by_those_who_may_see_the_sheet",
    "selfassess.delete_document": "tests/test_documents.py::test_only_the_unit_may_delete_its_documents",
    # a rectification, its 复查 and a 约谈 need a published round (tests/test_rectification.py: each persona)
    **{endpoint: "tests/test_rectification.py::test_every_rectify_route_answers_each_persona_by_role_and_scope"
       for endpoint in ("rectify.detail", "rectify.notice", "rectify.file", "rectify.recheck", "rectify.ask_extension",
                        "rectify.report", "rectify.decide_extension", "rectify.assign_recheck",
                        "rectify.second_chance", "rectify.interview", "rectify.interview_notice",
                        "rectify.interview_report", "rectify.interview_check", "rectify.interview_publish")},
    **{endpoint: "tests/test_access.py::test_admin_writes_refuse_everyone_else_and_change_nothing"
       for _, _, endpoint in ADMIN_WRITES},
}


def test_every_route_is_in_the_matrix(app):
    covered = {endpoint for _, _, endpoint, _ in MATRIX}
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert routes - covered - set(ELSEWHERE) == set()
    assert set(ELSEWHERE) & covered == set()  # one place for each route


def _test_names(path: str) -> set[str]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, path), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_named_test_exists():
    named = set(ELSEWHERE.values()) | {v for *_, expected in MATRIX for v in expected.values()
                                       if isinstance(v, Elsewhere)}
    missing = [name for name in sorted(named) if name.split("::")[1] not in _test_names(name.split("::")[0])]
    assert missing == []
