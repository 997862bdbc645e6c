"""Names that reach the map from imported files are shown as text, never run as markup.

Residential-group names come from a GeoJSON file someone sent the ward; Leaflet reads a
string tooltip as HTML, so the boundary's tooltip must be given the name as text.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.extensions import db

pytestmark = pytest.mark.browser

NAME = 'Tổ <b id="injected">đậm</b><img src="/x.png" id="injected-img">'


def test_a_boundary_name_with_markup_is_shown_as_text(browsing, live_server):
    world = live_server.world
    world.west.name = NAME
    db.session.commit()
    page = browsing.new_page(viewport={"width": 1280, "height": 900})
    page.goto("/ban-do/")
    paths = page.locator("#overview-map .leaflet-overlay-pane path")
    expect(paths).to_have_count(2)
    # Keyboard focus opens a boundary's tooltip (Leaflet listens for it on the shape).
    shown = []
    for index in range(2):
        paths.nth(index).dispatch_event("focus")
        tooltip = page.locator(".leaflet-tooltip")
        expect(tooltip).to_have_count(1)
        shown.append(tooltip.text_content())
        assert page.locator("#injected, #injected-img").count() == 0
        paths.nth(index).dispatch_event("blur")
        expect(tooltip).to_have_count(0)
    assert NAME in shown
