"""The monitoring dashboard, supervision remarks, ratings and the working-day calendar."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import calendar as work_calendar
from portal.accounts.models import Role
from portal.accounts.services import staff_required
from portal.extensions import db, limiter
from portal.meetings.models import Meeting, NoticeItem
from portal.monitoring import services
from portal.monitoring.forms import OverrideForm, RatingForm, RemarkForm, ScopeForm
from portal.petitions import services as petitions
from portal.units.models import Unit
from portal.units.services import active_units, current_ward, current_ward_id
from portal.web import render, see_other

bp = Blueprint("monitoring", __name__)

SUPERVISORS = (Role.MTTQ, Role.WARD_STAFF, Role.ADMIN)


def _scope() -> tuple[ScopeForm, services.Scope]:
    form = ScopeForm(request.args)
    form.validate()
    meeting = None
    if form.meeting.data and form.meeting.data.isdecimal():  # isdigit() takes "²"
        meeting = db.session.get(Meeting, int(form.meeting.data))
        if meeting is not None and meeting.ward_id != current_ward_id():
            abort(404)  # another ward's meeting: not found, as on its own page
    scope = services.Scope(
        start=form.tu.data if not form.tu.errors else None,
        end=form.den.data if not form.den.errors else None,
        meeting=meeting,
    )
    return form, scope


@bp.route("/giam-sat")
@staff_required()
def dashboard():
    form, scope = _scope()
    ward = current_ward()
    meetings = list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.ward_id == (ward.id if ward is not None else None))
            .order_by(Meeting.held_on.desc())
        )
    )
    return render(
        "monitoring/dashboard.html",
        form=form,
        data=services.build_dashboard(scope),
        meetings=meetings,
        remark_form=RemarkForm() if current_user.role in SUPERVISORS else None,
        units=sorted(active_units(), key=lambda u: u.name),
    )


@bp.route("/giam-sat.xlsx")
@staff_required()
def dashboard_xlsx():
    from portal.monitoring.export import dashboard_xlsx as build

    _form, scope = _scope()
    body = build(services.build_dashboard(scope))
    response = Response(
        body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"giam-sat-{date.today():%Y%m%d}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _safe_next(target: str | None, fallback: str) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return fallback


def _remark_target(form: RemarkForm):
    """The petition, item or unit the form names: this ward's (a unit of no ward too).
    One named but not found here, another ward's included, is a 404."""
    petition = item = unit = None
    if form.petition_code.data:
        petition = petitions.get_by_code(form.petition_code.data)
        if petition is None:
            abort(404)
    if form.item_id.data:
        if form.item_id.data.isdecimal():
            item = db.session.get(NoticeItem, int(form.item_id.data))
        if item is None or item.notice.ward_id != current_ward_id():
            abort(404)
    if form.unit_id.data:
        if form.unit_id.data.isdecimal():
            unit = db.session.get(Unit, int(form.unit_id.data))
        if unit is None or unit.ward_id not in (None, current_ward_id()):
            abort(404)
    return petition, item, unit


@bp.route("/giam-sat/y-kien", methods=["POST"])
@staff_required(*SUPERVISORS)
def add_remark():
    form = RemarkForm()
    back = _safe_next(form.next.data, url_for("monitoring.dashboard"))
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return see_other(back)
    petition, item, unit = _remark_target(form)
    try:
        services.add_remark(
            current_user,
            remark=form.remark.data,
            recommendation=form.recommendation.data,
            is_public=form.is_public.data,
            petition=petition,
            item=item,
            unit=unit,
        )
        db.session.commit()
    except services.MonitoringError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return see_other(back)
    flash(_("Đã ghi ý kiến giám sát."), "success")
    return see_other(back)


@bp.route("/cua-toi/<token>/danh-gia", methods=["POST"])
@limiter.limit("20 per hour")
def rate(token: str):
    petition = petitions.get_by_token(token)
    if petition is None:
        abort(404)
    form = RatingForm()
    back = url_for("petitions.private_page", token=token)
    if form.validate():
        try:
            services.rate(petition, satisfied=form.satisfied.data == "1", comment=form.comment.data)
            db.session.commit()
        except services.MonitoringError as error:
            db.session.rollback()
            form.comment.errors = [*form.comment.errors, str(error.message)]
        else:
            flash(_("Cảm ơn bạn đã đánh giá kết quả giải quyết."), "success")
            return see_other(back)
    from portal.petitions.forms import AddInfoForm

    response = render(
        "petitions/private_page.html",
        petition=petition,
        form=AddInfoForm(),
        rating_form=form,
        just_filed=False,
        status=422,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/quan-ly/lich", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def calendar():
    form = OverrideForm()
    if form.validate_on_submit():
        services.set_override(form.day.data, form.kind.data == "working", form.note.data)
        db.session.commit()
        flash(_("Đã lưu ngày %(day)s.", day=form.day.data.strftime("%d/%m/%Y")), "success")
        return see_other(url_for("monitoring.calendar"))
    year = request.args.get("nam", type=int) or date.today().year
    if not 1900 <= year <= 2200:  # a hand-made URL: show this year
        year = date.today().year
    holidays = sorted(
        (day, work_calendar.holiday_name(day))
        for day in _year_days(year)
        if work_calendar.holiday_name(day)
    )
    overrides, city_overrides = services.list_overrides()
    status = 422 if request.method == "POST" else 200
    return render(
        "monitoring/calendar.html",
        form=form,
        year=year,
        holidays=holidays,
        overrides=overrides,
        city_overrides=city_overrides,
        overridden_days={o.day for o in overrides},
        status=status,
    )


def _year_days(year: int):
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day = date.fromordinal(day.toordinal() + 1)


@bp.route("/quan-ly/lich/<day>/xoa", methods=["POST"])
@staff_required(Role.ADMIN)
def delete_override(day: str):
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    # Only this ward's own: the city's days are the system's, not a ward admin's.
    if not services.delete_override(when):
        abort(404)
    db.session.commit()
    flash(_("Đã xóa điều chỉnh ngày %(day)s.", day=when.strftime("%d/%m/%Y")), "success")
    return see_other(url_for("monitoring.calendar"))


def svg_bars(values: list[tuple[str, int]], *, width: int = 560, bar: int = 22) -> str:
    """A horizontal bar chart as SVG markup (escaped labels), readable in print."""
    from markupsafe import escape

    top = max((v for _label, v in values), default=0) or 1
    height = bar * len(values) + 8
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" class="chart" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (label, value) in enumerate(values):
        y = index * bar + 4
        length = int((width - 230) * value / top)
        parts.append(
            f'<text x="0" y="{y + bar * 0.7:.0f}" font-size="12">{escape(label)}</text>'
            f'<rect x="200" y="{y + 3}" width="{length}" height="{bar - 8}" fill="#1d4e89"></rect>'
            f'<text x="{205 + length}" y="{y + bar * 0.7:.0f}" font-size="12">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_months(months: list[tuple[str, int, int]], *, width: int = 560, height: int = 160):
    """Filed and resolved per month, side by side."""
    from markupsafe import escape

    top = max((max(f, r) for _m, f, r in months), default=0) or 1
    slot = width / max(len(months), 1)
    plot = height - 30
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" class="chart" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (label, filed, resolved) in enumerate(months):
        x = index * slot + 4
        for offset, value, colour in ((0, filed, "#b3261e"), (slot / 2 - 4, resolved, "#15803d")):
            h = plot * value / top
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{plot - h + 4:.1f}" width="{slot / 2 - 6:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: {value}</title></rect>'
            )
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" font-size="10">{escape(label[:2])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
