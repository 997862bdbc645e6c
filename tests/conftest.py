"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL gets a fresh database per test session (dropped at the end). In CI
(``CI=true``) a missing PostgreSQL is a failure, never a skip; on a laptop without
it the PostgreSQL half is skipped with a reason.
"""

from __future__ import annotations

import os
import uuid

import pytest
from flask import g
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from portal.geo import FakeGeocoder
from tests import factories

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

# Hypothesis. In CI the same examples on every run (``derandomize``: a test's examples
# follow from its own code), a fixed number of them unless a test sets its own, no example
# database and no deadline (a busy runner must not fail a test by slowness). Locally the
# defaults: new random examples each run, failures kept in ``.hypothesis/`` and tried first
# next time. Both print the failing example's ``@reproduce_failure`` blob, and the seed of
# a failing test is printed with it (``pytest_runtest_makereport`` below).
# ``HYPOTHESIS_PROFILE`` (or ``--hypothesis-profile``) picks a profile by name.
HYPOTHESIS_CI_EXAMPLES = 50
hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=HYPOTHESIS_CI_EXAMPLES,
    database=None,
    deadline=None,
    print_blob=True,
)
hypothesis_settings.register_profile("dev", print_blob=True)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev")
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)


def _hypothesis_seed_note(test) -> str:
    """How to run a failed Hypothesis test again with the same examples."""
    if getattr(test, "_hypothesis_internal_use_settings", hypothesis_settings()).derandomize:
        return (
            "Hypothesis ran derandomized (profile 'ci'): every run tries the same examples; "
            "run it again with CI=true or HYPOTHESIS_PROFILE=ci."
        )
    seed = getattr(test, "_hypothesis_internal_use_generated_seed", None)
    if seed is None:
        return "Hypothesis seed: fixed by --hypothesis-seed or @seed; run the same command."
    return (
        f"Hypothesis seed: {seed}. Run again with --hypothesis-seed={seed} "
        f"(or add @seed({seed}) to the test) for the same examples."
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    test = getattr(item, "obj", None)
    if report.when == "call" and report.failed and getattr(test, "is_hypothesis_test", False):
        report.sections.append(("Hypothesis", _hypothesis_seed_note(test)))
    return report


def _pg_admin_connect():
    import psycopg

    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def postgresql_url():
    """A database of our own on the local PostgreSQL for this test session."""
    try:
        admin = _pg_admin_connect()
    except Exception as error:  # noqa: BLE001
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = f"portal_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with _pg_admin_connect() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url():
    """The local Redis (``TEST_REDIS_URL``); tests namespace their keys with a random prefix."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis is not reachable at {url}: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


_schema_ready: set[str] = set()


def make_app(database_url: str, tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "GEOCODER_INSTANCE": FakeGeocoder(),
        "SERVER_NAME": None,
        # scrypt is right for production and far too slow for hundreds of test logins.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    config.update(overrides)
    return create_app(config)


def _reset_schema(app, database_url: str) -> None:
    with app.app_context():
        if database_url not in _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready.add(database_url)
        else:
            with db.engine.begin() as connection:
                for table in reversed(db.metadata.sorted_tables):
                    connection.execute(table.delete())
        db.session.remove()


@pytest.fixture
def app_config():
    """Override per test module with ``@pytest.fixture def app_config(): return {...}``."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config):
    app = make_app(database_url, tmp_path, **app_config)

    def fresh_globals():
        # The test holds one app context open, which test-client requests would share;
        # give each request an empty ``g`` first, as a real server does.
        g.__dict__.clear()

    app.before_request_funcs.setdefault(None, []).insert(0, fresh_globals)
    _reset_schema(app, database_url)
    with app.app_context():
        yield app
        db.session.remove()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def world(app):
    """A ward with areas, categories, units and one account per role."""
    data = factories.build_world()
    db.session.commit()
    return data


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = factories.PASSWORD):
        return self.client.post(
            "/dang-nhap", data={"email": email, "password": password}, follow_redirects=False
        )

    def as_role(self, world, role: str):
        return self.login(world.users[role].email)

    def logout(self):
        return self.client.post("/dang-xuat")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def sql(app):
    def run(statement: str, **params):
        return db.session.execute(text(statement), params)

    return run
