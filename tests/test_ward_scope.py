"""One database, many wards: this deployment shows only its own ward's petitions.

A city runs every ward on one database; each deployment serves one ward
(``PORTAL_WARD_CODE``). Another ward's petitions must never show on the public list,
search, lookup, map, home page, staff inbox, monitoring dashboard or statistics, and
its codes are not found here (404).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from portal.extensions import db
from portal.monitoring import services as monitoring
from portal.petitions import services
from portal.timeutil import frozen_clock
from portal.units.models import Area, Ward
from tests import factories

# Phường Hoàn Kiếm, far from the test ward (which is Phường Dương Nội).
OTHER_POINT = (21.03, 105.85)
TITLE = "Cống thoát nước bị tắc gây ngập"


def _square(west, south, east, north) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def two_wards(world):
    """Our petition and three of another ward, all with the same words and overdue."""
    other = Ward(
        code="00070",
        name="Phường Hoàn Kiếm",
        province_code="01",
        province_name="Thành phố Hà Nội",
        boundary=_square(105.84, 21.02, 105.86, 21.04),
    )
    area = Area(ward=other, name="Tổ dân phố số 1", boundary=_square(105.84, 21.02, 105.86, 21.04))
    db.session.add_all([other, area])
    db.session.commit()
    long_ago = datetime.now() - timedelta(days=60)
    with frozen_clock(long_ago):
        ours = factories.file(world, title=TITLE)
    theirs = []
    for _ in range(3):
        with frozen_clock(long_ago):
            petition = services.file_petition(
                other,
                services.Filing(
                    category=world.categories["thoat-nuoc"],
                    title=TITLE,
                    description="Nước ngập đến đầu gối mỗi khi mưa.",
                    latitude=OTHER_POINT[0],
                    longitude=OTHER_POINT[1],
                ),
            )
        theirs.append(petition)
    db.session.commit()
    assert services.due_state(ours) == "overdue"
    return ours, theirs


def _codes_absent(body: str, theirs) -> bool:
    """No link to any of ``theirs`` (a search box may still echo a code typed in it)."""
    return not any(f"kien-nghi/{p.code}" in body for p in theirs)


def test_public_list_and_search_show_only_this_ward(client, two_wards):
    ours, theirs = two_wards
    for url in ("/kien-nghi", "/kien-nghi?q=cong+thoat+nuoc", f"/kien-nghi?q={theirs[0].code}"):
        body = client.get(url).get_data(as_text=True)
        assert _codes_absent(body, theirs), url
    assert f"kien-nghi/{ours.code}" in client.get("/kien-nghi?q=cong+thoat+nuoc").get_data(
        as_text=True
    )


def test_another_wards_code_is_not_found(client, two_wards):
    ours, theirs = two_wards
    assert client.get(f"/tra-cuu?ma={ours.code}").status_code == 303
    assert client.get(f"/kien-nghi/{ours.code}").status_code == 200
    lookup = client.get(f"/tra-cuu?ma={theirs[0].code}")
    assert lookup.status_code == 404 and "Không tìm thấy" in lookup.get_data(as_text=True)
    assert client.get(f"/kien-nghi/{theirs[0].code}").status_code == 404
    assert client.get(f"/feeds/kien-nghi/{theirs[0].code}.atom").status_code == 404


def test_map_shows_only_this_ward(client, two_wards):
    ours, theirs = two_wards
    everywhere = "-180,-90,180,90"
    points = client.get(f"/ban-do/du-lieu.geojson?bbox={everywhere}&zoom=16").get_json()
    assert [f["properties"]["code"] for f in points["features"]] == [ours.code]
    cells = client.get(f"/ban-do/du-lieu.geojson?bbox={everywhere}&zoom=8").get_json()
    assert sum(f["properties"]["count"] for f in cells["features"]) == 1
    page = client.get("/ban-do/").get_data(as_text=True)
    assert ours.code in page and _codes_absent(page, theirs)


def test_home_page_shows_only_this_ward(client, two_wards):
    ours, theirs = two_wards
    body = client.get("/").get_data(as_text=True)
    assert ours.code in body and _codes_absent(body, theirs)


def test_staff_inbox_shows_only_this_ward(client, auth, world, two_wards):
    ours, theirs = two_wards
    auth.as_role(world, "ward_staff")
    for url in ("/quan-ly/", "/quan-ly/?overdue=y", "/quan-ly/?q=cong+thoat+nuoc"):
        body = client.get(url).get_data(as_text=True)
        assert ours.code in body and _codes_absent(body, theirs), url
    assert client.get(f"/quan-ly/kien-nghi/{theirs[0].code}").status_code == 404
    assert client.get(f"/quan-ly/kien-nghi/{ours.code}").status_code == 200


def test_dashboard_and_statistics_count_only_this_ward(app, client, auth, world, two_wards):
    ours, theirs = two_wards
    data = monitoring.build_dashboard(monitoring.Scope())
    assert data.total == 1 and [p.code for p in data.overdue] == [ours.code]
    assert sum(row.total for row in data.categories) == 1
    auth.as_role(world, "mttq")
    page = client.get("/giam-sat").get_data(as_text=True)
    assert ours.code in page and _codes_absent(page, theirs)
    auth.logout()
    statistics = client.get("/thong-ke").get_data(as_text=True)
    assert '<span class="stat-n">1</span> kiến nghị' in statistics
