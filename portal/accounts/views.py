from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.accounts import services
from portal.accounts.forms import LoginForm
from portal.extensions import db, limiter
from portal.web import render, see_other

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect would let a phishing link borrow our name."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("staff.inbox")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/dang-nhap", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return see_other(_safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.email.data, form.password.data, ip=request.remote_addr
            )
        except services.LoginRefused as refusal:
            db.session.commit()  # the count of failures in a row, and a lock, must stay
            form.password.errors.append(str(refusal.message))
        else:
            session.clear()
            login_user(user)
            db.session.commit()
            flash(_("Xin chào %(name)s.", name=user.full_name), "success")
            return see_other(_safe_next(form.next.data))
    status = 422 if request.method == "POST" else 200
    return render("accounts/login.html", form=form, status=status)


@bp.route("/dang-xuat", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return see_other(url_for("public.home"))
