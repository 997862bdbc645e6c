"""Open311 GeoReport v2: discovery, services, requests (read and file), no personal data."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.api.openapi import openapi_document
from portal.extensions import db
from portal.petitions import services
from portal.petitions.models import Category, Petition, Photo, Status
from portal.timeutil import frozen_clock, utcnow
from tests import factories

KEY = "khoa-thu-nghiem-311"
BASE = "/open311/v2"

NAME_FIRST, NAME_LAST = "Riêngtư", "Nguyễn Thị"
PHONE = "0912 345 678"
PHONE_STORED = "0912345678"
EMAIL = "rieng.tu.open311@example.vn"
ADDRESS = "Số 99 ngõ Bí Mật"
PERSONAL = [NAME_FIRST, f"{NAME_LAST} {NAME_FIRST}", PHONE, PHONE_STORED, EMAIL, ADDRESS]


@pytest.fixture
def world(world):
    # Every test here may file: the key exists whenever the ward does.
    from portal.api.services import issue_key

    issue_key("Ứng dụng thử nghiệm", key=KEY, rate_limit="1000/hour")
    db.session.commit()
    return world


def count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Petition))


def codes(response) -> set[str]:
    return {r["service_request_id"] for r in response.get_json()}


def post_data(world, **overrides):
    lat, lon = factories.INSIDE_EAST
    data = {
        "api_key": KEY,
        "service_code": "thoat-nuoc",
        "lat": str(lat),
        "long": str(lon),
        "description": "Cống thoát nước tắc, nước tràn ra đường khi mưa.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- discovery and services -------------------------------------------------------------


def test_discovery_json_and_xml(client, world):
    data = client.get(f"{BASE}/discovery.json").get_json()
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert "application/json" in endpoint["formats"]
    response = client.get(f"{BASE}/discovery.xml")
    assert response.content_type.startswith("text/xml")
    root = ET.fromstring(response.data)
    assert root.tag == "discovery"
    formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
    assert formats == ["application/json", "text/xml"]


def test_services_json_lists_active_categories(client, world):
    world.categories["chieu-sang"].active = False
    db.session.commit()
    data = client.get(f"{BASE}/services.json").get_json()
    assert [s["service_code"] for s in data] == ["ve-sinh-moi-truong", "thoat-nuoc"]
    first = data[0]
    assert first["service_name"] == "Vệ sinh môi trường"
    assert first["type"] == "realtime" and first["metadata"] is False
    assert "ve sinh moi truong" in first["keywords"]
    assert first["group"] == "Phường Dương Nội"


def test_services_xml(client, world):
    response = client.get(f"{BASE}/services.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    assert root.tag == "services"
    services_ = root.findall("service")
    assert [s.findtext("service_code") for s in services_] == [
        "ve-sinh-moi-truong",
        "thoat-nuoc",
        "chieu-sang",
    ]
    assert services_[0].findtext("service_name") == "Vệ sinh môi trường"
    assert services_[0].findtext("metadata") == "false"
    assert services_[0].findtext("type") == "realtime"


def test_xml_escapes_everything(client, world):
    db.session.add(Category(slug="dac-biet", name="<b>Đường & ngõ</b>", sort_order=9))
    db.session.commit()
    response = client.get(f"{BASE}/services.xml")
    assert b"<b>" not in response.data
    names = [s.findtext("service_name") for s in ET.fromstring(response.data)]
    assert "<b>Đường & ngõ</b>" in names


def test_service_definition_and_unknown_code(client, world):
    data = client.get(f"{BASE}/services/thoat-nuoc.json").get_json()
    assert data == {"service_code": "thoat-nuoc", "attributes": []}
    root = ET.fromstring(client.get(f"{BASE}/services/thoat-nuoc.xml").data)
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "thoat-nuoc"
    response = client.get(f"{BASE}/services/khong-co.json")
    assert response.status_code == 404
    [error] = response.get_json()
    assert error["code"] == 404 and "không tồn tại" in error["description"]
    response = client.get(f"{BASE}/services/khong-co.xml")
    assert response.status_code == 404
    root = ET.fromstring(response.data)
    assert root.tag == "errors" and root.findtext("error/code") == "404"


def test_unknown_jurisdiction_is_404(client, world):
    response = client.get(f"{BASE}/services.json?jurisdiction_id=somewhere.else")
    assert response.status_code == 404
    # The host name is not a jurisdiction: the ward's official code is.
    assert client.get(f"{BASE}/services.json?jurisdiction_id=localhost").status_code == 404
    code = world.ward.code
    assert client.get(f"{BASE}/services.json?jurisdiction_id={code}").status_code == 200
    assert client.get(f"{BASE}/requests.xml?jurisdiction_id={code}").status_code == 200


# --- reading requests -------------------------------------------------------------------


def test_request_fields(client, world):
    petition = factories.file(world, address_text="Đầu ngõ 12 Văn Khê")
    factories.assign(world, petition)
    services.post_update(
        petition, world.users["unit_staff"], public_note="Đã cử người khảo sát hiện trường."
    )
    db.session.add(
        Photo(
            petition=petition,
            stored_name="a.jpg",
            thumb_name="a.thumb.jpg",
            width=1,
            height=1,
            size_bytes=1,
            published=True,
        )
    )
    db.session.commit()
    [data] = client.get(f"{BASE}/requests/{petition.code}.json").get_json()
    assert data["service_request_id"] == petition.code
    assert data["status"] == "open"
    assert data["status_notes"] == "Đã cử người khảo sát hiện trường."
    assert data["service_code"] == "ve-sinh-moi-truong"
    assert data["service_name"] == "Vệ sinh môi trường"
    assert data["description"] == petition.description
    assert data["agency_responsible"] == "Phòng Kinh tế, Hạ tầng và Đô thị"
    assert data["address"] == "Đầu ngõ 12 Văn Khê"
    assert (data["lat"], data["long"]) == factories.INSIDE_WEST
    assert data["requested_datetime"].endswith("+07:00")
    assert data["updated_datetime"].endswith("+07:00")
    assert data["expected_datetime"].endswith("T23:59:59+07:00")
    photo_id = petition.photos[0].id
    assert data["media_url"].endswith(f"/anh/{photo_id}")
    root = ET.fromstring(client.get(f"{BASE}/requests/{petition.code}.xml").data)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == petition.code
    assert root.findtext("request/agency_responsible") == "Phòng Kinh tế, Hạ tầng và Đô thị"


def test_single_request_tolerates_code_case_and_404s(client, world):
    petition = factories.file(world)
    response = client.get(f"{BASE}/requests/{petition.code.lower()}.json")
    assert codes(response) == {petition.code}
    response = client.get(f"{BASE}/requests/KN-1999-00001.json")
    assert response.status_code == 404
    assert response.get_json()[0]["code"] == 404
    response = client.get(f"{BASE}/requests/KN-1999-00001.xml")
    assert response.status_code == 404 and ET.fromstring(response.data).tag == "errors"


def test_unpublished_photo_has_no_media_url(client, world):
    petition = factories.file(world)
    db.session.add(
        Photo(
            petition=petition,
            stored_name="b.jpg",
            thumb_name="b.thumb.jpg",
            width=1,
            height=1,
            size_bytes=1,
            published=False,
        )
    )
    db.session.commit()
    [data] = client.get(f"{BASE}/requests/{petition.code}.json").get_json()
    assert data["media_url"] is None and data["agency_responsible"] is None


@pytest.mark.parametrize("status", list(Status))
def test_status_mapping(client, world, status):
    petition = factories.file(world)
    petition.status = status
    db.session.commit()
    [data] = client.get(f"{BASE}/requests/{petition.code}.json").get_json()
    expected = (
        "closed"
        if status in {"resolved", "closed", "cannot_resolve", "rejected", "merged"}
        else "open"
    )
    assert data["status"] == expected
    filtered = client.get(f"{BASE}/requests.json?status={expected}").get_json()
    assert petition.code in {r["service_request_id"] for r in filtered}
    other = "open" if expected == "closed" else "closed"
    assert codes(client.get(f"{BASE}/requests.json?status={other}")) == set()


def test_rejection_reason_is_the_status_note(client, world):
    petition = factories.file(world)
    services.reject(petition, world.users["ward_staff"], reason="Không thuộc thẩm quyền.")
    db.session.commit()
    [data] = client.get(f"{BASE}/requests/{petition.code}.json").get_json()
    assert data["status"] == "closed"
    assert data["status_notes"] == "Không thuộc thẩm quyền."
    assert data["expected_datetime"] is None


def test_list_filters(client, world):
    waste = factories.file(world)
    drain = factories.file(world, category=world.categories["thoat-nuoc"])
    done = factories.file(world, category=world.categories["thoat-nuoc"])
    services.reject(done, world.users["ward_staff"], reason="Trùng.")
    db.session.commit()
    everything = client.get(f"{BASE}/requests.json")
    assert everything.status_code == 200
    assert [r["service_request_id"] for r in everything.get_json()] == [
        done.code,
        drain.code,
        waste.code,
    ]
    assert codes(client.get(f"{BASE}/requests.json?status=open")) == {waste.code, drain.code}
    assert codes(client.get(f"{BASE}/requests.json?status=closed")) == {done.code}
    assert len(codes(client.get(f"{BASE}/requests.json?status=open,closed"))) == 3
    assert codes(client.get(f"{BASE}/requests.json?service_code=thoat-nuoc")) == {
        drain.code,
        done.code,
    }
    assert codes(client.get(f"{BASE}/requests.json?service_code=thoat-nuoc&status=open")) == {
        drain.code
    }
    ids = f"{waste.code},{done.code.lower()}"
    assert codes(client.get(f"{BASE}/requests.json?service_request_id={ids}")) == {
        waste.code,
        done.code,
    }
    root = ET.fromstring(client.get(f"{BASE}/requests.xml?status=closed").data)
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [done.code]
    assert root.findtext("request/status") == "closed"


def test_bad_status_filter_is_400(client, world):
    response = client.get(f"{BASE}/requests.json?status=pending")
    assert response.status_code == 400
    assert "open" in response.get_json()[0]["description"]


def test_date_filters(client, world):
    now = utcnow()
    with frozen_clock(now - timedelta(days=200)):
        old = factories.file(world)
    recent = factories.file(world)
    # By default only the last 90 days.
    assert codes(client.get(f"{BASE}/requests.json")) == {recent.code}
    start = (now - timedelta(days=210)).date().isoformat()
    end = (now - timedelta(days=150)).date().isoformat()
    window = client.get(f"{BASE}/requests.json?start_date={start}&end_date={end}")
    assert codes(window) == {old.code}
    # With only start_date, the window is start_date plus 90 days.
    assert codes(client.get(f"{BASE}/requests.json?start_date={start}")) == {old.code}
    stamp = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S") + "%2B07:00"
    assert codes(client.get(f"{BASE}/requests.json?start_date={stamp}")) == {recent.code}
    # The ids filter ignores the window.
    assert codes(client.get(f"{BASE}/requests.json?service_request_id={old.code}")) == {old.code}


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("start_date=2026-01-01&end_date=2026-05-01", "90"),
        ("start_date=2026-03-01&end_date=2026-02-01", "end_date"),
        ("start_date=hom-qua", "ISO 8601"),
    ],
)
def test_bad_date_ranges_are_400(client, world, query, words):
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/requests.{fmt}?{query}")
        assert response.status_code == 400
        if fmt == "json":
            [error] = response.get_json()
            assert error["code"] == 400 and words in error["description"]
        else:
            root = ET.fromstring(response.data)
            assert root.findtext("error/code") == "400"
            assert words in root.findtext("error/description")


# --- filing -----------------------------------------------------------------------------


def test_post_files_a_petition_visible_on_its_page(client, world):
    response = client.post(
        f"{BASE}/requests.json",
        data=post_data(
            world,
            first_name=NAME_FIRST,
            last_name=NAME_LAST,
            phone="+84 912 345 678",
            email=EMAIL,
            address_string="Trước số 5 ngõ 3",
            media_url="http://example.invalid/anh.jpg",
        ),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    [answer] = response.get_json()
    assert answer["account_id"] is None
    code = answer["service_request_id"]
    assert code in answer["service_notice"]
    petition = services.get_by_code(code)
    assert petition.category.slug == "thoat-nuoc"
    assert petition.area == world.east
    assert petition.channel == "web"
    assert petition.petitioner_name == f"{NAME_LAST} {NAME_FIRST}"
    assert petition.petitioner_phone == PHONE_STORED
    assert petition.petitioner_email == EMAIL
    assert petition.address_text == "Trước số 5 ngõ 3"
    assert petition.title.startswith("Cống thoát nước tắc")
    page = client.get(f"/kien-nghi/{code}")
    assert page.status_code == 200
    assert "Cống thoát nước tắc" in page.get_data(as_text=True)
    [data] = client.get(f"{BASE}/requests/{code}.json").get_json()
    assert data["status"] == "open" and data["service_code"] == "thoat-nuoc"


def test_post_xml_answer(client, world):
    response = client.post(f"{BASE}/requests.xml", data=post_data(world))
    assert response.status_code == 201
    root = ET.fromstring(response.data)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id").startswith("KN-")
    assert root.find("request/account_id") is not None


def test_post_with_address_naming_a_residential_group(client, world):
    data = post_data(world, lat=None, long=None, address_string="Ngõ 5, tổ dân phố Nhân Trạch")
    response = client.post(f"{BASE}/requests.json", data=data)
    assert response.status_code == 201, response.get_data(as_text=True)
    petition = services.get_by_code(response.get_json()[0]["service_request_id"])
    assert petition.area == world.west and petition.latitude is None


@pytest.mark.parametrize("key", [None, "", "sai-khoa", KEY + "x"])
def test_post_with_bad_key_is_403_and_saves_nothing(client, world, key):
    response = client.post(f"{BASE}/requests.json", data=post_data(world, api_key=key))
    assert response.status_code == 403
    [error] = response.get_json()
    assert error["code"] == 403 and "api_key" in error["description"]
    assert count() == 0


def test_post_is_refused_when_no_keys_are_issued(client, world, app):
    from portal.api.models import ApiClient

    for issued in db.session.scalars(select(ApiClient)):
        db.session.delete(issued)
    db.session.commit()
    response = client.post(f"{BASE}/requests.xml", data=post_data(world, api_key=""))
    assert response.status_code == 403
    assert ET.fromstring(response.data).findtext("error/code") == "403"
    assert count() == 0


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"service_code": None}, "service_code"),
        ({"service_code": "khong-co"}, "service_code"),
        ({"description": None}, "description"),
        ({"description": "ngắn quá"}, "description"),
        ({"lat": None, "long": None}, "address_string"),
        ({"long": None}, "lat"),
        ({"lat": "bac"}, "lat"),
        (
            {"lat": str(factories.OUTSIDE[0]), "long": str(factories.OUTSIDE[1])},
            "ngoài địa bàn Phường Dương Nội",
        ),
        ({"phone": "12345"}, "Số điện thoại không hợp lệ"),
        ({"email": "khong-phai-thu"}, "thư điện tử"),
        ({"lat": None, "long": None, "address_string": "Nơi không ai biết"}, "address_string"),
    ],
)
def test_post_invalid_is_400_and_saves_nothing(client, world, overrides, words):
    response = client.post(f"{BASE}/requests.json", data=post_data(world, **overrides))
    assert response.status_code == 400, response.get_data(as_text=True)
    [error] = response.get_json()
    assert error["code"] == 400
    assert words in error["description"]
    assert count() == 0


def test_post_out_of_ward_in_xml(client, world):
    lat, lon = factories.OUTSIDE
    response = client.post(
        f"{BASE}/requests.xml", data=post_data(world, lat=str(lat), long=str(lon))
    )
    assert response.status_code == 400
    root = ET.fromstring(response.data)
    assert "ngoài địa bàn" in root.findtext("error/description")
    assert count() == 0


def test_post_is_rate_limited(world, database_url, tmp_path):
    from tests.conftest import make_app

    limited = make_app(
        database_url,
        tmp_path,
        RATELIMIT_ENABLED=True,
        PETITION_RATE_LIMIT="1 per hour",
    )
    client = limited.test_client()
    with limited.app_context():
        assert client.post(f"{BASE}/requests.json", data=post_data(world)).status_code == 201
        response = client.post(f"{BASE}/requests.json", data=post_data(world))
        assert response.status_code == 429
        assert response.get_json()[0]["code"] == 429
        db.session.remove()


# --- privacy ----------------------------------------------------------------------------


def test_no_personal_data_in_any_get_response(client, world):
    filed = client.post(
        f"{BASE}/requests.json",
        data=post_data(
            world,
            first_name=NAME_FIRST,
            last_name=NAME_LAST,
            phone=PHONE,
            email=EMAIL,
        ),
    )
    code = filed.get_json()[0]["service_request_id"]
    petition = services.get_by_code(code)
    petition.petitioner_address = ADDRESS
    petition.show_name_publicly = True
    services.add_information(petition, f"Liên hệ {EMAIL} hoặc {PHONE}", [])
    db.session.commit()
    for path in (
        "discovery.json",
        "discovery.xml",
        "services.json",
        "services.xml",
        "requests.json",
        "requests.xml",
        f"requests.json?service_request_id={code}",
        f"requests/{code}.json",
        f"requests/{code}.xml",
        "openapi.json",
    ):
        response = client.get(f"{BASE}/{path}")
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        if response.is_json:
            body += json.dumps(response.get_json(), ensure_ascii=False)
        leaked = [value for value in PERSONAL if value in body]
        assert not leaked, f"{path} shows {leaked}"
        assert petition.private_token not in body


# --- the OpenAPI document ---------------------------------------------------------------


def test_openapi_document(client, world):
    response = client.get(f"{BASE}/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.get_data(as_text=True))
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/discovery.{format}",
        "/services.{format}",
        "/services/{service_code}.{format}",
        "/requests.{format}",
        "/requests/{service_request_id}.{format}",
        "/tokens/{token}.{format}",
        "/openapi.json",
    }
    assert set(document["paths"]["/requests.{format}"]) == {"get", "post"}
    assert document["servers"][0]["url"].endswith("/open311/v2")
    # Every $ref points at a schema that exists.
    refs = set()

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.add(node["$ref"].rsplit("/", 1)[-1])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert refs <= set(document["components"]["schemas"])


def test_openapi_document_is_plain_json():
    document = openapi_document()
    assert json.loads(json.dumps(document)) == document
    assert document["servers"] == [{"url": "/open311/v2"}]
