"""Administration: units, users, catalogues, rounds, teams and the audit log — imports all or nothing."""
import io
import zipfile

import pytest
import yaml
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, CatalogueVersion, OrgUnit, Round, RoundUnit, Sheet, Team, TeamMember, User
from evalapp.services.catalogue_io import to_plain
from tests.conftest import enrol_second_factor
from tests.factories import (  # noqa: F401 (fixture)
    OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, another_round, app_of_world, make_round, worlds,
)

DEFAULT = __import__("pathlib").Path(__file__).parent.parent / "evalapp" / "data" / "indicators-2021.yaml"
# The district of tests/factories.py (code 430699): 清溪镇 430699001 with four villages 430699001001 (荷塘村, the
# village user's) to …004, and 白沙街道 430699002 with 石桥社区.
FULL_ROUND = "2032年度全面推行测试评估验收"


@pytest.fixture
def world(empty_app):
    """A pilot round of the test's own in inspection (self-assessments submitted) and a full roll-out over every
    unit in self-assessment (built once per worker: factories.Worlds)."""
    return worlds.built(("test_admin.world",), _two_rounds)


def _two_rounds():
    made = make_round("inspection", townships={TOWNSHIP: [VILLAGE, "柳湾社区", "竹园社区", "桃源村"],
                                               OTHER_TOWNSHIP: [OTHER_VILLAGE]}, self_assessed=True)
    another_round(made, "self_assessment", FULL_ROUND, rollout="full")
    return made


@pytest.fixture
def admin(login_as):
    return login_as("admin")


def xlsx(rows, headers=("编码", "名称", "类型", "上级编码"), merge_header=False, as_text=True):
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    if merge_header:
        ws.merge_cells("A1:B1")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, url, data, name="units.xlsx"):
    return client.post(url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def snapshot():
    return sorted(db.session.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.parent_id)).all())


# -- units ---------------------------------------------------------------------------------------------------

def test_units_import_upserts_by_code_and_is_idempotent(admin):
    data = xlsx([["430699001001", "荷塘村（更名）", "村", "430699001"],
                 ["430699001099", "新建村", "村", "430699001"],
                 ["430699001099001", "一组", "村民小组", "430699001099"]])
    assert upload(admin, "/admin/units/import", data).status_code == 302
    names = dict(db.session.execute(select(OrgUnit.code, OrgUnit.name)).all())
    assert names["430699001001"] == "荷塘村（更名）" and names["430699001099001"] == "一组"
    before = snapshot()
    assert upload(admin, "/admin/units/import", data).status_code == 302
    assert snapshot() == before
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "units.import")
                              .order_by(AuditEvent.id.desc()))
    assert event.new == {"rows": 3, "created": 0, "updated": 0}


def test_codes_with_full_width_digits_trailing_spaces_and_numbers_are_read(admin):
    wb = Workbook()
    ws = wb.active
    ws.append(["编码", "名称", "类型", "上级编码"])
    ws.append(["４３０６９９００１０９８", " 全角村 ", "村 ", 430699001])  # full-width code, spaces, numeric parent
    out = io.BytesIO()
    wb.save(out)
    assert upload(admin, "/admin/units/import", out.getvalue()).status_code == 302
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "430699001098"))
    assert unit.name == "全角村" and unit.parent.code == "430699001"


@pytest.mark.parametrize("rows, message", [
    ([["430699001001", "重复", "村", "430699001"], ["430699001001", "重复2", "村", "430699001"]],
     "第4行：编码“430699001001”与第3行重复"),
    ([["430699001097", "无上级", "村", "430699999"]], "第3行：上级编码“430699999”不存在"),
    ([["430699001097", "坏类型", "乡", "430699001"]], "第3行：类型“乡”无效"),
    ([["43069900197", "丢了0", "村", "430699001"]], "第3行：编码“43069900197”应为12位数字（可能被Excel去掉了开头的0"),
    ([["43069900１0九", "中文编码", "村", "430699001"]], "第3行：编码“4306990010九”无效，只能是数字"),
    ([["430699201", "甲镇", "镇", "430699201"]], "第3行：上级关系形成循环"),
])
def test_any_bad_row_refuses_the_whole_file_listing_every_row(admin, rows, message):
    before = snapshot()
    good = ["430699001096", "好村", "村", "430699001"]
    response = upload(admin, "/admin/units/import", xlsx([good] + rows))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot() == before  # not even the good row was written


