"""The list beside the map follows the map's view: ``/ban-do/?bbox=…`` (what the script
asks for after every pan and zoom) lists only the petitions inside it; without ``bbox``
(no JavaScript) the list is every petition, per residential group."""

from __future__ import annotations

import html as html_lib

from portal.petitions.models import Channel
from tests import factories

LIST = {"HX-Request": "true", "HX-Target": "map-list"}
WEST_BBOX = "105.74,20.97,105.75,20.99"
EAST_BBOX = "105.75,20.97,105.76,20.99"
EMPTY_BBOX = "105.80,21.00,105.81,21.01"  # beyond the ward: no pins there


def fragment(client, **args) -> str:
    response = client.get("/ban-do/", query_string=args, headers=LIST)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body
    return html_lib.unescape(body)


def test_the_list_holds_only_what_is_inside_the_view(client, world):
    west = factories.file(world, point=factories.INSIDE_WEST, title="Rác ở phía tây")
    east = factories.file(world, point=factories.INSIDE_EAST, title="Rác ở phía đông")
    nowhere = factories.file(
        world, point=(None, None), area=None, channel=Channel.MEETING, title="Cả phường"
    )

    body = fragment(client, bbox=WEST_BBOX)
    assert west.code in body
    assert east.code not in body and nowhere.code not in body
    assert "1 kiến nghị trong vùng bản đồ đang xem" in body
    assert 'data-bbox="105.740000,20.970000,105.750000,20.990000"' in body
    # What has no place on the map is still reachable, from the list of petitions.
    assert "1 kiến nghị không có vị trí trên bản đồ" in body
    assert 'href="/kien-nghi"' in body

    body = fragment(client, bbox=EAST_BBOX)
    assert east.code in body and west.code not in body
    assert "Tổ dân phố La Dương" in body and "Tổ dân phố Nhân Trạch" not in body

    body = fragment(client, bbox=EMPTY_BBOX)
    assert west.code not in body and east.code not in body
    assert "0 kiến nghị trong vùng bản đồ đang xem" in body
    assert "Không có kiến nghị nào trong vùng bản đồ này." in body

    # Without bbox (no JavaScript): everything, per residential group, as before.
    body = fragment(client)
    assert all(code in body for code in (west.code, east.code, nowhere.code))
    assert "trong vùng bản đồ đang xem" not in body


def test_filters_and_the_view_together(client, world):
    factories.file(world, point=factories.INSIDE_WEST)
    lamp = factories.file(
        world, point=factories.INSIDE_EAST, category=world.categories["chieu-sang"]
    )
    lamp_category = world.categories["chieu-sang"].id

    body = fragment(client, category=lamp_category, bbox=EAST_BBOX)
    assert lamp.code in body and "1 kiến nghị trong vùng bản đồ đang xem" in body
    body = fragment(client, category=lamp_category, bbox=WEST_BBOX)
    assert lamp.code not in body
    assert "Không có kiến nghị nào trong vùng bản đồ này." in body
    # Nothing anywhere: said as such, not blamed on the view.
    body = fragment(client, category=lamp_category, status="closed", bbox=WEST_BBOX)
    assert "Không có kiến nghị nào phù hợp." in body


def test_paging_keeps_the_view(client, world, app):
    app.config["PAGE_SIZE"] = 2
    for _ in range(3):
        factories.file(world, point=factories.INSIDE_EAST)
    factories.file(world, point=factories.INSIDE_WEST)
    body = client.get(
        "/ban-do/", query_string={"area": world.east.id, "bbox": EAST_BBOX}, headers=LIST
    ).get_data(as_text=True)
    assert (
        f"/ban-do/?area={world.east.id}&amp;bbox=105.750000,20.970000,105.760000,20.990000"
        "&amp;page=2" in body
    )
    second = fragment(client, bbox=EAST_BBOX, page=2)
    assert "3 kiến nghị trong vùng bản đồ đang xem" in second


def test_hotspots_beside_the_map_are_those_in_view(client, world):
    chain = [factories.file(world, point=(20.9800 + 0.0005 * i, 105.7450)) for i in range(3)]
    section = fragment(client, bbox=WEST_BBOX).split('id="hotspots"')[1]
    assert "3 kiến nghị" in section and all(p.code in section for p in chain)
    section = fragment(client, bbox=EAST_BBOX).split('id="hotspots"')[1]
    assert "Không có điểm đen nào." in section and chain[0].code not in section


def test_a_bad_bbox_is_said_in_vietnamese_and_the_whole_list_shown(client, world):
    petition = factories.file(world)
    for bad in ("105.76,20.97,105.74,20.99", "a,b,c,d", "1,2,3"):
        body = fragment(client, bbox=bad)
        assert "Tham số bbox" in body, bad
        assert petition.code in body
        assert "trong vùng bản đồ đang xem" not in body
