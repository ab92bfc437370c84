"""Golden files of every official output, and published versions written by older code that must still verify.

Made by the code of 2026-12-07 (main at ed4438c), before the read side of results (services/results.py,
snapshots.py, subsidy.py, export.py, review.py, the print pages) is refactored: the refactored code must give the
same documents.

Regenerate (after a change to an official document that is meant, and reviewed as such in the diff):

    EVALAPP_REGEN_GOLDEN=1 .venv/bin/python -m pytest -c tests/pytest.ini --rootdir . -q tests/test_golden_outputs.py

rewrites every output file in tests/golden/ (and removes output files no longer made). `EVALAPP_REGEN_GOLDEN=db`
(on SQLite) does that and also writes tests/golden/published-<today>.sqlite, the database the scenario leaves, as a
new snapshot beside the older ones: each of them is checked for good, so never regenerate one over another.
Without the variable a difference fails, naming the file and the first differing line, JSON path or cell.

The scenario (`_scenario`): factories.PILOT_DISTRICT as tests/test_official_paper.py builds it — every unit
self-assessed; 石桥村 over the village bonus cap (3 points counted as 2), 清溪镇 with a bonus, 柳湾社区 at 94.99 (fails
by 0.01), 荷塘村 at 95.00 (passes on the line), 梅溪社区 vetoed, 桃源村 never completed (未完成); band rules for
townships, a fixed amount for villages; 柳湾社区 signed by the leader and the unit's representative. Published as
version 1 (stage `v1`); 清溪镇 unlocked, lowered below the line, approved and republished as version 2 (`v2`); 石桥村
unlocked, lowered below the line and approved again, not republished: the official outputs must still be version
2's, byte for byte (compared with the `v2` files; the results API adds pending_units: `pending-official`), and the
草稿 shows the change (`pending-draft`). Before the first publication, the 草稿 (`draft0`).

How each output is compared (the goldens are those files, named <stage>-<output>.<ext>):

* 正式 xlsx (district workbook, 奖补资格表): the bytes. Two downloads (by two users) are checked to be the same bytes
  first. On a difference the message names the first differing cell, or the first differing part and line of the
  zip when every cell agrees (a format, a print setting).
* 草稿 xlsx: every cell of every sheet, as a JSON list of rows per sheet (<name>.cells.json), formulas as their text,
  with the cells that hold the generation time or the downloader masked (`mask_draft_cells`). The file's own
  properties (its created time) are not compared: they are the moment of the download.
* HTML (评分表 print page, 通报): the text after `normalise_html` (per-request noise: CSRF tokens, CSP nonces, static
  assets' fingerprints); a 草稿's generation date is masked too (`mask_draft_html`). Two requests are checked to be
  the same after normalising.
* JSON (the results API): the parsed JSON (stored indented).

Determinism: every timestamp the app writes comes from evalapp.models.base.utcnow, which reads the `datetime` of that
module; `clock` replaces it with a clock set to a fixed moment per step of the scenario, so creation, submission,
approval, signature, unlock and publication times are the same on every run. The round's name is this module's own,
so factories.make_round builds (and keeps) this district under the frozen clock, never a copy made by another test.
Ids are the same on SQLite and PostgreSQL (the same inserts in the same order, no insert rolled back); nothing had to
be normalised between the two databases.
"""
import io
import json
import os
import re
import shutil
import sqlite3
import zipfile
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.engine import make_url

from evalapp.extensions import db
from evalapp.models import CatalogueVersion, Indicator, Score, Sheet
from evalapp.services import publication, rounds as rounds_service, signatures
from evalapp.services.figures import refresh_figures
from evalapp.services.moves import move_sheet
from evalapp.services.subsidy import save_rule
from tests.conftest import PG_URL, complete_round, make_app
from tests.factories import PASSWORD, PILOT_DISTRICT, make_round

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("EVALAPP_REGEN_GOLDEN", "")
ROUND_NAME = "2031年度金样评估验收"  # this module's own: make_round keeps its district apart from other tests'

