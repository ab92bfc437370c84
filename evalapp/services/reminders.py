"""Reminders of 公示, 异议 and 复核 deadlines (issue 32, point 8), sent every morning on the job queue (services.periodic,
`flask jobs-cron`), or, without Redis, by `flask notice-reminders` run on a timer (docs/deploy.md).

Each run writes an in-app reminder per person and subject once a day (a second run the same day writes none), then
posts what is due to the district's group-robot webhook (企业微信 / 钉钉: a JSON POST to NOTICE_WEBHOOK_URL), retried,
carrying only unit names and what is due — no person's name, no score, no reason."""
import json
import time
from urllib.error import URLError
from urllib.request import Request, urlopen
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import NoticePeriod, Objection, OrgUnit, Reminder, Round, RoundUnit, User
from ..domain.objections import OPEN_STATUSES

SOON = 2  # days: a deadline this near (or passed) is reminded
ATTEMPTS = 3
BACKOFF = 2.0  # seconds, doubled after each failed attempt


def _sleep(seconds: float) -> None:  # tests monkeypatch it: no test sleeps
    time.sleep(seconds)


@dataclass
class Due:
    """What is due, for whom (user ids), about which units."""
    key: str
    round_id: int
    text: str  # in-app and webhook text: unit names and what is due
    due_on: date | None
    users: list[int] = field(default_factory=list)


def what_is_due(today: date) -> list[Due]:
    """The deadlines near or passed on `today` (a fixed number of queries)."""
    out: list[Due] = []
    # The re-check answers due within SOON days, or overdue: their group's leader.
    for o, unit in db.session.execute(
            select(Objection, OrgUnit.name).join(OrgUnit, OrgUnit.id == Objection.unit_id)
            .where(Objection.status == "assigned", Objection.due_on <= today + timedelta(days=SOON))
            .order_by(Objection.due_on)).all():
        late = "已逾期" if o.due_on < today else "到期"
        out.append(Due(f"decide:{o.id}", o.round_id, f"{unit}：{o.receipt}复核答复于{o.due_on.isoformat()}{late}",
                       o.due_on, [o.leader_id]))
    # Objections waiting for a group: every active district user.
    district = list(db.session.scalars(select(User.id).where(User.role == "district", User.active.is_(True))))
    waiting = db.session.execute(
        select(Objection.round_id, OrgUnit.name).join(OrgUnit, OrgUnit.id == Objection.unit_id)
        .where(Objection.status == "open").order_by(Objection.round_id, Objection.number)).all()
    by_round: dict[int, list[str]] = {}
    for round_id, unit in waiting:
        by_round.setdefault(round_id, []).append(unit)
    for round_id, names in by_round.items():
        out.append(Due(f"assign:{round_id}", round_id, f"{'、'.join(dict.fromkeys(names))}：{len(names)}件异议待分配复核组",
                       None, district))
    # Notices ending within SOON days: the leads of the units in scope.
    ending = db.session.execute(
        select(NoticePeriod).where(NoticePeriod.settled_at.is_(None), NoticePeriod.start <= today,
                                   NoticePeriod.last_day >= today,
                                   NoticePeriod.last_day <= today + timedelta(days=SOON))).scalars().all()
    if ending:
        leads = db.session.execute(
            select(RoundUnit.round_id, User.id, OrgUnit.name).join(User, User.unit_id == RoundUnit.unit_id)
            .join(OrgUnit, OrgUnit.id == RoundUnit.unit_id)
            .where(RoundUnit.round_id.in_([n.round_id for n in ending]), User.role.in_(("township", "village")),
                   User.active.is_(True)).order_by(OrgUnit.code)).all()
        for notice in ending:
            rows = [(uid, name) for rid, uid, name in leads if rid == notice.round_id]
            if not rows:
                continue
            names = list(dict.fromkeys(name for _, name in rows))
            shown = "、".join(names[:5]) + (f"等{len(names)}个单位" if len(names) > 5 else "")
            out.append(Due(f"object:{notice.id}", notice.round_id,
                           f"{shown}：公示将于{notice.last_day.isoformat()} 24:00结束，如有异议请在此前提出",
                           notice.last_day, [uid for uid, _ in rows]))
    # Rounds whose period has ended with every objection answered: the district confirms.
    for notice in db.session.scalars(select(NoticePeriod).where(NoticePeriod.settled_at.is_(None),
                                                                NoticePeriod.last_day < today)):
        if not db.session.scalar(select(Objection.id).where(Objection.notice_id == notice.id,
                                                            Objection.status.in_(OPEN_STATUSES)).limit(1)):
            name = db.session.scalar(select(Round.name).where(Round.id == notice.round_id))
            out.append(Due(f"settle:{notice.id}", notice.round_id, f"{name}：公示期已结束，异议均已答复，可确认结果",
                           None, district))
    return out


@dataclass
class Sent:
    written: int  # in-app reminders written
    posted: bool | None  # None: no webhook configured (or nothing new)
    lines: list[str]


def send(today: date, webhook_url: str | None = None) -> Sent:
    """Write today's in-app reminders (once per person, subject and day), commit, then post the new ones to the
    webhook (retried ATTEMPTS times)."""
    due = what_is_due(today)
    existing = set(db.session.execute(select(Reminder.user_id, Reminder.key).where(Reminder.sent_on == today)).all())
    written, lines = 0, []
    for item in due:
        fresh = [u for u in item.users if u is not None and (u, item.key) not in existing]
        for user_id in fresh:
            db.session.add(Reminder(user_id=user_id, round_id=item.round_id, key=item.key, text=item.text,
                                    due_on=item.due_on, sent_on=today))
            existing.add((user_id, item.key))
        written += len(fresh)
        if fresh:
            lines.append(item.text)
    db.session.commit()
    if not webhook_url or not lines:
        return Sent(written, None, lines)
    content = f"【评估验收提醒】{today.isoformat()}\n" + "\n".join(lines)
    return Sent(written, post(webhook_url, {"msgtype": "text", "text": {"content": content}}), lines)


def post(url: str, payload: dict, *, attempts: int = ATTEMPTS) -> bool:
    """POST the JSON payload; a failure (network, or a status other than 2xx) is retried with a growing pause.
    True once delivered, False when every attempt failed."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    pause = BACKOFF
    for attempt in range(attempts):
        request = Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urlopen(request, timeout=10) as response:
                if 200 <= response.status < 300:
                    return True
        except (URLError, OSError):
            pass
        if attempt + 1 < attempts:
            _sleep(pause)
            pause *= 2
    return False


def for_user(user: User, limit: int = 20) -> list[Reminder]:
    return list(db.session.scalars(select(Reminder).where(Reminder.user_id == user.id)
                                   .order_by(Reminder.sent_on.desc(), Reminder.id.desc()).limit(limit)))
