"""Database round trips: a ping only after idleness, single reads outside a transaction."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import event, select, text

from portal import database
from portal.extensions import db
from portal.petitions.models import Petition
from tests import factories


def backend_pids(app) -> set[int]:
    """The server processes behind the connections the app's pool holds now."""
    with app.test_request_context():
        return {db.session.scalar(text("SELECT pg_backend_pid()"))}


def terminate(pids: set[int]) -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.parametrize("app_config", [{"DATABASE_PING_AFTER_IDLE": 0}])
def test_an_idle_connection_that_died_is_replaced_before_use(app, backend, client):
    if backend != "postgresql":
        pytest.skip("a server process to terminate exists only on PostgreSQL")
    db.session.remove()
    pids = backend_pids(app)
    db.session.remove()
    terminate(pids)
    before = dict(database.ping_stats())
    assert client.get("/healthz").status_code == 200
    after = database.ping_stats()
    assert after["dead"] == before["dead"] + 1


@pytest.mark.parametrize("app_config", [{"DATABASE_PING_AFTER_IDLE": 3600}])
def test_a_busy_connection_is_not_pinged_and_a_lost_one_costs_one_503(app, backend, client):
    assert client.get("/healthz").status_code == 200
    before = dict(database.ping_stats())
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
    assert database.ping_stats()["pings"] == before["pings"]
    if backend != "postgresql":
        return
    db.session.remove()
    pids = backend_pids(app)
    db.session.remove()
    terminate(pids)
    # Not pinged: the request that meets the dead connection says 503 (retry), and the
    # pool drops it; the next request connects afresh. Never a 500.
    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("app_config", [{"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}}])
def test_a_deployment_may_still_ask_for_a_ping_on_every_checkout(app, client):
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert database.ping_stats()["pings"] == 0  # SQLAlchemy's own ping does the work


def test_a_single_read_opens_no_transaction(app, backend, world):
    petition = factories.file(world)
    petition_id, petition_code, title = petition.id, petition.code, petition.title
    db.session.commit()
    states: list = []

    def after(conn, cursor, statement, params, context, executemany):
        if backend == "postgresql":
            states.append(conn.connection.dbapi_connection.info.transaction_status)

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        code = database.read_scalar(select(Petition.code).where(Petition.id == petition_id))
        found_title = database.read_scalar(select(Petition.title).where(Petition.code == code))
    finally:
        event.remove(db.engine, "after_cursor_execute", after)
    assert code == petition_code
    assert found_title == title
    if backend == "postgresql":
        assert states == [psycopg.pq.TransactionStatus.IDLE] * 2


def test_lookup_finds_a_code_typed_loosely_and_refuses_an_unknown_one(client, world):
    petition = factories.file(world)
    number = int(petition.code.rsplit("-", 1)[1])
    found = client.get(f"/tra-cuu?ma=kn-{petition.code.split('-')[1]}-{number}")
    assert found.status_code == 303
    assert found.headers["Location"].endswith(f"/kien-nghi/{petition.code}")
    missing = client.get("/tra-cuu?ma=KN-2026-99999")
    assert missing.status_code == 404
    assert "Không tìm thấy kiến nghị" in missing.get_data(as_text=True)
