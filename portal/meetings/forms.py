from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, FormField, IntegerField, StringField
from wtforms.validators import NumberRange, Optional

from portal.forms import (
    ChoiceField,
    DateInputField,
    NoteField,
    Required,
    clean_text,
    length,
)


class MeetingForm(FlaskForm):
    kind = ChoiceField(_l("Loại hội nghị"), coerce=str, validators=[Required()])
    title = StringField(
        _l("Tên hội nghị"),
        filters=[clean_text],
        validators=[Required(_l("Hãy nhập tên hội nghị.")), length(max=300)],
    )
    held_on = DateInputField(
        _l("Ngày họp"), validators=[Required(_l("Hãy nhập ngày họp (ngày/tháng/năm)."))]
    )
    place = StringField(_l("Địa điểm"), filters=[clean_text], validators=[length(max=300)])
    chair = StringField(_l("Chủ trì"), filters=[clean_text], validators=[length(max=300)])
    participants = NoteField(_l("Thành phần tham dự"), validators=[length(max=5000)])
    minutes = NoteField(_l("Biên bản, ghi chép"), validators=[length(max=50000)])


class RaisedRowForm(FlaskForm):
    class Meta:
        csrf = False

    raised_by = StringField(
        _l("Người/tổ chức nêu"), filters=[clean_text], validators=[length(max=300)]
    )
    area_id = ChoiceField(_l("Tổ dân phố"), validators=[Optional()])
    category_id = ChoiceField(_l("Lĩnh vực"), validators=[Optional()])
    title = StringField(_l("Tiêu đề"), filters=[clean_text], validators=[length(max=200)])
    text = NoteField(_l("Nội dung kiến nghị"), validators=[length(max=5000)])


class BulkForm(FlaskForm):
    rows = FieldList(FormField(RaisedRowForm), min_entries=5, max_entries=100)


class ImportForm(FlaskForm):
    meeting_id = ChoiceField(_l("Thuộc hội nghị"), validators=[Optional()])
    text = NoteField(
        _l("Dán nội dung thông báo"),
        validators=[length(max=200_000)],
        description=_l("Hoặc tải lên tệp .docx / .txt bên dưới."),
    )
    document = FileField(_l("Tệp thông báo (.docx, .txt)"))


class ItemUpdateForm(FlaskForm):
    status = ChoiceField(_l("Tình trạng"), coerce=str, validators=[Required()])
    progress = IntegerField(
        _l("Tiến độ (%)"),
        validators=[
            Optional(),
            NumberRange(0, 100, message=_l("Tiến độ phải là số từ %(min)s đến %(max)s.")),
        ],
    )
    note = NoteField(_l("Nội dung cập nhật"), validators=[length(max=5000)])
    roadmap = NoteField(_l("Lộ trình"), validators=[length(max=5000)])
    expected_on = DateInputField(_l("Dự kiến hoàn thành"), validators=[Optional()])
    responsible_person = StringField(
        _l("Cá nhân chịu trách nhiệm"), filters=[clean_text], validators=[length(max=200)]
    )
    competence = ChoiceField(_l("Thẩm quyền"), coerce=str, validators=[Required()])
    forwarded_to = StringField(
        _l("Cơ quan cấp trên đã nhận"), filters=[clean_text], validators=[length(max=300)]
    )
    higher_reply = NoteField(_l("Nội dung trả lời của cấp trên"), validators=[length(max=10000)])
    outcome_note = NoteField(
        _l("Kết quả / lý do không thực hiện được"), validators=[length(max=5000)]
    )
    recommendation = NoteField(_l("Kiến nghị, đề xuất"), validators=[length(max=5000)])


class LinkForm(FlaskForm):
    code = StringField(
        _l("Mã kiến nghị"), validators=[Required(_l("Hãy nhập mã kiến nghị.")), length(max=30)]
    )
    carry_units = BooleanField(_l("Giao luôn cho đơn vị của mục này"))


class ThemeForm(FlaskForm):
    theme = StringField(_l("Nhóm kiến nghị"), filters=[clean_text], validators=[length(max=200)])
    repeat_code = StringField(
        _l("Lặp lại kiến nghị trước (mã)"), validators=[Optional(), length(max=30)]
    )
    competence = ChoiceField(_l("Thẩm quyền"), coerce=str, validators=[Required()])
