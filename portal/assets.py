"""Light pages: fingerprinted static files cached for a year, compressed responses.

``url_for('static', filename='css/portal.css')`` gives ``/static/css/portal.<hash>.css``,
the hash being the first ten hex digits of the file's SHA-256. A URL whose hash matches
the file is served with ``Cache-Control: public, max-age=31536000, immutable``: a browser
never asks again, and a changed file gets a new URL. Any other URL under ``/static/``
(an old hash left in a cached page, Leaflet's marker images named from its CSS) is
served as before, revalidated with its ETag.

Text responses (HTML, CSS, JavaScript, JSON, GeoJSON, XML, CSV, SVG) are gzipped when
the request's ``Accept-Encoding`` allows it, and always carry ``Vary: Accept-Encoding``
so a shared cache keeps the two forms apart. A compressed body is a different byte
sequence, so a strong ETag becomes weak (``W/"…"``); ``If-None-Match`` compares weakly,
so the GeoJSON's 304s keep working. ``Cache-Control: no-store`` answers (the petitioner's
private page and the like) are never compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from collections import OrderedDict
from pathlib import Path

from flask import Flask, Response, request, send_from_directory
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
DIGEST_LENGTH = 10
FINGERPRINTED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{10})(?P<suffix>\.[A-Za-z0-9]+)$")

COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/geo+json",
        "application/xml",
        "application/atom+xml",
        "text/xml",
        "text/csv",
        "text/plain",
        "image/svg+xml",
    }
)
# Below this a gzip header and footer cost more than they save.
MIN_SIZE = 500
GZIP_LEVEL = 6
# Compressed static files, by path and ETag: the same bytes are asked for again and again.
STATIC_CACHE_SIZE = 64


class Fingerprints:
    """Content hashes of the files in one folder, recomputed when a file changes."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._known: dict[str, tuple[int, int, str]] = {}

    def digest(self, filename: str) -> str | None:
        path = safe_join(str(self.folder), filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        known = self._known.get(filename)
        if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()[:DIGEST_LENGTH]
        self._known[filename] = (stat.st_mtime_ns, stat.st_size, digest)
        return digest

    def url_name(self, filename: str) -> str:
        """``css/portal.css`` → ``css/portal.<hash>.css`` (unchanged if there is no such file)."""
        stem, dot, suffix = filename.rpartition(".")
        if not dot or "/" in suffix or not stem or stem.endswith("/"):
            return filename  # no extension to put the hash before
        digest = self.digest(filename)
        if digest is None:
            return filename
        return f"{stem}.{digest}.{suffix}"

    def resolve(self, requested: str) -> tuple[str, bool]:
        """The file a URL name stands for, and whether its hash is the file's current one."""
        match = FINGERPRINTED.match(requested)
        if match:
            real = match["stem"] + match["suffix"]
            digest = self.digest(real)
            if digest is not None:
                return real, digest == match["digest"]
        return requested, False


class SessionWithoutStaticFiles(SecureCookieSessionInterface):
    """Flask-Login looks at the session after every request, so Flask would add
    ``Vary: Cookie`` to static files too, and a browser would fetch them again whenever the
    session cookie changes (logging in, a new CSRF token). A static file never depends on
    the session: leave its response alone."""

    def save_session(self, app: Flask, session, response: Response) -> None:
        if request.endpoint == "static" and not session.modified:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    fingerprints = Fingerprints(app.static_folder)
    app.extensions["fingerprints"] = fingerprints
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = SessionWithoutStaticFiles()

    @app.url_defaults
    def fingerprint_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = fingerprints.url_name(values["filename"])

    def static(filename: str) -> Response:
        real, current = fingerprints.resolve(filename)
        if not current:
            return app.send_static_file(real)
        response = send_from_directory(app.static_folder, real, max_age=YEAR)
        response.cache_control.public = True
        response.cache_control.immutable = True
        return response

    app.view_functions["static"] = static

    compressed_static: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    @app.after_request
    def compress(response: Response) -> Response:
        if response.mimetype not in COMPRESSIBLE:
            return response
        response.vary.add("Accept-Encoding")
        if not _worth_compressing(response):
            return response
        key = None
        etag, weak = response.get_etag()
        if request.endpoint == "static" and etag:
            key = (request.path, etag)
        body = compressed_static.get(key) if key else None
        response.direct_passthrough = False
        if body is None:
            data = response.get_data()
            if len(data) < MIN_SIZE:
                return response
            body = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
            if key:
                compressed_static[key] = body
                while len(compressed_static) > STATIC_CACHE_SIZE:
                    compressed_static.popitem(last=False)
        elif hasattr(response.response, "close"):
            response.response.close()  # the file is not read: its gzip is at hand
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"
        response.headers.pop("Accept-Ranges", None)
        if etag and not weak:
            response.set_etag(etag, weak=True)
        return response


def _worth_compressing(response: Response) -> bool:
    if request.accept_encodings["gzip"] <= 0:
        return False
    if response.status_code < 200 or response.status_code in (204, 206, 304):
        return False
    if 300 <= response.status_code < 400:
        return False
    if "Content-Encoding" in response.headers or response.cache_control.no_transform:
        return False
    if response.cache_control.no_store:
        # Pages that carry a secret (the petitioner's private link, exports of personal
        # data) stay uncompressed: compressed sizes could leak it (BREACH).
        return False
    if response.is_streamed and not response.direct_passthrough:
        return False  # a generator: compressing it would hold it all in memory
    return response.content_length is None or response.content_length >= MIN_SIZE
