from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Email, Optional

from portal.forms import ChoiceField, Required, length


class FollowForm(FlaskForm):
    """Follow a petition (``ma``: its code) or a residential group (``area_id``) by e-mail."""

    email = StringField(
        _l("Thư điện tử của bạn"),
        filters=[lambda value: (value or "").strip().lower() or None],
        validators=[
            Required(_l("Hãy nhập địa chỉ thư điện tử.")),
            length(max=254),
            Email(message=_l("Địa chỉ thư điện tử không hợp lệ.")),
        ],
        description=_l("Chúng tôi gửi một đường dẫn xác nhận; chỉ dùng địa chỉ này để báo tin."),
    )
    ma = HiddenField()
    area_id = ChoiceField(_l("Tổ dân phố"), validators=[Optional()])
