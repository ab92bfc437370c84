"""What the audit log's rows say to a reader: a label for every action the app writes and for the kinds of object
it names, and the text of an object from the names the log's query joined to its row.

The labels are the vocabulary's kind (Chinese msgid marked with `N_`): `.zh` on official outputs (the xlsx export),
`.label` translated on the page; a stored action no member names (an old row, a test's own) reads as itself.
tests/test_audit_log.py fails when an action written anywhere in evalapp/ has no member here.
"""
from dataclasses import dataclass

from .vocabulary import N_, SheetKind, Vocabulary


class AuditAction(Vocabulary):
    LOGIN_SUCCESS = "login.success", N_("登录成功")
    LOGIN_FAILURE = "login.failure", N_("登录失败")
    LOGIN_PASSWORD_OK = "login.password_ok", N_("密码正确（待二次验证）")
    TOTP_ENROL = "totp.enrol", N_("设置二次验证")
    TOTP_SUCCESS = "totp.success", N_("二次验证通过，登录成功")
    TOTP_FAILURE = "totp.failure", N_("二次验证码错误")
    TOTP_RECOVERY_USED = "totp.recovery_used", N_("使用恢复码登录")
    TOTP_RESET = "totp.reset", N_("重置二次验证")
    CREDENTIALS_END = "user.credentials_end", N_("注销登录凭据")
    API_TOKEN_ISSUE = "api_token.issue", N_("签发接口令牌")
    API_TOKEN_REVOKE = "api_token.revoke", N_("吊销接口令牌")
    API_TOKEN_REVOKE_ALL = "api_token.revoke_all", N_("吊销全部接口令牌")
    API_TOKEN_REFRESH = "api_token.refresh", N_("刷新接口令牌")
    API_TOKEN_REFRESH_REUSED = "api_token.refresh_reused", N_("刷新令牌重复使用，已吊销该登录的全部令牌")
    DEVICE_PENDING = "device.pending", N_("平板报告待同步的修改")
    USER_CREATE = "user.create", N_("新建用户")
    USER_UPDATE = "user.update", N_("修改用户信息")
    USER_ROLE = "user.role", N_("修改用户角色或单位")
    USER_ACTIVATE = "user.activate", N_("启用用户")
    USER_DEACTIVATE = "user.deactivate", N_("停用用户")
    USER_RESET_PASSWORD = "user.reset_password", N_("重置密码")
    USER_CHANGE_PASSWORD = "user.change_password", N_("修改密码")
    USERS_IMPORT = "users.import", N_("导入用户")
    USER_SETUP_CODE = "user.setup_code", N_("生成一次性设置码")
    USER_SETUP = "user.setup", N_("用设置码设置密码")
    USER_SETUP_FAILURE = "user.setup_failure", N_("设置码错误、已使用或已过期")
    UNIT_CREATE = "unit.create", N_("新建单位")
    UNIT_UPDATE = "unit.update", N_("修改单位")
    UNIT_ACTIVATE = "unit.activate", N_("启用单位")
    UNIT_DEACTIVATE = "unit.deactivate", N_("停用单位")
    UNIT_RECODE = "unit.recode", N_("变更单位编码")
    UNIT_LINEAGE = "unit.lineage", N_("记录单位合并或拆分")
    UNITS_IMPORT = "units.import", N_("导入单位")
    CATALOGUE_IMPORT = "catalogue.import", N_("导入指标体系")
    CATALOGUE_CLONE = "catalogue.clone", N_("复制指标体系")
    CATALOGUE_EDIT = "catalogue.edit", N_("修改指标体系")
    CATALOGUE_LINEAGE = "catalogue.lineage", N_("确认指标对应关系")
    ROUND_CREATE = "round.create", N_("新建批次")
    ROUND_SETTINGS = "round.settings", N_("修改批次设置")
    ROUND_SCOPE = "round.scope", N_("修改评估范围")
    ROUND_ADVANCE = "round.advance", N_("推进批次阶段")
    ROUND_PUBLISH = "round.publish", N_("公布结果")
    ROUND_REPUBLISH = "round.republish", N_("重新公布结果")
    ROUND_SETUP_UNLOCK = "round.setup_unlock", N_("解锁设置")
    ROUND_SETUP_LOCK = "round.setup_lock", N_("公布时关闭解锁设置")
    TEAM_CREATE = "team.create", N_("新建工作组")
    TEAM_ADD_MEMBER = "team.add_member", N_("添加工作组成员")
    TEAM_REMOVE_MEMBER = "team.remove_member", N_("移出工作组成员")
    TEAM_LEADER = "team.leader", N_("更换组长")
    TEAM_LEADER_SCORES = "team.leader_scores", N_("设置组长是否评分")
    TEAM_ASSIGN = "team.assign", N_("分配评估单位")
    SUBSIDY_RULE = "subsidy.rule", N_("修改奖补规则")
    SCORE_SAVE = "score.save", N_("保存评分")
    SHEET_SUMMARY = "sheet.summary", N_("保存工作总结")
    SHEET_COMMENT = "sheet.comment", N_("填写审核意见")
    SHEET_BONUS_VETO = "sheet.bonus_veto", N_("修改加分与一票否决")
    # services.moves writes f"sheet.{to_status}" for every status a move reaches (domain.workflow.SHEET_STATUSES)
    SHEET_DRAFT = "sheet.draft", N_("重新打开评分表")
    SHEET_SUBMITTED = "sheet.submitted", N_("提交评分表")
    SHEET_RETURNED = "sheet.returned", N_("退回评分表")
    SHEET_APPROVED = "sheet.approved", N_("审核通过评分表")
    SHEET_CLOSED = "sheet.closed", N_("关闭评分表（未提交）")
    SHEET_UNLOCK = "sheet.unlock", N_("解锁评分表")
    SIGNATURE_SIGN = "signature.sign", N_("签名确认评分表")
    EVIDENCE_ADD = "evidence.add", N_("上传照片")
    EVIDENCE_REMOVE = "evidence.remove", N_("删除照片")
    EVIDENCE_ORIGINAL_OPEN = "evidence.original_open", N_("查看照片原件")
    EVIDENCE_ORIGINAL_PURGE = "evidence.original_purge", N_("删除到期的照片原件")
    DOCUMENT_ADD = "document.add", N_("上传材料")
    DOCUMENT_REMOVE = "document.remove", N_("删除材料")
    EXPORT_SUBSIDY = "export.subsidy", N_("导出奖补资格表")
    EXPORT_RESULTS_WORKBOOK = "export.results_workbook", N_("导出结果汇总表")
    EXPORT_AUDIT = "export.audit", N_("导出操作日志")
    EXPORT_EVIDENCE_ZIP = "export.evidence_zip", N_("导出佐证材料压缩包")
    RECTIFY_ISSUE = "rectify.issue", N_("下发整改通知")
    RECTIFY_EXTENSION_ASK = "rectify.extension_ask", N_("申请整改延期")
    RECTIFY_EXTENSION_DECIDE = "rectify.extension_decide", N_("答复整改延期申请")
    RECTIFY_REPORT = "rectify.report", N_("报送整改报告")
    RECTIFY_RECHECK_ASSIGN = "rectify.recheck_assign", N_("安排复查")
    RECTIFY_RECHECK_RECORD = "rectify.recheck_record", N_("记录复查结果")
    RECTIFY_RECHECK_REOPEN = "rectify.recheck_reopen", N_("开放再次复查")
    INTERVIEW_RECORD = "interview.record", N_("记录约谈")
    INTERVIEW_REPORT = "interview.report", N_("报送约谈书面报告")
    INTERVIEW_CHECK = "interview.check", N_("审核约谈书面报告")
    INTERVIEW_NOTICE = "interview.notice", N_("发布约谈通报")
    CALENDAR_SET = "calendar.set", N_("设置节假日或调休上班日")
    CALENDAR_REMOVE = "calendar.remove", N_("删除节假日或调休上班日")
    NOTICE_OPEN = "notice.open", N_("发布公示")
    NOTICE_SETTLE = "notice.settle", N_("确认结果（结果确定）")
    OBJECTION_FILE = "objection.file", N_("提出异议")
    OBJECTION_ASSIGN = "objection.assign", N_("分配复核组")
    OBJECTION_DECIDE = "objection.decide", N_("录入复核决定")
    SUMMARY_NARRATIVES = "summary.narratives", N_("修改评估总结文字")
    SUMMARY_GENERATE = "export.summary", N_("生成评估总结")
    SUMMARY_TEMPLATE_UPLOAD = "summary.template_upload", N_("上传评估总结模板")
    SUMMARY_TEMPLATE_RESTORE = "summary.template_restore", N_("恢复默认评估总结模板")


