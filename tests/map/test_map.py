"""The public map's data: filters, bbox, grid counts, the feature cap, hotspots, caching."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from portal.extensions import db
from portal.map import services as map_services
from portal.petitions import services
from portal.petitions.models import Channel, Competence, Petition, Status
from portal.timeutil import utcnow
from tests import factories

URL = "/ban-do/du-lieu.geojson"
HOTSPOTS = "/ban-do/diem-den.geojson"
WARD_BBOX = "105.74,20.97,105.76,20.99"
WEST_BBOX = "105.74,20.97,105.75,20.99"

PERSONAL = {
    "petitioner_name": "Lê Văn Bímật",
    "petitioner_phone": "0987654321",
    "petitioner_email": "bi.mat@example.vn",
    "petitioner_address": "Số 7 ngõ Riêng",
}


def codes(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {f["properties"]["code"] for f in response.get_json()["features"]}


def age(petition: Petition, days: int, *, closed: bool = False) -> None:
    """Move a petition ``days`` into the past (filed, and closed when ``closed``)."""
    moment = utcnow() - timedelta(days=days)
    values = {"created_at": moment, "updated_at": moment}
    if closed:
        values["closed_at"] = moment
    db.session.execute(update(Petition).where(Petition.id == petition.id).values(**values))
    db.session.commit()


def reject(world, petition):
    services.reject(petition, world.users["ward_staff"], reason="Không thuộc thẩm quyền.")
    db.session.commit()


def test_features_carry_public_fields_only(client, world):
    petition = factories.file(world, **PERSONAL)

    for url in (URL, f"{URL}?bbox={WARD_BBOX}&zoom=17", f"{URL}?bbox={WARD_BBOX}&zoom=11"):
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        for secret in PERSONAL.values():
            assert secret not in body, (url, secret)
        assert petition.private_token not in body

    (feature,) = client.get(f"{URL}?bbox={WARD_BBOX}&zoom=17").get_json()["features"]
    assert set(feature["properties"]) == {
        "code",
        "title",
        "status",
        "status_label",
        "category",
        "url",
    }
    assert feature["properties"]["url"] == f"/kien-nghi/{petition.code}"


def test_filters_status_category_area_and_period(client, world):
    litter = factories.file(world, point=factories.INSIDE_WEST)
    light = factories.file(
        world, point=factories.INSIDE_EAST, category=world.categories["chieu-sang"]
    )
    old = factories.file(world, point=factories.INSIDE_EAST, title="Cống tắc từ lâu")
    age(old, 40)
    factories.assign(world, light)
    every = {litter.code, light.code, old.code}

    assert codes(client.get(URL)) == every
    assert codes(client.get(URL, query_string={"status": "assigned"})) == {light.code}
    assert codes(client.get(URL, query_string={"category": world.categories["chieu-sang"].id})) == {
        light.code
    }
    assert codes(client.get(URL, query_string={"area": world.west.id})) == {litter.code}
    assert codes(client.get(URL, query_string={"area": world.east.id})) == {light.code, old.code}
    long_ago = (utcnow() - timedelta(days=45)).strftime("%d/%m/%Y")
    last_month = (utcnow() - timedelta(days=30)).strftime("%d/%m/%Y")
    assert codes(client.get(URL, query_string={"tu": last_month})) == {litter.code, light.code}
    assert codes(client.get(URL, query_string={"tu": long_ago, "den": last_month})) == {old.code}
    # Unknown values are ignored, as on the list.
    assert codes(client.get(URL, query_string={"status": "nonsense", "category": "x"})) == every


def test_bbox_limits_the_petitions(client, world):
    west = factories.file(world, point=factories.INSIDE_WEST)
    east = factories.file(world, point=factories.INSIDE_EAST)

    assert codes(client.get(URL, query_string={"bbox": WARD_BBOX, "zoom": 16})) == {
        west.code,
        east.code,
    }
    assert codes(client.get(URL, query_string={"bbox": WEST_BBOX, "zoom": 16})) == {west.code}
    assert (
        codes(client.get(URL, query_string={"bbox": "105.8,21.0,105.9,21.1", "zoom": 16})) == set()
    )


def test_below_the_zoom_threshold_counts_per_cell(client, world):
    factories.file(world, point=factories.INSIDE_WEST)
    factories.file(world, point=factories.INSIDE_WEST)
    assigned = factories.file(world, point=factories.INSIDE_WEST)
    factories.assign(world, assigned)
    factories.file(world, point=factories.INSIDE_EAST)

    zoom = map_services.AGGREGATE_BELOW_ZOOM - 1
    data = client.get(URL, query_string={"bbox": WARD_BBOX, "zoom": zoom}).get_json()
    assert data["aggregated"] is True and data["truncated"] is False
    assert sum(f["properties"]["count"] for f in data["features"]) == 4
    for feature in data["features"]:
        props = feature["properties"]
        assert set(props) == {"count", "by_status"}
        assert sum(props["by_status"].values()) == props["count"]
        assert feature["geometry"]["type"] == "Point"
    # A zoomed-out view puts the whole ward in one cell.
    (cell,) = client.get(URL, query_string={"bbox": WARD_BBOX, "zoom": 9}).get_json()["features"]
    assert cell["properties"] == {"count": 4, "by_status": {"received": 3, "assigned": 1}}
    lon, lat = cell["geometry"]["coordinates"]
    assert 105.74 < lon < 105.76 and 20.97 < lat < 20.99
    # From the threshold on: petitions.
    points = client.get(
        URL, query_string={"bbox": WARD_BBOX, "zoom": map_services.AGGREGATE_BELOW_ZOOM}
    ).get_json()
    assert points["aggregated"] is False and len(points["features"]) == 4
    # Filters apply to the counts too.
    filtered = client.get(
        URL, query_string={"bbox": WARD_BBOX, "zoom": 9, "status": "assigned"}
    ).get_json()
    assert [f["properties"]["count"] for f in filtered["features"]] == [1]


def _bulk_insert(world, n: int) -> None:
    """``n`` petitions spread over the ward, inserted in one statement (fast on both)."""
    now = utcnow()
    category = world.categories["ve-sinh-moi-truong"]
    rows = [
        {
            "code": f"KN-2026-{i + 1:05d}",
            "ward_id": world.ward.id,
            "title": f"Kiến nghị số {i + 1}",
            "description": "Mô tả",
            "category_id": category.id,
            "area_id": world.west.id,
            "latitude": 20.9705 + (i % 50) * 0.0003,
            "longitude": 105.7405 + (i // 50) * 0.0002,
            "channel": Channel.WEB,
            "status": Status.RECEIVED,
            "competence": Competence.WARD,
            "version": 1,
            "private_token": secrets.token_urlsafe(24),
            "search_key": "",
            "created_at": now - timedelta(seconds=i),
            "updated_at": now,
        }
        for i in range(n)
    ]
    db.session.execute(insert(Petition), rows)
    db.session.commit()


def test_never_more_than_the_cap(client, world):
    _bulk_insert(world, 2500)

    for zoom in (None, 18, 15, 14, 12):
        args = {"bbox": WARD_BBOX} | ({"zoom": zoom} if zoom is not None else {})
        data = client.get(URL, query_string=args).get_json()
        assert len(data["features"]) <= 2000, zoom
    individual = client.get(URL, query_string={"bbox": WARD_BBOX, "zoom": 18}).get_json()
    assert len(individual["features"]) == 2000 and individual["truncated"] is True
    # Newest first, so what is cut is the oldest.
    assert individual["features"][0]["properties"]["code"] == "KN-2026-00001"
    counted = client.get(URL, query_string={"bbox": WARD_BBOX, "zoom": 12}).get_json()
    assert counted["truncated"] is False
    assert sum(f["properties"]["count"] for f in counted["features"]) == 2500


def test_the_cap_on_grid_cells(client, world, monkeypatch):
    for point in ((20.971, 105.741), (20.989, 105.759), (20.971, 105.759)):
        factories.file(world, point=point)
    monkeypatch.setattr(map_services, "MAX_FEATURES", 2)

    data = client.get(URL, query_string={"bbox": WARD_BBOX, "zoom": 14}).get_json()
    assert data["aggregated"] is True
    assert len(data["features"]) == 2 and data["truncated"] is True
    points = client.get(URL, query_string={"bbox": WARD_BBOX, "zoom": 16}).get_json()
    assert len(points["features"]) == 2 and points["truncated"] is True


def test_old_closed_petitions_are_hidden_unless_asked(client, world, app):
    open_one = factories.file(world)
    recent = factories.file(world)
    reject(world, recent)
    old = factories.file(world)
    reject(world, old)
    age(old, 120, closed=True)

    assert codes(client.get(URL)) == {open_one.code, recent.code}
    assert codes(client.get(URL, query_string={"da_dong": "1"})) == {
        open_one.code,
        recent.code,
        old.code,
    }
    # Asking for that status shows them all.
    assert codes(client.get(URL, query_string={"status": "rejected"})) == {recent.code, old.code}
    page = client.get("/ban-do/").get_data(as_text=True)
    assert old.code not in page and recent.code in page
    assert old.code in client.get("/ban-do/?da_dong=1").get_data(as_text=True)

    app.config["MAP_HIDE_CLOSED_DAYS"] = 365
    assert old.code in codes(client.get(URL))


def test_cache_headers_and_etag(client, world):
    factories.file(world)

    first = client.get(URL, query_string={"bbox": WARD_BBOX, "zoom": 16})
    assert first.status_code == 200
    assert "public" in first.headers["Cache-Control"]
    assert "max-age=60" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    assert etag

    again = client.get(
        URL, query_string={"bbox": WARD_BBOX, "zoom": 16}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.get_data() == b""

    factories.file(world, point=factories.INSIDE_EAST)
    changed = client.get(
        URL, query_string={"bbox": WARD_BBOX, "zoom": 16}, headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != etag

    hotspots = client.get(HOTSPOTS)
    assert hotspots.status_code == 200 and hotspots.headers["ETag"]
    assert "max-age=60" in hotspots.headers["Cache-Control"]


@pytest.mark.parametrize(
    "args",
    [
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"bbox": "105.76,20.97,105.74,20.99"},  # west > east
        {"bbox": "105.74,20.99,105.76,20.97"},  # south > north
        {"bbox": "105.74,20.97,205,20.99"},
        {"bbox": "nan,20.97,105.76,20.99"},
        {"bbox": WARD_BBOX, "zoom": "x"},
        {"bbox": WARD_BBOX, "zoom": "40"},
        {"bbox": WARD_BBOX, "zoom": "-1"},
        {"tu": "31/02/2026"},
    ],
)
def test_bad_arguments_are_a_400_in_vietnamese(client, world, args):
    response = client.get(URL, query_string=args)

    assert response.status_code == 400
    message = response.get_json()["error"]
    assert message and any(ch in message for ch in "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ")


def test_hotspots_group_open_petitions_of_one_category(client, world):
    litter = world.categories["ve-sinh-moi-truong"]
    light = world.categories["chieu-sang"]
    # A chain about 78 m apart: the ends are 156 m apart, one group all the same.
    chain = [
        factories.file(world, point=(20.9800 + 0.0007 * i, 105.7450), category=litter)
        for i in range(3)
    ]
    # Close by, but another category: not in the group, and only two of them.
    lamps = [factories.file(world, point=(20.9801, 105.7451), category=light) for _ in range(2)]
    # Same category, far away: alone.
    far = factories.file(world, point=(20.9800, 105.7550), category=litter)
    # Same category, close, but no longer open.
    done = factories.file(world, point=(20.9803, 105.7450), category=litter)
    reject(world, done)

    data = client.get(HOTSPOTS).get_json()
    (spot,) = data["features"]
    props = spot["properties"]
    assert props["count"] == 3
    assert props["category"] == "Vệ sinh môi trường"
    assert {p["code"] for p in props["petitions"]} == {p.code for p in chain}
    assert set(props["petitions"][0]) == {"code", "title", "url"}
    lon, lat = spot["geometry"]["coordinates"]
    assert abs(lat - 20.9807) < 1e-4 and abs(lon - 105.745) < 1e-4
    assert 70 < props["radius_m"] < 90
    assert far.code not in str(data) and done.code not in str(data)
    assert all(p.code not in str(data) for p in lamps)

    # One more lamp makes a second spot; a smaller radius breaks the chain.
    factories.file(world, point=(20.9802, 105.7451), category=light)
    assert [f["properties"]["count"] for f in client.get(HOTSPOTS).get_json()["features"]] == [
        3,
        3,
    ]
    assert (
        client.get(HOTSPOTS, query_string={"category": light.id}).get_json()["features"][0][
            "properties"
        ]["category"]
        == "Chiếu sáng"
    )


def test_hotspot_radius_is_configurable(client, world, app):
    for i in range(3):
        factories.file(world, point=(20.9800 + 0.0007 * i, 105.7450))
    app.config["HOTSPOT_RADIUS_M"] = 50
    assert client.get(HOTSPOTS).get_json()["features"] == []
    app.config["HOTSPOT_RADIUS_M"] = 100
    assert len(client.get(HOTSPOTS).get_json()["features"]) == 1


def test_page_lists_petitions_per_residential_group_without_javascript(client, world):
    west = factories.file(world, point=factories.INSIDE_WEST, title="Rác ở phía tây")
    east = factories.file(world, point=factories.INSIDE_EAST, title="Rác ở phía đông")
    nowhere = factories.file(
        world, point=(None, None), area=None, channel=Channel.MEETING, title="Cả phường"
    )

    html = client.get("/ban-do/").get_data(as_text=True)
    assert "Tổ dân phố Nhân Trạch" in html and "Tổ dân phố La Dương" in html
    # Grouped: each residential group's heading comes before its petitions.
    assert html.index("Tổ dân phố Nhân Trạch</h2>") < html.index(west.code)
    assert html.index("Tổ dân phố La Dương</h2>") < html.index(east.code)
    assert html.index(west.code) < html.index("Tổ dân phố La Dương</h2>")
    assert nowhere.code in html  # the list is never only what has a pin
    assert f'href="/kien-nghi/{west.code}"' in html
    assert 'method="get"' in html and 'name="tu"' in html and 'name="da_dong"' in html
    # Only this page loads the cluster library.
    assert "/leaflet.markercluster." in html and "/MarkerCluster." in html  # fingerprinted
    assert "leaflet.markercluster" not in client.get("/kien-nghi/moi").get_data(as_text=True)

    filtered = client.get("/ban-do/", query_string={"area": world.east.id}).get_data(as_text=True)
    assert east.code in filtered and west.code not in filtered
    bad = client.get("/ban-do/", query_string={"tu": "hôm qua"})
    assert bad.status_code == 200 and "Ngày không hợp lệ" in bad.get_data(as_text=True)


def test_list_fragment_for_the_script(client, world):
    petition = factories.file(world)
    fragment = client.get(
        "/ban-do/", headers={"HX-Request": "true", "HX-Target": "map-list"}
    ).get_data(as_text=True)
    assert petition.code in fragment and "<html" not in fragment


def test_page_shows_hotspots_as_a_list(client, world):
    chain = [factories.file(world, point=(20.9800 + 0.0005 * i, 105.7450)) for i in range(3)]
    html = client.get("/ban-do/").get_data(as_text=True)
    section = html[html.index('id="hotspots"') :]
    assert "3 kiến nghị" in section
    assert all(p.code in section for p in chain)


def test_paging_keeps_the_filters(client, world, app):
    app.config["PAGE_SIZE"] = 2
    for _ in range(3):
        factories.file(world, point=factories.INSIDE_EAST)
    html = client.get("/ban-do/", query_string={"area": world.east.id}).get_data(as_text=True)
    assert f"/ban-do/?area={world.east.id}&amp;page=2" in html


def test_the_address_suggestion_names_the_residential_group_once(client, world):
    lat, lon = factories.INSIDE_WEST
    page = client.get(f"/ban-do/dia-chi?latitude={lat}&longitude={lon}").get_data(as_text=True)
    assert "Thuộc Tổ dân phố Nhân Trạch" in page
    assert "Tổ dân phố: Tổ dân phố" not in page
