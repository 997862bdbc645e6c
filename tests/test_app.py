"""The application as a whole: configuration, health, CLI, migrations, language."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from portal import create_app
from portal.config import ConfigError
from portal.extensions import db
from portal.petitions.models import Petition, PetitionEvent, Status
from tests import factories
from tests.conftest import make_app


def test_production_refuses_default_secret(tmp_path):
    with pytest.raises(ConfigError):
        create_app({"PORTAL_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    app = create_app(
        {"PORTAL_ENV": "production", "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    assert app.config["SECRET_KEY"] == "x" * 40


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-dir/for/sure/portal.sqlite3",
        "postgresql+psycopg://postgres@127.0.0.1:1/none",
    ],
)
def test_healthz_503_when_database_is_down(tmp_path, url):
    app = make_app(
        url,
        tmp_path,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}}
        if "postgresql" in url
        else {},
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable"


def _built_on(dialect: str):
    """Leave out of the comparison what the models build only on another database
    (``Index(...).ddl_if(dialect=...)``, e.g. the PostgreSQL trigram index)."""

    def include(obj, name, type_, reflected, compare_to):
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect)

    return include


def test_migrations_build_the_schema_of_the_models(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": _built_on(connection.dialect.name)}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == []
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    # The next test that needs the schema builds it again.
    from tests import conftest

    conftest._schema_ready.discard(database_url)


def test_seed_demo_is_idempotent_and_covers_every_status(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["portal", "seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.kiennghi.vn" in first.output
    petitions = db.session.scalar(select(func.count()).select_from(Petition))
    events = db.session.scalar(select(func.count()).select_from(PetitionEvent))
    assert 55 <= petitions <= 65
    statuses = set(db.session.scalars(select(Petition.status).distinct()))
    assert statuses == set(Status)
    second = runner.invoke(args=["portal", "seed-demo"])
    assert second.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Petition)) == petitions
    assert db.session.scalar(select(func.count()).select_from(PetitionEvent)) == events


def test_create_user_command(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "portal",
            "create-user",
            "--email",
            "moi@example.vn",
            "--name",
            "Cán bộ mới",
            "--role",
            "ward_staff",
            "--password",
            "mot-mat-khau-dai",
        ],
    )
    assert result.exit_code == 0, result.output
    short = runner.invoke(
        args=[
            "portal",
            "create-user",
            "--email",
            "b@example.vn",
            "--name",
            "B",
            "--role",
            "ward_staff",
            "--password",
            "ngan",
        ],
    )
    assert short.exit_code != 0 and "ít nhất 10 ký tự" in short.output
    unit_less = runner.invoke(
        args=[
            "portal",
            "create-user",
            "--email",
            "c@example.vn",
            "--name",
            "C",
            "--role",
            "unit_staff",
            "--password",
            "mot-mat-khau-dai",
        ],
    )
    assert unit_less.exit_code != 0 and "gắn với một đơn vị" in unit_less.output
    dup = runner.invoke(
        args=[
            "portal",
            "create-user",
            "--email",
            "MOI@example.vn",
            "--name",
            "X",
            "--role",
            "mttq",
            "--password",
            "mot-mat-khau-dai",
        ],
    )
    assert dup.exit_code != 0 and "Đã có tài khoản" in dup.output


def test_language_switch(client, world):
    factories.file(world)
    assert 'lang="vi"' in client.get("/").get_data(as_text=True)
    response = client.post("/ngon-ngu/en", data={"next": "/kien-nghi"})
    assert response.status_code == 303 and response.headers["Location"] == "/kien-nghi"
    body = client.get("/kien-nghi").get_data(as_text=True)
    assert 'lang="en"' in body
    assert "Submit a petition" in body
    assert client.post("/ngon-ngu/fr").status_code == 404


def test_security_headers(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)  # no inline scripts


def test_setup_ward_from_the_national_list(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "setup-ward", "--code", "9886"])
    assert result.exit_code == 0, result.output
    assert "Phường Dương Nội, Thành phố Hà Nội" in result.output
    again = runner.invoke(args=["portal", "setup-ward", "--code", "09886"])
    assert again.exit_code == 0
    from portal.units.models import Ward

    assert db.session.scalar(select(func.count()).select_from(Ward)) == 1
    unknown = runner.invoke(args=["portal", "setup-ward", "--code", "99999"])
    assert unknown.exit_code != 0 and "Không có phường/xã" in unknown.output


@pytest.mark.parametrize("wards", [1, 2])
def test_calendar_migration_keeps_the_days(database_url, tmp_path, wards):
    """0011: one ward's database gives the days to that ward (its admin keeps them);
    a city's keeps them for every ward, as they acted; downgrade gives them back."""
    from flask_migrate import downgrade

    app = make_app(database_url, tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        try:
            upgrade(revision="0010_ward_ownership")
            with db.engine.begin() as connection:
                for number in range(wards):
                    connection.execute(
                        text(
                            "INSERT INTO ward (code, name, province_code, province_name,"
                            " created_at) VALUES (:code, :name, '01', 'Hà Nội', :now)"
                        ),
                        {"code": f"0{number}", "name": f"Phường {number}", "now": datetime.now()},
                    )
                connection.execute(
                    text(
                        "INSERT INTO calendar_override (day, is_working, note, created_at)"
                        " VALUES (:day, :working, 'Làm bù', :now)"
                    ),
                    {"day": date(2027, 2, 6), "working": True, "now": datetime.now()},
                )
            upgrade()
            with db.engine.connect() as connection:
                row = connection.execute(
                    text("SELECT day, is_working, note, ward_id FROM calendar_override")
                ).one()
                ward_ids = connection.execute(text("SELECT id FROM ward")).scalars().all()
            assert str(row.day) == "2027-02-06" and row.note == "Làm bù"
            assert bool(row.is_working) is True
            assert row.ward_id == (ward_ids[0] if wards == 1 else None)
            downgrade(revision="0010_ward_ownership")
            with db.engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT day, is_working, note FROM calendar_override")
                ).all()
            assert [(str(d), bool(w), n) for d, w, n in rows] == [("2027-02-06", True, "Làm bù")]
        finally:
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            db.drop_all()
    from tests import conftest

    conftest._schema_ready.discard(database_url)