@pytest.mark.parametrize("data, message", [
    (b"", "文件为空"),
    (b"x" * (5 * 1024 * 1024 + 10), "文件过大"),
    (b"<html>not a spreadsheet</html>", "不是Excel"),
    (b"PK\x03\x04broken", "文件已损坏"),
])
def test_files_that_are_not_plain_xlsx_are_refused(admin, data, message):
    before = snapshot()
    response = upload(admin, "/admin/units/import", data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert snapshot() == before


def test_macro_files_and_merged_headers_are_refused(admin):
    data = xlsx([["430699001095", "宏村", "村", "430699001"]])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"\x00macro")
    assert "含宏" in upload(admin, "/admin/units/import", buf.getvalue()).get_data(as_text=True)
    merged = upload(admin, "/admin/units/import", xlsx([["430699001095", "村", "村", "430699001"]], merge_header=True))
    assert merged.status_code == 422 and "合并单元格" in merged.get_data(as_text=True)


def test_exported_units_reimport_to_identical_data(admin):
    before = snapshot()
    exported = admin.get("/admin/units/export.xlsx")
    ws = load_workbook(io.BytesIO(exported.data)).active
    assert [c.value for c in ws[1]] == ["编码", "名称", "类型", "上级编码"]
    assert upload(admin, "/admin/units/import", exported.data).status_code == 302
    assert snapshot() == before
    assert admin.get("/admin/units/template.xlsx").status_code == 200


def test_unit_create_edit_move_and_deactivate(admin):
    r = admin.post("/admin/units", data={"code": "430699001094", "name": "新村", "kind": "村",
                                         "parent_code": "430699001"})
    assert r.status_code == 302
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "430699001094"))
    bad = admin.post(f"/admin/units/{unit.id}/edit", data={"name": "新村", "kind": "村", "parent_code": "430699"})
    assert bad.status_code == 422 and 'value="430699"' in bad.get_data(as_text=True)
    admin.post(f"/admin/units/{unit.id}/edit", data={"name": "迁移村", "kind": "村", "parent_code": "430699002"})
    db.session.refresh(unit)
    assert unit.parent.code == "430699002" and unit.name == "迁移村"
    admin.post(f"/admin/units/{unit.id}/active", data={"active": "0"})
    db.session.refresh(unit)
    assert unit.active is False


# -- users ---------------------------------------------------------------------------------------------------

def test_user_creation_enforces_the_password_policy_and_scope(admin, app):
    weak = admin.post("/admin/users", data={"username": "zhang", "display_name": "张三", "role": "village",
                                            "unit_code": "430699001001", "password": "short"})
    assert weak.status_code == 422 and "密码至少10个字符" in weak.get_data(as_text=True)
    assert 'value="zhang"' in weak.get_data(as_text=True)
    common = admin.post("/admin/users", data={"username": "zhang", "role": "village", "unit_code": "430699001001",
                                              "password": "password123"})
    assert "过于常见" in common.get_data(as_text=True)
    no_scope = admin.post("/admin/users", data={"username": "zhang", "role": "village", "password": "长城-Yunxi-2026"})
    assert "村(社区)的编码" in no_scope.get_data(as_text=True)
    ok = admin.post("/admin/users", data={"username": "zhang", "display_name": "张三", "role": "village",
                                          "unit_code": "430699001001", "password": "长城-Yunxi-2026"})
    assert ok.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "zhang"))
    assert user.must_change_password and user.unit.name == VILLAGE


def test_first_login_must_change_the_password(admin, app):
    admin.post("/admin/users", data={"username": "li4", "role": "finance", "password": "Initial-pass-2026"})
    client = app.test_client()
    response = client.post("/login", data={"username": "li4", "password": "Initial-pass-2026"})
    assert response.headers["Location"] == "/login/enrol"  # a finance account sets up its second factor first
    enrol_second_factor(client)
    assert client.get("/finance/").headers["Location"] == "/account/password"
    refused = client.post("/account/password", data={"current": "Initial-pass-2026", "password": "short",
                                                     "password2": "short"})
    assert refused.status_code == 422
    client.post("/account/password", data={"current": "Initial-pass-2026", "password": "Changed-pass-2026",
                                           "password2": "Changed-pass-2026"})
    assert client.get("/finance/").status_code == 200


