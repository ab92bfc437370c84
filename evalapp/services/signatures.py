"""Signatures on a unit's 评分表: who signs, what each signature is bound to, recording one (issue 19, point 6).

The slots of a final sheet are the team's members who score the unit (评估员, one each; not a member whose sheet was
closed as 未提交), the team leader (工作组组长) and the evaluated unit's representative (被评单位代表). Each person has
one slot: a leader who also scores the unit (组长评分, the team's setting) signs once, in the leader's slot, named
as both (工作组组长、评估员; issue 29, point 5). A signature
holds the SHA-256 of the 评分表's content when it was drawn (`digests_for`: the published version's content while
it is the official 评分表, else the content as it stands — `content_digests` and `published_digests`, both through
domain.signatures.content_bytes). A slot shows the newest drawing bound to the content compared with, else its
newest drawing as 签名后有改动 (asked to sign again). Signing is shown on the sheets and in the queues and never
holds up a submission; it waits until every indicator has its final score.

`sign` is the one rule for the reconcile page's form and the API.
"""
import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw
from sqlalchemy import and_, or_, select, update

from .. import access
from ..domain.signatures import (
    BOX_HEIGHT, BOX_WIDTH, NAME_MAX, SignatureProblem, content_sha256, name_problem, normalise, parse_slot, slot_key,
)
from ..domain.vocabulary import SignatureState, SignerRole, SignerTitle
from ..extensions import db
from ..models import (
    BonusItem, Indicator, OrgUnit, Publication, PublishedScore, PublishedUnit, RoundUnit, Score, Sheet, SheetBonus,
    SheetVeto, Signature, Team, User, VetoItem,
)
from ..models.base import utcnow
from . import audit, locks, readmodel
from .errors import Conflict, Invalid, NotAllowed, NotFound, _l
from .figures import lock_sheet

# -- what a signature is bound to ----------------------------------------------------------------------------------


def _p(value) -> str:
    return f"{value:.2f}"


def content_digests(sheets: list[Sheet]) -> dict[int, str]:
    """final sheet id → the SHA-256 of its 评分表's content as it stands; four statements per round, whatever the
    number of sheets (a queue's page asks for all of its rows at once)."""
    out: dict[int, str] = {}
    by_round: dict[int, list[Sheet]] = {}
    for sheet in sheets:
        by_round.setdefault(sheet.round_id, []).append(sheet)
    for round_id, group in by_round.items():
        ids = [s.id for s in group]
        codes = dict(db.session.execute(select(Sheet.id, OrgUnit.code).join(OrgUnit, OrgUnit.id == Sheet.unit_id)
                                        .where(Sheet.id.in_(ids))).all())
        deductions = readmodel.member_deductions(round_id, [s.unit_id for s in group])
        scores: dict[int, list] = {i: [] for i in ids}
        for sheet_id, code, points, reason in db.session.execute(
                select(Score.sheet_id, Indicator.code, Score.points, Score.reason)
                .join(Indicator, Indicator.id == Score.indicator_id)
                .where(Score.sheet_id.in_(ids), Score.points.is_not(None))):
            scores[sheet_id].append((code, _p(points), reason, deductions.get((codes[sheet_id], code), [])))
        bonus: dict[int, list] = {i: [] for i in ids}
        for sheet_id, code in db.session.execute(
                select(SheetBonus.sheet_id, BonusItem.code).join(BonusItem, BonusItem.id == SheetBonus.bonus_item_id)
                .where(SheetBonus.sheet_id.in_(ids))):
            bonus[sheet_id].append(code)
        vetoes: dict[int, list] = {i: [] for i in ids}
        for sheet_id, code, finding in db.session.execute(
                select(SheetVeto.sheet_id, VetoItem.code, SheetVeto.description)
                .join(VetoItem, VetoItem.id == SheetVeto.veto_item_id).where(SheetVeto.sheet_id.in_(ids))):
            vetoes[sheet_id].append((code, finding))
        for sheet_id in ids:
            out[sheet_id] = content_sha256(round_id, codes[sheet_id], scores[sheet_id], bonus[sheet_id],
                                           vetoes[sheet_id])
    return out


