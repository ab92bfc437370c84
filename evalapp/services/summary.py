"""The 评估总结 to 市民政局 (issue 33, point 4): the district's narrative paragraphs kept with the round, its Word
template (upload, restore the default), and a generation from one published version.

A generation reads the version through the read model (services.readmodel.published: the unit rows checked against
their seals; the indicator rows read once and each unit's checked against its row), in a read-only transaction of
its own; the figures are domain.summary's arithmetic over those rows; where an earlier round has a published
version, the comparison with its last version is services.history's (compare_versions: by township like with like,
the indicators lost most often through lineage), read in the same transaction; the file is services.summary_doc.generate —
a pure function of (data, narratives, template), so that the work can move onto a job queue. Then, in the caller's
transaction, the round's 文号 is taken once (kind 评估总结; later generations carry the same number), the 签发人 kept,
and the generation audited (version, the version's SHA-256, the file's, the template's); one commit.

Only the district and the admin write or generate (DISTRICT_ROLES); the routes refuse everyone else.
"""
import dataclasses
import hashlib
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..domain import summary as rules
from ..domain.rectification import RecheckOutcome, RectificationStatus
from ..domain.vocabulary import Rollout
from ..extensions import db
from ..models import (Interview, OrgUnit, Publication, Rectification, Round, RoundSummary, SummaryTemplate, Team,
                      User)
from ..models.base import utcnow
from . import audit, doc_numbers, history, lineage, readmodel, seals
from .documents import MAX_DOCUMENT_BYTES
from .errors import Invalid, NotAllowed, NotFound, _l, check_text
from .export import district_name
from .filecheck import verify
from .summary_doc import (Compare, CompareLine, CompareLost, Narratives, Rectify, SummaryData, Talk, TemplateBroken,
                          default_template, generate, sample)

DISTRICT_ROLES = ("district", "admin")
RECIPIENT = "市民政局"
SECTION_MAX = 5000   # characters per narrative section
SIGNER_MAX = 50
SECTION_LABELS = {"practice": _l("做法和成效"), "analysis": _l("问题分析"), "advice": _l("建议")}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _district(user: User) -> None:
    if user.role not in DISTRICT_ROLES:
        raise NotAllowed("summary.district_only", _l("只有区级可以办理此事项"))


def chinese_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# ---------------------------------------------------------------- reads


def summary_of(round_id: int) -> RoundSummary | None:
    return db.session.scalar(select(RoundSummary).where(RoundSummary.round_id == round_id))


def narratives_of(round_id: int) -> Narratives:
    row = summary_of(round_id)
    return Narratives() if row is None else Narratives(row.practice, row.analysis, row.advice)


def template_in_force() -> SummaryTemplate | None:
    return db.session.scalar(select(SummaryTemplate).where(SummaryTemplate.retired_at.is_(None))
                             .order_by(SummaryTemplate.id.desc()).limit(1))


def template_bytes() -> tuple[bytes, str]:
    """The template in force (the district's, else the default) and its file name."""
    found = template_in_force()
    if found is None:
        return default_template(), "评估总结模板（默认）.docx"
    return found.data, found.filename


def versions_of(round_: Round) -> list[Publication]:
    return readmodel.versions(round_.id)


# ---------------------------------------------------------------- the narratives


def save_narratives(round_: Round, texts: dict[str, str], user: User, *, address: str | None = None) -> RoundSummary:
    """The three sections as typed (each up to SECTION_MAX characters); audited with the sections that changed."""
    _district(user)
    problems = {}
    cleaned = {}
    for name, label in SECTION_LABELS.items():
        text = (texts.get(name) or "").strip()
        try:
            check_text("summary.text", name, label, text, box=True)
        except Invalid as exc:
            problems[name] = exc.field_texts[name]
            continue
        if len(text) > SECTION_MAX:
            problems[name] = _l("%(field)s不能超过%(n)s字", field=label, n=SECTION_MAX)
        cleaned[name] = text
    if problems:
        raise Invalid("summary.text", next(iter(problems.values())), problems)
    row = summary_of(round_.id)
    if row is None:
        row = RoundSummary(round_id=round_.id, practice="", analysis="", advice="", signer="")
        db.session.add(row)
    changed = [name for name in SECTION_LABELS if (getattr(row, name) or "") != cleaned[name]]
    for name in SECTION_LABELS:
        setattr(row, name, cleaned[name])
    row.updated_at, row.updated_by_id = utcnow(), user.id
    audit.record("summary.narratives", user=user, address=address, obj=round_, round_id=round_.id,
                 new={"sections": changed, "count": sum(len(cleaned[n]) for n in SECTION_LABELS)})
    db.session.commit()
    return row


