"""整改, 复查 and 约谈 (issue 32, points 5 and 7): the rules, pure Python.

* Which units get a 整改通知: those whose published result is 不合格 or 不合格(一票否决). A unit 未完成 was not
  evaluated: it needs its inspection finished, not a rectification.
* Deadlines: the report one month after the notice, completion three months after (民发〔2016〕242号 practice), the
  day of the month kept (31 January → 28/29 February).
* 复查: the indicators re-inspected replace the published ones; the total adds the published bonus (capped); the
  unit passes after rectification (整改后通过) when the total reaches the line and no veto stands (a vetoed unit
  passes only when the team finds the veto's cause removed). One chance unless the district opens a second.
* 约谈: the unit's written report is due 30 days after the talk.
"""
import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from .messages import M_, Msg
from .numbers import q2
from .vocabulary import N_, Vocabulary
from .workdays import BEIJING

RECTIFIABLE_RESULTS = ("fail", "veto")
REPORT_MONTHS = 1
COMPLETE_MONTHS = 3
INTERVIEW_REPORT_DAYS = 30
STEP = Decimal("0.5")


class RectificationStatus(Vocabulary):
    ISSUED = "issued", N_("待报送整改报告")
    REPORTED = "reported", N_("已报送整改报告")
    PASSED = "passed", N_("整改后通过")
    FAILED = "failed", N_("仍不合格")


class RecheckScope(Vocabulary):
    FAILED = "failed", N_("仅复查失分指标")
    ALL = "all", N_("复查全部指标")


class RecheckOutcome(Vocabulary):
    PASSED = "passed", N_("整改后通过")
    FAILED = "failed", N_("仍不合格")


class ExtensionDeadline(Vocabulary):
    REPORT = "report", N_("报送整改报告期限")
    COMPLETE = "complete", N_("整改完成期限")


class ExtensionDecision(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"


def rectifiable(result: str) -> bool:
    """Whether a published result calls for a 整改通知."""
    return result in RECTIFIABLE_RESULTS


def add_months(day: date, months: int) -> date:
    """The same day `months` later, the month's last day where it has no such day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_deadlines(issued_on: date) -> tuple[date, date]:
    """(report due, completion due) of a notice issued on `issued_on`."""
    return add_months(issued_on, REPORT_MONTHS), add_months(issued_on, COMPLETE_MONTHS)


def deadline_problems(issued_on: date, report_due: date | None, complete_due: date | None) -> dict[str, Msg]:
    """Per field: the report due after the notice, completion not before the report."""
    problems = {}
    if report_due is None:
        problems["report_due"] = M_("请填写报送整改报告的期限")
    elif report_due <= issued_on:
        problems["report_due"] = M_("报送期限须晚于通知日期")
    if complete_due is None:
        problems["complete_due"] = M_("请填写整改完成期限")
    elif report_due is not None and complete_due < report_due:
        problems["complete_due"] = M_("整改完成期限不能早于报送期限")
    return problems


def extension_problem(current_due: date, asked: date | None) -> Msg | None:
    """An extension asks for a date later than the one in force."""
    if asked is None:
        return M_("请填写申请延长至的日期")
    if asked <= current_due:
        return M_("申请的日期须晚于现在的期限（%(due)s）", due=current_due.isoformat())
    return None


def points_problem(value: Decimal | None, max_points: Decimal) -> Msg | None:
    """A re-inspected score: 0 ≤ s ≤ max, in steps of 0.5 (the rule for a typed score)."""
    if value is None:
        return M_("请填写得分")
    if value < 0 or value > max_points:
        return M_("得分须在0到%(max)s之间", max=str(q2(max_points)))
    if value % STEP != 0:
        return M_("得分须为0.5的整数倍")
    return None


@dataclass(frozen=True)
class RecheckLine:
    code: str
    max_points: Decimal
    published: Decimal | None


@dataclass(frozen=True)
class RecheckResult:
    total: Decimal
    passed: bool


def in_scope(lines: list[RecheckLine], scope: str) -> list[RecheckLine]:
    """The indicators a 复查 looks at: those that lost points (or were not scored), or all."""
    if scope == "all":
        return list(lines)
    return [line for line in lines if line.published is None or line.published < line.max_points]


def recheck_result(lines: list[RecheckLine], found: dict[str, Decimal], bonus_sum: Decimal, bonus_cap: Decimal,
                   threshold: Decimal, *, vetoed: bool, veto_resolved: bool) -> RecheckResult:
    """The 复查's total (the published scores with the re-inspected ones in their place, plus the capped bonus) and
    whether the unit passes after rectification."""
    score_sum = sum((found.get(line.code, line.published if line.published is not None else Decimal(0))
                     for line in lines), Decimal(0))
    total = q2(score_sum + min(bonus_sum, bonus_cap))
    return RecheckResult(total, total >= threshold and (not vetoed or veto_resolved))


def may_assign_recheck(status: str, attempts: int, allowed: int, open_recheck: bool) -> Msg | None:
    """Why a 复查 cannot be assigned now, or None."""
    if open_recheck:
        return M_("已安排的复查尚未记录结果")
    if status == "passed":
        return M_("该单位已整改后通过，无需再复查")
    if status == "issued":
        return M_("单位尚未报送整改报告，暂不能安排复查")
    if attempts >= allowed:
        return M_("复查机会已用完（共%(n)s次）；如确需再次复查，请先开放第二次复查", n=allowed)
    return None


def interview_report_due(held_on: date) -> date:
    """The unit's written report after a 约谈: within 30 days."""
    return held_on + timedelta(days=INTERVIEW_REPORT_DAYS)


def reported_late(reported_at: datetime | None, due: date) -> bool:
    """Whether a report came after its due date, a local (Beijing) date: a report at 07:00 in Beijing on the day
    after is late though its UTC date is still the due date."""
    return reported_at is not None and reported_at.astimezone(BEIJING).date() > due
