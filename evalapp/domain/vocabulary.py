"""The app's one vocabulary: sheet kinds and statuses, roles, unit levels and kinds, round phases, rollouts, results
and subsidy modes, each an enum whose members carry their Chinese label, defined here once.

The Chinese label is the msgid: `N_()` marks it for `pybabel extract` (keyword N_) and returns it unchanged.
Two ways to read a label:

* `member.label` — in the interface's language, translated at use (Flask-Babel's gettext; outside a request it
  returns the Chinese);
* `member.zh` — always Chinese: official documents (print pages, xlsx exports) and the audit's stored texts.

A database value that is not a member (a row written before a member was added) reads as itself through
`label_of` / `zh_of`, never as an error on a page.
"""
from enum import StrEnum

from flask_babel import gettext


def N_(message: str) -> str:
    """Marks a message for extraction; translated where it is shown."""
    return message


class Vocabulary(StrEnum):
    """A StrEnum whose members are (value, Chinese label)."""

    def __new__(cls, value: str, zh: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member._zh = zh
        return member

    @property
    def zh(self) -> str:
        """The Chinese label (the msgid): for official documents and stored texts."""
        return self._zh

    @property
    def label(self) -> str:
        """The label in the request's language."""
        return gettext(self._zh)

    @classmethod
    def labels(cls) -> dict[str, str]:
        """value → label in the request's language, in definition order (selects, filters, JS data)."""
        return {m.value: m.label for m in cls}

    @classmethod
    def zh_labels(cls) -> dict[str, str]:
        """value → Chinese label, in definition order."""
        return {m.value: m.zh for m in cls}

    @classmethod
    def label_of(cls, value) -> str:
        """The translated label of a stored value; an unknown value shows as itself."""
        try:
            return cls(value).label
        except ValueError:
            return "" if value is None else str(value)

    @classmethod
    def zh_of(cls, value) -> str:
        """The Chinese label of a stored value; an unknown value shows as itself."""
        try:
            return cls(value).zh
        except ValueError:
            return "" if value is None else str(value)


class SheetKind(Vocabulary):
    SELF = "self", N_("自评表")
    INSPECTOR = "inspector", N_("评估员评分表")
    FINAL = "final", N_("工作组评分表")


class SheetStatus(Vocabulary):
    DRAFT = "draft", N_("填报中")
    SUBMITTED = "submitted", N_("已提交")
    RETURNED = "returned", N_("已退回")
    APPROVED = "approved", N_("已通过")
    # A member's draft closed when the round moved on or the member left the team (kept for the audit).
    CLOSED = "closed", N_("未提交")


class SheetProgress(Vocabulary):
    """Where a sheet stands on the progress tables and charts: its status, a draft split by whether anything is
    entered yet (a self sheet is 填报中, an inspection sheet 评分中)."""

    NOT_STARTED = "not_started", N_("未开始")
    FILLING = "filling", N_("填报中")
    SCORING = "scoring", N_("评分中")
    RETURNED = "returned", N_("已退回")
    SUBMITTED = "submitted", N_("已提交")
    APPROVED = "approved", N_("已通过")


SELF_PROGRESS = (SheetProgress.NOT_STARTED, SheetProgress.FILLING, SheetProgress.SUBMITTED,
                 SheetProgress.RETURNED, SheetProgress.APPROVED)
INSPECTION_PROGRESS = (SheetProgress.NOT_STARTED, SheetProgress.SCORING, SheetProgress.RETURNED,
                       SheetProgress.SUBMITTED, SheetProgress.APPROVED)


class RoundTodo(Vocabulary):
    """What a round waits for on someone's to-do (services.todos)."""

    PUBLISH = "publish", N_("可以公布")
    REPUBLISH = "republish", N_("再次公布")
    SUBSIDY_RULES = "subsidy_rules", N_("设置奖补规则")
    ELIGIBILITY = "eligibility", N_("下载奖补资格表")
    RESULTS = "results", N_("评估结果")  # a township's or village's published results (issue 32)


class Role(Vocabulary):
    ADMIN = "admin", N_("系统管理员")
    DISTRICT = "district", N_("区级审核")
    INSPECTOR = "inspector", N_("工作组成员")
    TOWNSHIP = "township", N_("镇(街道)负责人")
    VILLAGE = "village", N_("村(社区)协理员")
    FINANCE = "finance", N_("区财政局")


# An inspector who leads a team, as the header and the user list show them.
TEAM_LEADER = N_("工作组组长")


class UnitLevel(Vocabulary):
    DISTRICT = "district", N_("区")
    TOWNSHIP = "township", N_("镇(街道)")
    VILLAGE = "village", N_("村(社区)")
    GROUP = "group", N_("村民小组")


class UnitKind(Vocabulary):
    """A unit's type; the stored value is the Chinese word itself (org_units.kind)."""

    DISTRICT = "区", N_("区")
    TOWN = "镇", N_("镇")
    SUBDISTRICT = "街道", N_("街道")
    VILLAGE = "村", N_("村")
    COMMUNITY = "社区", N_("社区")
    GROUP = "村民小组", N_("村民小组")


KINDS_BY_LEVEL = {
    UnitLevel.DISTRICT: (UnitKind.DISTRICT,),
    UnitLevel.TOWNSHIP: (UnitKind.TOWN, UnitKind.SUBDISTRICT),
    UnitLevel.VILLAGE: (UnitKind.VILLAGE, UnitKind.COMMUNITY),
    UnitLevel.GROUP: (UnitKind.GROUP,),
}


# An indicator's code named with its catalogue's level (the two catalogues both have an A1), on charts.
TOWNSHIP_INDICATOR_CODE = N_("镇%(code)s")
VILLAGE_INDICATOR_CODE = N_("村%(code)s")


class RoundPhase(Vocabulary):
    """A round's status, and `reopened`: published with a sheet unlocked since (to republish)."""

    SETUP = "setup", N_("筹备中")
    SELF_ASSESSMENT = "self_assessment", N_("自评阶段")
    INSPECTION = "inspection", N_("实地评估")
    REVIEW = "review", N_("审核阶段")
    PUBLISHED = "published", N_("已公布")
    REOPENED = "reopened", N_("已公布（有解锁，待再次公布）")


ROUND_STATUSES = tuple(p for p in RoundPhase if p is not RoundPhase.REOPENED)


class Rollout(Vocabulary):
    PILOT = "pilot", N_("试点")
    FULL = "full", N_("全面推行")


class Result(Vocabulary):
    """A unit's result (the rule is domain.scoring.evaluate)."""

    PASS = "pass", N_("合格")
    FAIL = "fail", N_("不合格")
    VETO = "veto", N_("不合格(一票否决)")
    INCOMPLETE = "incomplete", N_("未完成")


class ResultFilter(Vocabulary):
    """The results page's result filter (short labels: the veto filter reads 一票否决)."""

    PASS = "pass", N_("合格")
    FAIL = "fail", N_("不合格")
    VETO = "veto", N_("一票否决")
    INCOMPLETE = "incomplete", N_("未完成")


class SubsidyMode(Vocabulary):
    FIXED = "fixed", N_("固定金额")
    BANDS = "bands", N_("按得分档次")
    POOL = "pool", N_("按得分比例分配资金池")
    NONE = "none", N_("本批次不设奖补资金")  # chosen, recorded: not the same as no rule yet (issue 29)


SUBSIDY_UNSET = N_("未设置")
# What domain.subsidy.allocate gives as a passing unit's basis when no money follows from the rule.
SUBSIDY_NO_RULE = N_("未设置奖补规则")
SUBSIDY_NO_BAND = N_("不在任何档次内")

# Why a unit gets no money (domain.subsidy's notes), by result.
NO_SUBSIDY = {
    Result.FAIL: N_("未达到合格线，不予奖补"),
    Result.VETO: N_("一票否决，不予奖补"),
    Result.INCOMPLETE: N_("评估未完成，不予奖补"),
}


class SignerRole(Vocabulary):
    """Who signs a unit's 评分表 (domain.signatures)."""

    INSPECTOR = "inspector", N_("评估员")
    LEADER = "leader", N_("工作组组长")
    REPRESENTATIVE = "representative", N_("被评单位代表")


class SignerTitle(Vocabulary):
    """How a signature slot names a signer with two roles: a team leader who also scores the unit signs once, as
    both (issue 29, point 5). Other slots are named by their SignerRole."""

    LEADER_SCORING = "leader_scoring", N_("工作组组长、评估员")


class SignatureState(Vocabulary):
    UNSIGNED = "unsigned", N_("未签名")
    SIGNED = "signed", N_("已签名")
    STALE = "stale", N_("签名后有改动")


class ReviewFlag(Vocabulary):
    """Why a final sheet waiting for the district is not approved with others at once (services.bulk_review): the
    district opens it and decides it on its own."""

    MEMBERS_PENDING = "members_pending", N_("成员未提交")
    STALE_MEAN = "stale_mean", N_("成员评分已变化")
    UNSIGNED = "unsigned", N_("签名未齐")
    SIGNATURE_CHANGED = "signature_changed", N_("签名后有改动")
    SELF_INFLATED = "self_inflated", N_("自评虚高")
    VETO = "veto", N_("一票否决")


class BulkSkip(Vocabulary):
    """Why a sheet asked for in a bulk approval is not approved, besides its flags (ReviewFlag)."""

    NOT_FOUND = "not_found", N_("评分表不存在")
    NOT_FINAL = "not_final", N_("不是工作组评分表")
    NOT_WAITING = "not_waiting", N_("已不在待审核状态")
    CHANGED = "changed", N_("确认前评分表已有变动")
