from __future__ import annotations

from statistics import median

from flask import Blueprint, abort, current_app, jsonify, request, session, url_for
from sqlalchemy import text

from portal.extensions import db
from portal.pagecache import public_page
from portal.petitions import services as petitions
from portal.petitions.forms import LookupForm
from portal.public import services
from portal.web import render, see_other

bp = Blueprint("public", __name__)


@bp.route("/")
@public_page
def home():
    return render("public/home.html", **services.home_summary(), lookup=LookupForm())


@bp.route("/tra-cuu")
def lookup():
    form = LookupForm(request.args)
    if request.args and form.validate():
        code = petitions.find_code(form.ma.data)
        if code is not None:
            return see_other(url_for("petitions.public_page", code=code))
        form.ma.errors.append(services.not_found_message(form.ma.data))
        return render("public/lookup.html", form=form, status=404)
    status = 422 if request.args else 200
    return render("public/lookup.html", form=form, status=status)


@bp.route("/ngon-ngu/<code>", methods=["POST"])
def set_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["locale"] = code
    target = request.form.get("next") or url_for("public.home")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("public.home")
    return see_other(target)


@bp.route("/thong-ke")
@public_page
def statistics():
    """Public statistics: aggregates only, printable."""
    from portal.monitoring.services import Scope, build_dashboard

    data = build_dashboard(Scope())
    days = sorted(d for row in data.units for d in row.days)
    resolved = sum(row.resolved for row in data.units)
    on_time = sum(row.on_time for row in data.units)
    return render(
        "public/statistics.html",
        data=data,
        median_days=median(days) if days else None,
        on_time_rate=round(100 * on_time / resolved, 1) if resolved else None,
    )


@bp.route("/du-lieu-mo")
def open_data():
    from portal.public import opendata

    return render(
        "public/open_data.html",
        petition_fields=opendata.PETITION_FIELDS,
        event_fields=opendata.EVENT_FIELDS,
        licence=opendata.LICENCE,
    )


@bp.route("/du-lieu-mo/<name>.<fmt>")
def open_data_file(name: str, fmt: str):
    from flask import Response

    from portal.public import opendata

    sources = {
        "kien-nghi": (opendata.petition_rows, opendata.PETITION_FIELDS),
        "dong-thoi-gian": (opendata.event_rows, opendata.EVENT_FIELDS),
    }
    if name not in sources or fmt not in ("csv", "json"):
        abort(404)
    rows, fields = sources[name]
    if fmt == "csv":
        response = Response(opendata.to_csv(rows(), fields), mimetype="text/csv")
    else:
        response = jsonify(licence=opendata.LICENCE, fields=dict(fields), data=list(rows()))
    response.headers["Content-Disposition"] = f'inline; filename="{name}.{fmt}"'
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means the database is not usable
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
