"""The petitioner's name, phone, email and address never reach a public page or feed."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.petitions.models import Petition
from tests import factories

NAME = "Nguyễn Thị Riêngtư"
PHONE_TYPED = "0912 345 678"
PHONE_STORED = "0912345678"
EMAIL = "rieng.tu@example.vn"
ADDRESS = "Số 99 ngõ Bí Mật"

CONTACT = [PHONE_TYPED, PHONE_STORED, EMAIL, ADDRESS]
PERSONAL = [NAME, *CONTACT]


def file_petition(client, world, *, show_name: bool = False) -> Petition:
    lat, lon = factories.INSIDE_WEST
    data = {
        "category_id": str(world.categories["ve-sinh-moi-truong"].id),
        "title": "Điểm rác tự phát đầu ngõ 12",
        "description": "Rác thải sinh hoạt đổ thành đống, bốc mùi.",
        "latitude": str(lat),
        "longitude": str(lon),
        "petitioner_name": NAME,
        "petitioner_phone": PHONE_TYPED,
        "petitioner_email": EMAIL,
        "petitioner_address": ADDRESS,
    }
    if show_name:
        data["show_name_publicly"] = "y"
    response = client.post("/kien-nghi/moi", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    token = re.search(r"/cua-toi/([^?]+)", response.headers["Location"]).group(1)
    db.session.expire_all()
    petition = db.session.scalar(select(Petition).where(Petition.private_token == token))
    assert petition is not None
    return petition


def text_of(response) -> str:
    """The body as a reader (or a scraper) sees it: entities and JSON escapes undone."""
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return unescape(response.get_data(as_text=True))


def assert_absent(body: str, values, where: str) -> None:
    leaked = [v for v in values if v in body]
    assert not leaked, f"{where} shows {leaked}"


@pytest.fixture
def petition(client, world):
    petition = file_petition(client, world)
    assert petition.petitioner_name == NAME
    assert petition.petitioner_phone == PHONE_STORED
    assert petition.petitioner_email == EMAIL
    assert petition.petitioner_address == ADDRESS
    assert petition.show_name_publicly is False
    assert petition.public_name is None
    return petition


def public_responses(client, code: str) -> dict:
    lookup = client.get(f"/tra-cuu?ma={code.lower()}")
    assert lookup.status_code == 303
    assert lookup.headers["Location"].endswith(f"/kien-nghi/{code}")
    return {
        "public page": client.get(f"/kien-nghi/{code}"),
        "list": client.get("/kien-nghi"),
        "list search": client.get("/kien-nghi?q=rac"),
        "lookup target": client.get(lookup.headers["Location"]),
        "home page": client.get("/"),
        "map data": client.get("/ban-do/du-lieu.geojson"),
        "map page": client.get("/ban-do/"),
        "list fragment": client.get(
            "/kien-nghi?q=rac", headers={"HX-Request": "true", "HX-Target": "results"}
        ),
    }


def test_personal_data_is_on_no_public_page(client, petition):
    code = petition.code
    responses = public_responses(client, code)

    for where, response in responses.items():
        assert response.status_code == 200, where
        assert_absent(text_of(response), PERSONAL, where)

    # The petition itself is on them (so the absence above means something).
    for where in ("public page", "list", "list search", "lookup target", "home page"):
        assert code in text_of(responses[where]), where
    features = responses["map data"].get_json()["features"]
    assert [f["properties"]["code"] for f in features] == [code]
    fragment = text_of(responses["list fragment"])
    assert code in fragment
    assert "<html" not in fragment


@pytest.mark.parametrize("query", ["Riêngtư", "rieng.tu", PHONE_STORED, "99 ngo bi mat"])
def test_search_does_not_match_personal_data(client, petition, query):
    # Otherwise anyone could find out which petition a neighbour filed.
    body = text_of(client.get("/kien-nghi", query_string={"q": query}))

    assert petition.code not in body
    assert "Không có kiến nghị nào phù hợp" in body


def test_the_private_page_shows_the_petitioner_their_data(client, petition):
    response = client.get(f"/cua-toi/{petition.private_token}")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = text_of(response)
    for value in (NAME, PHONE_STORED, EMAIL, ADDRESS):
        assert value in body


def test_a_name_shown_with_consent_appears_but_contact_details_do_not(client, world):
    petition = file_petition(client, world, show_name=True)
    assert petition.show_name_publicly is True

    body = text_of(client.get(f"/kien-nghi/{petition.code}"))

    assert NAME in body
    assert_absent(body, CONTACT, "public page")
    for where, response in public_responses(client, petition.code).items():
        assert response.status_code == 200, where
        assert_absent(text_of(response), CONTACT, where)


def test_ward_staff_see_the_personal_data(client, auth, world, petition):
    auth.as_role(world, "ward_staff")

    response = client.get(f"/quan-ly/kien-nghi/{petition.code}")

    assert response.status_code == 200
    body = text_of(response)
    for value in (NAME, PHONE_STORED, EMAIL, ADDRESS):
        assert value in body


def test_staff_of_another_unit_get_not_found(client, auth, world, petition):
    factories.assign(world, petition, "infra")

    auth.as_role(world, "other_unit_staff")
    response = client.get(f"/quan-ly/kien-nghi/{petition.code}")
    assert response.status_code == 404
    assert_absent(text_of(response), PERSONAL, "another unit's page")
    auth.logout()

    # The assigned unit does see them.
    auth.as_role(world, "unit_staff")
    response = client.get(f"/quan-ly/kien-nghi/{petition.code}")
    assert response.status_code == 200
    assert EMAIL in text_of(response)