def published_digests(publication: Publication, sheet_ids: list[int]) -> dict[int, str]:
    """final sheet id → the SHA-256 of its 评分表's content as the version holds it (the same bytes as the live
    sheet's when nothing changed since), for the sheets the version holds; two statements."""
    units = {u.code: u for u in db.session.scalars(select(PublishedUnit).where(
        PublishedUnit.publication_id == publication.id, PublishedUnit.final_sheet_id.in_(sheet_ids)))}
    scores: dict[str, list] = {code: [] for code in units}
    if units:
        for s in db.session.scalars(select(PublishedScore).where(
                PublishedScore.publication_id == publication.id, PublishedScore.unit_code.in_(list(units)),
                PublishedScore.points.is_not(None))):
            scores[s.unit_code].append((s.indicator_code, _p(s.points), s.reason, s.deductions))
    return {u.final_sheet_id: content_sha256(publication.round_id, code, scores[code],
                                             [b[0] for b in u.bonus_items], [(v[0], v[2]) for v in u.veto_findings])
            for code, u in units.items()}


def digests_for(sheets: list[Sheet]) -> dict[int, str]:
    """What a signature is bound to now, per final sheet: the published version's content while it is the official
    评分表 (the round published, the sheet not unlocked since), else the sheet's content as it stands (an unlocked
    sheet is being changed for the next version). The one rule for signing and for every page's state but the
    printed 评分表, which compares with the content it prints."""
    out = content_digests(sheets)
    by_round: dict[int, list[Sheet]] = {}
    for sheet in sheets:
        if sheet.round.status == "published" and not sheet.unlocked:
            by_round.setdefault(sheet.round_id, []).append(sheet)
    for round_id, group in by_round.items():
        last = readmodel.latest(round_id)
        if last is not None:
            out.update(published_digests(last, [s.id for s in group]))
    return out


# -- the slots and their state -------------------------------------------------------------------------------------


@dataclass
class Slot:
    key: str                      # domain.signatures.slot_key: the form's value
    role: SignerRole
    signer_id: int | None
    name: str                     # the member's or leader's name; the representative's as last signed ("" before)
    signature: Signature | None = None
    state: SignatureState = SignatureState.UNSIGNED
    scores: bool = False          # the signer scored the unit: a member, or a leader who also scores

    @property
    def title(self) -> SignerRole | SignerTitle:
        """What the slot names its signer (.zh on paper, .label on pages): the role, or both of a scoring leader's."""
        return SignerTitle.LEADER_SCORING if self.role is SignerRole.LEADER and self.scores else self.role

    @property
    def signed(self) -> bool:
        return self.state is SignatureState.SIGNED


@dataclass
class Signing:
    sheet: Sheet
    digest: str                   # the content the slots' signatures are compared with
    slots: list[Slot]
    extra_names: list[str] = field(default_factory=list)  # a version's members who have left the team: paper lines

    @property
    def signed(self) -> int:
        return sum(s.signed for s in self.slots)

    @property
    def stale(self) -> int:
        return sum(s.state is SignatureState.STALE for s in self.slots)

    @property
    def leader_id(self) -> int | None:
        return next((s.signer_id for s in self.slots if s.role is SignerRole.LEADER), None)

    def recordable(self, user: User) -> set[str]:
        """The slots this user's session may record: the leader's tablet is passed round (every slot); a member on
        their own tablet signs for themselves and takes the unit's representative's signature."""
        if user.id == self.leader_id:
            return {s.key for s in self.slots}
        return {slot_key("inspector", user.id), "representative"} & {s.key for s in self.slots}


def _people(sheets: list[Sheet]) -> dict[int, tuple[list[tuple[int, str]], tuple[int, str] | None]]:
    """final sheet id → (the members scoring its unit [(user id, name)], the team leader (id, name) or None)."""
    pairs = {(s.round_id, s.unit_id): s.id for s in sheets}
    out = {s.id: ([], None) for s in sheets}
    if not sheets:
        return out
    keys = [and_(Sheet.round_id == r, Sheet.unit_id == u) for r, u in pairs]
    for round_id, unit_id, user_id, name in db.session.execute(
            select(Sheet.round_id, Sheet.unit_id, User.id, User.display_name)
            .join(User, User.id == Sheet.inspector_id)
            .where(Sheet.kind == "inspector", Sheet.status != "closed", or_(*keys))  # (未提交: not theirs to sign)
            .order_by(Sheet.inspector_id)):
        out[pairs[(round_id, unit_id)]][0].append((user_id, name))
    for round_id, unit_id, user_id, name in db.session.execute(
            select(RoundUnit.round_id, RoundUnit.unit_id, User.id, User.display_name)
            .join(Team, Team.id == RoundUnit.team_id).join(User, User.id == Team.leader_id)
            .where(or_(*[and_(RoundUnit.round_id == r, RoundUnit.unit_id == u) for r, u in pairs]))):
        sheet_id = pairs[(round_id, unit_id)]
        out[sheet_id] = (out[sheet_id][0], (user_id, name))
    return out


