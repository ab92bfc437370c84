"""Issue 33, point 4 (its last part): the 评估总结 of a round with an earlier published round compares with it — a
section 三、与上一轮评估比较 naming the versions compared, a table by township (the units in both versions compared
like with like, n, pass rate and mean on each side, change) and the indicators lost most often with the earlier
count through lineage; the sections after it renumbered. Without an earlier round the section is absent and the
numbering stays continuous.

The two rounds are test_history's (a 2021 pilot; a 2022 rollout on a copied catalogue with a renamed, a split and a
new indicator, and a village recoded in between), both published. Every figure checked is computed here from the raw
PublishedUnit / PublishedScore rows, not through evalapp's code.
"""
import io
from decimal import ROUND_HALF_UP, Decimal

from docx import Document
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Publication, PublishedScore, PublishedUnit
from tests.test_history import _login, two_rounds  # noqa: F401  (the fixture)

LEVEL_ZH = {"township": "镇(街道)", "village": "村(社区)"}
# The rollout's village catalogue against the pilot's, as the fixture records its lineage: B2 renamed B2X; C2 split
# (C2a, C2b) and E4 new have no earlier counterpart; every other code the same. The township catalogue is the same.
FOLLOWED_BACK = {"B2X": "B2", "C2a": None, "C2b": None, "E4": None}


