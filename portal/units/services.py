from __future__ import annotations

from flask import current_app, g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select

from portal.extensions import db
from portal.text import fold, normalize
from portal.units.models import Area, Unit, Ward


def current_ward() -> Ward | None:
    """The ward this deployment serves (``PORTAL_WARD_CODE``), once per request."""
    if "ward" not in g:
        code = current_app.config["PORTAL_WARD_CODE"]
        g.ward = db.session.scalar(select(Ward).where(Ward.code == code))
    return g.ward


def current_ward_id() -> int | None:
    """The id of :func:`current_ward`, remembered by the application once the ward exists
    (a ward's id never changes), so that scoping a query costs no extra round trip."""
    code = current_app.config["PORTAL_WARD_CODE"]
    known = current_app.extensions.setdefault("portal_ward_ids", {})
    if code not in known:
        ward = current_ward()
        if ward is None:
            return None
        known[code] = ward.id
    return known[code]


def deployment_ward_id(context=None) -> int | None:
    """Column default of ``ward_id`` for a row made without one: this deployment's ward.

    Called by SQLAlchemy while it flushes, when no other query may start: the id comes
    from the application's memory, else through the INSERT's own connection.
    """
    if not has_app_context():
        return None
    code = current_app.config["PORTAL_WARD_CODE"]
    known = current_app.extensions.setdefault("portal_ward_ids", {})
    if code not in known:
        if context is None:
            return current_ward_id()
        found = context.connection.scalar(select(Ward.id).where(Ward.code == code))
        if found is None:
            return None
        known[code] = found
    return known[code]


def of_this_ward(column, *, legacy: bool = False):
    """``column`` (a ``ward_id``) is this deployment's ward; with ``legacy``, NULL too
    (accounts and API clients made before they had a ward count as this ward's; a day
    swap of no ward is every ward's)."""
    ward_id = current_ward_id()
    condition = column == ward_id if ward_id is not None else false()
    return or_(condition, column.is_(None)) if legacy else condition


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
    """Active units of this ward, and those of no ward (higher levels, companies)."""
    ward = current_ward()
    mine = Unit.ward_id.is_(None)
    if ward is not None:
        mine = or_(mine, Unit.ward_id == ward.id)
    return list(
        db.session.scalars(select(Unit).where(Unit.active, mine).order_by(Unit.level, Unit.name))
    )


def unit_choices() -> list[tuple[int, str]]:
    return [(u.id, u.name) for u in active_units()]


def area_choices(ward: Ward | None) -> list[tuple[int, str]]:
    return [(a.id, a.name) for a in areas(ward)]


# --- residential-group boundaries from GeoJSON ------------------------------------------


