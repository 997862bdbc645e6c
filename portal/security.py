"""Security headers on every response. Pages have no inline scripts, so the policy
allows scripts from this site only; Leaflet sets inline styles, hence 'unsafe-inline'
for styles alone. Map tiles may come from the configured tile server.

Also: cookie flags, NUL characters refused, out-of-range values answered 400."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest

from portal.extensions import db

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _tile_origin(url: str) -> str:
    parts = urlsplit(url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in url else parts.netloc
    return f"{parts.scheme}://{host}"


def init_app(app: Flask) -> None:
    production = app.config.get("PORTAL_ENV") == "production"
    if production:
        # Flask's own defaults already hold SESSION_COOKIE_SECURE = False, so setdefault
        # would never turn it on: production is served over HTTPS, cookies only go there.
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    # Never readable by scripts (SameSite=Lax and the lifetime are in config.DEFAULTS).
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    tiles = _tile_origin(app.config.get("MAP_TILE_URL") or "")
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob: {tiles}".strip(),
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )

    @app.before_request
    def refuse_nul_characters():
        """A NUL character is never text a person typed; PostgreSQL cannot even hold it.

        Refused with 400 wherever it comes: the path, the query string, form fields,
        file names (uploaded files' contents are bytes and are not looked at).
        """
        values = [request.path, *request.args.keys(), *request.args.values()]
        if request.method in ("POST", "PUT", "PATCH") and request.mimetype in FORM_TYPES:
            values += [*request.form.keys(), *request.form.values()]
            values += [f.filename or "" for f in request.files.values()]
        if any("\x00" in value for value in values):
            abort(400)

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def refuse_values_the_database_cannot_hold(error):
        """A number or text out of the database's range (a hand-made URL): 400, not 500."""
        db.session.rollback()
        app.logger.warning("refused a value the database cannot hold: %s", error)
        return app.handle_http_exception(BadRequest())

    @app.after_request
    def set_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