def _drawn(sheet_ids: list[int], at=None) -> dict[int, list[Signature]]:
    """Every signature of the sheets, superseded ones too, oldest first (a version's 评分表 may be signed by an
    older drawing than the newest: one drawn before an unlock); `at`: only those in force then (a version's
    publication: what its paper shows)."""
    found: dict[int, list[Signature]] = {i: [] for i in sheet_ids}
    if sheet_ids:
        query = select(Signature).where(Signature.sheet_id.in_(sheet_ids))
        if at is not None:
            query = query.where(Signature.signed_at <= at,
                                or_(Signature.superseded_at.is_(None), Signature.superseded_at > at))
        for sig in db.session.scalars(query.order_by(Signature.id)):
            found[sig.sheet_id].append(sig)
    return found


def leader_at(team_id: int, at) -> tuple[int, str] | None:
    """The team's leader (id, name) at `at`: the one the first change after it replaced, else today's."""
    from ..models import AuditEvent

    change = db.session.execute(
        select(AuditEvent.old).where(AuditEvent.action == "team.leader", AuditEvent.object_type == "Team",
                                     AuditEvent.object_id == team_id, AuditEvent.at > at)
        .order_by(AuditEvent.at, AuditEvent.id).limit(1)).scalar()
    user_id = change.get("leader") if change is not None else db.session.scalar(
        select(Team.leader_id).where(Team.id == team_id))
    if user_id is None:
        return None
    return user_id, db.session.scalar(select(User.display_name).where(User.id == user_id))


def _slots(members, leader, signatures: list[Signature], digest: str) -> list[Slot]:
    """Each signer's slot with the signature it shows against `digest`: the newest drawing bound to that content
    (signed), else the newest drawing (签名后有改动), else none. A leader among the members has one slot, the
    leader's (a drawing made in their member slot before, when they signed twice, counts for it too)."""
    leader_id = leader[0] if leader is not None else None
    slots = [Slot(slot_key("inspector", uid), SignerRole.INSPECTOR, uid, name, scores=True)
             for uid, name in members if uid != leader_id]
    if leader is not None:
        slots.append(Slot("leader", SignerRole.LEADER, leader[0], leader[1],
                          scores=any(uid == leader_id for uid, _name in members)))
    slots.append(Slot("representative", SignerRole.REPRESENTATIVE, None, ""))
    by_key = {s.key: s for s in slots}
    if leader is not None and slots[-2].scores:
        by_key[slot_key("inspector", leader_id)] = slots[-2]
    for sig in signatures:  # oldest first: a later drawing takes the slot, unless the slot holds one bound to the
        # content already and the later one is not
        slot = by_key.get(slot_key(sig.role, sig.signer_id) if sig.role == "inspector" else sig.role)
        if slot is None or (slot.role is SignerRole.LEADER and sig.signer_id != slot.signer_id):
            continue  # a member who has left the team, a leader replaced since: their signature is not this sheet's
        matches = sig.content_sha256 == digest and not sig.changed_after  # (drawn offline over older content)
        if slot.signed and not matches:
            continue
        slot.signature = sig
        slot.state = SignatureState.SIGNED if matches else SignatureState.STALE
        if slot.role is SignerRole.REPRESENTATIVE:
            slot.name = sig.signer_name
    return slots


def signings(sheets: list[Sheet], digests: dict[int, str] | None = None, at=None) -> dict[int, Signing]:
    """final sheet id → its slots and their state against `digests` (default: digests_for, what signing binds to);
    `at`: the leader and the drawings as they were then (a version's publication)."""
    digests = digests if digests is not None else digests_for(sheets)
    people = _people(sheets)
    if at is not None:
        for sheet in sheets:
            team_id = db.session.scalar(select(RoundUnit.team_id).where(RoundUnit.round_id == sheet.round_id,
                                                                        RoundUnit.unit_id == sheet.unit_id))
            if team_id is not None:
                people[sheet.id] = (people[sheet.id][0], leader_at(team_id, at))
    drawn = _drawn([s.id for s in sheets], at)
    return {s.id: Signing(s, digests[s.id], _slots(*people[s.id], drawn[s.id], digests[s.id])) for s in sheets}


def signing(sheet: Sheet) -> Signing:
    return signings([sheet])[sheet.id]


