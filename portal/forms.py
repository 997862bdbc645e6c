"""Form pieces shared by the feature packages, with Vietnamese messages throughout.

WTForms has no Vietnamese catalogue, so every validator here carries its own message.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, StopValidation, ValidationError

from portal.text import normalize
from portal.timeutil import parse_date


class Required:
    """Like DataRequired, but counts a value of spaces as empty and speaks Vietnamese."""

    field_flags = {"required": True}

    def __init__(self, message=None):
        self.message = message or _l("Vui lòng nhập thông tin này.")

    def __call__(self, form, field):
        data = field.data
        if data is None or (isinstance(data, str) and not data.strip()) or data == []:
            if field.errors:  # already explained (e.g. an unknown choice): say it once
                raise StopValidation()
            raise StopValidation(self.message)


def length(min: int = -1, max: int = -1):
    if min > 0 and max > 0:
        message = _l("Cần từ %(min)d đến %(max)d ký tự.", min=min, max=max)
    elif max > 0:
        message = _l("Tối đa %(max)d ký tự.", max=max)
    else:
        message = _l("Cần ít nhất %(min)d ký tự.", min=min)
    return Length(min=min, max=max, message=message)


class ChoiceField(SelectField):
    """A select whose bad or unknown value gets a Vietnamese message, not a crash."""

    def __init__(self, *args, coerce=int, **kwargs):
        super().__init__(*args, coerce=coerce, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] not in ("", None):
            try:
                self.data = self.coerce(valuelist[0])
            except (ValueError, TypeError):
                self.data = None
                self._bad = True
        else:
            self.data = None

    def pre_validate(self, form):
        if getattr(self, "_bad", False) or (
            self.data is not None and self.data not in {value for value, _label in self.choices}
        ):
            raise ValidationError(_l("Lựa chọn không hợp lệ."))


class MultiChoiceField(SelectMultipleField):
    def __init__(self, *args, coerce=int, **kwargs):
        super().__init__(*args, coerce=coerce, **kwargs)

    def process_formdata(self, valuelist):
        try:
            self.data = [self.coerce(v) for v in valuelist if v not in ("", None)]
        except (ValueError, TypeError):
            self.data = []
            self._bad = True

    def pre_validate(self, form):
        valid = {value for value, _label in self.choices}
        if getattr(self, "_bad", False) or any(v not in valid for v in self.data or []):
            raise ValidationError(_l("Lựa chọn không hợp lệ."))


class DateInputField(StringField):
    """A date typed as dd/mm/yyyy or sent by a date input as yyyy-mm-dd."""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        try:
            self.data = parse_date(self.raw)
        except ValueError:
            self.data = None
            self._bad = True

    def _value(self):
        if getattr(self, "_bad", False):
            return self.raw
        return self.data.isoformat() if self.data else ""

    def pre_validate(self, form):
        if getattr(self, "_bad", False):
            raise ValidationError(_l("Ngày không hợp lệ; hãy nhập theo dạng ngày/tháng/năm."))


class NoteField(TextAreaField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()


_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_VN_PHONE = re.compile(r"^0(?:[35789]\d{8}|2\d{9})$")


def normalize_phone(value: str | None) -> str:
    """ "+84 912.345.678" -> "0912345678"; no check, see :func:`vietnamese_phone`."""
    digits = _PHONE_SEPARATORS.sub("", value or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits


def vietnamese_phone(form, field):
    """Mobile (03/05/07/08/09 + 8 digits) or landline (02 + 9 digits), +84 accepted."""
    if not field.data:
        return
    phone = normalize_phone(field.data)
    if not _VN_PHONE.match(phone):
        raise ValidationError(
            _l("Số điện thoại không hợp lệ. Ví dụ: 0912 345 678 hoặc 024 3825 1234.")
        )
    field.data = phone


def clean_text(value):
    return normalize(value) if isinstance(value, str) else value
