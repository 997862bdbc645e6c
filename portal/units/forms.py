from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import FloatField, StringField

from portal.forms import ChoiceField, Required, clean_text, length


class BoundaryImportForm(FlaskForm):
    document = FileField(_l("Tệp GeoJSON ranh giới tổ dân phố"))
    name_property = StringField(
        _l("Thuộc tính chứa tên tổ dân phố"),
        default="name",
        filters=[clean_text],
        validators=[Required(_l("Hãy nhập tên thuộc tính.")), length(max=60)],
    )


class PlaceForm(FlaskForm):
    name = StringField(
        _l("Tên địa danh"),
        filters=[clean_text],
        validators=[Required(_l("Hãy nhập tên địa danh.")), length(max=200)],
        description=_l("Ví dụ: Ngõ 12 phố Văn Khê, Chợ Dương Nội, Nhà văn hóa TDP La Dương"),
    )
    kind = ChoiceField(_l("Loại"), coerce=str, validators=[Required()])
    latitude = FloatField(_l("Vĩ độ"), validators=[Required(_l("Hãy nhập vĩ độ."))])
    longitude = FloatField(_l("Kinh độ"), validators=[Required(_l("Hãy nhập kinh độ."))])