def test_deactivation_ends_a_live_session_at_once(admin, login_as):
    village = login_as("village")
    assert village.get("/selfassess/").status_code == 200
    target = db.session.scalar(select(User).where(User.username == "village"))
    admin.post(f"/admin/users/{target.id}/active", data={"active": "0"})
    assert village.get("/selfassess/").status_code == 302


def test_role_change_and_password_reset(admin, login_as, app):
    target = db.session.scalar(select(User).where(User.username == "finance"))
    finance = login_as("finance")
    admin.post(f"/admin/users/{target.id}", data={"display_name": "财政", "role": "district", "unit_code": ""})
    db.session.refresh(target)
    assert target.role == "district"
    assert finance.get("/finance/").status_code == 302  # rights changed: the old session ended
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role"))
    assert event.old["role"] == "finance" and event.new["role"] == "district"
    admin.post(f"/admin/users/{target.id}/password", data={"password": "Reset-pass-2026"})
    db.session.refresh(target)
    assert target.must_change_password


def test_user_list_filters(admin):
    html = admin.get("/admin/users?role=inspector").get_data(as_text=True)
    assert 'data-user="leader"' in html and 'data-user="village"' not in html
    html = admin.get("/admin/users?unit_code=430699001001").get_data(as_text=True)
    assert 'data-user="village"' in html and 'data-user="leader"' not in html


# -- catalogues ------------------------------------------------------------------------------------------------

def test_catalogue_export_reimports_to_identical_content(admin):
    version = db.session.scalar(select(CatalogueVersion).where(CatalogueVersion.code == "VC-2021"))
    exported = admin.get(f"/admin/catalogues/{version.id}/export.xlsx")
    assert upload(admin, "/admin/catalogues/import", exported.data, "vc.xlsx").status_code == 302
    new = db.session.scalar(select(CatalogueVersion).where(CatalogueVersion.code == "VC-2021",
                                                           CatalogueVersion.version == 2))
    assert to_plain(new) == to_plain(version)


def test_catalogue_yaml_import_and_every_problem_listed(admin):
    raw = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    broken = raw["catalogues"][1]
    broken["categories"][0]["points"] = 21
    broken["categories"][1]["indicators"][0]["deductions"][0].pop("void")
    before = db.session.scalar(select(func.count(CatalogueVersion.id)))
    response = upload(admin, "/admin/catalogues/import", yaml.safe_dump({"catalogues": [broken]},
                                                                         allow_unicode=True).encode(), "c.yaml")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "一级指标 A：二级指标分值合计20.00，与一级指标分值21.00不符" in html and "扣分项 B1-1" in html
    assert db.session.scalar(select(func.count(CatalogueVersion.id))) == before
    ok = upload(admin, "/admin/catalogues/import", DEFAULT.read_bytes(), "d.yaml")
    assert ok.status_code == 302
    assert db.session.scalar(select(func.count(CatalogueVersion.id))) == before + 2


def test_frozen_version_cannot_be_edited_and_clone_makes_a_draft(admin):
    version = db.session.scalar(select(CatalogueVersion).where(CatalogueVersion.code == "VC-2021"))
    text = yaml.safe_dump(to_plain(version), allow_unicode=True)
    frozen = admin.post(f"/admin/catalogues/{version.id}/edit", data={"yaml": text})
    assert frozen.status_code == 422 and "不能修改" in frozen.get_data(as_text=True)
    admin.post(f"/admin/catalogues/{version.id}/clone")
    draft = db.session.scalar(select(CatalogueVersion).where(CatalogueVersion.code == "VC-2021",
                                                             CatalogueVersion.version == 2))
    plain = to_plain(draft)
    plain["name"] = "修订版"
    bad = dict(plain, total=99)
    refused = admin.post(f"/admin/catalogues/{draft.id}/edit", data={"yaml": yaml.safe_dump(bad, allow_unicode=True)})
    assert refused.status_code == 422 and "与总分99.00不符" in refused.get_data(as_text=True)
    saved = admin.post(f"/admin/catalogues/{draft.id}/edit", data={"yaml": yaml.safe_dump(plain, allow_unicode=True)})
    assert saved.status_code == 302
    edited = db.session.scalar(select(CatalogueVersion).where(CatalogueVersion.code == "VC-2021",
                                                              CatalogueVersion.version == 2))
    assert edited.name == "修订版"


