"""The ward's gazetteer: admin edits it; residents find places without accents."""

from __future__ import annotations

from portal.geo import FakeGeocoder, Place
from tests import factories


def test_admin_adds_and_residents_find(client, auth, world):
    auth.as_role(world, "admin")
    bad = client.post(
        "/quan-ly/to-dan-pho/dia-danh",
        data={"name": "Chợ xa", "kind": "landmark", "latitude": "21.03", "longitude": "105.85"},
    )
    assert bad.status_code == 422 and "ngoài địa bàn" in bad.get_data(as_text=True)
    missing = client.post(
        "/quan-ly/to-dan-pho/dia-danh", data={"name": "", "kind": "landmark", "latitude": "x"}
    )
    assert missing.status_code == 422
    ok = client.post(
        "/quan-ly/to-dan-pho/dia-danh",
        data={
            "name": "Ngõ 12 phố Văn Khê",
            "kind": "lane",
            "latitude": factories.INSIDE_EAST[0],
            "longitude": factories.INSIDE_EAST[1],
        },
    )
    assert ok.status_code == 303
    auth.logout()
    html = client.get("/ban-do/tim-dia-chi", query_string={"q": "ngo 12 van khe"}).get_data(
        as_text=True
    )
    assert "Ngõ 12 phố Văn Khê" in html and f'data-lat="{factories.INSIDE_EAST[0]}"' in html
    assert "Tổ dân phố La Dương" in html
    nothing = client.get("/ban-do/tim-dia-chi", query_string={"q": "khong co dau"}).get_data(
        as_text=True
    )
    assert "Không tìm thấy" in nothing


def test_geocoder_after_gazetteer_and_only_inside_the_ward(app, client, world):
    fake = FakeGeocoder(
        {
            "trường thcs lê quý đôn, phường dương nội, thành phố hà nội": Place(
                20.975, 105.745, "Trường THCS Lê Quý Đôn"
            ),
            "hồ gươm, phường dương nội, thành phố hà nội": Place(21.028, 105.852, "Hồ Gươm"),
        }
    )
    app.extensions["geocoder"] = fake
    html = client.get("/ban-do/tim-dia-chi", query_string={"q": "Trường THCS Lê Quý Đôn"}).get_data(
        as_text=True
    )
    assert "Trường THCS Lê Quý Đôn" in html
    far = client.get("/ban-do/tim-dia-chi", query_string={"q": "Hồ Gươm"}).get_data(as_text=True)
    assert "data-lat" not in far  # outside the ward: not offered


def test_only_admin_edits_places(client, auth, world):
    auth.as_role(world, "ward_staff")
    assert client.get("/quan-ly/to-dan-pho/dia-danh").status_code == 403
