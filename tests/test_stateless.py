"""Nothing a request needs lives in one app process: sessions in signed cookies, rate-limit
counters and the geocoder's cache in Redis when ``REDIS_URL`` is set."""

from __future__ import annotations

import itertools
import time
import uuid

import pytest
from flask import Flask

from portal.geo import Geocoder, LocalGeocoderState, Place, RedisGeocoderState
from tests.conftest import make_app


def test_a_session_cookie_from_one_process_is_honoured_by_another(
    app, client, auth, world, tmp_path
):
    """Several app servers behind a load balancer: a login on one counts on the others."""
    response = auth.as_role(world, "ward_staff")
    assert response.status_code == 303
    cookie = client.get_cookie("session")
    assert cookie is not None and "." in cookie.value  # itsdangerous: payload.time.signature

    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other")
    other_client = other.test_client()
    other_client.set_cookie("session", cookie.value)
    assert other_client.get("/quan-ly/").status_code == 200

    forged = other.test_client()
    forged.set_cookie("session", cookie.value[:-2] + "xx")
    assert forged.get("/quan-ly/").status_code in (302, 303)  # back to the login page


def rate_limited_app(database_url, tmp_path, **settings):
    return make_app(
        database_url,
        tmp_path,
        RATELIMIT_ENABLED=True,
        PETITION_RATE_LIMIT="2 per hour",
        **settings,
    )


def post_filing(app, address="127.0.0.1"):
    # An empty form is refused (422) but counts against the limit like any POST.
    client = app.test_client()
    return client.post("/kien-nghi/moi", data={}, environ_base={"REMOTE_ADDR": address}).status_code


def fresh_address() -> str:
    """A client address of its own, so counters left in Redis by other tests do not count."""
    return "127." + ".".join(str(b) for b in uuid.uuid4().bytes[:3])


def test_filing_limit_reached_through_one_process_holds_in_the_next(
    app, world, tmp_path, redis_url
):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    address = fresh_address()
    first = rate_limited_app(database_url, tmp_path / "a", REDIS_URL=redis_url)
    assert first.config["RATELIMIT_STORAGE_URI"] == redis_url
    assert [post_filing(first, address), post_filing(first, address)] == [422, 422]
    assert post_filing(first, address) == 429
    # Another process (a fresh app bound to the same Redis) knows the count.
    second = rate_limited_app(database_url, tmp_path / "b", REDIS_URL=redis_url)
    assert post_filing(second, address) == 429
    assert post_filing(second, fresh_address()) == 422


def test_filing_still_works_while_redis_is_down(app, world, tmp_path):
    down = rate_limited_app(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, REDIS_URL="redis://127.0.0.1:1/0"
    )
    assert [post_filing(down) for _ in range(3)] == [422, 422, 429]


def test_without_redis_each_process_counts_for_itself(app, world, tmp_path):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    first = rate_limited_app(database_url, tmp_path / "a")
    assert first.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert [post_filing(first) for _ in range(3)] == [422, 422, 429]
    second = rate_limited_app(database_url, tmp_path / "b")
    assert post_filing(second) == 422


class CountingBackend:
    def __init__(self):
        self.calls: list[tuple[float, object]] = []

    def geocode(self, address, timeout):
        self.calls.append((time.monotonic(), address))
        return Place(20.98, 105.75, f"{address}, Dương Nội, Hà Đông, Hà Nội")

    def reverse(self, point, timeout):
        self.calls.append((time.monotonic(), point))
        return None


@pytest.fixture
def flask_context():
    with Flask(__name__).app_context():
        yield


def redis_state(redis_url, prefix):
    import redis

    return RedisGeocoderState(redis.Redis.from_url(redis_url), prefix=prefix)


def test_the_geocoder_cache_is_shared_through_redis(flask_context, redis_url):
    prefix = f"test-{uuid.uuid4().hex}:"
    backend = CountingBackend()
    one = Geocoder(backend, min_interval=0, state=redis_state(redis_url, prefix))
    two = Geocoder(backend, min_interval=0, state=redis_state(redis_url, prefix))
    place = one.geocode("Ngõ 12 Tố Hữu")
    assert place.address.startswith("Ngõ 12 Tố Hữu")
    assert two.geocode("ngõ 12 tố hữu ") == place  # another process: from Redis
    assert two.reverse(20.98, 105.75) is None
    assert one.reverse(20.98, 105.75) is None  # "no address here" is cached too
    assert [call[1] for call in backend.calls] == ["Ngõ 12 Tố Hữu", (20.98, 105.75)]


def test_one_request_a_second_in_all_processes(flask_context, redis_url):
    prefix = f"test-{uuid.uuid4().hex}:"
    backend = CountingBackend()
    interval = 0.3
    one = Geocoder(backend, min_interval=interval, state=redis_state(redis_url, prefix))
    two = Geocoder(backend, min_interval=interval, state=redis_state(redis_url, prefix))
    for n in range(2):
        one.geocode(f"Đường số {n}")
        two.geocode(f"Phố số {n}")
    times = [call[0] for call in backend.calls]
    assert len(times) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= interval * 0.9, gaps


def test_the_geocoder_answers_without_redis(flask_context):
    import redis

    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    backend = CountingBackend()
    geocoder = Geocoder(backend, min_interval=0, state=RedisGeocoderState(unreachable, prefix="x:"))
    assert geocoder.geocode("Ngõ 5") is not None
    assert geocoder.geocode("Ngõ 5") is not None
    assert len(backend.calls) == 1  # the process's own cache took over


def test_without_redis_url_the_geocoder_keeps_its_cache_in_the_process():
    from portal.geo import make_geocoder

    geocoder = make_geocoder({"GEOCODER": "nominatim", "GEOCODER_USER_AGENT": "thu-nghiem"})
    assert isinstance(geocoder._state, LocalGeocoderState)
    shared = make_geocoder(
        {
            "GEOCODER": "nominatim",
            "GEOCODER_USER_AGENT": "thu-nghiem",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert isinstance(shared._state, RedisGeocoderState)


def test_behind_a_trusted_proxy_each_resident_has_a_limit_of_their_own(app, world, tmp_path):
    """Several servers behind a load balancer see its address; X-Forwarded-For names the
    resident, but only when the operator says how many proxies to trust."""
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]

    def post_via_proxy(target, resident):
        client = target.test_client()
        return client.post(
            "/kien-nghi/moi",
            data={},
            headers={"X-Forwarded-For": resident},
            environ_base={"REMOTE_ADDR": "127.0.0.9"},
        ).status_code

    behind = rate_limited_app(database_url, tmp_path / "a", TRUSTED_PROXIES=1)
    assert [post_via_proxy(behind, "203.0.113.1") for _ in range(3)] == [422, 422, 429]
    assert post_via_proxy(behind, "203.0.113.2") == 422

    trusting_none = rate_limited_app(database_url, tmp_path / "b")
    assert [post_via_proxy(trusting_none, f"203.0.113.{n}") for n in range(3)] == [422, 422, 429]
