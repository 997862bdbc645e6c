from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, MultipleFileField, StringField
from wtforms.validators import Email, Optional, ValidationError

from portal.forms import (
    ChoiceField,
    DateInputField,
    MultiChoiceField,
    NoteField,
    Required,
    clean_text,
    length,
    vietnamese_phone,
)


class CoordinateField(HiddenField):
    def __init__(self, *args, low: float, high: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.low, self.high = low, high

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if raw:
            try:
                self.data = float(raw.replace(",", "."))
            except ValueError:
                self._bad = True

    def pre_validate(self, form):
        if getattr(self, "_bad", False) or (
            self.data is not None and not self.low <= self.data <= self.high
        ):
            raise ValidationError(_l("Tọa độ không hợp lệ."))


def contact_name(**kwargs) -> StringField:
    return StringField(
        _l("Họ và tên"), filters=[clean_text], validators=[Optional(), length(max=200)], **kwargs
    )


def contact_phone(**kwargs) -> StringField:
    return StringField(_l("Số điện thoại"), validators=[Optional(), vietnamese_phone], **kwargs)


def contact_email(**kwargs) -> StringField:
    """Optional; its form is checked without a DNS lookup."""
    return StringField(
        _l("Thư điện tử"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            Optional(),
            length(max=254),
            Email(message=_l("Địa chỉ thư điện tử không hợp lệ."), check_deliverability=False),
        ],
        **kwargs,
    )


class PetitionForm(FlaskForm):
    """What a resident fills in. Personal data is optional and never shown publicly."""

    category_id = ChoiceField(_l("Lĩnh vực"), validators=[Required(_l("Hãy chọn lĩnh vực."))])
    title = StringField(
        _l("Tiêu đề"),
        filters=[clean_text],
        validators=[Required(_l("Hãy nhập tiêu đề ngắn gọn.")), length(min=5, max=200)],
        description=_l("Ví dụ: Điểm rác tự phát đầu ngõ 12 phố Văn Khê"),
    )
    description = NoteField(
        _l("Nội dung kiến nghị"),
        validators=[Required(_l("Hãy mô tả vấn đề.")), length(min=10, max=5000)],
        description=_l("Mô tả vấn đề, từ khi nào, ảnh hưởng thế nào."),
    )
    latitude = CoordinateField(_l("Vĩ độ"), low=-90, high=90)
    longitude = CoordinateField(_l("Kinh độ"), low=-180, high=180)
    area_id = ChoiceField(_l("Tổ dân phố"), validators=[Optional()])
    address_text = StringField(
        _l("Địa điểm cụ thể"),
        filters=[clean_text],
        validators=[Optional(), length(max=300)],
        description=_l("Số nhà, ngõ, đường hoặc mốc gần nhất (không bắt buộc)."),
    )
    photos = MultipleFileField(_l("Ảnh (tối đa 5 ảnh, mỗi ảnh 10 MB)"))
    petitioner_name = contact_name()
    petitioner_phone = contact_phone()
    petitioner_email = contact_email()
    petitioner_address = StringField(
        _l("Địa chỉ liên hệ"), filters=[clean_text], validators=[Optional(), length(max=300)]
    )
    show_name_publicly = BooleanField(_l("Tôi đồng ý hiển thị họ tên công khai"))
    # Honeypot: hidden from people by CSS, filled by bots.
    website = StringField(_l("Để trống ô này"))


class CoSignForm(FlaskForm):
    """ "Tôi cũng gặp vấn đề này": contact details optional, never shown publicly."""

    name = contact_name()
    phone = contact_phone()
    email = contact_email(description=_l("Nếu có, bạn sẽ nhận thư xác nhận để theo dõi tiến độ."))
    # Honeypot: hidden from people by CSS, filled by bots.
    website = StringField(_l("Để trống ô này"))


class AddInfoForm(FlaskForm):
    text = NoteField(_l("Thông tin bổ sung"), validators=[Optional(), length(max=5000)])
    photos = MultipleFileField(_l("Ảnh bổ sung"))


class LookupForm(FlaskForm):
    class Meta:
        csrf = False

    ma = StringField(_l("Mã kiến nghị"), validators=[Required(_l("Hãy nhập mã kiến nghị."))])


class FilterForm(FlaskForm):
    """List filters (GET): no CSRF, every field optional and forgiving."""

    class Meta:
        csrf = False

    q = StringField(_l("Tìm kiếm"))
    status = ChoiceField(_l("Trạng thái"), coerce=str, validators=[Optional()])
    category = ChoiceField(_l("Lĩnh vực"), validators=[Optional()])
    area = ChoiceField(_l("Tổ dân phố"), validators=[Optional()])
    unit = ChoiceField(_l("Đơn vị"), validators=[Optional()])
    overdue = BooleanField(_l("Chỉ kiến nghị quá hạn"))
    due_soon = BooleanField(_l("Chỉ kiến nghị sắp đến hạn"))
    sort = ChoiceField(_l("Sắp xếp"), coerce=str, validators=[Optional()])
    page = IntegerField(validators=[Optional()])


# --- staff actions: every form carries the version the officer saw ------------------------


class ActionForm(FlaskForm):
    version = HiddenField()
    internal_note = NoteField(
        _l("Ghi chú nội bộ (không công khai)"), validators=[Optional(), length(max=5000)]
    )

    @property
    def seen_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class ReviewForm(ActionForm):
    title = StringField(_l("Tiêu đề"), filters=[clean_text], validators=[length(min=5, max=200)])
    category_id = ChoiceField(_l("Lĩnh vực"), validators=[Optional()])
    area_id = ChoiceField(_l("Tổ dân phố"), validators=[Optional()])
    public_note = NoteField(_l("Ghi chú công khai"), validators=[Optional(), length(max=5000)])


class EditForm(ReviewForm):
    pass


class AssignForm(ActionForm):
    lead_unit_id = ChoiceField(
        _l("Đơn vị chủ trì"), validators=[Required(_l("Hãy chọn đơn vị chủ trì."))]
    )
    support_unit_ids = MultiChoiceField(_l("Đơn vị phối hợp"), validators=[Optional()])
    responsible_person = StringField(
        _l("Cá nhân chịu trách nhiệm"),
        filters=[clean_text],
        validators=[Optional(), length(max=200)],
    )
    roadmap = NoteField(_l("Lộ trình thực hiện"), validators=[Optional(), length(max=5000)])
    expected_on = DateInputField(_l("Dự kiến hoàn thành"), validators=[Optional()])
    public_note = NoteField(_l("Ghi chú công khai"), validators=[Optional(), length(max=5000)])


class UpdateForm(ActionForm):
    public_note = NoteField(
        _l("Nội dung cập nhật (công khai)"), validators=[Optional(), length(max=5000)]
    )
    expected_on = DateInputField(_l("Dự kiến hoàn thành mới"), validators=[Optional()])


class ResolveForm(ActionForm):
    public_note = NoteField(
        _l("Kết quả giải quyết (công khai)"),
        validators=[Required(_l("Hãy mô tả kết quả giải quyết.")), length(max=5000)],
    )


class CannotForm(ActionForm):
    reason = NoteField(
        _l("Lý do không thực hiện được (công khai)"),
        validators=[Required(_l("Hãy nêu rõ lý do.")), length(max=5000)],
    )
    recommendation = NoteField(
        _l("Kiến nghị, đề xuất"),
        validators=[Required(_l("Hãy nêu kiến nghị, đề xuất.")), length(max=5000)],
    )


class ForwardForm(ActionForm):
    to_body = StringField(
        _l("Chuyển đến cơ quan"),
        filters=[clean_text],
        validators=[Required(_l("Hãy ghi rõ cơ quan cấp trên.")), length(max=300)],
        description=_l("Ví dụ: UBND Thành phố Hà Nội, Sở Xây dựng"),
    )
    public_note = NoteField(_l("Ghi chú công khai"), validators=[Optional(), length(max=5000)])


class ForwardReplyForm(ActionForm):
    reply = NoteField(
        _l("Nội dung trả lời của cấp trên (công khai)"),
        validators=[Required(_l("Hãy nhập nội dung trả lời.")), length(max=10000)],
    )
    continue_at_ward = BooleanField(_l("Phường tiếp tục giải quyết"))


class RejectForm(ActionForm):
    reason = NoteField(
        _l("Lý do không tiếp nhận (công khai)"),
        validators=[Required(_l("Hãy nêu lý do.")), length(max=5000)],
    )
    duplicate_code = StringField(
        _l("Trùng với kiến nghị (mã)"), validators=[Optional(), length(max=30)]
    )


class MergeForm(ActionForm):
    into_code = StringField(
        _l("Gộp vào kiến nghị (mã)"),
        validators=[Required(_l("Hãy nhập mã kiến nghị cần gộp vào.")), length(max=30)],
    )
    public_note = NoteField(_l("Ghi chú công khai"), validators=[Optional(), length(max=5000)])


class CloseForm(ActionForm):
    public_note = NoteField(_l("Ghi chú công khai"), validators=[Optional(), length(max=5000)])


class ReopenForm(ActionForm):
    reason = NoteField(
        _l("Lý do mở lại (công khai)"),
        validators=[Required(_l("Hãy nêu lý do mở lại.")), length(max=5000)],
    )


class PhotoForm(FlaskForm):
    publish = HiddenField()


ACTION_FORMS = {
    "review": ReviewForm,
    "edit": EditForm,
    "assign": AssignForm,
    "update": UpdateForm,
    "resolve": ResolveForm,
    "cannot": CannotForm,
    "forward": ForwardForm,
    "forward_reply": ForwardReplyForm,
    "reject": RejectForm,
    "merge": MergeForm,
    "close": CloseForm,
    "reopen": ReopenForm,
}
