"""Text that looks like a formula or a link goes into every xlsx the app writes as a plain string cell, exactly as
typed (no quote in front), and a units or catalogue export imports back to the same text."""
import io
import re

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import CatalogueVersion, DeductionRule, Indicator, OrgUnit, Round, RoundUnit
from evalapp.services import audit
from evalapp.services.catalogue_io import import_yaml, to_plain
from evalapp.services.xlsx import read_text
from tests.conftest import complete_round
from tests.factories import PILOT_DISTRICT, TOWNSHIP, app_of_world, make_round  # noqa: F401 (fixture)

# What a spreadsheet would run or follow if it were stored as a formula or a link.
TYPED = ['=1+2', '=HYPERLINK("http://evil.example/x","点我")', "+1+2", "-1+2", "@SUM(1+1)", "{=1+2}",
         "http://evil.example/y", "=cmd|' /C calc'!A0"]
# Leading tab or CR: no form keeps them (every text is trimmed), but a stored one must come out as stored too.
STORED = ["\t=1+2", "\r=1+2"]
PAYLOADS = TYPED + STORED
FORMULA_OF_OUR_OWN = re.compile(r"^=SUM\([A-Z]+\d+:[A-Z]+\d+\)$")  # the finance sheet's totals rows


def cells(data: bytes):
    """Every cell of every worksheet, read as written (formulas as formulas, not their cached values)."""
    wb = load_workbook(io.BytesIO(data), data_only=False)
    for ws in wb.worksheets:
        assert not ws._hyperlinks, f"{ws.title}: links {ws._hyperlinks}"
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield ws.title, cell


def check_plain(data: bytes, allowed_formulas=None) -> set[str]:
    """No cell holds a formula (except the app's own totals, when allowed) and no cell's text starts with the quote
    of the old defusing; returns every text cell's value as Excel shows it."""
    texts = set()
    for title, cell in cells(data):
        if cell.data_type == "f":
            assert allowed_formulas and allowed_formulas.match(str(cell.value)), (title, cell.coordinate, cell.value)
            continue
        if cell.data_type == "s":
            text = read_text(cell.value)  # Excel's reading of _x000D_ (a CR) and the like
            assert not text.startswith("'"), (title, cell.coordinate, text)
            texts.add(text)
    return texts


@pytest.fixture
def world(empty_app):
    """A round of the test's own in inspection over factories.PILOT_DISTRICT (13 units), self-assessments
    submitted."""
    return make_round("inspection", townships=PILOT_DISTRICT, self_assessed=True)


def units_named(names: list[str], parent: str = TOWNSHIP) -> list[OrgUnit]:
    """New villages under a township, one per name, written directly (as an earlier import might have left them)."""
    township = db.session.scalar(select(OrgUnit).where(OrgUnit.name == parent))
    units = [OrgUnit(code=f"{township.code}{950 + n:03d}", name=name, kind="村", level="village", parent=township)
             for n, name in enumerate(names)]
    db.session.add_all(units)
    db.session.commit()
    return units


@pytest.fixture
def admin(login_as):
    return login_as("admin")


def test_units_typed_into_the_form_export_as_text_and_import_back_to_the_same_names(app, admin):
    township = db.session.scalar(select(OrgUnit).where(OrgUnit.name == TOWNSHIP))
    for n, name in enumerate(TYPED):
        created = admin.post("/admin/units", data={"code": f"{township.code}{960 + n:03d}", "name": name,
                                                   "kind": "村", "parent_code": township.code})
        assert created.status_code == 302, name
    units_named(STORED)
    exported = admin.get("/admin/units/export.xlsx")
    assert exported.status_code == 200
    texts = check_plain(exported.data)
    assert set(PAYLOADS) <= texts
    rows = {r[0]: r[1] for r in load_workbook(io.BytesIO(exported.data)).active.iter_rows(min_row=2, values_only=True)}
    assert rows[f"{township.code}960"] == TYPED[0]  # the name beside its code, no quote

    before = {u.code: u.name for u in db.session.scalars(select(OrgUnit))}
    reimported = admin.post("/admin/units/import", data={"file": (io.BytesIO(exported.data), "单位.xlsx")},
                            content_type="multipart/form-data")
    assert reimported.status_code == 302
    db.session.expire_all()
    after = {u.code: u.name for u in db.session.scalars(select(OrgUnit))}
    # An import trims every cell, as the form does: the stored leading tab or CR is the one thing it changes.
    assert after == {code: name.strip() for code, name in before.items()}
    assert {after[f"{township.code}{960 + n:03d}"] for n in range(len(TYPED))} == set(TYPED)


