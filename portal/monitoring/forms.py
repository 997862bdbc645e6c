from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, StringField
from wtforms.validators import Optional

from portal.forms import DateInputField, NoteField, Required, clean_text, length


class ScopeForm(FlaskForm):
    class Meta:
        csrf = False

    tu = DateInputField(_l("Từ ngày"), validators=[Optional()])
    den = DateInputField(_l("Đến ngày"), validators=[Optional()])
    meeting = HiddenField()


class RemarkForm(FlaskForm):
    petition_code = HiddenField()
    item_id = HiddenField()
    unit_id = HiddenField()
    next = HiddenField()
    remark = NoteField(
        _l("Ý kiến giám sát"),
        validators=[Required(_l("Hãy nhập nội dung ý kiến giám sát.")), length(max=5000)],
    )
    recommendation = NoteField(_l("Kiến nghị"), validators=[length(max=5000)])
    is_public = BooleanField(_l("Công khai ý kiến này"))


class RatingForm(FlaskForm):
    satisfied = RadioField(
        _l("Bạn có hài lòng với kết quả giải quyết?"),
        choices=[SelectChoice("1", _l("Hài lòng")), SelectChoice("0", _l("Chưa hài lòng"))],
        validators=[Required(_l("Hãy chọn hài lòng hoặc chưa hài lòng."))],
    )
    comment = NoteField(_l("Ý kiến của bạn"), validators=[length(max=2000)])


class OverrideForm(FlaskForm):
    day = DateInputField(_l("Ngày"), validators=[Required(_l("Hãy nhập ngày."))])
    kind = RadioField(
        _l("Loại"),
        choices=[
            SelectChoice("working", _l("Ngày làm việc (làm bù)")),
            SelectChoice("off", _l("Ngày nghỉ")),
        ],
        validators=[Required(_l("Hãy chọn loại ngày."))],
    )
    note = StringField(_l("Ghi chú"), filters=[clean_text], validators=[length(max=300)])