class BoundaryImportError(ValueError):
    """The file cannot be imported; ``problems`` lists one message per feature."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _problem(index: int, name: str | None, message) -> str:
    label = f"“{name}”" if name else f"#{index + 1}"
    return str(_l("Vùng %(label)s: %(message)s", label=label, message=message))


def parse_boundaries(raw: bytes, name_property: str) -> list[tuple[str, dict]]:
    """Check a GeoJSON FeatureCollection of residential groups; all problems at once."""
    import json

    from shapely.geometry import shape
    from shapely.validation import explain_validity

    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise BoundaryImportError([str(_l("Tệp không phải GeoJSON (JSON hợp lệ)."))]) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BoundaryImportError([str(_l("Tệp phải là một GeoJSON FeatureCollection."))])
    crs = (data.get("crs") or {}).get("properties", {}).get("name", "")
    if crs and "4326" not in crs and "CRS84" not in crs:
        raise BoundaryImportError(
            [str(_l("Hệ tọa độ %(crs)s không được hỗ trợ; hãy dùng WGS84 (EPSG:4326).", crs=crs))]
        )
    features = data.get("features") or []
    if not features:
        raise BoundaryImportError([str(_l("Tệp không có vùng nào."))])
    problems: list[str] = []
    result: list[tuple[str, dict]] = []
    shapes = []
    for index, feature in enumerate(features):
        properties = (feature or {}).get("properties") or {}
        name = normalize(str(properties.get(name_property) or "")) or None
        geometry = (feature or {}).get("geometry") or {}
        if not name:
            problems.append(
                _problem(index, None, _l("thiếu thuộc tính tên “%(prop)s”.", prop=name_property))
            )
            continue
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            problems.append(_problem(index, name, _l("phải là Polygon hoặc MultiPolygon.")))
            continue
        try:
            polygon = shape(geometry)
        except (ValueError, TypeError, KeyError, IndexError):
            problems.append(_problem(index, name, _l("tọa độ không đọc được.")))
            continue
        west, south, east, north = polygon.bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            problems.append(_problem(index, name, _l("tọa độ không phải kinh độ/vĩ độ WGS84.")))
            continue
        if not polygon.is_valid:
            problems.append(
                _problem(
                    index, name, _l("hình không hợp lệ (%(why)s).", why=explain_validity(polygon))
                )
            )
            continue
        for other_name, other in shapes:
            overlap = polygon.intersection(other).area
            if overlap > 0.01 * min(polygon.area, other.area):
                problems.append(
                    _problem(index, name, _l("chồng lấn với “%(other)s”.", other=other_name))
                )
        if name in {n for n, _g in result}:
            problems.append(_problem(index, name, _l("tên bị trùng trong tệp.")))
        shapes.append((name, polygon))
        result.append((name, json.loads(json.dumps(geometry))))
    if problems:
        raise BoundaryImportError(problems)
    return result


def import_boundaries(ward: Ward, boundaries: list[tuple[str, dict]]) -> tuple[int, int]:
    """Replace the boundaries of groups with these names and add new groups: (updated, added)."""
    from portal.geo import centroid

    existing = {fold(a.name): a for a in areas(ward)}
    updated = added = 0
    for order, (name, geometry) in enumerate(boundaries):
        area = existing.get(fold(name))
        if area is None:
            area = Area(ward=ward, name=name, sort_order=len(existing) + order)
            db.session.add(area)
            added += 1
        else:
            updated += 1
        area.boundary = geometry
        area.centroid_lat, area.centroid_lon = centroid(geometry)
        area.is_demo = False
    db.session.flush()
    return updated, added


def reassign_petitions(ward: Ward, actor) -> int:
    """Put every located petition in the group its point now falls in; how many moved."""
    from portal.geo import area_containing
    from portal.petitions.models import Petition
    from portal.petitions.services import move_to_area

    groups = areas(ward)
    moved = 0
    for petition in db.session.scalars(
        select(Petition).where(Petition.ward_id == ward.id, Petition.latitude.is_not(None))
    ):
        area = area_containing(groups, petition.latitude, petition.longitude)
        if area is not None and area.id != petition.area_id:
            move_to_area(petition, actor, area)
            moved += 1
    db.session.flush()
    return moved


# --- the ward's gazetteer ----------------------------------------------------------------


def search_places(ward: Ward | None, query: str | None, limit: int = 8):
    """Gazetteer entries whose name holds every word of the query, ignoring accents."""
    from portal.units.models import Place

    terms = fold(query).split()
    if ward is None or not terms:
        return []
    stmt = select(Place).where(Place.ward_id == ward.id)
    for term in terms[:6]:
        # "%" and "_" typed by a resident are characters to find, not wildcards.
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Place.search_key.like(f"%{escaped}%", escape="\\"))
    return list(db.session.scalars(stmt.order_by(Place.name).limit(limit)))


def save_place(ward: Ward, *, name: str, kind, latitude: float, longitude: float, place=None):
    from portal.geo import area_containing, in_ward
    from portal.units.models import Place

    name = normalize(name)
    if not name:
        raise ValueError(str(_l("Hãy nhập tên địa danh.")))
    if not in_ward(ward, latitude, longitude):
        raise ValueError(str(_l("Vị trí nằm ngoài địa bàn %(ward)s.", ward=ward.name)))
    place = place or Place(ward=ward)
    place.name, place.kind = name, kind
    place.latitude, place.longitude = latitude, longitude
    place.area = area_containing(areas(ward), latitude, longitude)
    place.search_key = fold(name)
    db.session.add(place)
    db.session.flush()
    return place
