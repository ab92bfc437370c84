"""Issue 28, point 2: a published version is sealed with a key kept outside the database; every official face checks
the seal of what it shows and shows an alarm instead of 正式 when it fails; verify-publication checks it too, and
calls a live difference an unlock's only when an unlock explains it. Tampers are done in the database behind the
app's back (SQL), as a person with database access but not the app's configuration would."""
import pytest
from sqlalchemy import select, text

from evalapp import ConfigError, create_app
from evalapp.extensions import db
from evalapp.models import Publication, PublishedUnit, Score, Sheet
from evalapp.services import publication, readmodel, seals, snapshots
from evalapp.services.errors import Conflict
from tests.factories import TOWNSHIP, VILLAGE
from tests.test_publication_snapshot import _client, published  # noqa: F401  (the fixture)

FACES = {  # what each official face is asked, by whom (the 正式 view of the round's last version)
    "results page": ("district", "/results/rounds/{rid}"),
    "finance page": ("finance", "/finance/rounds/{rid}"),
    "eligibility xlsx": ("finance", "/finance/rounds/{rid}/eligibility.xlsx"),
    "district workbook": ("district", "/results/rounds/{rid}/workbook.xlsx"),
    "通报": ("district", "/results/rounds/{rid}/notice"),
    "API results": ("district", "/api/v1/rounds/{rid}/results"),
}


def _tamper(sql: str, **params) -> None:
    db.session.execute(text(sql), params)
    db.session.commit()


def _pub(w) -> Publication:
    return readmodel.latest(w.round.id)


def _alarmed(response) -> bool:
    if response.is_json:
        return response.status_code == 409 and response.get_json()["code"] == "publication.seal_broken"
    body = response.get_data(as_text=True)
    return response.status_code == 409 and 'data-testid="seal-broken"' in body and "正式 — 第" not in body


def _get(app, user, path, w):
    return _client(app, user).get(path.format(rid=w.round.id))  # (the API takes the session too)


def test_a_sealed_version_is_shown_as_official_by_every_face(published, empty_app):
    w = published
    pub = _pub(w)
    assert pub.seal_key == "t1" and len(pub.seal) == 64
    rows = readmodel.unit_rows(pub.id)
    assert all(len(r.seal) == 64 and len(r.scores_sha256) == 64 and len(r.points_sha256) == 64 for r in rows)
    for face, (user, path) in FACES.items():
        response = _get(empty_app, user, path, w)
        assert response.status_code == 200, (face, response.status_code)


@pytest.mark.parametrize("tamper", [
    # an amount changed, and the stored checksum recomputed to match: the checksum alone would not catch it
    "amount_and_checksum",
    # two villages' links to their 评分表 swapped (columns outside the checksum)
    "swap_sheet_ids",
    # a unit row deleted
    "delete_row",
    # the version's own row: its total and its rules
    "header_total",
])
def test_a_tamper_behind_the_app_shows_the_alarm_on_every_face_and_fails_verify(published, empty_app, tamper):
    w = published
    pub = _pub(w)
    # Every face read the version once already (kept per process): the tamper must still show.
    for _face, (user, path) in FACES.items():
        assert _get(empty_app, user, path, w).status_code == 200
    if tamper == "amount_and_checksum":
        _tamper("UPDATE published_units SET amount_fen = 900000 WHERE publication_id = :p AND code = :c",
                p=pub.id, c=w.units[VILLAGE].code)
        db.session.expire_all()
        pub = _pub(w)
        pub.sha256 = snapshots.checksum(pub, readmodel.unit_rows(pub.id), readmodel.score_rows(pub.id))
        db.session.commit()
    elif tamper == "swap_sheet_ids":
        a, b = db.session.execute(select(PublishedUnit.id, PublishedUnit.final_sheet_id).where(
            PublishedUnit.publication_id == pub.id, PublishedUnit.level == "village")).all()[:2]
        _tamper("UPDATE published_units SET final_sheet_id = :s WHERE id = :i", s=b[1], i=a[0])
        _tamper("UPDATE published_units SET final_sheet_id = :s WHERE id = :i", s=a[1], i=b[0])
    elif tamper == "delete_row":
        _tamper("DELETE FROM published_units WHERE publication_id = :p AND code = :c",
                p=pub.id, c=w.units[VILLAGE].code)
    else:
        _tamper("UPDATE publications SET total_fen = total_fen + 100 WHERE id = :p", p=pub.id)
    readmodel.clock = lambda: 10.0 ** 9  # past SEAL_RECHECK_SECONDS since any page read the version
    try:
        for face, (user, path) in FACES.items():
            assert _alarmed(_get(empty_app, user, path, w)), face
    finally:
        readmodel.clock = __import__("time").monotonic
    db.session.expire_all()
    bad = empty_app.test_cli_runner().invoke(args=["verify-publication", "--round", str(w.round.id)])
    assert bad.exit_code == 1 and "防篡改印记" in bad.output, bad.output


