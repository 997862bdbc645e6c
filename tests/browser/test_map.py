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
    page.wait_for_function(
        f"() => {{ const s = ({SHOWN})(); return s && s.total === {total} && "
        f"s.query.includes({query_has!r}); }}"
    )
    return page.evaluate(SHOWN)


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
    assert page.locator("#overview-map .leaflet-overlay-pane path").count() == 2
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
