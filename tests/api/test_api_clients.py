"""Open311 API keys: issued by admin per client, shown once, revocable, limited per key;
tokens for clients whose requests staff accept first; jurisdiction_id is the ward's code."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import unescape

import pytest
from flask import g
from sqlalchemy import func, select

from portal.api import services as api
from portal.api.models import ApiClient, Open311Token
from portal.extensions import db
from portal.petitions import services
from portal.petitions.models import Petition
from tests import factories
from tests.conftest import make_app

BASE = "/open311/v2"
PAGE = "/quan-ly/khoa-api/"


def petition_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Petition))


def post_data(key: str, **overrides) -> dict:
    lat, lon = factories.INSIDE_EAST
    data = {
        "api_key": key,
        "service_code": "thoat-nuoc",
        "lat": str(lat),
        "long": str(lon),
        "description": "Cống thoát nước tắc, nước tràn ra đường khi mưa.",
    }
    data.update(overrides)
    return data


def issued_key(response) -> str:
    html = response.get_data(as_text=True)
    marker = 'id="issued-key" type="text" readonly value="'
    assert marker in html, "the new key is not on the page"
    return unescape(html.split(marker, 1)[1].split('"', 1)[0])


# --- the admin's page -------------------------------------------------------------------


def test_admin_issues_a_key_shown_once_that_files_a_petition(client, auth, world):
    auth.as_role(world, "admin")
    response = client.post(
        PAGE,
        data={"name": "Ứng dụng iHanoi", "contact": "Sở KH&CN", "rate_limit": "100/day"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    key = issued_key(response)
    assert key.startswith("kn311_") and len(key) > 30
    # Only a hash is kept; the list shows the prefix, never the key again.
    stored = db.session.scalar(select(ApiClient).where(ApiClient.name == "Ứng dụng iHanoi"))
    assert stored.key_hash != key and key not in stored.key_hash
    assert stored.rate_limit == "100/day" and stored.created_by == world.users["admin"]
    again = client.get(PAGE).get_data(as_text=True)
    assert key not in again and stored.key_prefix in again and "Ứng dụng iHanoi" in again

    auth.logout()
    filed = client.post(f"{BASE}/requests.json", data=post_data(key))
    assert filed.status_code == 201, filed.get_data(as_text=True)
    code = filed.get_json()[0]["service_request_id"]
    db.session.expire_all()
    stored = db.session.get(ApiClient, stored.id)
    assert stored.request_count == 1 and stored.last_used_at is not None
    # Staff see which system filed it.
    auth.as_role(world, "ward_staff")
    page = client.get(f"/quan-ly/kien-nghi/{code}").get_data(as_text=True)
    assert "qua Ứng dụng iHanoi" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "rate_limit": "60/hour"}, "Hãy nhập tên hệ thống"),
        ({"name": "Tổng đài", "rate_limit": "nhiều lắm"}, "Giới hạn chưa đúng cách viết"),
        ({"name": "Tổng đài", "rate_limit": ""}, "Hãy nhập giới hạn"),
        ({"name": "x" * 201, "rate_limit": "60/hour"}, "200"),
    ],
)
def test_invalid_key_form_is_422_and_issues_nothing(client, auth, world, data, message):
    auth.as_role(world, "admin")
    response = client.post(PAGE, data=data)
    assert response.status_code == 422
    assert message in unescape(response.get_data(as_text=True))
    assert 'id="issued-key"' not in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiClient)) == 0


@pytest.mark.parametrize("role", ["ward_staff", "unit_staff", "mttq"])
def test_only_the_admin_manages_keys(client, auth, world, role):
    auth.as_role(world, role)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={"name": "X", "rate_limit": "60/hour"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ApiClient)) == 0


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(PAGE)
    assert response.status_code in (302, 303) and "/dang-nhap" in response.headers["Location"]


def test_revoked_key_is_refused_and_others_still_work(client, auth, world):
    first, first_key = api.issue_key("Ứng dụng A")
    _second, second_key = api.issue_key("Ứng dụng B")
    db.session.commit()
    assert client.post(f"{BASE}/requests.json", data=post_data(first_key)).status_code == 201

    auth.as_role(world, "admin")
    response = client.post(f"/quan-ly/khoa-api/{first.id}/thu-hoi")
    assert response.status_code == 303
    page = client.get(PAGE).get_data(as_text=True)
    assert "đã thu hồi" in page
    auth.logout()

    before = petition_count()
    refused = client.post(f"{BASE}/requests.xml", data=post_data(first_key))
    assert refused.status_code == 403
    assert "thu hồi" in ET.fromstring(refused.data).findtext("error/description")
    assert petition_count() == before
    assert client.post(f"{BASE}/requests.json", data=post_data(second_key)).status_code == 201


def test_revoking_an_unknown_client_is_404(client, auth, world):
    auth.as_role(world, "admin")
    assert client.post("/quan-ly/khoa-api/999/thu-hoi").status_code == 404


def test_each_key_has_its_own_rate_limit(world, database_url, tmp_path):
    limited = make_app(
        database_url, tmp_path, RATELIMIT_ENABLED=True, PETITION_RATE_LIMIT="100 per hour"
    )
    # A fresh ``g`` per request, as a real server gives (the test holds an app context).
    limited.before_request_funcs.setdefault(None, []).insert(0, lambda: g.__dict__.clear())
    client = limited.test_client()
    with limited.app_context():
        _slow, slow_key = api.issue_key("Ứng dụng chậm", rate_limit="1/hour")
        _fast, fast_key = api.issue_key("Ứng dụng nhanh", rate_limit="50/hour")
        db.session.commit()
        assert client.post(f"{BASE}/requests.json", data=post_data(slow_key)).status_code == 201
        second = client.post(f"{BASE}/requests.json", data=post_data(slow_key))
        assert second.status_code == 429
        assert second.get_json()[0]["code"] == 429
        # Another client, from the same address, is not held back by the first one's limit.
        for _ in range(3):
            response = client.post(f"{BASE}/requests.json", data=post_data(fast_key))
            assert response.status_code == 201
        db.session.remove()


# --- tokens -----------------------------------------------------------------------------


def test_a_client_whose_requests_staff_accept_first_gets_a_token(client, world):
    _client, key = api.issue_key("Tổng đài", requires_acceptance=True)
    db.session.commit()
    response = client.post(f"{BASE}/requests.json", data=post_data(key))
    assert response.status_code == 201
    [answer] = response.get_json()
    assert "service_request_id" not in answer and answer["token"]
    token = answer["token"]

    [pending] = client.get(f"{BASE}/tokens/{token}.json").get_json()
    assert pending == {"token": token, "service_request_id": None}
    root = ET.fromstring(client.get(f"{BASE}/tokens/{token}.xml").data)
    assert root.tag == "service_requests" and root.findtext("request/token") == token
    assert not root.findtext("request/service_request_id")

    petition = db.session.scalar(
        select(Petition).join(Open311Token).where(Open311Token.token == token)
    )
    services.review(petition, world.users["ward_staff"])
    db.session.commit()
    [accepted] = client.get(f"{BASE}/tokens/{token}.json").get_json()
    assert accepted["service_request_id"] == petition.code
    root = ET.fromstring(client.get(f"{BASE}/tokens/{token}.xml").data)
    assert root.findtext("request/service_request_id") == petition.code
    [read_back] = client.get(f"{BASE}/requests/{petition.code}.json").get_json()
    assert read_back["status"] == "open"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_token_is_404(client, world, fmt):
    response = client.get(f"{BASE}/tokens/khong-co-token.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        assert response.get_json()[0]["code"] == 404
    else:
        assert ET.fromstring(response.data).findtext("error/code") == "404"


def test_a_client_without_acceptance_gets_no_token(client, world):
    _client, key = api.issue_key("Ứng dụng")
    db.session.commit()
    [answer] = client.post(f"{BASE}/requests.json", data=post_data(key)).get_json()
    assert answer["service_request_id"] and "token" not in answer
    assert db.session.scalar(select(func.count()).select_from(Open311Token)) == 0


# --- jurisdiction and the command line --------------------------------------------------


def test_jurisdiction_is_the_wards_code_on_post_too(client, world):
    _client, key = api.issue_key("Ứng dụng")
    db.session.commit()
    wrong = client.post(f"{BASE}/requests.json", data=post_data(key, jurisdiction_id="hanoi"))
    assert wrong.status_code == 404 and petition_count() == 0
    right = client.post(
        f"{BASE}/requests.json", data=post_data(key, jurisdiction_id=world.ward.code)
    )
    assert right.status_code == 201


def test_command_line_issues_lists_and_revokes(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "api-key", "create", "Tổng đài 1022"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert api.client_for_key(key) is not None
    listed = runner.invoke(args=["portal", "api-key", "list"])
    assert (
        "Tổng đài 1022" in listed.output
        and "đang dùng" in listed.output
        and key not in (listed.output)
    )
    stored = api.client_for_key(key)
    result = runner.invoke(args=["portal", "api-key", "revoke", str(stored.id)])
    assert result.exit_code == 0
    db.session.expire_all()
    assert api.client_for_key(key) is None
    bad = runner.invoke(args=["portal", "api-key", "create", "X", "--rate-limit", "nhiều"])
    assert bad.exit_code != 0 and "60/hour" in bad.output
