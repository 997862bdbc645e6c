"""SQL metacharacters, wildcards, NUL and junk in every filter of every list, map, open-data
and Open311 answer: never a 500, a sane answer, and nothing matched by a wildcard."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.petitions.models import Petition
from portal.units.models import PlaceKind
from portal.units.services import save_place
from tests import factories

HOSTILE = [
    "' OR '1'='1' --",
    "1); DROP TABLE petition; --",
    "%_\\",
    "a\x00b",
    "-1",
    "99999999999999999999999",
    "🙂'\")",
    "KN-2026-²",
    "x" * 3000,
]

# (who, path, query parameters it reads). Path parameters are tried as well, below.
FILTERS = [
    ("anonymous", "/kien-nghi", ["q", "status", "category", "area", "sort", "page"]),
    ("anonymous", "/ban-do/", ["q", "status", "category", "area", "tu", "den", "page", "bbox"]),
    (
        "anonymous",
        "/ban-do/du-lieu.geojson",
        ["status", "category", "area", "tu", "den", "da_dong", "bbox", "zoom"],
    ),
    ("anonymous", "/ban-do/diem-den.geojson", ["status", "category", "area", "tu", "den"]),
    ("anonymous", "/ban-do/tim-dia-chi", ["q"]),
    ("anonymous", "/ban-do/dia-chi", ["latitude", "longitude"]),
    ("anonymous", "/kien-nghi/moi/gan-day", ["latitude", "longitude", "category_id"]),
    ("anonymous", "/tra-cuu", ["ma"]),
    ("anonymous", "/theo-doi", ["ma", "area_id"]),
    ("anonymous", "/theo-doi/da-gui", ["ma"]),
    ("anonymous", "/thong-ke", ["tu", "den"]),
    ("anonymous", "/du-lieu-mo/kien-nghi.json", ["tu", "den", "status"]),
    ("anonymous", "/du-lieu-mo/kien-nghi.csv", ["tu", "den", "status"]),
    ("anonymous", "/du-lieu-mo/dong-thoi-gian.json", ["tu", "den"]),
    (
        "anonymous",
        "/open311/v2/requests.json",
        [
            "service_request_id",
            "service_code",
            "status",
            "start_date",
            "end_date",
            "jurisdiction_id",
        ],
    ),
    ("anonymous", "/open311/v2/requests.xml", ["service_request_id", "status", "start_date"]),
    ("anonymous", "/open311/v2/services.json", ["jurisdiction_id"]),
    ("anonymous", "/open311/v2/discovery.json", ["jurisdiction_id"]),
    ("anonymous", "/hoi-nghi/", ["meeting"]),
    (
        "ward_staff",
        "/quan-ly/",
        ["q", "status", "category", "area", "unit", "overdue", "due_soon", "sort", "page"],
    ),
    ("ward_staff", "/hoi-nghi/muc/tim", ["q", "code"]),
    ("ward_staff", "/giam-sat", ["tu", "den", "meeting"]),
    ("ward_staff", "/bao-cao", ["meeting", "tu", "den", "ca_nhan"]),
    ("admin", "/quan-ly/thu-di", ["trang-thai", "page"]),
    ("admin", "/quan-ly/lich", ["nam"]),
    ("admin", "/quan-ly/nhat-ky-du-lieu", ["nguoi", "hanh_dong", "tu", "den", "ma", "page"]),
]

PATHS = [
    "/kien-nghi/{}",
    "/cua-toi/{}",
    "/feeds/kien-nghi/{}.atom",
    "/open311/v2/requests/{}.json",
    "/open311/v2/services/{}.json",
    "/open311/v2/tokens/{}.json",
    "/theo-doi/xac-nhan/{}",
    "/theo-doi/tinh-hinh/{}",
]

SANE = {200, 303, 400, 404, 422}


@pytest.fixture
def app_config():
    # A crash is an answer (500) to report with the others, not an exception in the test.
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def filled(world):
    for index in range(3):
        factories.file(world, title=f"Rác thải ngõ {index}")
    save_place(
        world.ward,
        name="Ngõ 12 phố Văn Khê",
        kind=PlaceKind.LANE,
        latitude=factories.INSIDE_WEST[0],
        longitude=factories.INSIDE_WEST[1],
    )
    db.session.commit()
    return world


def _clients(app, world):
    clients = {"anonymous": app.test_client()}
    for role in ("ward_staff", "admin"):
        client = app.test_client()
        response = client.post(
            "/dang-nhap", data={"email": world.users[role].email, "password": factories.PASSWORD}
        )
        assert response.status_code == 303
        clients[role] = client
    return clients


def _queries(path: str, params: list[str], value: str):
    """Every parameter at once; one at a time for Open311, which stops at the first bad one."""
    encoded = quote(value, safe="")
    if path.startswith("/open311/"):
        for param in params:
            yield f"{path}?{quote(param)}={encoded}"
    else:
        yield path + "?" + "&".join(f"{quote(param)}={encoded}" for param in params)


def test_hostile_values_in_every_filter(app, filled):
    clients = _clients(app, filled)
    before = db.session.scalar(select(func.count()).select_from(Petition))
    bad = []
    for who, path, params in FILTERS:
        for value in HOSTILE:
            for url in _queries(path, params, value):
                response = clients[who].get(url)
                if response.status_code not in SANE:
                    bad.append(f"{url[:160]} as {who}: {response.status_code}")
                db.session.rollback()
    assert not bad, "\n".join(bad)
    assert db.session.scalar(select(func.count()).select_from(Petition)) == before


def test_hostile_values_in_path_parameters(app, filled):
    client = app.test_client()
    bad = []
    for pattern in PATHS:
        for value in HOSTILE:
            if value in ("\\",):
                continue  # not a path segment a client can send unencoded
            url = pattern.format(quote(value, safe=""))
            response = client.get(url)
            if response.status_code not in SANE:
                bad.append(f"{url[:120]}: {response.status_code}")
            db.session.rollback()
    assert not bad, "\n".join(bad)


def test_wildcards_are_searched_for_as_characters(app, filled):
    """A LIKE wildcard typed into a search finds what contains it: here, nothing."""
    clients = _clients(app, filled)
    for wildcard in ("%", "_", "%%", "_%_"):
        q = quote(wildcard)
        listed = clients["anonymous"].get(f"/kien-nghi?q={q}").get_data(as_text=True)
        assert "Rác thải ngõ" not in listed, wildcard
        inbox = clients["ward_staff"].get(f"/quan-ly/?q={q}").get_data(as_text=True)
        assert "Rác thải ngõ" not in inbox, wildcard
        places = clients["anonymous"].get(f"/ban-do/tim-dia-chi?q={q}").get_data(as_text=True)
        assert "Văn Khê" not in places, wildcard
    # …while the words themselves are found.
    listed = clients["anonymous"].get("/kien-nghi?q=rac+thai").get_data(as_text=True)
    assert "Rác thải ngõ" in listed
    places = clients["anonymous"].get("/ban-do/tim-dia-chi?q=van+khe")
    assert "Văn Khê" in places.get_data(as_text=True)


def test_a_nul_character_in_a_form_is_refused_not_a_crash(app, world):
    client = app.test_client()
    lat, lon = factories.INSIDE_WEST
    response = client.post(
        "/kien-nghi/moi",
        data={
            "category_id": world.categories["ve-sinh-moi-truong"].id,
            "title": "Rác\x00 đầu ngõ",
            "description": "Rác thải sinh hoạt đổ thành đống.",
            "latitude": lat,
            "longitude": lon,
        },
    )
    assert response.status_code == 400
    assert "Yêu cầu không hợp lệ" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Petition)) == 0
