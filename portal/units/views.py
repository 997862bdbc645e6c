"""Admin pages for residential groups: import and replace boundaries, re-assign petitions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Role
from portal.accounts.services import staff_required
from portal.extensions import db
from portal.units import services
from portal.units.forms import BoundaryImportForm, PlaceForm
from portal.web import render, see_other

bp = Blueprint("units", __name__, url_prefix="/quan-ly/to-dan-pho")


@bp.route("/", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def areas():
    ward = services.current_ward()
    if ward is None:
        abort(503)
    form = BoundaryImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = request.files.get(form.document.name)
        if not upload or not upload.filename:
            form.document.errors = [_("Hãy chọn tệp GeoJSON.")]
        else:
            try:
                boundaries = services.parse_boundaries(upload.read(), form.name_property.data)
            except services.BoundaryImportError as error:
                problems = error.problems
            else:
                updated, added = services.import_boundaries(ward, boundaries)
                db.session.commit()
                flash(
                    _("Đã cập nhật %(u)d và thêm %(a)d tổ dân phố.", u=updated, a=added), "success"
                )
                return see_other(url_for("units.areas"))
    status = 422 if request.method == "POST" else 200
    return render(
        "units/areas.html",
        form=form,
        problems=problems,
        areas=services.areas(ward),
        status=status,
    )


@bp.route("/gan-lai", methods=["POST"])
@staff_required(Role.ADMIN, Role.WARD_STAFF)
def reassign():
    ward = services.current_ward()
    moved = services.reassign_petitions(ward, current_user)
    db.session.commit()
    flash(_("Đã gán lại tổ dân phố cho %(n)d kiến nghị.", n=moved), "success")
    return see_other(url_for("units.areas") if current_user.role == Role.ADMIN else "/quan-ly/")


PLACE_KINDS = {"street": _l("Đường, phố"), "lane": _l("Ngõ, ngách"), "landmark": _l("Địa điểm")}


@bp.route("/dia-danh", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def places():
    """The ward's gazetteer, searched first when residents look for a place."""
    from portal.units.models import Place, PlaceKind

    ward = services.current_ward()
    form = PlaceForm()
    form.kind.choices = [(k, str(v)) for k, v in PLACE_KINDS.items()]
    if form.validate_on_submit():
        try:
            services.save_place(
                ward,
                name=form.name.data,
                kind=PlaceKind(form.kind.data),
                latitude=form.latitude.data,
                longitude=form.longitude.data,
            )
        except ValueError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Đã lưu địa danh."), "success")
            return see_other(url_for("units.places"))
    rows = db.session.scalars(select(Place).where(Place.ward_id == ward.id).order_by(Place.name))
    status = 422 if request.method == "POST" else 200
    return render(
        "units/places.html", form=form, places=list(rows), kinds=PLACE_KINDS, status=status
    )


@bp.route("/dia-danh/<int:place_id>/xoa", methods=["POST"])
@staff_required(Role.ADMIN)
def delete_place(place_id: int):
    from portal.units.models import Place

    place = db.session.get(Place, place_id)
    if place is None or place.ward_id != services.current_ward_id():
        abort(404)  # another ward's entry is not found here, and stays
    db.session.delete(place)
    db.session.commit()
    return see_other(url_for("units.places"))
