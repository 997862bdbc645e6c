"""How the portal talks to its database beyond Flask-SQLAlchemy's defaults.

Two things, both about round trips (PostgreSQL shares the machine with the app, and
every round trip costs both of them CPU):

- **A ping only after idleness.** ``pool_pre_ping`` sends ``SELECT 1`` before every
  request's first query. A connection that served a request a moment ago is alive; one
  that sat idle may have been cut (a database restart at night, a firewall). So a
  connection is pinged when it has been idle longer than ``DATABASE_PING_AFTER_IDLE``
  seconds (default 5); a dead one is replaced before the request uses it. A connection
  that dies while busy (the database restarts under load) fails its query with an
  ``OperationalError``: SQLAlchemy then drops every pooled connection opened before, the
  request answers 503 with ``Retry-After`` (``portal.errors``), and the next one connects
  afresh.
- **Reads outside a transaction.** A single ``SELECT`` needs no transaction: on
  PostgreSQL :func:`read_scalar` runs it in autocommit, one round trip instead of
  ``BEGIN``, the query and ``ROLLBACK``. Used where one statement answers the request
  (lookup by code, the public pages' revision).
"""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.sql import Executable

from portal.extensions import db

DEFAULT_PING_AFTER_IDLE = 5.0


def init_app(app: Flask) -> None:
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    if options.get("pool_pre_ping"):
        return  # a deployment asked for a ping on every checkout: nothing to add
    idle = float(app.config.get("DATABASE_PING_AFTER_IDLE", DEFAULT_PING_AFTER_IDLE))
    with app.app_context():
        engines = set(db.engines.values())
    for engine in engines:
        _ping_when_idle(engine, idle)


def _ping_when_idle(engine, idle_seconds: float) -> None:
    dialect = engine.dialect
    stats = engine.pool.__dict__.setdefault("portal_ping_stats", {"pings": 0, "dead": 0})

    @event.listens_for(engine.pool, "checkin")
    def _returned(dbapi_connection, record):
        if record is not None:
            record.info["portal_last_used"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checked_out(dbapi_connection, record, proxy):
        last = record.info.get("portal_last_used")
        if last is None or time.monotonic() - last <= idle_seconds:
            return  # new (just connected) or busy a moment ago: alive
        stats["pings"] += 1
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            stats["dead"] += 1
            raise DisconnectionError("idle connection lost; reconnecting") from error


def ping_stats(engine=None) -> dict:
    """How many idle connections were pinged and found dead (for tests and operators)."""
    engine = engine or db.engine
    return engine.pool.__dict__.get("portal_ping_stats", {"pings": 0, "dead": 0})


def read_scalar(statement: Executable, parameters: dict | None = None):
    """The first column of the first row of one ``SELECT``, read outside any transaction.

    Only for a single read that needs no consistency with another statement: it does not
    see what the request's session has not committed.
    """
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection.execute(statement, parameters).scalar()
