from __future__ import annotations

from functools import wraps

from flask import abort, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.timeutil import utcnow
from portal.units.models import Unit
from portal.web import htmx_login_redirect

STAFF_ROLES = frozenset(Role)


class AccountError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def init_login(app, login_manager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        try:
            user = db.session.get(User, int(user_id))
        except ValueError:
            return None
        return user if user and user.active else None

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import flash, redirect

        login_url = url_for("accounts.login", next=request.full_path.rstrip("?"))
        response = htmx_login_redirect(login_url)
        if response is not None:
            return response
        flash(login_manager.login_message, "info")
        return redirect(login_url)


def authenticate(email: str, password: str) -> User | None:
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        # Spend the same time as a real check so that timing does not reveal accounts.
        User(password_hash="").set_password(password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def create_user(
    *, email: str, full_name: str, password: str, role: Role, unit: Unit | None = None
) -> User:
    email = (email or "").strip().lower()
    if "@" not in email:
        raise AccountError(_l("Địa chỉ thư điện tử không hợp lệ."))
    if len(password or "") < 10:
        raise AccountError(_l("Mật khẩu cần ít nhất 10 ký tự."))
    if role == Role.UNIT_STAFF and unit is None:
        raise AccountError(_l("Tài khoản đơn vị phải gắn với một đơn vị."))
    if db.session.scalar(select(User).where(func.lower(User.email) == email)):
        raise AccountError(_l("Đã có tài khoản với địa chỉ này."))
    user = User(email=email, full_name=full_name.strip(), role=role, unit=unit, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def staff_required(*roles: Role):
    """Logged-in staff with one of ``roles`` (any staff role when none are given)."""
    allowed = frozenset(roles) or STAFF_ROLES

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