class AuditObject(Vocabulary):
    """The kinds of object an audit row names (its `object_type`: the model's class name)."""

    SHEET = "Sheet", N_("评分表")
    SCORE = "Score", N_("评分")
    USER = "User", N_("账号")
    UNIT = "OrgUnit", N_("单位")
    ROUND = "Round", N_("批次")
    TEAM = "Team", N_("工作组")
    CATALOGUE = "CatalogueVersion", N_("指标体系")
    EVIDENCE = "EvidenceFile", N_("照片或材料")
    COMMENT = "ReviewComment", N_("审核意见")
    RECTIFICATION = "Rectification", N_("整改通知")
    EXTENSION = "RectificationExtension", N_("整改延期申请")
    RECHECK = "Recheck", N_("复查")
    INTERVIEW = "Interview", N_("约谈")
    SUMMARY_TEMPLATE = "SummaryTemplate", N_("评估总结模板")


@dataclass(frozen=True)
class ObjectNames:
    """The names the log's query joined to one row for its object (None where the object has no such name or no
    longer exists)."""

    object_type: str = ""
    object_id: int | None = None
    sheet_kind: str | None = None  # a Sheet's, or the sheet of a Score, a photo or a comment
    sheet_inspector: str | None = None  # that sheet's inspector's display name (an inspector's sheet)
    indicator_code: str | None = None  # a Score's, a photo's or a comment's indicator
    indicator_title: str | None = None
    user_name: str | None = None  # a User object: display name
    user_login: str | None = None  # and username
    team_name: str | None = None
    catalogue_name: str | None = None
    catalogue_version: int | None = None
    file_name: str | None = None
    round_name: str | None = None  # a Round object
    unit_name: str | None = None  # an OrgUnit object


