"""Issue 30, point 2: rounds have a 年度; 文号 come from a sequence per issuing office, kind and year, without gaps or
repeats under concurrent callers; the 通报 of a version carries its number, never changed, and a republished one
says which version it replaces and why."""
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditEvent, DocSequence, Publication, Round
from evalapp.services import doc_numbers, publication
from evalapp.services.errors import Invalid
from tests.factories import VILLAGE
from tests.test_publication_snapshot import _client, published  # noqa: F401  (the fixture)


def test_numbers_run_per_office_kind_and_year(empty_app):
    assert doc_numbers.take("整改通知", 2026).text == "云溪民发〔2026〕1号"
    assert doc_numbers.take("整改通知", 2026).text == "云溪民发〔2026〕2号"
    assert doc_numbers.take("整改通知", 2027).text == "云溪民发〔2027〕1号"
    assert doc_numbers.take("约谈通报", 2026).text == "云溪民发〔2026〕1号"
    assert doc_numbers.take("整改通知", 2026, "云溪组通").text == "云溪组通〔2026〕1号"
    db.session.commit()
    assert doc_numbers.take("整改通知", 2026).seq == 3


def test_a_rolled_back_caller_gives_its_number_back(empty_app):
    doc_numbers.take("通报", 2026)
    db.session.commit()
    assert doc_numbers.take("通报", 2026).seq == 2
    db.session.rollback()
    assert doc_numbers.take("通报", 2026).seq == 2


def test_bad_kind_office_or_year_is_refused(empty_app):
    for args in (("", 2026), ("通报", 1999), ("通报", 2026, "x" * 21)):
        with pytest.raises(ValueError):
            doc_numbers.take(*args)


@pytest.mark.parametrize("first", [True, False], ids=["first-number", "later-number"])
def test_concurrent_callers_never_get_one_number_twice(empty_app, first):
    """Six callers released together (the sequence's row new, or already there): six different numbers, 1…6 (or
    2…7), and the row holds the last."""
    if not first:
        doc_numbers.take("整改通知", 2026)
        db.session.commit()
    n = 6
    barrier = threading.Barrier(n)
    got, errors = [], []

    def caller():
        with empty_app.app_context():
            try:
                barrier.wait()
                number = doc_numbers.take("整改通知", 2026)
                db.session.commit()
                got.append(number.seq)
            except Exception as exc:  # reported below: a failure in a thread must fail the test
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=caller) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    start = 1 if first else 2
    assert sorted(got) == list(range(start, start + n))
    db.session.expire_all()
    assert db.session.scalar(select(DocSequence.last).where(DocSequence.kind == "整改通知")) == start + n - 1


def test_a_round_gets_its_year_from_the_name_and_the_settings_form_changes_it(published, empty_app):
    w = published
    assert w.round.year == 2031  # 2031年度测试评估验收
    admin = _client(empty_app, "admin")
    page = admin.get(f"/admin/rounds/{w.round.id}").get_data(as_text=True)
    assert 'name="year"' in page and 'value="2031"' in page


