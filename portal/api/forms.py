"""The admin's form for issuing an Open311 API key."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import ValidationError

from portal.api.services import DEFAULT_RATE_LIMIT, valid_rate_limit
from portal.forms import Required, clean_text, length


def rate_limit_notation(form, field) -> None:
    if not valid_rate_limit(field.data or ""):
        raise ValidationError(
            _l("Giới hạn chưa đúng cách viết, ví dụ: 60/hour, 500/day hoặc 10/minute.")
        )


class ApiClientForm(FlaskForm):
    name = StringField(
        _l("Tên hệ thống hoặc ứng dụng"),
        filters=[clean_text],
        validators=[Required(_l("Hãy nhập tên hệ thống được cấp khóa.")), length(max=200)],
        description=_l("Ví dụ: Ứng dụng iHanoi, Tổng đài 1022 của thành phố"),
    )
    contact = StringField(
        _l("Người hoặc đơn vị liên hệ"),
        filters=[clean_text],
        validators=[length(max=254)],
        description=_l("Để báo khi khóa bị thu hồi hoặc khi API thay đổi."),
    )
    rate_limit = StringField(
        _l("Giới hạn số kiến nghị gửi qua khóa này"),
        default=DEFAULT_RATE_LIMIT,
        filters=[clean_text],
        validators=[Required(_l("Hãy nhập giới hạn.")), length(max=40), rate_limit_notation],
        description=_l(
            "Số lần gửi theo thời gian: 60/hour là 60 lần mỗi giờ; 500/day là 500 lần mỗi ngày."
        ),
    )
    requires_acceptance = BooleanField(
        _l("Cán bộ tiếp nhận trước khi cấp mã kiến nghị (hệ thống nhận token thay cho mã)")
    )