def payload_catalogue() -> CatalogueVersion:
    """A copy of the village catalogue whose texts are the payloads (names, titles, evidence, rules, bonus, veto)."""
    village = db.session.scalar(select(CatalogueVersion).where(CatalogueVersion.level == "village")
                                .order_by(CatalogueVersion.id))
    plain = to_plain(village)
    plain["code"] = "INJECTION"
    texts = iter(TYPED * 4)
    for category in plain["categories"][:2]:
        category["name"] = next(texts)
        for indicator in category["indicators"][:1]:
            indicator["title"] = next(texts)
            indicator["evidence"] = next(texts)
            for rule in indicator["deductions"][:1]:
                rule["text"] = next(texts)
    plain["bonus"][0]["text"] = next(texts)
    plain["veto"][0]["text"] = next(texts)
    version = import_yaml(yaml.safe_dump(plain, allow_unicode=True), None)[0]
    # and the stored-only ones, directly
    indicator = db.session.scalars(select(Indicator).where(Indicator.catalogue_id == version.id)
                                   .order_by(Indicator.id)).all()[-1]
    indicator.title, indicator.evidence = STORED
    db.session.commit()
    return version


def test_catalogue_export_keeps_every_text_a_string_and_imports_back_the_same(app, admin):
    version = payload_catalogue()
    exported = admin.get(f"/admin/catalogues/{version.id}/export.xlsx")
    assert exported.status_code == 200
    assert set(PAYLOADS) <= check_plain(exported.data)
    assert admin.post("/admin/catalogues/import", data={"file": (io.BytesIO(exported.data), "c.xlsx")},
                      content_type="multipart/form-data").status_code == 302
    again = db.session.scalar(select(CatalogueVersion).where(CatalogueVersion.code == "INJECTION",
                                                             CatalogueVersion.version == 2))
    old, new = to_plain(version), to_plain(again)
    last = old["categories"][-1]["indicators"][-1]
    last["title"], last["evidence"] = last["title"].strip(), last["evidence"].strip()  # an import trims, as YAML does
    assert new == old
    rules = db.session.scalars(select(DeductionRule.text).where(DeductionRule.catalogue_id == again.id)).all()
    assert TYPED[3] in rules


def test_catalogue_template_holds_no_formula(app, admin):
    template = admin.get("/admin/catalogues/template.xlsx")
    assert template.status_code == 200 and "示例指标" in check_plain(template.data)
    assert "示例村" in check_plain(admin.get("/admin/units/template.xlsx").data)


@pytest.fixture
def payload_round(app, world):
    """The round completed, its first units (townships and villages) named by the payloads."""
    round_ = complete_round({}, vetoes={"梅溪社区": "V3"}, round_=world.round)
    names = iter(PAYLOADS)
    for unit in db.session.scalars(select(OrgUnit).join(RoundUnit, RoundUnit.unit_id == OrgUnit.id)
                                   .where(RoundUnit.round_id == round_.id).order_by(OrgUnit.code)):
        unit.name = next(names, unit.name)
    db.session.commit()
    return db.session.get(Round, round_.id)


def test_results_workbook_shows_unit_names_as_typed(payload_round, login_as):
    response = login_as("district").get(f"/results/rounds/{payload_round.id}/workbook.xlsx")
    assert response.status_code == 200
    texts = check_plain(response.data)
    assert set(PAYLOADS) <= texts


def test_finance_sheet_shows_names_as_typed_and_holds_only_its_own_totals(payload_round, login_as):
    finance = login_as("finance")
    assert finance.post(f"/finance/rounds/{payload_round.id}/rules/village",
                        data={"mode": "fixed", "amount": "1000"}).status_code == 302
    response = finance.get(f"/finance/rounds/{payload_round.id}/eligibility.xlsx")
    assert response.status_code == 200
    texts = check_plain(response.data, allowed_formulas=FORMULA_OF_OUR_OWN)
    assert set(PAYLOADS) <= texts


def test_audit_export_shows_details_as_typed(app, admin):
    for text in PAYLOADS:
        audit.record("test.payload", detail=text)
    db.session.commit()
    response = admin.get("/admin/audit/export.xlsx?action=test.payload")
    assert response.status_code == 200
    assert set(PAYLOADS) <= check_plain(response.data)
