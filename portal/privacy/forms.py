from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Email, Optional, ValidationError

from portal.forms import ChoiceField, DateInputField, clean_text, length, vietnamese_phone
from portal.petitions.forms import contact_email, contact_name, contact_phone


class AuditFilterForm(FlaskForm):
    """Filters of the audit log (GET): no CSRF, every field optional."""

    class Meta:
        csrf = False

    nguoi = ChoiceField(_l("Người thực hiện"), coerce=str, validators=[Optional()])
    hanh_dong = ChoiceField(_l("Hành động"), coerce=str, validators=[Optional()])
    nhom = ChoiceField(_l("Loại sự kiện"), coerce=str, validators=[Optional()])
    tu = DateInputField(_l("Từ ngày"), validators=[Optional()])
    den = DateInputField(_l("Đến ngày"), validators=[Optional()])
    ma = StringField(_l("Mã kiến nghị"), filters=[clean_text], validators=[Optional()])

    def validate_den(self, field):
        if field.data and self.tu.data and field.data < self.tu.data:
            raise ValidationError(_l("Ngày kết thúc phải sau ngày bắt đầu."))


class PersonForm(FlaskForm):
    """A request under the law: the person's e-mail address and/or phone number."""

    email = StringField(
        _l("Thư điện tử"),
        filters=[lambda v: (v or "").strip().lower() or None],
        validators=[
            Optional(),
            length(max=254),
            Email(message=_l("Địa chỉ thư điện tử không hợp lệ."), check_deliverability=False),
        ],
    )
    phone = StringField(_l("Số điện thoại"), validators=[Optional(), vietnamese_phone])

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if not self.email.data and not self.phone.data:
            self.form_errors.append(
                _l("Hãy nhập thư điện tử hoặc số điện thoại của người yêu cầu.")
            )
            return False
        return True


class ContactForm(FlaskForm):
    """The petitioner corrects (or clears) their own contact details."""

    name = contact_name()
    phone = contact_phone()
    email = contact_email()
    address = StringField(
        _l("Địa chỉ liên hệ"), filters=[clean_text], validators=[Optional(), length(max=300)]
    )
    show_name_publicly = BooleanField(_l("Tôi đồng ý hiển thị họ tên công khai"))
