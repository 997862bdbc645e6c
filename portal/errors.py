"""Friendly error pages in Vietnamese; htmx calls get the same page as a fragment."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from portal.extensions import db

security_log = logging.getLogger("portal.security")

MESSAGES = {
    400: (_l("Yêu cầu không hợp lệ"), _l("Máy chủ không hiểu yêu cầu này.")),
    403: (_l("Không có quyền truy cập"), _l("Tài khoản của bạn không được phép xem trang này.")),
    404: (
        _l("Không tìm thấy"),
        _l("Trang hoặc kiến nghị bạn tìm không tồn tại. Hãy kiểm tra lại mã hoặc địa chỉ."),
    ),
    405: (_l("Không được phép"), _l("Thao tác này không được hỗ trợ tại địa chỉ này.")),
    413: (
        _l("Tệp gửi lên quá lớn"),
        _l("Tổng dung lượng tệp vượt giới hạn. Hãy gửi ít ảnh hơn hoặc ảnh nhỏ hơn."),
    ),
    429: (
        _l("Quá nhiều yêu cầu"),
        _l("Bạn đã gửi quá nhiều yêu cầu trong thời gian ngắn. Hãy thử lại sau ít phút."),
    ),
    500: (_l("Lỗi hệ thống"), _l("Đã có lỗi xảy ra. Thông tin bạn đã lưu trước đó không bị mất.")),
}
DATABASE_UNAVAILABLE = (
    _l("Hệ thống tạm thời gián đoạn"),
    _l(
        "Hệ thống đang tạm thời không kết nối được cơ sở dữ liệu. Hãy thử lại sau ít phút; "
        "nếu bạn vừa gửi biểu mẫu mà không nhận được mã kiến nghị, hãy gửi lại."
    ),
)


def _page(code: int, title=None, message=None):
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    template = "errors/_error.html" if request.headers.get("HX-Request") else "errors/page.html"
    body = render_template(
        template, code=code, title=title or default_title, message=message or default_message
    )
    return body, code, {"Vary": "HX-Request"}


def _bare_page(title, message) -> str:
    """A page that needs nothing from the database, for when it cannot be reached."""
    return (
        f'<!doctype html><html lang="vi"><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><main><h1>{escape(title)}</h1>"
        f"<p>{escape(message)}</p></main></html>"
    )


def register(app: Flask) -> None:
    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, lambda e, code=code: _page(code))

    @app.errorhandler(429)
    def too_many_requests(error):
        # Someone tries passwords, or floods a form: operators read it in the security log
        # (not in the audit log, which a flood would fill; the limit is per address).
        security_log.warning(
            "rate limited: endpoint=%s ip=%s limit=%s",
            request.endpoint,
            request.remote_addr,
            getattr(error, "description", ""),
        )
        return _page(429)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(
            400,
            _l("Phiên làm việc đã hết hạn"),
            _l(
                "Biểu mẫu đã hết hạn hoặc thiếu mã bảo mật. Hãy quay lại, tải lại trang và "
                "gửi lại; nội dung đã nhập vẫn còn trên trình duyệt của bạn."
            ),
        )

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        # The database is down, restarting or overloaded: a passing state, so 503 and a
        # hint to retry, for people and for the load balancer. A lost connection makes
        # the pool drop the connections it holds; the next request connects afresh.
        app.logger.error("database unavailable: %s", error)
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
        try:
            body, _code, headers = _page(503, *DATABASE_UNAVAILABLE)
        except SQLAlchemyError:  # the layout itself needs the database (the ward's name)
            with contextlib.suppress(SQLAlchemyError):
                db.session.rollback()
            body, headers = _bare_page(*DATABASE_UNAVAILABLE), {}
        return body, 503, {**headers, "Retry-After": "30"}

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _page(500)
