from __future__ import annotations

import logging
from datetime import timedelta
from functools import wraps

from flask import abort, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select, update

from portal import signals
from portal.accounts.models import Role, User
from portal.extensions import db
from portal.timeutil import utcnow
from portal.units.models import Unit, Ward
from portal.units.services import current_ward_id
from portal.web import htmx_login_redirect

STAFF_ROLES = frozenset(Role)

# Login refusals and lockouts, one line each, for whoever keeps the server's logs. The same
# events go to the audit log (``signals.login_attempt``), which admins read in the portal.
security_log = logging.getLogger("portal.security")


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
        # A session of an account that was disabled or moved to another ward since it
        # logged in is treated as logged out.
        return user if user and user.active and belongs_here(user) else None

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import flash, redirect

        login_url = url_for("accounts.login", next=request.full_path.rstrip("?"))
        response = htmx_login_redirect(login_url)
        if response is not None:
            return response
        flash(login_manager.login_message, "info")
        return redirect(login_url)


class LoginRefused(Exception):
    """The login is refused; ``message`` says why, in words safe to show anyone."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def login_failed_message():
    """One message for a wrong password, an unknown address, a locked or disabled account,
    so that the login form never tells whether an account exists."""
    return _l(
        "Thư điện tử hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khóa vì nhập sai "
        "nhiều lần liên tiếp (khi đó hãy thử lại sau %(minutes)d phút).",
        minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"],
    )


def belongs_here(user: User) -> bool:
    """Whether the account may use this deployment's ward (``PORTAL_WARD_CODE``).

    Staff of another ward may not. ``ward_id`` NULL is an account created before
    accounts had a ward: a legacy account of this deployment's ward, allowed.
    """
    if user.ward_id is None:
        return True
    # The id the application remembers: no query on every request of a logged-in user.
    ward_id = current_ward_id()
    return ward_id is not None and user.ward_id == ward_id


def _tell(outcome: str, account: User | None, reason: str | None = None, failures: int = 0):
    """Announce a login attempt (the audit log records it); flushes nothing itself."""
    signals.login_attempt.send(
        current_app._get_current_object(),
        account=account,
        outcome=outcome,
        reason=reason,
        failures=failures,
    )


def _spend_hash_time(password: str) -> None:
    """Spend the time of a real check, so that timing tells nothing either."""
    User(password_hash="").set_password(password or "")


def _record_failure(user: User, ip: str | None) -> None:
    """Count a wrong password; the Nth in a row locks the account for a while."""
    config = current_app.config
    failures = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_login_count=User.failed_login_count + 1)
        .returning(User.failed_login_count)
    ).scalar_one()
    if failures >= config["LOGIN_MAX_FAILURES"]:
        # Locked; the count starts again when the lock ends.
        user.locked_until = utcnow() + timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
        user.failed_login_count = 0
        db.session.flush()
        security_log.warning(
            "login lockout: account=%s ip=%s failures=%d until=%s",
            user.id,
            ip,
            failures,
            user.locked_until.isoformat(timespec="seconds"),
        )
        _tell("lockout", user, "password", failures)
    else:
        security_log.info(
            "login refused: account=%s ip=%s reason=password failures=%d", user.id, ip, failures
        )
        _tell("refused", user, "password", failures)


def _needs_rehash(user: User) -> bool:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return not user.password_hash.startswith(method)


def authenticate(email: str, password: str, *, ip: str | None = None) -> User:
    """The account for these credentials, or :class:`LoginRefused`.

    Wrong passwords are counted; ``LOGIN_MAX_FAILURES`` in a row lock the account for
    ``LOGIN_LOCKOUT_MINUTES`` (the per-IP limit on the login form is a separate guard).
    Every attempt, its outcome and the reason of a refusal go to the ``portal.security``
    log and to the audit log (through ``signals.login_attempt``). The caller commits in
    both cases, so that the count and the audit entry survive a refusal.
    """
    email = (email or "").strip().lower()
    password = password or ""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        _spend_hash_time(password)
        security_log.info("login refused: account=- ip=%s reason=unknown", ip)
        _tell("refused", None, "unknown")
        raise LoginRefused(login_failed_message())
    if user.locked_until is not None and user.locked_until > utcnow():
        # Not even a right password opens a locked account, and tries do not extend it.
        _spend_hash_time(password)
        security_log.info("login refused: account=%s ip=%s reason=locked", user.id, ip)
        _tell("refused", user, "locked")
        raise LoginRefused(login_failed_message())
    if not user.check_password(password):
        _record_failure(user, ip)
        raise LoginRefused(login_failed_message())
    if not user.active:
        security_log.info("login refused: account=%s ip=%s reason=inactive", user.id, ip)
        _tell("refused", user, "inactive")
        raise LoginRefused(login_failed_message())
    if not belongs_here(user):
        security_log.info("login refused: account=%s ip=%s reason=other-ward", user.id, ip)
        _tell("refused", user, "other-ward")
        raise LoginRefused(
            _l(
                "Tài khoản này là tài khoản cán bộ của %(ward)s, không dùng được ở cổng "
                "kiến nghị này. Hãy đăng nhập ở cổng của đơn vị mình hoặc liên hệ quản trị "
                "viên.",
                ward=user.ward.name if user.ward else _l("phường/xã khác"),
            )
        )
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    if _needs_rehash(user):
        # An older or weaker hash is replaced while the password is at hand.
        user.set_password(password)
    security_log.info("login: account=%s ip=%s", user.id, ip)
    _tell("login", user)
    return user


def create_user(
    *,
    email: str,
    full_name: str,
    password: str,
    role: Role,
    unit: Unit | None = None,
    ward: Ward | None = None,
) -> User:
    """A staff account of ``ward`` (give it: NULL is only for legacy accounts)."""
    email = (email or "").strip().lower()
    if "@" not in email:
        raise AccountError(_l("Địa chỉ thư điện tử không hợp lệ."))
    if len(password or "") < 10:
        raise AccountError(_l("Mật khẩu cần ít nhất 10 ký tự."))
    if role == Role.UNIT_STAFF and unit is None:
        raise AccountError(_l("Tài khoản đơn vị phải gắn với một đơn vị."))
    # A legacy account (no ward) counts as this deployment's ward's.
    account_ward_id = ward.id if ward is not None else current_ward_id()
    if unit is not None and unit.ward_id is not None and unit.ward_id != account_ward_id:
        raise AccountError(
            _l(
                "Đơn vị %(unit)s thuộc phường/xã khác; tài khoản chỉ gắn được với đơn vị "
                "của phường/xã mình hoặc đơn vị không thuộc phường/xã nào.",
                unit=unit.name,
            )
        )
    if db.session.scalar(select(User).where(func.lower(User.email) == email)):
        raise AccountError(_l("Đã có tài khoản với địa chỉ này."))
    user = User(
        email=email, full_name=full_name.strip(), role=role, unit=unit, ward=ward, active=True
    )
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
