"""The forms of 整改, 复查 and 约谈: CSRF and labels here; the rules (and their messages beside each field) are the
services'. Dates are typed as YYYY-MM-DD (the browser's date picker) and parsed by `parse_date`."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import FieldList, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms import Form as PlainForm
from wtforms.fields.choices import SelectChoice


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms' choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def parse_date(raw: str | None) -> tuple[date | None, bool]:
    """(the date, whether something unreadable was typed)."""
    raw = (raw or "").strip()
    if not raw:
        return None, False
    try:
        return date.fromisoformat(raw), False
    except ValueError:
        return None, True


class IssueForm(FlaskForm):
    unit_id = HiddenField()
    report_due = StringField(_l("报送整改报告期限"))
    complete_due = StringField(_l("整改完成期限"))


class ExtensionForm(FlaskForm):
    deadline = SelectField(_l("延长哪个期限"), choices=choices([("report", _l("报送整改报告期限")),
                                                               ("complete", _l("整改完成期限"))]))
    new_date = StringField(_l("申请延长至"))
    reason = TextAreaField(_l("延期理由"))


class DecideForm(FlaskForm):
    decision = SelectField(_l("答复"), choices=choices([("grant", _l("同意延期")), ("refuse", _l("不同意"))]))
    granted_date = StringField(_l("同意延长至（不填即按申请的日期）"))
    answer = TextAreaField(_l("答复意见（不同意时必填）"))


class ReportForm(FlaskForm):
    text = TextAreaField(_l("整改情况"))
    report_file = FileField(_l("整改报告（PDF、Word、Excel或图片，20MB以内）"))


class AssignForm(FlaskForm):
    team = SelectField(_l("复查工作组"), coerce=str)
    scope = SelectField(_l("复查范围"), choices=choices([("failed", _l("仅复查失分指标")),
                                                           ("all", _l("复查全部指标"))]))
    due = StringField(_l("复查完成期限（可不填）"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("理由"))


class RequirementForm(PlainForm):
    text = StringField(_l("要求"))
    due = StringField(_l("完成期限"))


class InterviewForm(FlaskForm):
    unit = SelectField(_l("被约谈单位"), coerce=str)
    round = SelectField(_l("相关批次"), coerce=str)
    held_on = StringField(_l("约谈日期"))
    participants = TextAreaField(_l("参加人员"))
    points_raised = TextAreaField(_l("约谈指出的问题"))
    requirements = FieldList(FormField(RequirementForm), min_entries=3, max_entries=5)
    minutes = FileField(_l("约谈纪要（文件）"))


class InterviewReportForm(FlaskForm):
    text = TextAreaField(_l("落实情况"))
    report_file = FileField(_l("书面报告（PDF、Word、Excel或图片，20MB以内）"))


class CheckForm(FlaskForm):
    note = TextAreaField(_l("审核意见"))


class EmptyForm(FlaskForm):
    """Only the CSRF token (a button's form)."""
