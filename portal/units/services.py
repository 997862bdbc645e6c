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


class UnknownWardCode(LookupError):
    pass


def ward_from_registry(code: str) -> Ward:
    """Create (or return) the ward with this official code, named as in the national list.

    The list (``vietnam-provinces``) holds the wards as they are since 1 July 2025,
    when districts were abolished: a ward's higher level is its province or city.
    """
    from vietnam_provinces import Province
    from vietnam_provinces import Ward as RegistryWard

    code = code.strip().zfill(5)
    ward = db.session.scalar(select(Ward).where(Ward.code == code))
    if ward is not None:
        return ward
    found = next((w for w in RegistryWard.iter_all() if f"{w.code.value:05d}" == code), None)
    if found is None:
        raise UnknownWardCode(code)
    province = Province.from_code(found.province_code)
    ward = Ward(
        code=code,
        name=found.name,
        province_code=f"{found.province_code.value:02d}",
        province_name=province.name,
    )
    db.session.add(ward)
    db.session.flush()
    return ward


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
