"""A resident finds a lane by typing without accents and the pin goes there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.units import services as units
from portal.units.models import PlaceKind
from tests import factories

pytestmark = pytest.mark.browser


def test_search_a_lane_and_drop_the_pin(browsing, backend):
    world = browsing.server.world
    units.save_place(
        world.ward,
        name="Ngõ 12 phố Văn Khê",
        kind=PlaceKind.LANE,
        latitude=factories.INSIDE_EAST[0],
        longitude=factories.INSIDE_EAST[1],
    )
    db.session.commit()
    page = browsing.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto("/kien-nghi/moi")
    page.locator("#place-q").fill("ngo 12 van khe")
    result = page.locator("#place-results-box [data-lat]")
    expect(result).to_have_text("Ngõ 12 phố Văn Khê")
    result.click()
    expect(page.locator("#latitude")).to_have_value(f"{factories.INSIDE_EAST[0]:.6f}")
    expect(page.locator("#longitude")).to_have_value(f"{factories.INSIDE_EAST[1]:.6f}")
    expect(page.locator("#address_text")).to_have_value("Ngõ 12 phố Văn Khê")
    browsing.screenshot(page, "22-place-search")
