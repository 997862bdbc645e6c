from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField

from portal.forms import Required


class LoginForm(FlaskForm):
    email = StringField(_l("Thư điện tử"), validators=[Required(_l("Hãy nhập thư điện tử."))])
    password = PasswordField(_l("Mật khẩu"), validators=[Required(_l("Hãy nhập mật khẩu."))])
    next = HiddenField()
