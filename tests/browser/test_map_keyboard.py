"""The filing map with the keyboard alone, on a narrow screen: Tab to the map, the arrows
pan it, Enter drops the pin under the crosshair; the pin, once there, moves with the
arrows; every placement is said in the map's status line and fills the same fields as a
tap does.

Screenshots go to ``test-artifacts/23-map-keyboard*-<backend>.png``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.geo import FakeGeocoder, Place
from portal.petitions import services
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_accessibility import tab_to
from tests.browser.test_core_loop import WARD_FITTED

pytestmark = pytest.mark.browser

NARROW = {"viewport": {"width": 360, "height": 740}}
WARD_CENTRE = (20.98, 105.75)  # the fitted view of the ward's square: the map's start centre
LANE = "Ngõ 12 phố Văn Khê"
COORDINATE = re.compile(r"^\d+\.\d{6}$")


class LaneGeocoder(FakeGeocoder):
    """Knows one lane, in the east residential group (La Dương)."""

    def reverse(self, latitude: float, longitude: float) -> Place | None:
        return Place(latitude, longitude, LANE) if longitude > WARD_CENTRE[1] else None


@pytest.fixture
def app_config():
    return {"MAP_TILE_URL": "", "WTF_CSRF_ENABLED": True, "GEOCODER_INSTANCE": LaneGeocoder()}


def _pin(page) -> tuple[float, float]:
    """The hidden fields the form sends, once they hold a position."""
    latitude, longitude = page.locator("#latitude"), page.locator("#longitude")
    expect(latitude).to_have_value(COORDINATE)
    expect(longitude).to_have_value(COORDINATE)
    return float(latitude.input_value()), float(longitude.input_value())


def _pan(page, key: str) -> None:
    """One arrow press on the map; Leaflet ignores keys while a pan is still moving."""
    page.keyboard.press(key)
    page.wait_for_timeout(400)


def test_filing_with_the_keyboard_alone_pin_dropped_on_the_map(browsing, backend):
    world = browsing.server.world
    page = browsing.new_page(**NARROW)
    page.goto("/kien-nghi/moi")
    page.wait_for_function(WARD_FITTED)
    status = page.locator("#map-status")
    pins = page.locator("#pick-map .leaflet-marker-icon")
    crosshair = page.locator("#pick-map .map-crosshair")

    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, "category_id", limit=5)
    page.keyboard.press("ArrowDown")
    expect(page.locator("#category_id")).not_to_have_value("")
    tab_to(page, "title", limit=3)
    page.keyboard.type("Hố ga mất nắp giữa ngõ")
    tab_to(page, "description", limit=3)
    page.keyboard.type("Hố ga sâu, không có nắp, rất nguy hiểm cho người đi xe máy ban đêm.")

    # The map: named, told how it works, and a crosshair only while it has the focus.
    pick_map = page.locator("#pick-map")
    expect(pick_map).to_have_accessible_name("Bản đồ chọn vị trí kiến nghị")
    expect(pick_map).to_have_accessible_description(re.compile(r"Enter để đặt ghim ở giữa bản đồ"))
    expect(crosshair).to_be_hidden()
    tab_to(page, "pick-map", limit=3)
    expect(crosshair).to_be_visible()
    box, cross = pick_map.bounding_box(), crosshair.bounding_box()
    assert abs(cross["x"] + cross["width"] / 2 - (box["x"] + box["width"] / 2)) <= 1.5
    assert abs(cross["y"] + cross["height"] / 2 - (box["y"] + box["height"] / 2)) <= 1.5

    # Enter at once: the pin at the map's start centre. Delete takes it away again.
    page.keyboard.press("Enter")
    start_lat, start_lon = _pin(page)
    assert start_lat == pytest.approx(WARD_CENTRE[0], abs=1e-3)
    assert start_lon == pytest.approx(WARD_CENTRE[1], abs=1e-3)
    expect(pins).to_have_count(1)
    expect(status).to_have_text(re.compile(rf"^Đã đặt vị trí: .*{start_lat:.5f}, {start_lon:.5f}$"))
    page.keyboard.press("Delete")
    expect(pins).to_have_count(0)
    expect(page.locator("#latitude")).to_have_value("")
    expect(status).to_have_text("Đã xóa ghim. Chưa có vị trí trên bản đồ.")
    expect(pick_map).to_be_focused()

    # One press east and one north, then Enter: the pin is there, near the lane, in the
    # east group, and the list of groups follows as it does for a tap.
    _pan(page, "ArrowRight")
    _pan(page, "ArrowUp")
    page.keyboard.press("Enter")
    expect(pins).to_have_count(1)
    placed_lat, placed_lon = _pin(page)
    assert placed_lat > start_lat + 1e-4, "north of the start centre"
    assert placed_lon > start_lon + 1e-4, "east of the start centre"
    expect(status).to_have_text(
        f"Đã đặt vị trí: gần {LANE}, Tổ dân phố La Dương, {placed_lat:.5f}, {placed_lon:.5f}"
    )
    expect(page.locator("#area_id")).to_have_value(str(world.east.id))
    expect(page.locator("#address-suggestion")).to_contain_text(LANE)
    browsing.screenshot(page, "23-map-keyboard-360")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#place").screenshot(path=str(ARTIFACTS / f"23-map-keyboard-place-{backend}.png"))

    # The pin is the next stop: the arrows move it a little, Shift further; Esc puts it
    # back where it was when it took the focus.
    page.keyboard.press("Tab")
    expect(pins).to_be_focused()
    expect(pins).to_have_accessible_name("Ghim vị trí kiến nghị")
    expect(crosshair).to_be_hidden()
    page.keyboard.press("ArrowLeft")
    lat, lon = _pin(page)
    small = placed_lon - lon
    assert lat == pytest.approx(placed_lat, abs=2e-6) and small > 0
    page.keyboard.press("Shift+ArrowDown")
    expect(page.locator("#latitude")).not_to_have_value(f"{placed_lat:.6f}")
    lat, _ = _pin(page)
    assert placed_lat - lat > 5 * small, "Shift moves the pin further"
    page.keyboard.press("Escape")
    expect(page.locator("#latitude")).to_have_value(f"{placed_lat:.6f}")
    expect(page.locator("#longitude")).to_have_value(f"{placed_lon:.6f}")
    expect(status).to_have_text(re.compile(r"^Đã hủy, ghim trở lại chỗ cũ: gần "))
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    final_lat, final_lon = _pin(page)
    assert final_lon > placed_lon and final_lat == pytest.approx(placed_lat, abs=2e-6)
    # Said once, after the last press.
    expect(status).to_have_text(
        f"Đã chuyển ghim tới: gần {LANE}, Tổ dân phố La Dương, {final_lat:.5f}, {final_lon:.5f}"
    )
    expect(pins).to_be_focused()
    page.locator("#place").screenshot(path=str(ARTIFACTS / f"23-map-keyboard-pin-{backend}.png"))

    # Out of the map past its zoom buttons and credit, the map's own buttons and the
    # place search, to the list of groups (already chosen), the address, and the button.
    stops = tab_to(page, "area_id", limit=10)
    assert len([s for s in stops if s["inMap"]]) <= 3, stops
    expect(page.locator("#area_id")).to_have_value(str(world.east.id))
    tab_to(page, "address_text", limit=3)
    page.keyboard.type("Giữa ngõ 12, trước số nhà 8")
    tab_to(page, "send-petition")
    with page.expect_navigation():
        page.keyboard.press("Space")
    code = page.locator("#petition-code")
    expect(code).to_have_text(re.compile(r"^KN-\d{4}-\d{5}$"))

    db.session.rollback()
    petition = services.get_by_code(code.inner_text())
    assert petition.has_location
    assert petition.latitude == pytest.approx(final_lat, abs=1e-6)
    assert petition.longitude == pytest.approx(final_lon, abs=1e-6)
    assert petition.latitude > start_lat and petition.longitude > start_lon
    assert petition.area_id == world.east.id
    assert petition.address_text == "Giữa ngõ 12, trước số nhà 8"