# ---------------------------------------------------------------- the template


def upload_template(data: bytes, filename: str, user: User, *, address: str | None = None) -> SummaryTemplate:
    """A template of the district's own, in force from now: checked as every uploaded Word file is
    (services.filecheck: a real .docx, no macros, no external template or content, no archive bomb), then tried
    with sample data (its tags must render). Invalid under `template` otherwise."""
    _district(user)

    def refuse(code: str, message):
        raise Invalid(code, message, {"template": message})

    if not data:
        refuse("summary.template_empty", _l("请选择要上传的模板文件"))
    if len(data) > MAX_DOCUMENT_BYTES:
        refuse("summary.template_too_large", _l("文件不能超过20MB"))
    try:
        kind = verify(data)
    except Invalid as exc:
        raise exc.under("template", "document") from None
    if kind != "docx":
        refuse("summary.template_type", _l("模板须为Word(.docx)文件"))
    data_, narratives = sample()
    try:
        generate(data_, narratives, data)
    except TemplateBroken as exc:
        refuse("summary.template_broken", _l("模板无法使用：%(why)s", why=str(exc)[:300]))
    name = (filename or "").strip().replace("/", "_").replace("\\", "_")[-150:] or "评估总结模板.docx"
    if not name.lower().endswith(".docx"):
        name += ".docx"
    row = SummaryTemplate(filename=name, sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    audit.record("summary.template_upload", user=user, address=address, obj=row,
                 new={"file": name, "sha256": row.sha256})
    db.session.commit()
    return row


def restore_default(user: User, *, address: str | None = None) -> int:
    """Retire every uploaded template: the default is in force again. Returns how many were retired."""
    _district(user)
    retired = db.session.execute(update(SummaryTemplate).where(SummaryTemplate.retired_at.is_(None))
                                 .values(retired_at=utcnow())).rowcount
    audit.record("summary.template_restore", user=user, address=address, new={"count": retired})
    db.session.commit()
    return retired


# ---------------------------------------------------------------- the version's data


def _rectifications(round_id: int) -> tuple[tuple[Rectify, ...], dict]:
    rows = db.session.scalars(select(Rectification).where(Rectification.round_id == round_id)
                              .options(selectinload(Rectification.rechecks))
                              .order_by(Rectification.township_name, Rectification.unit_code)).all()
    counts: dict[str, int] = {}
    lines = []
    for r in rows:
        status = RectificationStatus.zh_of(r.status)
        counts[status] = counts.get(status, 0) + 1
        outcome = next((RecheckOutcome.zh_of(c.outcome) for c in reversed(r.rechecks) if c.outcome), "—")
        lines.append(Rectify(r.unit_name, r.township_name, r.number or "—", chinese_date(r.complete_due), status,
                             outcome))
    return tuple(lines), counts


def _interviews(round_id: int) -> tuple[Talk, ...]:
    rows = db.session.execute(select(Interview, OrgUnit.name).join(OrgUnit, OrgUnit.id == Interview.unit_id)
                              .where(Interview.round_id == round_id).order_by(Interview.held_on, Interview.id)).all()
    out = []
    for talk, unit_name in rows:
        status = ("已审核书面报告" if talk.checked_at else "已报送书面报告" if talk.reported_at
                  else f"书面报告{chinese_date(talk.report_due)}前报送")
        out.append(Talk(unit_name, chinese_date(talk.held_on), tuple(text for text, _due in talk.requirements or []),
                        status))
    return tuple(out)


def _compare_line(t: history.TownshipLine) -> CompareLine:
    return CompareLine(t.township, t.level, t.n, t.rate_before, t.rate_after, t.rate_change, t.mean_before,
                       t.mean_after, t.mean_change)


def _comparison(round_: Round, pub: Publication) -> Compare | None:
    """The version against the earlier round's last published version (services.history: the nearest round before
    by 年度, then creation), as history's district comparison computes it; None without an earlier round. In the
    caller's (read-only) transaction."""
    before = history.earlier_than(round_)
    if before is None:
        return None
    after = history.version_ref(pub, round_)
    found = history.compare_versions(before, after)
    earlier = db.session.get(Publication, before.publication_id)
    places: dict[str, int] = {}  # by township, in history's order; a township's own line before its villages'
    for line in found.townships:
        places.setdefault(line.township, len(places))
    lines = sorted(found.townships, key=lambda t: (places[t.township], t.level != "township"))
    return Compare(
        label=history.pair_label_zh(before, after), before=f"{before.round_name}第{before.version}版",
        after=f"{after.round_name}第{after.version}版", before_sha256=earlier.sha256,
        townships=tuple(_compare_line(t) for t in lines), total=_compare_line(found.total),
        only_before=found.only_before, only_after=found.only_after,
        lost=tuple(CompareLost(x.level, x.code, x.title, x.units, x.scored, x.points, x.before_code, x.before_units,
                               x.before_scored) for x in found.lost[:rules.TOP_INDICATORS]))


def version_data(round_id: int, version: int) -> SummaryData:
    """The 总结's data from one published version (doc number, signer and date left blank: the generation's), with
    the comparison with the earlier round where there is one, read in a read-only transaction of its own;
    SealBroken when the version's rows are not what was sealed."""
    with readmodel.reading():
        round_ = db.session.get(Round, round_id)
        pub = readmodel.version_of(round_id, version)
        if round_ is None or pub is None:
            raise NotFound("summary.no_version", _l("该版本不存在"))
        _report, extras = readmodel.published(pub, round_, fresh=True)
        units = list(extras.rows.values())
        scores = readmodel.score_rows(pub.id)
        by_unit: dict[str, list] = {}
        for s in scores:
            by_unit.setdefault(s.unit_code, []).append(s)
        for u in units:  # every unit's indicator rows against its sealed row (one HMAC each, no query)
            seals.check_scores(pub, u, by_unit.get(u.code, []))
        figures = rules.figures(units, scores, tolerance=pub.tolerance, rule=pub.figures_rule)
        teams = tuple(db.session.scalars(select(Team.name).where(Team.round_id == round_id).order_by(Team.name)))
        catalogues = tuple(f"{label}《{c['name']}》（第{c['version']}版）" for level, label in
                           (("township", "镇(街道)级"), ("village", "村(社区)级"))
                           if (c := (pub.catalogues or {}).get(level)))
        if round_.inspection_start and round_.inspection_end:
            inspection = f"{chinese_date(round_.inspection_start)}至{chinese_date(round_.inspection_end)}"
        else:
            inspection = "未设定"
        rect_lines, rect_counts = _rectifications(round_id)
        local = pub.published_at.astimezone(ZoneInfo("Asia/Shanghai"))
        return SummaryData(
            issuer=f"{district_name()}民政局", recipient=RECIPIENT, doc_number="", signer="", date="",
            round_name=pub.round_name, year=round_.year, rollout=Rollout.zh_of(round_.rollout), version=pub.version,
            sha256=pub.sha256, published_at=chinese_date(local), inspection=inspection, teams=teams,
            catalogues=catalogues, threshold=pub.threshold, figures=figures, rectifications=rect_lines,
            rectify_counts=rect_counts, interviews=_interviews(round_id), comparison=_comparison(round_, pub))


# ---------------------------------------------------------------- a generation (a job: services.jobs)


def prepare_summary(round_: Round, version: int, signer: str, user: User, *, now: datetime | None = None) -> dict:
    """Issue the 评估总结 of `version`: take the round's 文号 the first time, keep the 签发人, freeze the lineage
    it stands on; one commit. Returns what the document is made of — the parameters of its job (services.jobs,
    kind ``summary_docx``): the same request (same version, 文号, 签发人, day, texts and template) is one job and
    one file."""
    _district(user)
    signer = (signer or "").strip()
    check_text("summary.signer", "signer", _l("签发人"), signer)
    if not signer:
        raise Invalid("summary.signer", _l("请填写签发人"), {"signer": _l("请填写签发人")})
    if len(signer) > SIGNER_MAX:
        raise Invalid("summary.signer", _l("签发人不能超过%(n)s字", n=SIGNER_MAX),
                      {"signer": _l("签发人不能超过%(n)s字", n=SIGNER_MAX)})
    pub = readmodel.version_of(round_.id, version)
    if pub is None:
        raise Invalid("summary.no_version", _l("请选择已公布的版本"), {"version": _l("请选择已公布的版本")})
    template, template_name = template_bytes()
    row = summary_of(round_.id)
    if row is None:
        row = RoundSummary(round_id=round_.id, practice="", analysis="", advice="", signer="")
        db.session.add(row)
    moment = (now or datetime.now(ZoneInfo("Asia/Shanghai"))).astimezone(ZoneInfo("Asia/Shanghai"))
    if not row.doc_number:  # 文号: the year of issue, as the 整改通知 and 约谈通报 are numbered
        row.doc_number = doc_numbers.take(doc_numbers.SUMMARY, moment.year).text
    row.signer = signer
    # The catalogues' lineage (how each indicator relates to the version before) is never edited once a 评估总结
    # has gone out on it (issue 33, point 1).
    for cat in (round_.township_catalogue, round_.village_catalogue):
        lineage.freeze_lineage(cat)
    before = history.earlier_than(round_)
    compared = None if before is None else {
        "version": before.version, "publication_sha256": db.session.get(Publication, before.publication_id).sha256}
    params = {"round_id": round_.id, "version": version, "sha256": pub.sha256, "compared_with": compared,
              "doc_number": row.doc_number, "signer": signer, "date": chinese_date(moment),
              "narratives": {"practice": row.practice, "analysis": row.analysis, "advice": row.advice},
              "template": template_name,
              "template_sha256": hashlib.sha256(template).hexdigest(), "audience": list(DISTRICT_ROLES)}
    db.session.commit()
    return params


def build_summary(params: dict, progress) -> tuple[io.BytesIO, str]:
    """The .docx a job's parameters describe (prepare_summary): the version read and checked against its seals,
    the document generated with the template it was asked with. (file, name)."""
    progress(0, 2)
    data = version_data(params["round_id"], params["version"])
    if data.sha256 != params["sha256"]:
        raise RuntimeError("the version's checksum is not the one the summary was asked for")
    template, _name = template_bytes()
    if hashlib.sha256(template).hexdigest() != params["template_sha256"]:  # replaced since: ask again
        raise RuntimeError("the template in force changed since the summary was asked for")
    progress(1, 2)
    data = dataclasses.replace(data, doc_number=params["doc_number"], signer=params["signer"], date=params["date"])
    body = generate(data, Narratives(**params["narratives"]), template)
    return io.BytesIO(body), f"{data.issuer}_{data.round_name}_评估总结_第{params['version']}版.docx"


def audited(params: dict) -> dict:
    """What a download of the document records (services.jobs.downloaded: the job and the file's SHA-256 beside)."""
    return {"version": params["version"], "publication_sha256": params["sha256"],
            "compared_with": params["compared_with"], "doc_number": params["doc_number"], "signer": params["signer"],
            "template": params["template"], "template_sha256": params["template_sha256"]}
