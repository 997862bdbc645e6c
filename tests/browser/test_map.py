"""The public map in a real browser: clustered pins, filters in step with the list and the
URL, the back button, hotspots, and the list per residential group without JavaScript.

Screenshots go to ``test-artifacts/21-map*-<backend>.png``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}

# What the map shows: pins not in a cluster, and the numbers on the clusters.
SHOWN = """
() => {
  const map = document.getElementById("overview-map");
  if (map.dataset.loading || map.dataset.features === undefined) return null;
  const pins = map.querySelectorAll(".leaflet-marker-pane .map-pin").length;
  const clusters = [...map.querySelectorAll(".leaflet-marker-pane .marker-cluster span")]
    .map((s) => parseInt(s.textContent, 10));
  return {pins, clusters, total: pins + clusters.reduce((a, b) => a + b, 0),
          query: map.dataset.query};
}
"""


def _seed(world):
    west = [
        factories.file(world, point=(20.9800 + 0.00005 * i, 105.7450), title=f"Rác đầu ngõ {i}")
        for i in range(6)
    ]
    lamp = factories.file(
        world,
        point=(20.9750, 105.7560),
        category=world.categories["chieu-sang"],
        title="Đèn đường hỏng trước nhà văn hoá",
    )
    factories.assign(world, lamp)
    drain = factories.file(
        world,
        point=(20.9860, 105.7530),
        category=world.categories["thoat-nuoc"],
        title="Cống thoát nước tắc",
    )
    return west, lamp, drain


def _shown(page, total: int, query_has: str = ""):
    # What was seen when the condition held (the pins may reload right after).
    return page.wait_for_function(
        f"() => {{ const s = ({SHOWN})(); return s && s.total === {total} && "
        f"s.query.includes({query_has!r}) ? s : null; }}"
    ).json_value()


def test_map_filters_list_and_url_stay_in_step(browsing, live_server):
    world = live_server.world
    west, lamp, drain = _seed(world)
    page = browsing.new_page(**DESKTOP)
    rows = page.locator(
        "#map-list .map-petitions"
    )  # the list beside the map, hotspots not included

    page.goto("/ban-do/")
    expect(page.locator("#overview-map")).to_be_visible()
    shown = _shown(page, 8)
    # The six petitions at one corner are one cluster; the others are pins of their colour.
    assert 6 in shown["clusters"], shown
    assert shown["pins"] >= 1
    expect(page.locator("#map-count")).to_contain_text("8 kiến nghị")
    expect(page.locator("#map-legend")).to_be_visible()
    # Boundaries without tiles: the two residential groups are drawn on a plain background.
    expect(page.locator("#overview-map .leaflet-overlay-pane path")).to_have_count(2)
    assert page.locator("#overview-map .leaflet-tile").count() == 0
    browsing.screenshot(page, "21-map")

    # A filter changes the pins, the list and the URL together.
    page.locator("#map-status").select_option("assigned")
    expect(page).to_have_url(re.compile(r"/ban-do/\?status=assigned$"))
    shown = _shown(page, 1, "status=assigned")
    assert shown == {"pins": 1, "clusters": [], "total": 1, "query": shown["query"]}
    expect(rows).to_contain_text(lamp.code)
    expect(rows).not_to_contain_text(west[0].code)
    expect(page.locator("#map-count")).to_contain_text("1 kiến nghị")

    page.locator("#map-category").select_option(str(world.categories["thoat-nuoc"].id))
    expect(page).to_have_url(re.compile(r"status=assigned&category=\d+$"))
    _shown(page, 0, "category=")
    expect(page.locator("#map-list")).to_contain_text("Không có kiến nghị nào phù hợp")

    # Back: one step at a time, the form, the pins and the list follow.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/ban-do/\?status=assigned$"))
    expect(page.locator("#map-category")).to_have_value("")
    expect(page.locator("#map-status")).to_have_value("assigned")
    _shown(page, 1, "status=assigned")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/ban-do/$"))
    expect(page.locator("#map-status")).to_have_value("")
    shown = _shown(page, 8)
    expect(rows).to_contain_text(west[0].code)

    # A shared link opens with its filters.
    page.goto(f"/ban-do/?area={world.east.id}")
    expect(page.locator("#map-area")).to_have_value(str(world.east.id))
    _shown(page, 2, f"area={world.east.id}")
    expect(rows).to_contain_text(drain.code)
    expect(rows).not_to_contain_text(west[0].code)

    # Hotspots: the six open petitions of one category close together are one spot.
    page.goto("/ban-do/")
    _shown(page, 8)
    page.locator("#map-diem-den").check()
    expect(page).to_have_url(re.compile(r"diem_den=1"))
    page.wait_for_function("() => document.getElementById('overview-map').dataset.hotspots === '1'")
    assert page.locator("#overview-map path.map-hotspot").count() == 1
    expect(page.locator("#hotspots")).to_contain_text("6 kiến nghị")
    browsing.screenshot(page, "21-map-hotspots")

    # A pin opens a popup with a link to the petition's page.
    page.locator("#map-status").select_option("assigned")
    _shown(page, 1, "status=assigned")
    page.locator("#overview-map .map-pin").click()
    popup = page.locator(".leaflet-popup-content a")
    expect(popup).to_have_text(f"{lamp.code} · {lamp.title}")
    popup.click()
    expect(page).to_have_url(re.compile(f"/kien-nghi/{lamp.code}$"))


def test_map_page_without_javascript_lists_per_residential_group(browsing, live_server):
    world = live_server.world
    west, lamp, drain = _seed(world)
    page = browsing.new_page(java_script_enabled=False, **DESKTOP)
    rows = page.locator("#map-list .map-petitions")

    page.goto("/ban-do/")
    expect(page.locator("#overview-map")).to_be_hidden()
    headings = page.locator("#map-list h2.map-group")
    expect(headings).to_have_text(["Tổ dân phố Nhân Trạch", "Tổ dân phố La Dương"])
    expect(rows).to_contain_text(west[0].code)
    expect(rows).to_contain_text(drain.code)
    browsing.screenshot(page, "21-map-nojs")

    page.locator("#map-area").select_option(str(world.east.id))
    page.get_by_role("button", name="Lọc").click()
    expect(page).to_have_url(re.compile(rf"area={world.east.id}"))
    expect(headings).to_have_text(["Tổ dân phố La Dương"])
    expect(rows).not_to_contain_text(west[0].code)
    page.get_by_role("link", name=re.compile(lamp.title)).click()
    expect(page).to_have_url(re.compile(f"/kien-nghi/{lamp.code}$"))


# The list beside the map, once it is the list of the map's view: its bbox and total.
LIST_VIEW = """
() => {
  const list = document.getElementById("map-list");
  const count = document.getElementById("map-count");
  if (!count || !count.dataset.bbox || list.getAttribute("aria-busy")) return null;
  const [west, south, east, north] = count.dataset.bbox.split(",").map(Number);
  return {west, south, east, north, total: Number(count.dataset.total),
          lat: (south + north) / 2, lon: (west + east) / 2};
}
"""
WARD_CENTRE = (20.98, 105.75)  # the fitted view of the ward's square
POSITION = re.compile(r"lat=(-?\d+\.\d{5})&lon=(-?\d+\.\d{5})&zoom=(\d+)$")


def _list_view(
    page, total: int, *, moved_from: dict | None = None, centre: tuple | None = None
) -> dict:
    """Wait until the list shows ``total`` petitions for the view (another view than
    ``moved_from``, or one centred on ``centre``, when given)."""
    condition = f"s && s.total === {total}"
    if moved_from is not None:
        condition += f" && Math.abs(s.lon - {moved_from['lon']}) > 0.001"
    if centre is not None:
        condition += (
            f" && Math.abs(s.lat - {centre[0]}) < 0.0005 && Math.abs(s.lon - {centre[1]}) < 0.0005"
        )
    return page.wait_for_function(
        f"() => {{ const s = ({LIST_VIEW})(); return {condition} ? s : null; }}"
    ).json_value()


def _position(page) -> tuple[float, float, int]:
    found = POSITION.search(page.url)
    assert found, page.url
    return float(found.group(1)), float(found.group(2)), int(found.group(3))


def _drag_map(page, dx: float) -> None:
    """Drag the map with the mouse by ``dx`` pixels (negative: towards the west edge)."""
    box = page.locator("#overview-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y, steps=8)
    page.mouse.move(x + dx, y, steps=8)
    page.wait_for_timeout(300)  # a slow release: no inertia after it
    page.mouse.up()


def test_the_list_follows_the_map_and_the_url_keeps_the_view(browsing, live_server):
    world = live_server.world
    west, lamp, drain = _seed(world)
    page = browsing.new_page(**DESKTOP)
    rows = page.locator("#map-list .map-petitions")
    count = page.locator("#map-count")

    # The ward fitted: every pin is in view, and the URL says nothing of the view.
    page.goto("/ban-do/")
    _shown(page, 8)
    ward = _list_view(page, 8, centre=WARD_CENTRE)
    expect(count).to_contain_text("8 kiến nghị trong vùng bản đồ đang xem")
    expect(page).to_have_url(re.compile(r"/ban-do/$"))

    # A filter: a new history entry, still without a view.
    page.locator("#map-category").select_option(str(world.categories["chieu-sang"].id))
    expect(page).to_have_url(re.compile(r"/ban-do/\?category=\d+$"))
    _list_view(page, 1)
    expect(rows).to_contain_text(lamp.code)

    # Dragged east, off the ward: no pins there, and the list says so. The view joins
    # the URL, with the filter.
    width = page.locator("#overview-map").bounding_box()["width"]
    _drag_map(page, -0.9 * width)
    empty = _list_view(page, 0, moved_from=ward)
    assert empty["west"] > 105.76, empty  # the whole view is east of the ward
    expect(page.locator("#map-list")).to_contain_text(
        "Không có kiến nghị nào trong vùng bản đồ này"
    )
    expect(page).to_have_url(re.compile(r"\?category=\d+&lat=\d+\.\d{5}&lon=\d+\.\d{5}&zoom=\d+$"))
    lat, lon, zoom = _position(page)
    assert abs(lat - empty["lat"]) < 1e-4 and abs(lon - empty["lon"]) < 1e-4

    # Zoomed out from there: the lamp comes back into view, and into the list.
    page.locator("#overview-map .leaflet-control-zoom-out").click()
    wide = _list_view(page, 1, moved_from={"lon": 0})
    assert wide["west"] < lamp.longitude < wide["east"]
    expect(rows).to_contain_text(lamp.code)
    expect(page).to_have_url(re.compile(rf"&zoom={zoom - 1}$"))

    # Reload: the same view, the same filter, the same list.
    before = page.url
    page.reload()
    expect(page).to_have_url(before)
    expect(page.locator("#map-category")).to_have_value(str(world.categories["chieu-sang"].id))
    again = _list_view(page, 1)
    assert abs(again["lat"] - wide["lat"]) < 1e-3 and abs(again["lon"] - wide["lon"]) < 1e-3
    expect(rows).to_contain_text(lamp.code)

    # Back: the entry before the filter, which had no view: the whole ward, all filters off.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/ban-do/$"))
    expect(page.locator("#map-category")).to_have_value("")
    back = _list_view(page, 8, centre=WARD_CENTRE)
    assert back["west"] == pytest.approx(ward["west"], abs=1e-5)
    # Forward: the filter and the view it was left at.
    page.go_forward()
    expect(page).to_have_url(before)
    forward = _list_view(page, 1)
    assert abs(forward["lon"] - wide["lon"]) < 1e-3

    # A shared link to a lane: only the petitions there are listed.
    west_lat, west_lon = 20.98012, 105.745
    page.goto(f"/ban-do/?lat={west_lat}&lon={west_lon}&zoom=18")
    lane = _list_view(page, 6)
    assert abs(lane["lat"] - west_lat) < 1e-4 and abs(lane["lon"] - west_lon) < 1e-4
    for petition in west:
        expect(rows).to_contain_text(petition.code)
    expect(rows).not_to_contain_text(lamp.code)
    expect(rows).not_to_contain_text(drain.code)
    # From the list to a petition and back: the same view and list again.
    rows.get_by_role("link", name=re.compile(west[0].title)).click()
    expect(page).to_have_url(re.compile(f"/kien-nghi/{west[0].code}$"))
    page.go_back()
    expect(page).to_have_url(re.compile(rf"\?lat={west_lat}&lon={west_lon}&zoom=18$"))
    _list_view(page, 6)
    expect(rows).not_to_contain_text(drain.code)


def test_the_map_on_a_phone(browsing, live_server):
    west, lamp, drain = _seed(live_server.world)
    page = browsing.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto("/ban-do/?lat=20.98100&lon=105.74600&zoom=16")
    expect(page.locator("#overview-map")).to_be_visible()
    view = _list_view(page, 6)  # the lane's six; the lamp and the drain are out of view
    assert view["west"] < 105.745 < view["east"]
    rows = page.locator("#map-list .map-petitions")
    expect(rows).to_contain_text(west[0].code)
    expect(rows).not_to_contain_text(lamp.code)
    expect(rows).not_to_contain_text(drain.code)
    assert page.locator("#overview-map").bounding_box()["width"] <= 360
    # Nothing wider than the screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    browsing.screenshot(page, "21-map-phone")
