from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField

from portal.forms import Required, clean_text, length


class BoundaryImportForm(FlaskForm):
    document = FileField(_l("Tệp GeoJSON ranh giới tổ dân phố"))
    name_property = StringField(
        _l("Thuộc tính chứa tên tổ dân phố"),
        default="name",
        filters=[clean_text],
        validators=[Required(_l("Hãy nhập tên thuộc tính.")), length(max=60)],
    )