def test_the_settings_form_refuses_a_bad_year_beside_the_field_and_keeps_it(empty_app):
    from tests.factories import make_round

    w = make_round("setup")
    admin = _client(empty_app, "admin")
    response = admin.post(f"/admin/rounds/{w.round.id}/settings",
                          data={"year": "20x6", "threshold": "95", "tolerance": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-error="year"' in page and 'value="20x6"' in page
    db.session.expire_all()
    assert db.session.get(Round, w.round.id).year == 2031
    ok = admin.post(f"/admin/rounds/{w.round.id}/settings", data={"year": "2026", "threshold": "95", "tolerance": "1"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Round, w.round.id).year == 2026
    assert db.session.scalar(select(AuditEvent.new).where(AuditEvent.action == "round.settings"))["year"] == "2026"


def test_a_new_round_without_a_year_takes_the_one_in_its_name(empty_app):
    from tests.factories import make_round

    w = make_round("setup")
    admin = _client(empty_app, "admin")
    response = admin.post("/admin/rounds", data={
        "name": "2025年度全面推行评估验收", "rollout": "full", "threshold": "95", "tolerance": "1",
        "township_catalogue_id": str(w.round.township_catalogue_id),
        "village_catalogue_id": str(w.round.village_catalogue_id)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert db.session.scalar(select(Round.year).where(Round.name == "2025年度全面推行评估验收")) == 2025


def _issue_year() -> int:
    """The year of issue a 文号 carries (GB/T 9704): the publication's, in Beijing."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).year


def test_the_notice_of_a_version_carries_its_number_and_a_republication_says_what_it_replaces(published, empty_app):
    w = published
    Y = _issue_year()
    v1 = db.session.scalar(select(Publication).where(Publication.round_id == w.round.id))
    assert v1.doc_number == f"云溪民发〔{Y}〕1号"
    district = _client(empty_app, "district")
    notice = district.get(f"/results/rounds/{w.round.id}/notice").get_data(as_text=True)
    assert f"云溪民发〔{Y}〕1号" in notice and 'data-testid="replaces"' not in notice
    from tests.test_publication_races import _final  # the village's final sheet

    final = _final(w, VILLAGE)
    publication.unlock(final, w.people["admin"], "A3台账补齐后复核")
    from evalapp.services.moves import move_sheet

    move_sheet(final, "submitted", w.people["admin"])
    move_sheet(final, "approved", w.people["admin"])
    v2 = publication.publish(w.round, w.people["district"], confirm_no_subsidy=True, doc_number=f"云溪民发[{Y}]9号")
    assert v2.doc_number == f"云溪民发〔{Y}〕9号"
    notice = district.get(f"/results/rounds/{w.round.id}/notice").get_data(as_text=True)
    assert f"云溪民发〔{Y}〕9号" in notice and "本通报替代第1版通报" in notice
    assert "荷塘村评分表解锁复核（A3台账补齐后复核）" in notice
    # The typed number moved the sequence on; the old version's number is as it was.
    assert doc_numbers.peek(doc_numbers.NOTICE, Y).seq == 10
    db.session.expire_all()
    assert db.session.get(Publication, v1.id).doc_number == f"云溪民发〔{Y}〕1号"


def test_a_typed_number_in_another_form_or_already_used_is_refused_and_changes_nothing(published, empty_app):
    w = published
    Y = _issue_year()
    from tests.test_publication_races import _final

    final = _final(w, VILLAGE)
    publication.unlock(final, w.people["admin"], "复核")
    from evalapp.services.moves import move_sheet

    move_sheet(final, "submitted", w.people["admin"])
    move_sheet(final, "approved", w.people["admin"])
    for typed, code in (("第3号", "round.doc_number_invalid"), (f"云溪民发〔{Y}〕1号", "round.doc_number_taken")):
        with pytest.raises(Invalid) as refused:
            publication.publish(w.round, w.people["district"], confirm_no_subsidy=True, doc_number=typed)
        assert refused.value.code == code and "doc_number" in refused.value.fields
        db.session.rollback()
    district = _client(empty_app, "district")
    response = district.post(f"/results/rounds/{w.round.id}/publish", data={
        "confirm_no_subsidy": "1", "doc_number": "第3号"}, headers={"Accept": "application/json"})
    assert response.status_code == 422 and "doc_number" in response.get_json()["fields"]
    assert [p.version for p in db.session.scalars(select(Publication).where(Publication.round_id == w.round.id))] == [1]
    # The publish form names the number the version will take (none was given out by the refusals).
    page = district.get(f"/results/rounds/{w.round.id}").get_data(as_text=True)
    assert f'data-testid="next-doc-number">云溪民发〔{Y}〕2号<' in page and 'name="doc_number"' in page
