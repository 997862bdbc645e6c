"""Public statistics and open data: aggregates and public fields only."""

from __future__ import annotations

import csv
import io

from portal.extensions import db
from portal.petitions import services
from tests import factories

SECRET = {
    "petitioner_name": "Trần Văn Bímật",
    "petitioner_phone": "0987654321",
    "petitioner_email": "bimat@example.vn",
    "petitioner_address": "Số 7 ngõ Kín",
}


def setup_data(world):
    petition = factories.file(world, **SECRET, show_name_publicly=True)
    factories.assign(world, petition)
    services.post_update(
        petition,
        world.users["ward_staff"],
        public_note="Đã khảo sát",
        internal_note="Ghi chú nội bộ mật",
    )
    services.resolve(petition, world.users["ward_staff"], public_note="Đã thu dọn")
    db.session.commit()
    return petition


def test_statistics_page(client, world):
    setup_data(world)
    response = client.get("/thong-ke")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Thống kê kiến nghị" in body and "<svg" in body and "Tổ dân phố Nhân Trạch" in body
    for value in SECRET.values():
        assert value not in body


def test_open_data_csv_and_json_have_no_personal_data(client, world):
    petition = setup_data(world)
    page = client.get("/du-lieu-mo").get_data(as_text=True)
    assert "CC BY 4.0" in page and "created_at" in page
    raw = client.get("/du-lieu-mo/kien-nghi.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(raw.lstrip("\ufeff"))))
    assert rows[0]["code"] == petition.code and rows[0]["status"] == "resolved"
    assert rows[0]["outcome_note"] == "Đã thu dọn"
    events = client.get("/du-lieu-mo/dong-thoi-gian.json").get_json()
    assert events["licence"] == "CC BY 4.0"
    assert any(e["public_note"] == "Đã khảo sát" for e in events["data"])
    everything = raw + client.get("/du-lieu-mo/kien-nghi.json").get_data(as_text=True)
    everything += client.get("/du-lieu-mo/dong-thoi-gian.csv").get_data(as_text=True)
    import json

    everything += json.dumps(events, ensure_ascii=False)
    for value in [*SECRET.values(), "Ghi chú nội bộ mật"]:
        assert value not in everything, value
    assert client.get("/du-lieu-mo/khac.csv").status_code == 404
    assert client.get("/du-lieu-mo/kien-nghi.xml").status_code == 404