def object_text(names: ObjectNames, *, official: bool = False) -> str:
    """What the row's object is, as a reader names it: "工作组评分表", "评分 · 1.2 组织领导", "账号 · 王五（wang5）";
    the kind alone when nothing was joined, "" for a row about no object. `official`: Chinese labels (the xlsx)."""
    kind = names.object_type
    if not kind:
        return ""
    label = AuditObject.zh_of(kind) if official else AuditObject.label_of(kind)
    sheet = SheetKind.zh_of(names.sheet_kind) if official else SheetKind.label_of(names.sheet_kind)
    if names.sheet_kind and names.sheet_inspector:
        sheet = f"{sheet}（{names.sheet_inspector}）"
    indicator = " ".join(x for x in (names.indicator_code, names.indicator_title) if x)
    parts: list[str]
    if kind == AuditObject.SHEET:
        parts = [sheet] if sheet else [label, ""]
    elif kind in (AuditObject.SCORE, AuditObject.COMMENT):
        parts = [label, indicator, sheet]
    elif kind == AuditObject.EVIDENCE:
        parts = [label, names.file_name or "", indicator]
    elif kind == AuditObject.USER:
        who = names.user_name or ""
        if names.user_login and names.user_login != names.user_name:
            who = f"{who}（{names.user_login}）" if who else names.user_login
        parts = [label, who]
    elif kind == AuditObject.TEAM:
        parts = [label, names.team_name or ""]
    elif kind == AuditObject.CATALOGUE:
        version = f"v{names.catalogue_version}" if names.catalogue_version is not None else ""
        parts = [label, " ".join(x for x in (names.catalogue_name, version) if x)]
    elif kind == AuditObject.ROUND:
        parts = [label, names.round_name or ""]
    elif kind == AuditObject.UNIT:
        parts = [label, names.unit_name or ""]
    else:
        parts = [label]
    text = " · ".join(p for p in parts if p)
    if text == label and names.object_id is not None and len(parts) > 1:
        return f"{label} #{names.object_id}"  # the object is gone (or never had the name): its id says which
    return text


