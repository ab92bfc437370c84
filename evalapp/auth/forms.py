from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import Length


class LoginForm(FlaskForm):
    # No DataRequired: an empty form gets the same single message as a wrong password.
    username = StringField("用户名", validators=[Length(max=64)])
    password = PasswordField("密码", validators=[Length(max=256)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST buttons (log-out, transitions)."""