def q2(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def signed(value: Decimal) -> str:
    text = q2(value)
    return text if text.startswith("-") or text == "0.00" else "+" + text


def _generate(client, round_id) -> Document:
    from tests.test_summary_report import _generate as generated

    return Document(io.BytesIO(generated(client, round_id)))


def _table(doc, header: list[str]) -> list[list[str]]:
    found = [t for t in doc.tables if [c.text for c in t.rows[0].cells] == header]
    assert len(found) == 1, header
    return [[c.text for c in r.cells] for r in found[0].rows[1:]]


def _last(round_id: int) -> int:
    return db.session.scalar(select(Publication.id).where(Publication.round_id == round_id)
                             .order_by(Publication.version.desc()))


def _expected_lines(before_pid: int, after_pid: int) -> dict[tuple[str, str], list[str]]:
    """(township, level) → [n, pass rate and mean before, after, change] over the units in both versions (the same
    unit id: the recoded village too) with a total in both; the 合计 under ("合计", "")."""
    before = {u.unit_id: u for u in db.session.scalars(select(PublishedUnit).where(
        PublishedUnit.publication_id == before_pid))}
    groups: dict[tuple[str, str], list] = {}
    for b in db.session.scalars(select(PublishedUnit).where(PublishedUnit.publication_id == after_pid)):
        a = before.get(b.unit_id)
        if a is not None and a.final_total is not None and b.final_total is not None:
            groups.setdefault((b.township_name, LEVEL_ZH[b.level]), []).append((a, b))
    groups[("合计", "")] = [pair for pairs in list(groups.values()) for pair in pairs]
    out = {}
    for key, pairs in groups.items():
        n = len(pairs)
        rate_a = Decimal(sum(a.result == "pass" for a, _ in pairs)) * 100 / n
        rate_b = Decimal(sum(b.result == "pass" for _, b in pairs)) * 100 / n
        mean_a = sum(a.final_total for a, _ in pairs) / n
        mean_b = sum(b.final_total for _, b in pairs) / n
        out[key] = [str(n), q2(rate_a), q2(rate_b), signed(Decimal(q2(rate_b)) - Decimal(q2(rate_a))),
                    q2(mean_a), q2(mean_b), signed(Decimal(q2(mean_b)) - Decimal(q2(mean_a)))]
    return out


def _lost_counts(pid: int) -> dict[tuple[str, str], tuple[int, int]]:
    """(level, indicator code) → (units that lost points on it, units scored on it) in one version."""
    out: dict[tuple[str, str], list[int]] = {}
    for s, level in db.session.execute(select(PublishedScore, PublishedUnit.level).join(
            PublishedUnit, (PublishedUnit.publication_id == PublishedScore.publication_id)
            & (PublishedUnit.code == PublishedScore.unit_code)).where(PublishedScore.publication_id == pid)):
        if s.points is None:
            continue
        counts = out.setdefault((LEVEL_ZH[level], s.indicator_code), [0, 0])
        counts[0] += s.points < s.max_points
        counts[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def test_the_rollouts_summary_compares_with_the_pilot_and_the_pilots_has_no_such_section(two_rounds, empty_app):
    r1, r2 = two_rounds["r1"], two_rounds["r2"]
    district = _login(empty_app, "district")
    before_pid, after_pid = _last(r1.id), _last(r2.id)

    doc = _generate(district, r2.id)
    body = "\n".join(p.text for p in doc.paragraphs)
    heads = [p.text for p in doc.paragraphs if p.style.name == "一级标题"]
    assert heads == ["一、基本情况", "二、评估结果", "三、与上一轮评估比较", "四、存在的问题", "五、整改要求及下一步"]
    # The versions compared, named.
    assert "2021 第1版 vs 2022 第1版" in body
    assert f"上一轮评估（{r1.name}第1版）" in body and f"本轮评估（{r2.name}第1版）" in body
    earlier_sha = db.session.get(Publication, before_pid).sha256
    assert earlier_sha in body  # the earlier version's SHA-256 beside the version's own

    # The table by township: n like with like, pass rate and mean on each side, change — computed here.
    rows = _table(doc, ["镇(街道)", "层级", "比较单位数", "上一轮合格率(%)", "本轮合格率(%)", "合格率变化",
                        "上一轮平均分", "本轮平均分", "平均分变化"])
    expected = _expected_lines(before_pid, after_pid)
    assert {(r[0], r[1]): r[2:] for r in rows} == expected
    assert expected[("合计", "")][0] == "4"  # all four units, the recoded village among them
    assert [r[0] for r in rows[:-1]] == sorted((r[0] for r in rows[:-1]), key=[r[0] for r in rows].index)
    total = expected[("合计", "")]  # 75 % both years; 95.25 → 95.13 (the means as shown: 0.12 lower)
    assert f"同口径合格率由{total[1]}%变为{total[2]}%（持平）" in body
    assert f"平均分由{total[4]}分变为{total[5]}分（降低{total[6].lstrip('-')}分）" in body and total[6] == "-0.12"

    # The indicators lost most often in 2022, each with its 2021 counterpart's count through lineage.
    lost_rows = _table(doc, ["序号", "层级", "本轮指标", "本轮失分单位数", "本轮评分单位数", "本轮合计失分",
                             "上一轮指标", "上一轮失分单位数", "上一轮评分单位数"])
    after, before = _lost_counts(after_pid), _lost_counts(before_pid)
    losing = {k: v for k, v in after.items() if v[0]}
    assert losing and len(losing) <= 10
    got = {(r[1], r[2].split(" ")[0]): r for r in lost_rows}
    assert set(got) == set(losing)
    for (level, code), row in got.items():
        assert (int(row[3]), int(row[4])) == after[(level, code)]
        old = FOLLOWED_BACK.get(code, code) if level == "村(社区)" else code
        if old is None:
            assert row[6:] == ["—", "—", "—"], code
        else:
            assert row[6] == old and (int(row[7]), int(row[8])) == before[(level, old)], code
    assert [int(r[3]) for r in lost_rows] == sorted((int(r[3]) for r in lost_rows), reverse=True)
    assert got[("村(社区)", "B2X")][6] == "B2"  # renamed: followed

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.summary")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.new["compared_with"]["publication_sha256"] == earlier_sha

    # The pilot has no earlier round: no such section, and the numbering stays continuous.
    pilot = _generate(district, r1.id)
    pilot_body = "\n".join(p.text for p in pilot.paragraphs)
    assert [p.text for p in pilot.paragraphs if p.style.name == "一级标题"] == [
        "一、基本情况", "二、评估结果", "三、存在的问题", "四、整改要求及下一步"]
    assert "与上一轮" not in pilot_body and " vs " not in pilot_body
    assert not [t for t in pilot.tables if t.rows[0].cells[0].text == "镇(街道)" and t.rows[0].cells[1].text == "层级"]
    captions = [p.text for p in pilot.paragraphs if p.text.startswith("表")]
    assert [c.split("　")[0] for c in captions] == [f"表{n}" for n in range(1, len(captions) + 1)]
