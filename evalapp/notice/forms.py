"""The forms of 公示, 异议 and 复核 and of the working-day calendar: what was typed is kept; the services decide."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField, IntegerField, MultipleFileField, RadioField, SelectField, SelectMultipleField, StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


class CalendarForm(FlaskForm):
    day = DateField(_l("日期"), validators=[InputRequired(_l("请选择日期"))])
    kind = SelectField(_l("类型"), choices=choices([("holiday", _l("节假日（休）")), ("workday", _l("调休上班日（班）"))]))
    note = StringField(_l("说明"), validators=[Length(max=100, message=_l("说明不能超过100字"))])


class NoticeForm(FlaskForm):
    start = DateField(_l("公示开始日期"), validators=[InputRequired(_l("请选择公示开始日期"))])
    length = IntegerField(_l("公示期（工作日）"), default=7, validators=[
        InputRequired(_l("请填写公示期")), NumberRange(1, 60, _l("公示期为1至%(max)s个工作日", max=60))])
    answer_days = IntegerField(_l("复核答复期限（天）"), default=15, validators=[
        InputRequired(_l("请填写复核答复期限")), NumberRange(1, 90, _l("复核答复期限为1至90天"))])
    text = TextAreaField(_l("公示说明"), validators=[Length(max=5000, message=_l("公示说明不能超过%(max)s字", max=5000))])


class ObjectionForm(FlaskForm):
    unit = SelectField(_l("被评估单位"), coerce=int, validate_choice=False)
    item = SelectField(_l("异议事项"), validate_choice=False)
    reason = TextAreaField(_l("异议理由"))
    objector = StringField(_l("书面异议提出人"), validators=[Optional()])
    files = MultipleFileField(_l("证明材料"))


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AssignForm(FlaskForm):
    reviewers = MultiCheckbox(_l("复核组成员"), coerce=int, validate_choice=False)
    leader = SelectField(_l("复核组组长"), coerce=int, validate_choice=False)


class DecideForm(FlaskForm):
    decision = RadioField(_l("复核决定"), choices=choices([("uphold", _l("维持原评分")), ("change", _l("改变评分"))]),
                          validate_choice=False)
    new_value = StringField(_l("复核后得分"))
    answer = TextAreaField(_l("复核意见"))
    agree = MultiCheckbox(_l("同意该决定的成员"), coerce=int, validate_choice=False)