def test_the_downloads_check_at_once_and_the_pages_within_the_recheck_time(published, empty_app):
    """A page keeps a checked version for SEAL_RECHECK_SECONDS; the official downloads read and check it each time."""
    w = published
    pub = _pub(w)
    now = [1000.0]
    readmodel.clock = lambda: now[0]
    try:
        assert _get(empty_app, "finance", "/finance/rounds/{rid}", w).status_code == 200
        _tamper("UPDATE published_units SET amount_fen = 900000 WHERE publication_id = :p AND code = :c",
                p=pub.id, c=w.units[VILLAGE].code)
        assert _alarmed(_get(empty_app, "finance", "/finance/rounds/{rid}/eligibility.xlsx", w))
        now[0] += empty_app.config["SEAL_RECHECK_SECONDS"] + 1
        assert _alarmed(_get(empty_app, "finance", "/finance/rounds/{rid}", w))
    finally:
        readmodel.clock = __import__("time").monotonic


def test_a_changed_indicator_score_shows_the_alarm_on_the_printed_sheet_and_the_workbook(published, empty_app):
    w = published
    pub = _pub(w)
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[VILLAGE].id))
    district = _client(empty_app, "district")
    assert district.get(f"/results/sheets/{final.id}/print").status_code == 200
    _tamper("UPDATE published_scores SET points = max_points WHERE publication_id = :p AND unit_code = :c",
            p=pub.id, c=w.units[VILLAGE].code)
    assert _alarmed(district.get(f"/results/sheets/{final.id}/print"))
    assert _alarmed(district.get(f"/results/rounds/{w.round.id}/workbook.xlsx"))
    assert _alarmed(district.get(f"/results/rounds/{w.round.id}/notice"))  # 荷塘村 fails: its rows are shown


def test_a_missing_key_is_the_alarm_and_no_version_is_published_without_one(published, empty_app):
    w = published
    empty_app.config["SEAL_KEYS"] = {"t2": "11" * 32}
    readmodel.clear_cache()
    response = _get(empty_app, "finance", "/finance/rounds/{rid}", w)
    assert _alarmed(response) and "密钥 t1 未配置" in response.get_data(as_text=True)
    empty_app.config["SEAL_KEY_ID"] = "t9"
    with pytest.raises(Conflict) as refused:
        seals.current_key()
    assert refused.value.code == "publication.no_seal_key"


def test_production_refuses_to_start_without_seal_keys(tmp_path, monkeypatch):
    monkeypatch.delenv("EVALAPP_SEAL_KEYS", raising=False)
    with pytest.raises(ConfigError, match="SEAL_KEYS"):
        create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.sqlite3",
                    "SEAL_KEYS": {}})


def test_a_live_difference_is_called_an_unlock_only_when_an_unlock_explains_it(published, empty_app):
    w = published
    runner = empty_app.test_cli_runner()
    # A live score changed behind the app, no unlock: named as unexplained.
    village_final = db.session.scalar(select(Sheet).where(
        Sheet.round_id == w.round.id, Sheet.kind == "final", Sheet.unit_id == w.units[VILLAGE].id))
    score_id = db.session.scalar(select(Score.id).where(Score.sheet_id == village_final.id, Score.reason != ""))
    _tamper("UPDATE scores SET points = 100 WHERE id = :i", i=score_id)
    _tamper("UPDATE sheets SET score_sum = score_sum + 5000 WHERE id = :i", i=village_final.id)
    from evalapp.services import versions
    versions.bump(w.round.id)
    db.session.commit()
    out = runner.invoke(args=["verify-publication", "--round", str(w.round.id)]).output
    line = next(x for x in out.splitlines() if VILLAGE in x and "→" in x)
    assert "没有解锁记录" in line and "解锁后修改" not in line, out
    # The township's sheet unlocked and its total changed: named as the unlock's.
    township_final = db.session.scalar(select(Sheet).where(
        Sheet.round_id == w.round.id, Sheet.kind == "final", Sheet.unit_id == w.units[TOWNSHIP].id))
    publication.unlock(township_final, w.people["admin"], "复核台账")
    out = runner.invoke(args=["verify-publication", "--round", str(w.round.id)]).output
    line = next(x for x in out.splitlines() if TOWNSHIP in x and "→" in x)
    assert "解锁后修改" in line and "没有解锁记录" not in line, out
