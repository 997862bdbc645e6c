"""Logging in: wards, throttling and lockout, cookies, password hashes."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.extensions import db
from portal.timeutil import utcnow
from portal.units.models import Ward
from tests import factories
from tests.conftest import make_app

ERROR = re.compile(r'<ul class="field-errors" id="password-errors">\s*<li>(.*?)</li>', re.S)


def login(client, email, password=factories.PASSWORD, **kwargs):
    return client.post("/dang-nhap", data={"email": email, "password": password}, **kwargs)


def error_of(response) -> str:
    found = ERROR.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:2000]
    return found.group(1)


def logged_in(client) -> bool:
    return client.get("/quan-ly/").status_code == 200


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


@pytest.fixture
def other_ward(world):
    ward = Ward(code="09887", name="Phường Kiến Hưng", province_code="01", province_name="Hà Nội")
    db.session.add(ward)
    db.session.commit()
    return ward


# --- wards ------------------------------------------------------------------------------


def test_staff_of_another_ward_cannot_log_in(client, world, other_ward):
    accounts.create_user(
        email="khac@example.vn",
        full_name="Cán Bộ Kiến Hưng",
        password=factories.PASSWORD,
        role=Role.WARD_STAFF,
        ward=other_ward,
    )
    db.session.commit()
    response = login(client, "khac@example.vn")
    assert response.status_code == 422
    message = error_of(response)
    assert "Phường Kiến Hưng" in message
    assert "không dùng được ở cổng kiến nghị này" in message
    assert not logged_in(client)


def test_a_session_of_staff_moved_to_another_ward_is_logged_out(client, world, other_ward):
    assert login(client, "canbo@example.vn").status_code == 303
    assert logged_in(client)
    user = world.users["ward_staff"]
    user.ward = other_ward
    db.session.commit()
    response = client.get("/quan-ly/")
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]
    # The staff page of a petition is just as closed.
    petition = factories.file(world)
    assert client.get(f"/quan-ly/kien-nghi/{petition.code}").status_code == 302


def test_a_legacy_account_without_a_ward_belongs_to_this_ward(client, world):
    user = world.users["ward_staff"]
    user.ward = None
    db.session.commit()
    assert login(client, "canbo@example.vn").status_code == 303
    assert logged_in(client)


def test_accounts_are_made_with_a_ward(app, world, other_ward):
    assert {u.ward_id for u in world.users.values()} == {world.ward.id}
    runner = app.test_cli_runner()
    args = ["portal", "create-user", "--name", "Cán bộ mới", "--role", "mttq"]
    result = runner.invoke(args=[*args, "--email", "a@example.vn", "--password", "x" * 12])
    assert result.exit_code == 0, result.output
    assert "Phường Dương Nội" in result.output
    other = runner.invoke(
        args=[*args, "--email", "b@example.vn", "--password", "x" * 12, "--ward", "09887"]
    )
    assert other.exit_code == 0, other.output
    unknown = runner.invoke(
        args=[*args, "--email", "c@example.vn", "--password", "x" * 12, "--ward", "99999"]
    )
    assert unknown.exit_code != 0 and "setup-ward" in unknown.output
    made = {u.email: u.ward_id for u in db.session.scalars(select(User))}
    assert made["a@example.vn"] == world.ward.id
    assert made["b@example.vn"] == other_ward.id
    assert "c@example.vn" not in made


def test_demo_accounts_belong_to_the_demo_ward(app, world):
    from portal import demo

    units = demo._units(world.ward)
    db.session.flush()
    users = demo._accounts(world.ward, units)
    assert users and all(u.ward_id == world.ward.id for u in users)


# --- throttling and lockout -------------------------------------------------------------


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


def test_five_wrong_passwords_in_a_row_lock_the_account(client, world, caplog):
    user = world.users["ward_staff"]
    caplog.set_level(logging.INFO, logger="portal.security")
    for _ in range(4):
        assert login(client, user.email, "sai-mat-khau").status_code == 422
    assert reload(user).failed_login_count == 4 and reload(user).locked_until is None
    assert login(client, user.email, "sai-mat-khau").status_code == 422
    locked = reload(user)
    assert locked.locked_until is not None
    assert timedelta(minutes=14) < locked.locked_until - utcnow() <= timedelta(minutes=15)
    # Now even the right password is refused, with the same words as a wrong one.
    response = login(client, user.email)
    assert response.status_code == 422
    assert "tạm khóa" in error_of(response)
    assert not logged_in(client)
    assert f"login lockout: account={user.id}" in caplog.text
    assert factories.PASSWORD not in caplog.text


def test_the_lock_ends_and_success_resets_the_count(client, world):
    user = world.users["ward_staff"]
    for _ in range(5):
        login(client, user.email, "sai-mat-khau")
    locked = reload(user)
    locked.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert login(client, user.email).status_code == 303
    fresh = reload(user)
    assert fresh.failed_login_count == 0 and fresh.locked_until is None


def test_failures_count_only_in_a_row(client, world):
    user = world.users["ward_staff"]
    for _ in range(4):
        login(client, user.email, "sai-mat-khau")
    assert login(client, user.email).status_code == 303
    client.post("/dang-xuat")
    assert reload(user).failed_login_count == 0
    for _ in range(4):
        login(client, user.email, "sai-mat-khau")
    assert reload(user).locked_until is None
    assert login(client, user.email).status_code == 303


@pytest.mark.parametrize(
    "app_config", [{"LOGIN_MAX_FAILURES": 2, "LOGIN_LOCKOUT_MINUTES": 3}], indirect=True
)
def test_lockout_is_configured(client, world):
    user = world.users["mttq"]
    login(client, user.email, "sai")
    login(client, user.email, "sai")
    locked = reload(user)
    assert locked.locked_until is not None
    assert locked.locked_until - utcnow() <= timedelta(minutes=3)
    assert "3 phút" in error_of(login(client, user.email))


def test_the_message_never_tells_whether_an_account_exists(client, world):
    user = world.users["ward_staff"]
    wrong = error_of(login(client, user.email, "sai-mat-khau"))
    unknown = error_of(login(client, "khong-co@example.vn", "sai-mat-khau"))
    for _ in range(4):
        login(client, user.email, "sai-mat-khau")
    locked = error_of(login(client, user.email))
    user = reload(user)
    user.locked_until, user.active = None, False
    db.session.commit()
    inactive = error_of(login(client, user.email))
    assert wrong == unknown == locked == inactive
    assert "Thư điện tử hoặc mật khẩu không đúng" in wrong
    # An unknown address is not counted anywhere and locks nothing.
    assert db.session.scalar(select(User).where(User.email == "khong-co@example.vn")) is None


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}], indirect=True
)
def test_the_login_rate_limit_is_per_address(client, world, caplog):
    first = {"REMOTE_ADDR": "203.0.113.1"}
    for _ in range(3):
        login(client, "khong-co@example.vn", "sai", environ_base=first)
    with caplog.at_level("WARNING", logger="portal.security"):
        refused = login(client, "canbo@example.vn", environ_base=first)
    assert refused.status_code == 429
    assert "Quá nhiều yêu cầu" in refused.get_data(as_text=True)
    # The operators' security log says who was stopped where.
    assert any(
        "rate limited: endpoint=accounts.login ip=203.0.113.1 limit=3 per 1 minute"
        in record.getMessage()
        for record in caplog.records
    ), [r.getMessage() for r in caplog.records]
    other = login(client, "canbo@example.vn", environ_base={"REMOTE_ADDR": "203.0.113.2"})
    assert other.status_code == 303


# --- cookies, sessions, hashes ----------------------------------------------------------


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1].lower()


def test_session_cookie_flags_in_production(database_url, tmp_path, world):
    production = make_app(
        database_url,
        tmp_path,
        PORTAL_ENV="production",
        SECRET_KEY="a-long-random-production-secret-for-the-test",
        PASSWORD_HASH_METHOD="scrypt",
    )
    client = production.test_client()
    cookie = _session_cookie(login(client, "canbo@example.vn", base_url="https://localhost"))
    assert "; secure" in cookie
    assert "; httponly" in cookie
    assert "samesite=lax" in cookie


def test_session_cookie_flags_in_development(client, world):
    cookie = _session_cookie(login(client, "canbo@example.vn"))
    assert "; httponly" in cookie and "samesite=lax" in cookie
    assert "; secure" not in cookie  # plain http on a laptop


def test_a_session_ends_after_its_lifetime(app, client, world, monkeypatch):
    assert login(client, "canbo@example.vn").status_code == 303
    assert logged_in(client)
    lifetime = app.permanent_session_lifetime.total_seconds()
    assert lifetime <= 12 * 3600
    later = time.time() + lifetime + 60

    class Clock:
        @staticmethod
        def time():
            return later

    monkeypatch.setattr("itsdangerous.timed.time", Clock)
    response = client.get("/quan-ly/")
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]


def test_passwords_are_hashed_with_scrypt_by_default(app, client, world):
    app.config.pop("PASSWORD_HASH_METHOD")
    user = User(password_hash="")
    user.set_password("mot-mat-khau-dai")
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    # A weaker hash left from before is replaced at the next login.
    staff = world.users["ward_staff"]
    assert reload(staff).password_hash.startswith("pbkdf2:")
    assert login(client, staff.email).status_code == 303
    upgraded = reload(staff)
    assert upgraded.password_hash.startswith("scrypt:")
    assert upgraded.check_password(factories.PASSWORD)


def test_production_refuses_a_weak_password_hash():
    from portal import config

    with pytest.raises(config.ConfigError):
        config.check(
            {
                "PORTAL_ENV": "production",
                "SECRET_KEY": "a-long-random-production-secret",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            }
        )
    config.check({"PORTAL_ENV": "production", "SECRET_KEY": "a-long-random-production-secret"})


def test_private_links_are_compared_in_constant_time(world, monkeypatch):
    from portal.petitions import services

    petition = factories.file(world)
    calls = []

    def spy(a, b):
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(services.secrets, "compare_digest", spy)
    assert services.get_by_token(petition.private_token) is petition
    assert calls == [(petition.private_token, petition.private_token)]
    token = petition.private_token
    assert services.get_by_token(token[:-1] + ("y" if token.endswith("x") else "x")) is None
    assert services.get_by_token("x" * 500) is None


def test_api_keys_are_stored_hashed_and_compared_in_constant_time(world, monkeypatch):
    import secrets

    from portal.api import services as api

    client, key = api.issue_key("Ứng dụng phản ánh của thành phố")
    db.session.commit()
    assert key not in client.key_hash and client.key_prefix == key[:12]
    real = secrets.compare_digest
    calls = []

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(api.secrets, "compare_digest", spy)
    assert api.client_for_key(key) is client
    assert calls == [(client.key_hash, client.key_hash)]  # hashes, never the key itself
    assert api.client_for_key(key[:-1] + ("x" if key[-1] != "x" else "y")) is None
    assert api.client_for_key("x" * 5000) is None