# What an audit row's old and new values are called on paper (the xlsx export): a reader sees 状态：已提交, not
# {"status": "submitted"}. A key not named here reads as itself.
VALUE_LABELS = {
    "status": "状态", "points": "分值", "direct_score": "直接评分", "free_deduction": "其他扣分", "reason": "理由",
    "note": "备注", "deductions": "扣分项", "unlocked": "已解锁", "version": "版本", "sha256": "校验值",
    "incomplete": "未完成单位", "closed": "关闭的评分表", "name": "名称", "code": "编码", "rollout": "批次类型",
    "year": "年度", "threshold": "合格线", "tolerance": "分差容许值", "self_due": "村(社区)自评截止",
    "township_due": "镇(街道)自评截止", "inspection_start": "实地评估开始", "inspection_end": "实地评估结束",
    "role": "角色", "unit": "单位", "unit_id": "单位", "username": "用户名", "display_name": "姓名", "active": "启用",
    "mode": "方式", "amount": "金额", "amount_fen": "金额(分)", "bands": "档次", "level": "层级", "leader": "组长",
    "member": "成员", "members": "成员", "added": "新增", "removed": "移出", "rows": "条数", "left_out": "未导出条数",
    "filters": "筛选条件", "doc_number": "文号", "from": "来源", "bonus": "加分项", "vetoes": "一票否决",
    "summary": "工作总结", "comment": "审核意见", "file": "文件", "leader_scores": "组长是否评分", "count": "数量",
    "setup_unlock": "解锁设置", "created": "新建", "updated": "更新", "kind": "类别", "title": "标题",
    "action": "操作", "date_from": "起始日期", "date_to": "截止日期", "round": "批次",
    "publication_sha256": "版本校验值", "template": "模板", "template_sha256": "模板校验值", "signer": "签发人",
    "sections": "段落",
}
_STATUS_WORDS = {"draft": "草稿", "submitted": "已提交", "returned": "已退回", "approved": "已通过", "closed": "已关闭",
                 "setup": "设置中", "self_assessment": "自评阶段", "inspection": "实地评估", "review": "审核阶段",
                 "published": "已公布"}


def values_text(value, *, limit: int = 400) -> str:
    """An audit row's old or new value as labelled text: 状态：已提交；分值：95.00 (nested values in （…）, lists with
    、, true/false as 是/否), cut at `limit` characters with an ellipsis."""
    def show(v, key: str = "") -> str:
        if v is None or v == "":
            return "—"
        if isinstance(v, bool):
            return "是" if v else "否"
        if isinstance(v, dict):
            return "；".join(f"{VALUE_LABELS.get(k, k)}：{show(x, k)}" for k, x in sorted(v.items()))
        if isinstance(v, (list, tuple)):
            return "、".join(f"（{show(x)}）" if isinstance(x, (dict, list, tuple)) else show(x) for x in v) or "—"
        if key == "status" and isinstance(v, str):
            return _STATUS_WORDS.get(v, v)
        return str(v)

    if value is None or value == {} or value == []:
        return ""
    text = show(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"
