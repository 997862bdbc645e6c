from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request, session, url_for
from sqlalchemy import text

from portal.extensions import db
from portal.petitions import services as petitions
from portal.petitions.forms import LookupForm
from portal.public import services
from portal.web import render, see_other

bp = Blueprint("public", __name__)


@bp.route("/")
def home():
    return render("public/home.html", **services.home_summary(), lookup=LookupForm())


@bp.route("/tra-cuu")
def lookup():
    form = LookupForm(request.args)
    if request.args and form.validate():
        petition = petitions.get_by_code(form.ma.data)
        if petition is not None:
            return see_other(url_for("petitions.public_page", code=petition.code))
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


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means the database is not usable
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