# -- rounds and teams ----------------------------------------------------------------------------------------------

def _round_form(name="2023年度评估验收", rollout="pilot"):
    ts = db.session.scalar(select(CatalogueVersion.id).where(CatalogueVersion.code == "TS-2021"))
    vc = db.session.scalar(select(CatalogueVersion.id).where(CatalogueVersion.code == "VC-2021"))
    return {"name": name, "township_catalogue_id": ts, "village_catalogue_id": vc, "threshold": "95",
            "tolerance": "1", "self_due": "2023-11-25", "inspection_start": "2023-12-01",
            "inspection_end": "2023-12-20", **({"rollout": rollout} if rollout else {})}


def _new_round(admin, name="2023年度评估验收", rollout="pilot"):
    r = admin.post("/admin/rounds", data=_round_form(name, rollout))
    assert r.status_code == 302
    return db.session.scalar(select(Round).where(Round.name == name))


def test_round_settings_refuse_bad_input_and_keep_it(admin):
    round_ = _new_round(admin)
    bad = admin.post(f"/admin/rounds/{round_.id}/settings", data={"threshold": "nan", "tolerance": "1",
                                                                  "self_due": "2023-13-45"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "合格线" in html and "日期“2023-13-45”无效" in html
    assert 'value="nan"' in html
    db.session.refresh(round_)
    assert round_.threshold == 95


def test_phase_guards_pilot_warnings_and_one_team_per_unit(admin):
    round_ = _new_round(admin)
    lucheng = db.session.scalar(select(OrgUnit).where(OrgUnit.name == TOWNSHIP))
    villages = [v.id for v in lucheng.children][:3]
    admin.post(f"/admin/rounds/{round_.id}/scope", data={"unit": [lucheng.id, *villages]})
    page = admin.get(f"/admin/rounds/{round_.id}").get_data(as_text=True)
    assert f"{TOWNSHIP}：试点村(社区)3个" in page  # a warning, not a block
    assert db.session.scalar(select(func.count()).select_from(RoundUnit).where(RoundUnit.round_id == round_.id)) == 4
    admin.post(f"/admin/rounds/{round_.id}/advance")  # setup → self_assessment: self sheets
    assert db.session.scalar(select(func.count(Sheet.id)).where(Sheet.round_id == round_.id)) == 4
    refused = admin.post(f"/admin/rounds/{round_.id}/advance")
    assert refused.status_code == 409 and "尚未分配工作组" in refused.get_data(as_text=True)
    admin.post(f"/admin/rounds/{round_.id}/teams", data={"name": "甲组", "leader": "leader"})
    admin.post(f"/admin/rounds/{round_.id}/teams", data={"name": "乙组", "leader": "inspector2"})
    teams = {t.name: t.id for t in db.session.scalars(select(Team).where(Team.round_id == round_.id))}
    dup = admin.post(f"/admin/rounds/{round_.id}/teams/{teams['乙组']}/members", data={"username": "leader"})
    assert dup.status_code == 422 and "已在本批次的工作组中" in dup.get_data(as_text=True)
    admin.post(f"/admin/rounds/{round_.id}/teams/{teams['甲组']}/members", data={"username": "inspector"})
    assign = {f"unit_{uid}": teams["甲组"] for uid in [lucheng.id, *villages]}
    assign[f"unit_{villages[0]}"] = teams["乙组"]
    admin.post(f"/admin/rounds/{round_.id}/assign", data=assign)
    team_of = dict(db.session.execute(select(RoundUnit.unit_id, RoundUnit.team_id)
                                      .where(RoundUnit.round_id == round_.id)).all())
    assert team_of[villages[0]] == teams["乙组"] and team_of[lucheng.id] == teams["甲组"]
    assert admin.post(f"/admin/rounds/{round_.id}/advance").status_code == 302
    db.session.refresh(round_)
    assert round_.status == "inspection"
    # 甲组: 2 members × 3 units + 3 finals; 乙组: 1 member × 1 unit + 1 final; plus 4 self sheets
    assert db.session.scalar(select(func.count(Sheet.id)).where(Sheet.round_id == round_.id)) == 4 + 9 + 2


# -- audit log -------------------------------------------------------------------------------------------------

def test_audit_view_filters_and_exports(admin, login_as):
    login_as("village")
    html = admin.get("/admin/audit?action=login&username=village").get_data(as_text=True)
    assert 'data-action="login.success"' in html and 'data-action="unit' not in html
    export = admin.get("/admin/audit/export.xlsx?action=login")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(min_row=2, values_only=True))
    # The last column: the row's number in the log (issue 30: objects named, no internal ids), its action a login's.
    actions = dict(db.session.execute(select(AuditEvent.id, AuditEvent.action).where(
        AuditEvent.id.in_([r[-1] for r in rows]))).all())
    assert rows and len(actions) == len(rows) and all(a.startswith("login") for a in actions.values())


# -- CLI -------------------------------------------------------------------------------------------------------

def test_cli_jobs(app, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "units.xlsx"
    path.write_bytes(xlsx([["430699001093", "命令行村", "村", "430699001"]]))
    assert runner.invoke(args=["import-units", str(path)]).exit_code == 0
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([["430699001093", "命令行村", "乡", "430699001"]]))
    result = runner.invoke(args=["import-units", str(bad)])
    assert result.exit_code != 0 and "类型“乡”无效" in result.output
    assert runner.invoke(args=["import-catalogue", str(DEFAULT)]).exit_code == 0
    r = runner.invoke(args=["create-user", "wang5", "--role", "inspector", "--name", "王五"],
                      input="Cli-pass-2026x\nCli-pass-2026x\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["set-password", "wang5"], input="Other-pass-2026\nOther-pass-2026\n")
    assert r.exit_code == 0, r.output
    assert db.session.scalar(select(User).where(User.username == "wang5")).must_change_password


# -- rounds: pilot or full roll-out; a published round's set-up frozen (issue 15, 10) ---------------------------

def test_a_round_is_created_as_pilot_or_full_rollout_and_the_choice_is_required(admin):
    form = admin.get("/admin/rounds").get_data(as_text=True)
    assert 'name="rollout" id="r-rollout-pilot" value="pilot" required' in form and "全面推行" in form
    before = db.session.scalar(select(func.count(Round.id)))
    missing = admin.post("/admin/rounds", data=_round_form("2024年度评估验收", rollout=None))
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422 and 'data-error="rollout">请选择试点或全面推行' in html
    assert 'value="2024年度评估验收"' in html  # what was typed stays
    odd = admin.post("/admin/rounds", data=_round_form("2024年度评估验收", rollout="x" * 500))
    assert odd.status_code == 422
    assert db.session.scalar(select(func.count(Round.id))) == before
    round_ = _new_round(admin, "2024年度全面评估验收", rollout="full")
    assert round_.rollout == "full" and round_.rollout_label == "全面推行"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "round.create",
                                                       AuditEvent.round_id == round_.id))
    assert event.new["rollout"] == "full"
    assert 'data-rollout="full">全面推行' in admin.get("/admin/rounds").get_data(as_text=True)
    assert 'data-testid="rollout">全面推行' in admin.get(f"/admin/rounds/{round_.id}").get_data(as_text=True)


