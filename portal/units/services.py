from __future__ import annotations

from flask import current_app, g
from sqlalchemy import select

from portal.extensions import db
from portal.units.models import Area, Unit, Ward


def current_ward() -> Ward | None:
    """The ward this deployment serves (``PORTAL_WARD_CODE``), once per request."""
    if "ward" not in g:
        code = current_app.config["PORTAL_WARD_CODE"]
        g.ward = db.session.scalar(select(Ward).where(Ward.code == code))
    return g.ward


def areas(ward: Ward | None) -> list[Area]:
    if ward is None:
        return []
    return list(
        db.session.scalars(
            select(Area).where(Area.ward_id == ward.id).order_by(Area.sort_order, Area.name)
        )
    )


def active_units() -> list[Unit]:
    return list(db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.level, Unit.name)))


def unit_choices() -> list[tuple[int, str]]:
    return [(u.id, u.name) for u in active_units()]


def area_choices(ward: Ward | None) -> list[tuple[int, str]]:
    return [(a.id, a.name) for a in areas(ward)]
