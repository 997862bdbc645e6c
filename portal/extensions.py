"""Extensions, created once and bound to the application in ``create_app``."""

from __future__ import annotations

import contextlib

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Stable constraint names so that Alembic migrations work on SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)


def remove_session(exc: BaseException | None = None) -> None:
    """End the request's session even when the database dropped its connection.

    The rollback at the end of a request raises if the server went away meanwhile (a
    restart, a failover). The answer is already made and must not become a 500: the
    connection is thrown away, and the pool opens a new one later.
    """
    if not db.session.registry.has():
        return
    session = db.session.registry()
    try:
        session.close()
    except DBAPIError:
        with contextlib.suppress(DBAPIError):
            session.invalidate()
    finally:
        db.session.registry.clear()


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