def test_the_pilot_village_rule_warns_for_pilot_rounds_only(admin):
    lucheng = db.session.scalar(select(OrgUnit).where(OrgUnit.name == TOWNSHIP))
    scope = {"unit": [lucheng.id, *[v.id for v in lucheng.children][:3]]}
    pilot = _new_round(admin, "2024年度试点评估验收", rollout="pilot")
    full = _new_round(admin, "2024年度全面推行评估验收", rollout="full")
    for round_ in (pilot, full):
        assert admin.post(f"/admin/rounds/{round_.id}/scope", data=scope).status_code == 302
    assert f"{TOWNSHIP}：试点村(社区)3个" in admin.get(f"/admin/rounds/{pilot.id}").get_data(as_text=True)
    page = admin.get(f"/admin/rounds/{full.id}").get_data(as_text=True)
    assert "试点村(社区)3个" not in page and "1至2个" not in page
    full_round = db.session.scalar(select(Round).where(Round.name == FULL_ROUND))
    assert full_round.rollout == "full"  # a full roll-out, every village in scope: no warnings
    assert "通知要求每个镇(街道)1至2个" not in admin.get(f"/admin/rounds/{full_round.id}").get_data(as_text=True)


@pytest.fixture
def published_round(app, world, login_as):
    from tests.conftest import complete_round

    round_ = complete_round({}, leave_out={OTHER_VILLAGE}, round_=world.round)
    assert login_as("district").post(f"/results/rounds/{round_.id}/publish",
                                     data={"confirm_no_subsidy": "1", "confirm_incomplete": "1"}).status_code == 302
    return round_


