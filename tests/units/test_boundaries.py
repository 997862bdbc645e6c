"""Importing residential-group boundaries: all or nothing, a message per feature."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.units.models import Area
from tests import factories


def square(west, south, east, north):
    return {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }


def collection(*features, **extra):
    return {"type": "FeatureCollection", "features": list(features), **extra}


def feature(name, geometry, prop="ten"):
    return {"type": "Feature", "properties": {prop: name}, "geometry": geometry}


@pytest.fixture
def admin(client, auth, world):
    auth.as_role(world, "admin")
    return client


def upload(client, data, prop="ten"):
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return client.post(
        "/quan-ly/to-dan-pho/",
        data={"document": (io.BytesIO(body), "tdp.geojson"), "name_property": prop},
        content_type="multipart/form-data",
    )


def area_count():
    return db.session.scalar(select(func.count()).select_from(Area))


def test_import_replaces_and_adds(admin, world):
    data = collection(
        feature("Tổ dân phố Nhân Trạch", square(105.74, 20.97, 105.745, 20.99)),
        feature("Tổ dân phố Mới", square(105.745, 20.97, 105.75, 20.99)),
    )
    response = upload(admin, data)
    assert response.status_code == 303
    db.session.expire_all()
    assert area_count() == 3
    assert world.west.boundary == data["features"][0]["geometry"]
    assert world.west.centroid_lon == pytest.approx(105.7425)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json at all", "không phải GeoJSON"),
        ({"type": "Feature"}, "FeatureCollection"),
        (
            collection(feature("A", {"type": "Point", "coordinates": [105.74, 20.98]})),
            "Polygon hoặc MultiPolygon",
        ),
        (
            collection(
                feature("A", square(105.74, 20.97, 105.75, 20.99)),
                feature("B", square(105.745, 20.97, 105.76, 20.99)),
            ),
            "chồng lấn",
        ),
        (collection(feature("A", square(580000, 2310000, 581000, 2311000))), "WGS84"),
        (
            collection(
                feature("A", square(105.74, 20.97, 105.75, 20.99)),
                crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3405"}},
            ),
            "EPSG::3405",
        ),
        (
            collection(
                feature(
                    "A",
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [105.74, 20.97],
                                [105.75, 20.99],
                                [105.75, 20.97],
                                [105.74, 20.99],
                                [105.74, 20.97],
                            ]
                        ],
                    },
                )
            ),
            "không hợp lệ",
        ),
        (collection(feature(None, square(105.74, 20.97, 105.75, 20.99))), "thiếu thuộc tính tên"),
    ],
)
def test_bad_files_import_nothing(admin, world, data, message):
    before = world.west.boundary
    response = upload(admin, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert area_count() == 2 and world.west.boundary == before


def test_one_bad_feature_among_good_ones_imports_nothing(admin, world):
    data = collection(
        feature("Tổ dân phố Mới", square(105.745, 20.97, 105.75, 20.99)),
        feature("Hỏng", {"type": "LineString", "coordinates": [[105.74, 20.97], [105.75, 20.98]]}),
    )
    response = upload(admin, data)
    assert response.status_code == 422 and "“Hỏng”" in response.get_data(as_text=True)
    assert area_count() == 2


def test_petitions_move_only_when_asked(admin, world):
    petition = factories.file(world, point=(20.98, 105.748))  # west half today
    assert petition.area == world.west
    data = collection(
        feature("Tổ dân phố Nhân Trạch", square(105.74, 20.97, 105.746, 20.99)),
        feature("Tổ dân phố La Dương", square(105.746, 20.97, 105.76, 20.99)),
    )
    assert upload(admin, data).status_code == 303
    db.session.expire_all()
    assert petition.area == world.west  # not moved yet
    assert admin.post("/quan-ly/to-dan-pho/gan-lai").status_code == 303
    db.session.expire_all()
    assert petition.area == world.east
    staff_page = admin.get(f"/quan-ly/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "Tổ dân phố Nhân Trạch → Tổ dân phố La Dương" in staff_page


def test_only_admin_imports(client, auth, world):
    auth.as_role(world, "ward_staff")
    assert client.get("/quan-ly/to-dan-pho/").status_code == 403
