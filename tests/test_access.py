"""Access matrix: every route × every role (and anonymous, and the out-of-scope personas) → the expected status.

A new route fails `test_every_route_is_in_the_matrix` until it is added here with its expectations.
"""
import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Round
from tests.conftest import sheet_of

PERSONAS = ["anon", "admin", "district", "leader", "inspector", "inspector2", "township", "outsider_township",
            "village", "outsider_village", "finance"]
ALL = set(PERSONAS) - {"anon"}
SEEING = {"admin", "district", "finance"}


def ids():
    r2021 = db.session.scalar(select(Round).where(Round.name == "2021年度试点评估验收"))
    r2022 = db.session.scalar(select(Round).where(Round.name == "2022年度全面推行评估验收"))
    return {
        "r": r2021.id, "r22": r2022.id,
        "insp": sheet_of("inspector", "陆城村").id,
        "final": sheet_of(None, "陆城村", kind="final").id,
        "self22": sheet_of(None, "陆城村", kind="self", round_name=r2022.name).id,
        "self21": sheet_of(None, "陆城村", kind="self").id,
    }


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
MATRIX = [
    # (method, url template, endpoint, expectations)
    ("GET", "/", "main.home", {**expect(ALL, 302)}),
    ("GET", "/login", "auth.login", {p: 200 for p in PERSONAS} | {p: 302 for p in ALL}),
    ("GET", "/healthz", "main.healthz", {p: 200 for p in PERSONAS}),
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
    ("GET", "/results/rounds/{r}/notice", "results.notice", expect({"admin", "district"})),
    ("GET", "/results/rounds/{r}/workbook.xlsx", "results.workbook", expect({"admin", "district"})),
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
    ("GET", "/api/v1/sheets/{insp}", "api.get_sheet",
     expect(SEEING | INSPECTORS, api=True, scoped_out=ALL - SEEING - INSPECTORS)),
    ("GET", "/api/v1/sheets/{self22}", "api.get_sheet",
     expect(SEEING | {"village", "township"}, api=True, scoped_out=ALL - SEEING - {"village", "township"})),
    ("PUT", "/api/v1/sheets/{insp}/scores/A1", "api.put_score",
     {**expect({"inspector"}, api=True, scoped_out=ALL - SEEING - INSPECTORS), "leader": 403,
      **{p: 403 for p in SEEING}}),
    ("PUT", "/api/v1/sheets/{self22}/scores/A1", "api.put_score",
     {**expect({"village"}, api=True, scoped_out=ALL - SEEING - {"village", "township"}), "township": 403,
      **{p: 403 for p in SEEING}}),
    ("POST", "/api/v1/sheets/{final}/approve", "api.approve",
     {**expect(set(), api=True, scoped_out={"inspector2", "township", "outsider_township", "village",
                                            "outsider_village"})}),
    ("POST", "/inspection/sheets/{final}/reconcile/accept-all", "inspection.reconcile_accept_all",
     {**expect({"leader"}, 302, scoped_out={"inspector2"}), "inspector": 403}),
    ("POST", "/results/rounds/{r}/publish", "results.publish", expect({"district"}, 302)),
    ("POST", "/results/sheets/{final}/unlock", "results.unlock", expect({"admin"}, 409)),  # not published
    ("POST", "/finance/rounds/{r}/rules/village", "finance.save_rule", expect({"finance", "admin"}, 422)),
    ("GET", "/api/v1/sheets/{self22}/summary", "api.get_summary",
     expect(SEEING | {"village", "township"}, api=True, scoped_out=ALL - SEEING - {"village", "township"})),
    ("PUT", "/api/v1/sheets/{self22}/summary", "api.put_summary",
     {**expect({"village"}, 422, api=True, scoped_out=ALL - SEEING - {"village", "township"}), "township": 403,
      **{p: 403 for p in SEEING}}),
    ("POST", "/selfassess/sheets/{self22}/summary", "selfassess.summary",
     {**expect({"village"}, 302, scoped_out={"outsider_village", "outsider_township"}), "township": 403}),
    ("POST", "/selfassess/sheets/{self22}/comment", "selfassess.comment",
     {**expect(set(), scoped_out={"outsider_township"}), "township": 403, "district": 403}),
]


def _client(app, persona):
    from tests.conftest import AuthActions

    client = app.test_client()
    if persona != "anon":
        assert AuthActions(client).login(persona).status_code == 302
    return client


@pytest.mark.parametrize("persona", PERSONAS)
def test_matrix(app, persona):
    values = ids()
    client = _client(app, persona)
    failures = []
    for method, template, _endpoint, expected in MATRIX:
        url = template.format(**values)
        kwargs = {"json": {"deductions": [], "version": 0}} if method == "PUT" else {}
        if method == "POST" and "/api/" not in url:
            kwargs = {"data": {"reason": "矩阵测试", "comment": "矩阵测试", "summary": "矩阵测试", "mode": "fixed",
                               "amount": "-1"}}
        status = client.open(url, method=method, **kwargs).status_code
        if status != expected[persona]:
            failures.append(f"{method} {url}: {status}, expected {expected[persona]}")
    assert failures == []


def test_every_route_is_in_the_matrix(app):
    covered = {endpoint for _, _, endpoint, _ in MATRIX}
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    # covered elsewhere with their own scope tests (uploads, downloads, transitions, print/compare pages)
    elsewhere = {
        "selfassess.delete_document",  # tests/test_documents.py
        "main.set_language", "main.evidence_file", "auth.logout", "inspection.submit", "inspection.reconcile_score",
        "inspection.reconcile_bonus_veto", "inspection.reconcile_submit", "inspection.review",
        "selfassess.upload_document", "selfassess.document", "selfassess.submit", "selfassess.review",
        "results.compare", "api.issue_token", "api.csrf_token", "api.openapi", "api.round_sheets", "api.submit",
        "api.add_photo", "api.delete_evidence", "api.return_",
        # admin writes and per-object pages: admin-only by role_required, tested in tests/test_admin.py
        "admin.edit_unit", "admin.toggle_unit", "admin.import_units", "admin.update_user", "admin.toggle_user",
        "admin.reset_password", "admin.catalogue", "admin.import_catalogue", "admin.edit_catalogue",
        "admin.clone_catalogue", "admin.export_catalogue", "admin.create_round", "admin.round_settings",
        "admin.round_scope", "admin.create_team", "admin.add_member", "admin.remove_member", "admin.set_leader",
        "admin.assign", "admin.revoke_tokens",  # the last also in tests/test_credentials.py
    }
    assert routes - covered - elsewhere == set()
