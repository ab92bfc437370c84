from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import Length


class LoginForm(FlaskForm):
    # No DataRequired: an empty form gets the same single message as a wrong password.
    username = StringField("用户名", validators=[Length(max=64)])
    password = PasswordField("密码", validators=[Length(max=256)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST buttons (log-out, transitions)."""


class CodeForm(FlaskForm):
    """The second step of a log-in, and the enrolment's check: a code from the authenticator app (or, at log-in, a
    recovery code). Checked by the service, so an empty one gets the same message as a wrong one."""

    code = StringField(_l("验证码"))


class ResetSecondFactorForm(FlaskForm):
    """An administrator resets another user's second factor: the reason is required (the service says so)."""

    reason = StringField(_l("重置原因"))


class SetupForm(FlaskForm):
    """A new user sets their password with the one-time code the administrator handed them. Checked by the service
    (services.setup_codes.redeem): an empty code gets the same message as a wrong one."""

    username = StringField(_l("用户名"), validators=[Length(max=64)])
    code = StringField(_l("一次性设置码"), validators=[Length(max=64)])
    password = PasswordField(_l("新密码（至少10位，不易被猜到）"), validators=[Length(max=256)])
    password2 = PasswordField(_l("再次输入新密码"), validators=[Length(max=256)])