def _forms(html: str) -> dict[str, str]:
    """Each form of the round page by its data-testid (its HTML up to </form>)."""
    return {key: html.split(f'data-testid="{key}"')[1].split("</form>")[0] for key in ("settings", "scope", "assign")}


def test_a_published_rounds_set_up_is_shown_read_only(admin, published_round):
    html = admin.get(f"/admin/rounds/{published_round.id}").get_data(as_text=True)
    assert 'data-testid="frozen"' in html and "已冻结" in html
    for key, form in _forms(html).items():
        assert "<fieldset disabled>" in form and 'type="submit"' not in form, key
    teams = html.split('data-testid="teams"')[1].split("</section>")[0]
    assert "/remove" not in teams and "/members" not in teams and ">新建工作组<" not in teams
    assert "/leader" in teams  # someone must be able to reconcile an unlocked final sheet
    # before publication the same forms are live
    other = db.session.scalar(select(Round).where(Round.name == FULL_ROUND))
    live = admin.get(f"/admin/rounds/{other.id}").get_data(as_text=True)
    assert 'data-testid="frozen"' not in live
    assert all("<fieldset disabled>" not in form for form in _forms(live).values())


def test_a_published_rounds_set_up_changes_are_refused_and_nothing_changes(admin, published_round):
    r = published_round
    team = db.session.scalar(select(Team).where(Team.round_id == r.id, Team.name == "第一工作组"))
    member = db.session.scalar(select(User).where(User.username == "inspector"))
    before = (r.threshold, r.tolerance, r.self_due,
              sorted(db.session.execute(select(RoundUnit.unit_id, RoundUnit.team_id)
                                        .where(RoundUnit.round_id == r.id)).all()),
              sorted(db.session.execute(select(Team.name, Team.leader_id).where(Team.round_id == r.id)).all()),
              db.session.scalar(select(func.count()).select_from(TeamMember).where(TeamMember.round_id == r.id)))
    some_unit = db.session.scalar(select(RoundUnit.unit_id).where(RoundUnit.round_id == r.id))
    set_up_events = select(func.count(AuditEvent.id)).where(
        AuditEvent.round_id == r.id, AuditEvent.action.in_(["round.settings", "round.scope", "team.create",
                                                            "team.add_member", "team.remove_member",
                                                            "team.assign"]))
    events_before = db.session.scalar(set_up_events)  # the round's own set-up (tests/factories.py) wrote some
    posts = [
        (f"/admin/rounds/{r.id}/settings", {"threshold": "90", "tolerance": "2", "self_due": "2021-12-31"}),
        (f"/admin/rounds/{r.id}/scope", {"unit": [some_unit]}),
        (f"/admin/rounds/{r.id}/teams", {"name": "第三工作组", "leader": "inspector2"}),
        (f"/admin/rounds/{r.id}/teams/{team.id}/members", {"username": "inspector2"}),
        (f"/admin/rounds/{r.id}/teams/{team.id}/members/{member.id}/remove", {"confirm": "1"}),
        (f"/admin/rounds/{r.id}/assign", {f"unit_{some_unit}": ""}),
    ]
    for url, data in posts:
        response = admin.post(url, data=data)
        assert response.status_code == 409, url
        assert "该批次已公布" in response.get_data(as_text=True) and "不能修改" in response.get_data(as_text=True)
    db.session.expire_all()
    r = db.session.get(Round, r.id)
    after = (r.threshold, r.tolerance, r.self_due,
             sorted(db.session.execute(select(RoundUnit.unit_id, RoundUnit.team_id)
                                       .where(RoundUnit.round_id == r.id)).all()),
             sorted(db.session.execute(select(Team.name, Team.leader_id).where(Team.round_id == r.id)).all()),
             db.session.scalar(select(func.count()).select_from(TeamMember).where(TeamMember.round_id == r.id)))
    assert after == before
    assert db.session.scalar(set_up_events) == events_before
