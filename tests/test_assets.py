"""Light pages: static files under fingerprinted URLs cached for a year, text compressed."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from flask import url_for

from tests import factories

STATIC = Path(__file__).resolve().parents[1] / "static"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
IMMUTABLE = "public, max-age=31536000, immutable"
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def _assets(html: str) -> list[str]:
    return ASSET.findall(html)


def _digest(relative: str) -> str:
    return hashlib.sha256((STATIC / relative).read_bytes()).hexdigest()[:10]


def test_pages_link_static_files_by_a_hash_of_their_content(client, world):
    petition = factories.file(world)
    for url in ("/", f"/kien-nghi/{petition.code}", "/kien-nghi/moi", "/ban-do/"):
        assets = _assets(client.get(url).get_data(as_text=True))
        assert assets, url
        for asset in assets:
            match = re.fullmatch(r"/static/(.+)\.([0-9a-f]{10})(\.\w+)", asset)
            assert match, f"{url}: {asset} is not fingerprinted"
            assert match[2] == _digest(match[1] + match[3]), asset


def test_fingerprinted_static_files_are_cached_for_a_year(client):
    digest = _digest("css/portal.css")
    response = client.get(f"/static/css/portal.{digest}.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.get_data() == (STATIC / "css/portal.css").read_bytes()
    # Logging in changes the session cookie; the cached file must stay valid.
    assert "Cookie" not in response.headers.get("Vary", "")
    assert "Set-Cookie" not in response.headers


def test_files_without_an_extension_keep_their_name(app, client):
    with app.test_request_context():
        url = url_for("static", filename="vendor/htmx-2.0.11/LICENSE")
        assert url == "/static/vendor/htmx-2.0.11/LICENSE"
        assert url_for("static", filename="css/missing.css") == "/static/css/missing.css"
    assert client.get(url).status_code == 200


def test_other_static_urls_are_revalidated_not_cached_for_a_year(client):
    # The plain name (Leaflet's marker images come from its CSS like this) ...
    plain = client.get("/static/css/portal.css")
    assert plain.status_code == 200
    assert "immutable" not in plain.headers["Cache-Control"]
    assert plain.headers["ETag"]
    # ... and a hash that is not the file's (a page cached before a release).
    stale = client.get("/static/css/portal.0123456789.css")
    assert stale.status_code == 200
    assert "immutable" not in stale.headers["Cache-Control"]
    assert stale.get_data() == (STATIC / "css/portal.css").read_bytes()
    assert client.get("/static/css/nothing.0123456789.css").status_code == 404


def test_html_and_javascript_are_gzipped_when_the_browser_asks(client, world):
    petition = factories.file(world)
    js = f"/static/vendor/htmx-2.0.11/htmx.min.{_digest('vendor/htmx-2.0.11/htmx.min.js')}.js"
    page = f"/kien-nghi/{petition.code}"
    for url in (page, js, "/static/css/portal.css"):
        plain = client.get(url)
        packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert "Content-Encoding" not in plain.headers, url
        assert packed.headers["Content-Encoding"] == "gzip", url
        assert "Accept-Encoding" in packed.headers["Vary"], url
        assert "Accept-Encoding" in plain.headers["Vary"], url
        body = packed.get_data()
        assert int(packed.headers["Content-Length"]) == len(body)
        assert len(body) < len(plain.get_data()) / 2, url
        if url == page:  # each answer has a CSRF token of its own
            assert petition.title in gzip.decompress(body).decode()
        else:
            assert gzip.decompress(body) == plain.get_data(), url

    refused = client.get(js, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers

    # The private page holds the private link: never compressed (no BREACH guessing).
    private = client.get(f"/cua-toi/{petition.private_token}", headers={"Accept-Encoding": "gzip"})
    assert private.status_code == 200 and "no-store" in private.headers["Cache-Control"]
    assert "Content-Encoding" not in private.headers


def test_compressed_geojson_keeps_its_etag_working(client, world):
    factories.file(world)
    url = "/ban-do/du-lieu.geojson?bbox=105.74,20.97,105.76,20.99&zoom=16"
    headers = {"Accept-Encoding": "gzip"}
    for _ in range(40):  # enough petitions for the answer to be worth compressing
        factories.file(world, point=factories.INSIDE_EAST)
    first = client.get(url, headers=headers)
    assert first.headers["Content-Encoding"] == "gzip"
    assert first.headers["Content-Type"].startswith("application/geo+json")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"'), "a gzipped body is not byte-identical: the ETag is weak"
    assert "Accept-Encoding" in first.headers["Vary"] and "Cookie" in first.headers["Vary"]

    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""

    factories.file(world)
    changed = client.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_axe_core_is_for_tests_only():
    assert list(STATIC.glob("vendor/axe-core-*/axe.min.js")), "axe-core is vendored"
    for template in TEMPLATES.rglob("*.html"):
        assert "axe" not in template.read_text(encoding="utf-8").lower(), template