# As tests/test_official_paper.py: indicator sums (bonus on top), 梅溪社区 vetoed, 桃源村 left out (未完成).
TOTALS = {"荷塘村": "95.00", "柳湾社区": "94.99", "石桥村": "96.50", "杏林村": "96.50", "枫林村": "90",
          "梅溪社区": "100", "清溪镇": "96", "白沙镇": "93.5"}
BONUS = {"石桥村": ["X1", "X2"], "清溪镇": ["X1"]}
# The 评分表 printed at each stage: output name → unit.
PRINTED = {"pass": "石桥村", "line": "荷塘村", "fail": "柳湾社区", "veto": "梅溪社区", "incomplete": "桃源村",
           "township": "清溪镇"}


# ---------------------------------------------------------------- the clock


def _at(text: str) -> datetime:
    """A moment given in Beijing time (YYYY-MM-DD HH:MM), as an aware UTC datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)


class FrozenClock(datetime):
    """Stands in for `datetime` in evalapp.models.base: `now()` is the moment set, until set again."""

    moment = _at("2031-03-02 09:00")

    @classmethod
    def now(cls, tz=None):
        return cls.moment.astimezone(tz) if tz is not None else cls.moment.replace(tzinfo=None)

    @classmethod
    def set(cls, text: str) -> None:
        cls.moment = _at(text)


@pytest.fixture
def clock(monkeypatch):
    import evalapp.models.base

    monkeypatch.setattr(FrozenClock, "moment", _at("2031-03-02 09:00"))
    monkeypatch.setattr(evalapp.models.base, "datetime", FrozenClock)
    return FrozenClock


# ---------------------------------------------------------------- normalising


def normalise_html(text: str) -> str:
    """Remove the per-request noise of a page, nothing else: CSRF tokens (security.py spells one afresh for every
    response), CSP nonces, and the fingerprints assets.py adds to static URLs (`?v=` and 12 hex digits: a changed
    style sheet is not a changed document). The print pages hold none of the first two today."""
    text = re.sub(r'(name="csrf_token"[^>]*?value=")[^"]*(")', r"\1〈csrf〉\2", text)
    text = re.sub(r'(<meta name="csrf-token" content=")[^"]*(")', r"\1〈csrf〉\2", text)
    text = re.sub(r'( nonce=")[^"]*(")', r"\1〈nonce〉\2", text)
    return re.sub(r"([?&]v=)[0-9a-f]{12}\b", r"\1〈fingerprint〉", text)


def mask_draft_html(text: str) -> str:
    """A 草稿 通报 is dated the day it is printed (the 文号's year, the issuing date, the 印发 date)."""
    text = re.sub(r"\d{4}年\d{1,2}月\d{1,2}日", "〈生成日期〉", text)
    return re.sub(r"〔\d{4}〕", "〔〈生成年份〉〕", text)


DRAFT_MASKED_NOTES = ("生成时间", "生成人", "数据截止时间")  # the 奖补资格表's 说明 rows: the download's moment and user


def mask_draft_cells(sheets: dict[str, list[list]]) -> dict[str, list[list]]:
    """A 草稿 workbook's cells without the download's moment and downloader: the 说明 rows named in
    DRAFT_MASKED_NOTES, and the date of the 编制单位 line (日期：YYYY年M月D日) of the title rows."""
    out = {}
    for name, rows in sheets.items():
        masked = []
        for row in rows:
            row = [re.sub(r"日期：\d{4}年\d{1,2}月\d{1,2}日", "日期：〈生成日期〉", v) if isinstance(v, str) else v
                   for v in row]
            if name == "说明" and row and row[0] in DRAFT_MASKED_NOTES:
                row = [row[0], "〈下载时填写〉", *row[2:]]
            masked.append(row)
        out[name] = masked
    return out


def cells(data: bytes) -> dict[str, list[list]]:
    """Every cell of every sheet (values as written; a formula as its text), trailing empty cells dropped."""
    wb = load_workbook(io.BytesIO(data))
    out = {}
    for ws in wb.worksheets:
        rows = []
        for row in ws.iter_rows(values_only=True):
            row = list(row)
            while row and row[-1] is None:
                row.pop()
            rows.append([v.isoformat() if isinstance(v, (datetime, date)) else v for v in row])
        out[ws.title] = rows
    return out


# ---------------------------------------------------------------- comparing


def _first_line_difference(golden: str, made: str) -> str:
    old, new = golden.splitlines(), made.splitlines()
    for i, (a, b) in enumerate(zip(old, new), start=1):
        if a != b:
            column = next((j for j, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            return (f"line {i}, column {column + 1}:\n  golden: {a[max(0, column - 60):column + 100]!r}\n"
                    f"  now:    {b[max(0, column - 60):column + 100]!r}")
    i = min(len(old), len(new)) + 1
    return (f"line {i}: golden has {len(old)} lines, now {len(new)}; first extra: "
            f"{(old[i - 1:] or new[i - 1:])[0][:160]!r}")


def _first_json_difference(golden, made, path="$") -> str | None:
    if type(golden) is not type(made):
        return f"{path}: golden {golden!r:.160}, now {made!r:.160}"
    if isinstance(golden, dict):
        for key in sorted(set(golden) | set(made), key=str):
            if key not in golden or key not in made:
                return f"{path}.{key}: {'missing now' if key in golden else 'new'}"
            found = _first_json_difference(golden[key], made[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(golden, list):
        for i, (a, b) in enumerate(zip(golden, made)):
            found = _first_json_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        if len(golden) != len(made):
            return f"{path}: golden has {len(golden)} items, now {len(made)}"
        return None
    return None if golden == made else f"{path}: golden {golden!r:.160}, now {made!r:.160}"


def _first_cell_difference(golden: dict, made: dict) -> str | None:
    if list(golden) != list(made):
        return f"sheets: golden {list(golden)}, now {list(made)}"
    from openpyxl.utils import get_column_letter

    for name in golden:
        old, new = golden[name], made[name]
        for r in range(max(len(old), len(new))):
            a = old[r] if r < len(old) else []
            b = new[r] if r < len(new) else []
            for c in range(max(len(a), len(b))):
                x = a[c] if c < len(a) else None
                y = b[c] if c < len(b) else None
                if x != y or type(x) is not type(y):
                    return f"sheet {name!r}, cell {get_column_letter(c + 1)}{r + 1}: golden {x!r}, now {y!r}"
    return None


def _first_xlsx_difference(golden: bytes, made: bytes) -> str:
    """The first differing cell; if every cell agrees, the first differing part of the zip and its first line."""
    found = _first_cell_difference(cells(golden), cells(made))
    if found:
        return found
    old, new = zipfile.ZipFile(io.BytesIO(golden)), zipfile.ZipFile(io.BytesIO(made))
    if old.namelist() != new.namelist():
        return f"every cell agrees; the parts differ: golden {old.namelist()}, now {new.namelist()}"
    for name in old.namelist():
        a, b = old.read(name), new.read(name)
        if a != b:
            where = _first_line_difference(a.decode("utf-8", "replace").replace(">", ">\n"),
                                           b.decode("utf-8", "replace").replace(">", ">\n"))
            return f"every cell agrees; part {name} differs at {where}"
    return "every cell and part agrees; the zip's own bytes differ (entry dates, compression)"


def _output_files() -> list[Path]:
    """The golden output files (not the databases, not the README)."""
    return [p for p in GOLDEN.iterdir() if p.suffix in (".html", ".json", ".xlsx")]


class Goldens:
    """Compares outputs with the files in tests/golden/, or rewrites them under EVALAPP_REGEN_GOLDEN."""

    def __init__(self):
        self.problems: list[str] = []     # differences from the golden files
        self.unstable: list[str] = []     # one output made twice in the scenario, not the same: fails even under REGEN
        self.made: dict[str, bytes] = {}

    def _check(self, file: str, data: bytes, difference) -> None:
        """`difference(golden_bytes)` → None when they agree, else where they first differ."""
        if file in self.made:  # the same output at a later stage (the official one while sheets are unlocked)
            if self.made[file] != data:
                self.unstable.append(f"{file}: made twice in the scenario, not the same: "
                                     f"{difference(self.made[file]) or 'bytes differ'}")
            return
        self.made[file] = data
        path = GOLDEN / file
        if REGEN:
            GOLDEN.mkdir(exist_ok=True)
            path.write_bytes(data)
            return
        if not path.exists():
            self.problems.append(f"{file}: no golden file (EVALAPP_REGEN_GOLDEN=1 writes it)")
            return
        found = difference(path.read_bytes())
        if found:
            self.problems.append(f"tests/golden/{file} differs from today's output: {found}")

    def xlsx(self, file: str, data: bytes) -> None:
        self._check(file, data, lambda golden: None if golden == data else _first_xlsx_difference(golden, data))

    def draft_xlsx(self, file: str, data: bytes) -> None:
        made = mask_draft_cells(cells(data))
        text = json.dumps(made, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
        self._check(file, text, lambda golden: _first_cell_difference(json.loads(golden), made))

    def html(self, file: str, text: str) -> None:
        self._check(file, text.encode("utf-8"), lambda golden: None if golden.decode("utf-8") == text
                    else _first_line_difference(golden.decode("utf-8"), text))

    def json(self, file: str, value) -> None:
        text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8") + b"\n"
        self._check(file, text, lambda golden: _first_json_difference(json.loads(golden), value))

    def finish(self) -> None:
        """Under EVALAPP_REGEN_GOLDEN, output files no longer made are removed; else every difference fails."""
        if self.unstable:
            pytest.fail("\n".join(self.unstable), pytrace=False)
        if REGEN:
            for path in _output_files():
                if path.name not in self.made:
                    path.unlink()
            return
        missing = sorted(p.name for p in _output_files() if p.name not in self.made)
        if missing:
            self.problems.append(f"golden files no output was compared with (EVALAPP_REGEN_GOLDEN=1 removes them): "
                                 f"{missing}")
        if self.problems:
            pytest.fail("\n".join(["official outputs differ from tests/golden/ (EVALAPP_REGEN_GOLDEN=1 rewrites the "
                                   "files, see tests/test_golden_outputs.py's docstring):", *self.problems]),
                        pytrace=False)


# ---------------------------------------------------------------- the scenario


def _final(w, unit: str) -> Sheet:
    return db.session.scalar(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "final",
                                                 Sheet.unit_id == w.units[unit].id))


def _lower(w, unit: str, points: int, reason: str) -> None:
    """An admin's unlock of the unit's final sheet, its first indicator above `points` lowered by them, approved
    again (as the leader's correction would leave it; written directly, as complete_round does)."""
    final = _final(w, unit)
    publication.unlock(final, w.people["admin"], reason)
    score = db.session.scalar(select(Score).join(Indicator).where(Score.sheet_id == final.id, Score.points > points)
                              .order_by(Indicator.code))
    score.points = score.direct_score = score.points - points
    score.reason = "复核：台账缺失"
    db.session.flush()
    refresh_figures(Sheet.id == final.id)
    db.session.commit()
    move_sheet(final, "submitted", w.people["admin"])
    move_sheet(final, "approved", w.people["admin"])


def _zigzag(n=24, width=600, height=240):
    return [[[20 + i * (width - 40) / (n - 1), height * (0.3 if i % 2 else 0.7), i * 16] for i in range(n)]]


class Outputs:
    """The official outputs of the round at a stage, fetched through the routes as their users do."""

    def __init__(self, app, w, goldens: Goldens):
        self.app, self.w, self.goldens = app, w, goldens
        self.clients = {}

    def client(self, username: str):
        if username not in self.clients:
            client = self.app.test_client()
            assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
            self.clients[username] = client
        return self.clients[username]

    def get(self, url: str, username: str = "district"):
        response = self.client(username).get(url)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
        return response

    def official(self, stage: str, printed=PRINTED, *, api: str | None = None) -> None:
        """`api`: the stage the results API's JSON is named for, when it is not `stage`'s (while a change waits the
        JSON says how many units it would change: pending_units)."""
        self.clients.clear()  # logged in afresh: the clock has moved on past the last session's idle limit
        r, g = self.w.round.id, self.goldens
        for name, unit in printed.items():
            url = f"/results/sheets/{_final(self.w, unit).id}/print"
            first, again = (normalise_html(self.get(url, who).get_data(as_text=True)) for who in ("district", "admin"))
            assert first == again, f"{url}: two requests differ"
            g.html(f"{stage}-print-{name}.html", first)
        url = f"/results/rounds/{r}/notice"
        first, again = (normalise_html(self.get(url, who).get_data(as_text=True)) for who in ("district", "admin"))
        assert first == again, f"{url}: two requests differ"
        g.html(f"{stage}-notice.html", first)
        url = f"/results/rounds/{r}/workbook.xlsx"
        first, again = (self.get(url, who) for who in ("district", "admin"))
        assert first.data == again.data, f"{url}: two downloads are not the same bytes"
        g.xlsx(f"{stage}-workbook.xlsx", first.data)
        url = f"/finance/rounds/{r}/eligibility.xlsx"
        first, again = (self.get(url, who) for who in ("finance", "admin"))
        assert "%E6%AD%A3%E5%BC%8F" in first.headers["Content-Disposition"]  # 正式
        assert first.data == again.data, f"{url}: two downloads are not the same bytes"
        g.xlsx(f"{stage}-eligibility.xlsx", first.data)
        g.json(f"{api or stage}-results.json", self.get(f"/api/v1/rounds/{r}/results").get_json())

    def draft(self, stage: str, printed: dict[str, str]) -> None:
        self.clients.clear()
        r, g = self.w.round.id, self.goldens
        for name, unit in printed.items():
            html = self.get(f"/results/sheets/{_final(self.w, unit).id}/print?view=draft").get_data(as_text=True)
            assert "草稿 — 未公布" in html
            g.html(f"{stage}-print-{name}.html", mask_draft_html(normalise_html(html)))
        html = self.get(f"/results/rounds/{r}/notice?view=draft").get_data(as_text=True)
        g.html(f"{stage}-notice.html", mask_draft_html(normalise_html(html)))
        g.draft_xlsx(f"{stage}-workbook.cells.json", self.get(f"/results/rounds/{r}/workbook.xlsx?view=draft").data)
        response = self.get(f"/finance/rounds/{r}/eligibility.xlsx?draft=1", "finance")
        assert "%E8%8D%89%E7%A8%BF" in response.headers["Content-Disposition"]  # 草稿
        g.draft_xlsx(f"{stage}-eligibility.cells.json", response.data)
        g.json(f"{stage}-results.json", self.get(f"/api/v1/rounds/{r}/results?view=draft").get_json())


def _scenario(app, clock, goldens: Goldens):
    """The round through its stages, each stage's outputs compared (see the module's docstring); returns the World."""
    w = make_round("inspection", ROUND_NAME, townships=PILOT_DISTRICT, self_assessed=True)
    admin, district = w.people["admin"], w.people["district"]
    clock.set("2031-03-10 10:00")
    db.session.get(CatalogueVersion, w.round.village_catalogue_id).bonus_cap = Decimal("2.00")
    db.session.commit()
    complete_round(TOTALS, vetoes={"梅溪社区": "V3"}, bonus=BONUS, leave_out={"桃源村"}, round_=w.round)
    clock.set("2031-03-10 16:30")
    final = _final(w, "柳湾社区")
    signatures.sign(final, "leader", "", _zigzag(), 600, 240, w.people["leader"])
    signatures.sign(final, "representative", "王丽", _zigzag(30), 600, 240, w.people["leader"])
    clock.set("2031-03-11 09:00")
    save_rule(w.round, "township", "bands", "", "95,98,30000\n98,,50000", admin)
    save_rule(w.round, "village", "fixed", "20000", "", admin)
    outputs = Outputs(app, w, goldens)
    outputs.draft("draft0", {"pass": "石桥村"})

    clock.set("2031-03-12 15:00")
    rounds_service.advance(w.round, admin, confirm=True)
    clock.set("2031-03-13 10:00")
    v1 = publication.publish(w.round, district, confirm_incomplete=True, confirm_no_subsidy=True)
    assert v1.version == 1
    clock.set("2031-03-13 11:00")
    outputs.official("v1")

    clock.set("2031-03-20 14:00")
    _lower(w, "清溪镇", 5, "核查发现台账缺失")
    clock.set("2031-03-21 10:00")
    v2 = publication.publish(w.round, district, confirm_incomplete=True, confirm_no_subsidy=True)
    assert v2.version == 2
    clock.set("2031-03-21 11:00")
    outputs.official("v2")

    clock.set("2031-03-25 09:30")
    _lower(w, "石桥村", 4, "群众反映帮扶记录不实")  # 98.50 → 94.50: fails, loses its 20,000 元
    clock.set("2031-03-25 11:00")
    # The official outputs while a change waits: version 2's, the very same (the API adds pending_units).
    outputs.official("v2", api="pending-official")
    outputs.draft("pending-draft", {"pass": "石桥村"})
    return w


def test_official_outputs_match_the_golden_files(empty_app, clock):
    goldens = Goldens()
    _scenario(empty_app, clock, goldens)
    goldens.finish()
    if REGEN == "db":
        _write_database()


# ---------------------------------------------------------------- versions written by older code


def _write_database() -> Path:
    """The scenario's database (two versions and a change waiting) as tests/golden/published-<today>.sqlite: one
    file, no WAL beside it, vacuumed. Nothing is left out of it (the audit log, the users): it is what the code of
    its day wrote."""
    assert not PG_URL, "EVALAPP_REGEN_GOLDEN=db writes an SQLite database: run it without TEST_DATABASE_URL"
    source = make_url(db.engine.url).database
    db.session.remove()
    db.engine.dispose()
    target = GOLDEN / f"published-{date.today().isoformat()}.sqlite"
    assert not target.exists(), f"{target} exists: a snapshot is never written over"
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.execute("PRAGMA journal_mode=DELETE")
    dst.execute("PRAGMA page_size=1024")  # most of its 80 tables and indexes fill less than a page: 680 → 420 kB
    dst.execute("VACUUM")
    dst.close()
    return target


DATABASES = sorted(GOLDEN.glob("published-*.sqlite"))


@pytest.mark.parametrize("snapshot", DATABASES or [None], ids=[p.name for p in DATABASES] or ["none"])
def test_published_versions_from_older_code_still_verify(snapshot, tmp_path):
    """A database written by older code (tests/golden/published-<date>.sqlite, each kept for good), upgraded through
    today's migrations as `flask db upgrade` would, sealed by `flask seal-publications`, then `flask
    verify-publication` on every version it holds: each reports 校验通过 and exits 0 (an SQLite file, whatever
    database the suite runs on)."""
    from flask_migrate import upgrade

    from evalapp.models import Publication

    assert snapshot is not None, "no tests/golden/published-*.sqlite (EVALAPP_REGEN_GOLDEN=db writes one)"
    copy = tmp_path / snapshot.name
    shutil.copyfile(snapshot, copy)
    app = make_app(f"sqlite:///{copy}")
    with app.app_context():
        upgrade()
        versions = db.session.execute(select(Publication.round_id, Publication.version)
                                      .order_by(Publication.round_id, Publication.version)).all()
        db.session.remove()
        assert len(versions) >= 2, versions
        runner = app.test_cli_runner()
        # Versions from before seals (migration 0014) verify only once sealed; sealing verifies each first.
        before = runner.invoke(args=["verify-publication", "--round", str(versions[0][0])])
        assert before.exit_code == 1 and "防篡改印记：本版本没有防篡改印记" in before.output, before.output
        sealed = runner.invoke(args=["seal-publications"])
        assert sealed.exit_code == 0 and sealed.output.count("已加防篡改印记") == len(versions), sealed.output
        for round_id, version in [*versions, (versions[-1][0], None)]:  # None: the latest, as the CLI's default
            args = ["verify-publication", "--round", str(round_id)] + (["--version", str(version)] if version else [])
            result = runner.invoke(args=args)
            assert result.exit_code == 0, (args, result.output)
            lines = result.output.splitlines()
            assert lines[-1] == "校验通过", (args, result.output)
            assert not any(line.startswith("不符") for line in lines), (args, result.output)
            stored = next(line for line in lines if line.startswith("记录的SHA-256："))
            computed = next(line for line in lines if line.startswith("计算的SHA-256："))
            assert stored.split("：")[1] == computed.split("：")[1], (args, result.output)
        db.session.remove()
        db.engine.dispose()