def signing_for_paper(sheet: Sheet, publication: Publication | None, members: list[str]) -> Signing:
    """The slots as the printed 评分表 shows them: against the version's content when it is read from one."""
    if publication is not None:
        digest = published_digests(publication, [sheet.id]).get(sheet.id)
        if digest is not None:
            found = signings([sheet], {sheet.id: digest}, at=publication.published_at)[sheet.id]
            named = {s.name for s in found.slots if s.scores}
            found.extra_names = [m for m in members if m not in named]
            return found
    return signings([sheet], content_digests([sheet]))[sheet.id]  # a 草稿 prints the content as it stands


# -- recording a signature -----------------------------------------------------------------------------------------

_MESSAGES = {
    "malformed": _l("签名数据无效，请清除后重新签名"),
    "empty": _l("请在框内签名后再确认"),
    "too_small": _l("签名过短（像一次误触），请在框内完整签名"),
    "too_large": _l("签名笔画过多，请清除后重新签名"),
}


_NAME_MESSAGES = {
    "empty": _l("请填写被评单位代表的姓名"),
    "too_long": _l("姓名不能超过%(n)s个字", n=NAME_MAX),
    "invisible": _l("姓名含有不可见的控制或格式字符（如零宽字符、文字方向符），请重新输入"),
}


def readiness(sheet: Sheet) -> tuple[int, int]:
    """(indicators decided, indicators) of a final sheet: it is signed once every indicator has its final score."""
    from .sheet_views import sheet_view

    view = sheet_view(sheet)
    return view.figures.scored, len(view.indicators)


def render_png(strokes: list) -> bytes:
    """The drawing as a PNG (500 × 200, dark ink on white), drawn here from the vector data, never taken from the
    client: what is stored as the image is what the strokes say."""
    scale = 2  # drawn at twice the size, then reduced: smooth edges
    image = Image.new("L", (BOX_WIDTH * scale // 2, BOX_HEIGHT * scale // 2), 255)
    pen = ImageDraw.Draw(image)
    width = 3 * scale
    for stroke in strokes:
        points = [(x * scale / 2, y * scale / 2) for x, y, _t in stroke]
        if len(points) > 1:
            pen.line(points, fill=20, width=width, joint="curve")
        for x, y in (points[0], points[-1]):
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=20)
    image = image.resize((BOX_WIDTH // 2, BOX_HEIGHT // 2), Image.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _refuse_if_frozen(sheet: Sheet) -> None:
    if sheet.round.status == "published" and not sheet.unlocked:
        raise Conflict("signature.published", _l(
            "该批次已公布，评分表已冻结，不能再在平板上签名：公布后以打印的评分表上的手写签名为准。"
            "如需更正评分，请由系统管理员解锁该评分表"))


def sign(sheet: Sheet, slot: str, name: str, strokes, width, height, user: User, *,
         address: str | None = None, device_time=None, seen_versions: dict | None = None, op_id: str | None = None,
         then=None) -> Signature:
    """Record the signature of the signer in `slot` on the final sheet, drawn as `strokes` on a `width` × `height`
    canvas; `name` is the representative's (the others' are their users'). A signer who signed before is signed
    again: the older row is kept, superseded. Raises NotFound, NotAllowed or Invalid (with field messages: slot,
    name, strokes, seen_versions).

    Drawn offline (issue 31): `device_time` (the tablet's clock), `seen_versions` (indicator code → the score's
    version the signer saw; an indicator left out was unscored) and `op_id` (the operation's id, kept in the audit
    row). When any indicator's version has moved since, the signature is recorded all the same, marked
    `changed_after`: it shows as 签名后有改动 from the start (asked to sign again), never as bound to the content.
    `then(sig)`: the caller's rows in the same transaction, before the commit (the operation's record)."""
    if sheet.kind != "final":
        raise NotFound("signature.not_final", _l("只有工作组评分表需要签名"))
    _refuse_if_frozen(sheet)  # (said as such, before access.can_sign_sheet, which refuses it too, says no more)
    if not access.can_sign_sheet(user, sheet):
        raise NotAllowed("signature.not_allowed", _l("您不能为此评分表记录签名"))
    state = signing(sheet)
    parsed = parse_slot(slot if isinstance(slot, str) else "")
    fields = {}
    chosen = None
    if parsed is not None:
        chosen = next((s for s in state.slots if s.key == slot), None)
    if chosen is None:
        fields["slot"] = _l("请选择签名人")
    elif chosen.key not in state.recordable(user):
        raise NotAllowed("signature.not_yours",
                         _l("在自己的平板上只能本人签名或由被评单位代表签名；其他成员请在组长的平板上签名"))
    scored, total = readiness(sheet)
    if scored < total:
        why = _l("评分表尚未定分完毕（已定分%(n)s/%(m)s），定分完毕后方可签名", n=scored, m=total)
        raise Invalid("signature.not_ready", why, {"slot": why})
    name = name.strip() if isinstance(name, str) else ""
    if chosen is not None and chosen.role is SignerRole.REPRESENTATIVE:
        problem = name_problem(name)
        if problem is not None:
            fields["name"] = _NAME_MESSAGES[problem]
    try:
        drawing = normalise(strokes, width, height)
    except SignatureProblem as exc:
        fields["strokes"] = _MESSAGES[exc.code]
    if seen_versions is not None and not _versions_ok(seen_versions):
        fields["seen_versions"] = _l("应为指标编号与版本号（非负整数）的对照")
    if fields:
        raise Invalid("signature.invalid", _l("签名未保存，请修改标红的内容"), fields)
    # Two signers of one sheet at once: one after the other (PostgreSQL: the sheet's row lock; SQLite: the UPDATE
    # below takes the database's write lock). The content is read after that, so a score saved meanwhile is either
    # in the digest or after it (and then marks the signature at once: never the other way round).
    # Frozen once published (issue 29): a tablet signature belongs to the 评分表 as inspected and reviewed. After
    # publication the printed version's handwritten signatures are what counts (the paper says so); a sheet unlocked
    # to be corrected is signed again for the next version. Read under the round's lock, as publishing decides —
    # taken before the sheet's, in publishing's order (the round, then its sheets).
    locks.lock_round(sheet.round)
    lock_sheet(sheet)
    db.session.refresh(sheet)
    _refuse_if_frozen(sheet)
    now = utcnow()
    same = and_(Signature.sheet_id == sheet.id, Signature.role == chosen.role.value, Signature.superseded_at.is_(None))
    if chosen.role is SignerRole.INSPECTOR:
        same = and_(same, Signature.signer_id == chosen.signer_id)
    db.session.execute(update(Signature).where(same).values(superseded_at=now))
    digest = digests_for([sheet])[sheet.id]
    changed = seen_versions is not None and _versions_moved(sheet, seen_versions)  # (read under the locks)
    sig = Signature(sheet_id=sheet.id, role=chosen.role.value, signer_id=chosen.signer_id,
                    signer_name=name if chosen.role is SignerRole.REPRESENTATIVE else chosen.name,
                    strokes=drawing.as_json(), image=render_png(drawing.strokes), content_sha256=digest,
                    signed_at=now, recorded_by_id=user.id, device_time=device_time, seen_versions=seen_versions,
                    changed_after=changed)
    db.session.add(sig)
    db.session.flush()
    new = {"signature": sig.id, "role": chosen.role.value, "signer": sig.signer_name, "content_sha256": digest,
           "points": drawing.points}
    if seen_versions is not None or op_id is not None or device_time is not None:  # drawn offline
        new.update(offline={"op_id": op_id, "device_time": device_time.isoformat() if device_time else None,
                            "server_time": now.isoformat(), "seen_versions": seen_versions,
                            "changed_after": changed})
    audit.record("signature.sign", user=user, address=address, obj=sheet, unit_id=sheet.unit_id,
                 round_id=sheet.round_id, new=new)
    try:
        if then is not None:
            then(sig)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return sig


def _versions_ok(seen) -> bool:
    return isinstance(seen, dict) and len(seen) <= 500 and all(
        isinstance(k, str) and 0 < len(k) <= 32 and not isinstance(v, bool) and isinstance(v, int) and 0 <= v < 2**31
        for k, v in seen.items())


def _versions_moved(sheet: Sheet, seen: dict) -> bool:
    """Whether any indicator's score on the sheet is at another version than the signer saw (an indicator not in
    `seen` was unscored: version 0)."""
    current = dict(db.session.execute(select(Indicator.code, Score.version).join(
        Indicator, Indicator.id == Score.indicator_id).where(Score.sheet_id == sheet.id)).all())
    return any(current.get(code, 0) != seen.get(code, 0) for code in set(current) | set(seen))


def image_of(signature_id: int, user: User) -> Signature:
    """A signature whose sheet the user may see (NotFound otherwise: an id of another team's sheet says nothing)."""
    sig = db.session.get(Signature, signature_id)
    if sig is None:
        raise NotFound("signature.not_found", _l("签名不存在"))
    sheet = db.session.get(Sheet, sig.sheet_id)
    if sheet is None or not access.can_view_sheet(user, sheet):
        raise NotFound("signature.not_found", _l("签名不存在"))
    return sig
