"""The map: residential-group boundaries, petition pins, grid counts, hotspots.

Everything here is public: a feature carries a petition's code, title, status, category
and place, never the petitioner's name, phone, e-mail or address.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, and_, cast, func, or_, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.petitions.models import Category, Petition, Status
from portal.petitions.services import OPEN_STATUSES, ListFilter, apply_filter, in_current_ward
from portal.timeutil import LOCAL_TZ, parse_date, utcnow
from portal.units.models import Area, Ward

# Below this zoom the server answers counts per grid cell, not petitions.
AGGREGATE_BELOW_ZOOM = 15
# Never more features than this in one answer, at any zoom.
MAX_FEATURES = 2000
# A grid cell is about this many screen pixels wide at the asked zoom.
CELL_PIXELS = 64
MIN_ZOOM, MAX_ZOOM = 0, 22
# Closed, rejected and merged petitions leave the map after MAP_HIDE_CLOSED_DAYS.
CLOSED_STATUSES = (Status.CLOSED, Status.REJECTED, Status.MERGED)
HOTSPOT_MIN_COUNT = 3


class MapQueryError(ValueError):
    """A bad ``bbox``, ``zoom`` or date: the message is shown to people (Vietnamese)."""


# --- filters ----------------------------------------------------------------------------


@dataclass
class MapFilter:
    status: Status | None = None
    category_id: int | None = None
    area_id: int | None = None
    start: date | None = None
    end: date | None = None
    show_closed: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    def query_args(self) -> dict[str, str]:
        """The filters as the query string the page, the list and the data share."""
        args: dict[str, str] = {}
        if self.status:
            args["status"] = self.status.value
        if self.category_id:
            args["category"] = str(self.category_id)
        if self.area_id:
            args["area"] = str(self.area_id)
        if self.start:
            args["tu"] = self.start.strftime("%d/%m/%Y")
        if self.end:
            args["den"] = self.end.strftime("%d/%m/%Y")
        if self.show_closed:
            args["da_dong"] = "1"
        return args


def _positive_int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    # Ids are 32-bit in the database; a larger number is no id at all.
    return number if 0 < number < 2**31 else None


def parse_filter(args) -> MapFilter:
    """Read filters from a query string. Unknown values are ignored; bad dates are noted."""
    f = MapFilter()
    try:
        f.status = Status(args.get("status") or "") if args.get("status") else None
    except ValueError:
        f.status = None
    f.category_id = _positive_int(args.get("category"))
    f.area_id = _positive_int(args.get("area"))
    for key, attr in (("tu", "start"), ("den", "end")):
        try:
            setattr(f, attr, parse_date(args.get(key)))
        except ValueError:
            f.errors[key] = str(_l("Ngày không hợp lệ, hãy nhập theo dạng dd/mm/yyyy."))
    if f.start and f.end and f.start > f.end:
        f.errors["den"] = str(_l("Ngày kết thúc phải sau ngày bắt đầu."))
        f.end = None
    f.show_closed = args.get("da_dong") in ("1", "on", "true")
    return f


def hide_closed_days() -> int:
    return int(current_app.config.get("MAP_HIDE_CLOSED_DAYS", 90))


def filtered(f: MapFilter, *, base: Select | None = None) -> Select:
    """This ward's petitions the map and its list show for ``f`` (no ordering)."""
    query = in_current_ward(base if base is not None else select(Petition))
    query = apply_filter(
        query, ListFilter(status=f.status, category_id=f.category_id, area_id=f.area_id)
    ).order_by(None)
    if f.start:
        query = query.where(Petition.created_at >= _utc_midnight(f.start))
    if f.end:
        query = query.where(Petition.created_at < _utc_midnight(f.end + timedelta(days=1)))
    # Old closed petitions are hidden unless asked for (or their status is the filter).
    if not f.show_closed and f.status not in CLOSED_STATUSES:
        cutoff = utcnow() - timedelta(days=hide_closed_days())
        query = query.where(
            or_(
                Petition.status.not_in(CLOSED_STATUSES),
                func.coalesce(Petition.closed_at, Petition.updated_at) >= cutoff,
            )
        )
    return query


def _utc_midnight(day: date) -> datetime:
    """Local midnight at the start of ``day``, as the naive UTC stored in ``*_at``."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


# --- the list beside the map ------------------------------------------------------------


def list_page(f: MapFilter, *, page: int, per_page: int, bbox: BBox | None = None):
    """The same petitions, paged, ordered by residential group then newest first.

    With ``bbox`` (the map's view, when JavaScript draws it) only the petitions with a
    place inside it.
    """
    query = filtered(f)
    if bbox is not None:
        query = _located(query, bbox)
    query = (
        query.outerjoin(Area, Petition.area_id == Area.id)
        .options(selectinload(Petition.category), selectinload(Petition.area))
        .order_by(
            Area.id.is_(None),
            Area.sort_order,
            Area.name,
            Petition.created_at.desc(),
            Petition.id.desc(),
        )
    )
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def group_by_area(petitions) -> list[tuple[Area | None, list[Petition]]]:
    groups: list[tuple[Area | None, list[Petition]]] = []
    for petition in petitions:
        if groups and groups[-1][0] is petition.area:
            groups[-1][1].append(petition)
        else:
            groups.append((petition.area, [petition]))
    return groups


def count_on_map(f: MapFilter) -> int:
    query = filtered(f, base=select(func.count(Petition.id))).where(
        Petition.latitude.is_not(None), Petition.longitude.is_not(None)
    )
    return db.session.scalar(query) or 0


def count_without_place(f: MapFilter) -> int:
    """Petitions the map cannot show (a residential group or the whole ward, no point)."""
    query = filtered(f, base=select(func.count(Petition.id))).where(
        or_(Petition.latitude.is_(None), Petition.longitude.is_(None))
    )
    return db.session.scalar(query) or 0


def in_bbox(latitude: float, longitude: float, bbox: BBox) -> bool:
    west, south, east, north = bbox
    return west <= longitude <= east and south <= latitude <= north


def format_bbox(bbox: BBox) -> str:
    """The ``bbox`` parameter again, for links that keep the view (paging)."""
    return ",".join(f"{v:.6f}" for v in bbox)


# --- GeoJSON ----------------------------------------------------------------------------


def areas_geojson(ward: Ward | None) -> dict:
    features = []
    for area in ward.areas if ward else []:
        if not area.boundary:
            continue
        features.append(
            {
                "type": "Feature",
                "id": area.id,
                "geometry": area.boundary,
                "properties": {"id": area.id, "name": area.name, "demo": area.is_demo},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _feature(code, title, status, status_label, category, latitude, longitude, url) -> dict:
    """Only public fields: never the petitioner's name, phone, email or address."""
    return {
        "type": "Feature",
        "id": code,
        "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
        "properties": {
            "code": code,
            "title": title,
            "status": status.value,
            "status_label": status_label,
            "category": category,
            "url": url,
        },
    }


BBox = tuple[float, float, float, float]


def parse_bbox(text: str | None) -> BBox | None:
    """``west,south,east,north`` in degrees, or None when not given."""
    if text is None or not text.strip():
        return None
    parts = text.split(",")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise MapQueryError(
            _l("Tham số bbox phải có dạng tây,nam,đông,bắc (bốn số, độ thập phân).")
        ) from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise MapQueryError(_l("Tham số bbox không hợp lệ."))
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise MapQueryError(
            _l("Tham số bbox không hợp lệ: cần tây < đông, nam < bắc, trong phạm vi tọa độ.")
        )
    return west, south, east, north


def parse_zoom(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        zoom = int(text)
    except ValueError:
        raise MapQueryError(_l("Tham số zoom phải là số nguyên từ 0 đến 22.")) from None
    if not MIN_ZOOM <= zoom <= MAX_ZOOM:
        raise MapQueryError(_l("Tham số zoom phải là số nguyên từ 0 đến 22."))
    return zoom


def _located(query: Select, bbox: BBox | None) -> Select:
    query = query.where(Petition.latitude.is_not(None), Petition.longitude.is_not(None))
    if bbox:
        west, south, east, north = bbox
        query = query.where(
            and_(
                Petition.longitude >= west,
                Petition.longitude <= east,
                Petition.latitude >= south,
                Petition.latitude <= north,
            )
        )
    return query


def cell_size(zoom: int) -> float:
    """Degrees per grid cell at ``zoom`` (a cell is about CELL_PIXELS wide on screen)."""
    return 360.0 / (256 * 2**zoom) * CELL_PIXELS


def _cell_index(column, offset: float, size: float):
    shifted = (column + offset) / size  # always positive: floor is a truncation
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(shifted), Integer)
    return cast(shifted, Integer)


def petitions_geojson(
    url_for_code, f: MapFilter, *, bbox: BBox | None = None, zoom: int | None = None
) -> dict:
    """Petitions as points, or counts per grid cell below AGGREGATE_BELOW_ZOOM."""
    if zoom is not None and zoom < AGGREGATE_BELOW_ZOOM:
        return _cells_geojson(f, bbox, zoom)
    # Up to 2,000 rows: the columns a feature carries, as plain rows (no ORM objects),
    # labels looked up once per status and category.
    rows = db.session.execute(
        _located(
            filtered(
                f,
                base=select(
                    Petition.code,
                    Petition.title,
                    Petition.status,
                    Petition.category_id,
                    Petition.latitude,
                    Petition.longitude,
                ),
            ),
            bbox,
        )
        .order_by(Petition.created_at.desc(), Petition.id.desc())
        .limit(MAX_FEATURES + 1)
    ).all()
    categories = {c.id: c.label for c in db.session.scalars(select(Category))}
    status_labels = {status: status.label for status in Status}
    features = []
    for code, title, status, category_id, latitude, longitude in rows[:MAX_FEATURES]:
        status = Status(status)
        features.append(
            _feature(
                code,
                title,
                status,
                status_labels[status],
                categories[category_id],
                latitude,
                longitude,
                url_for_code(code),
            )
        )
    return {
        "type": "FeatureCollection",
        "aggregated": False,
        "truncated": len(rows) > MAX_FEATURES,
        "features": features,
    }


def _cells_geojson(f: MapFilter, bbox: BBox | None, zoom: int) -> dict:
    size = cell_size(zoom)
    gx = _cell_index(Petition.longitude, 180.0, size).label("gx")
    gy = _cell_index(Petition.latitude, 90.0, size).label("gy")
    base = select(
        gx,
        gy,
        Petition.status,
        func.count(Petition.id),
        func.avg(Petition.latitude),
        func.avg(Petition.longitude),
    )
    query = _located(filtered(f, base=base), bbox).group_by(gx, gy, Petition.status)
    cells: dict[tuple[int, int], dict] = defaultdict(
        lambda: {"count": 0, "by_status": {}, "lat": 0.0, "lon": 0.0}
    )
    for x, y, status, count, lat, lon in db.session.execute(query):
        cell = cells[(x, y)]
        cell["count"] += count
        cell["by_status"][Status(status).value] = count
        cell["lat"] += float(lat) * count
        cell["lon"] += float(lon) * count
    ordered = sorted(cells.items(), key=lambda item: (-item[1]["count"], item[0]))
    truncated = len(ordered) > MAX_FEATURES
    features = []
    for (x, y), cell in ordered[:MAX_FEATURES]:
        n = cell["count"]
        features.append(
            {
                "type": "Feature",
                "id": f"{zoom}/{x}/{y}",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(cell["lon"] / n, 6), round(cell["lat"] / n, 6)],
                },
                "properties": {"count": n, "by_status": cell["by_status"]},
            }
        )
    return {
        "type": "FeatureCollection",
        "aggregated": True,
        "cell_degrees": size,
        "truncated": truncated,
        "features": features,
    }


# --- hotspots (điểm đen) ----------------------------------------------------------------


@dataclass
class Hotspot:
    category: Category
    latitude: float
    longitude: float
    radius_m: float
    petitions: list[Petition]

    @property
    def count(self) -> int:
        return len(self.petitions)

    @property
    def areas(self) -> list[Area]:
        seen: dict[int, Area] = {}
        for p in self.petitions:
            if p.area is not None:
                seen.setdefault(p.area.id, p.area)
        return list(seen.values())


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres (equirectangular: exact enough within a ward)."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(x, y)


def _single_linkage(points: list[Petition], radius_m: float) -> list[list[Petition]]:
    """Groups where each member is within ``radius_m`` of another member (union-find)."""
    parent = list(range(len(points)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # A grid of cells one radius wide: neighbours are in the same or an adjacent cell.
    step_lat = radius_m / 111_320
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, p in enumerate(points):
        step_lon = step_lat / max(math.cos(math.radians(p.latitude)), 0.01)
        buckets[(math.floor(p.latitude / step_lat), math.floor(p.longitude / step_lon))].append(i)
    for (cy, cx), members in buckets.items():
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                for i in members:
                    for j in buckets.get((cy + dy, cx + dx), ()):
                        if j <= i:
                            continue
                        a, b = points[i], points[j]
                        if _metres(a.latitude, a.longitude, b.latitude, b.longitude) <= radius_m:
                            parent[find(i)] = find(j)
    groups: dict[int, list[Petition]] = defaultdict(list)
    for i, p in enumerate(points):
        groups[find(i)].append(p)
    return list(groups.values())


def hotspot_radius() -> float:
    return float(current_app.config.get("HOTSPOT_RADIUS_M", 100))


def hotspots(f: MapFilter, *, radius_m: float | None = None) -> list[Hotspot]:
    """Open petitions of one category close together: at least HOTSPOT_MIN_COUNT of them.

    The category, residential-group and period filters apply; status does not (open only).
    """
    radius = hotspot_radius() if radius_m is None else radius_m
    criteria = MapFilter(
        category_id=f.category_id, area_id=f.area_id, start=f.start, end=f.end, show_closed=True
    )
    rows = db.session.scalars(
        _located(filtered(criteria), None)
        .where(Petition.status.in_(OPEN_STATUSES))
        .options(selectinload(Petition.category), selectinload(Petition.area))
        .order_by(Petition.id)
    )
    by_category: dict[int, list[Petition]] = defaultdict(list)
    for petition in rows:
        by_category[petition.category_id].append(petition)
    spots = []
    for petitions in by_category.values():
        for group in _single_linkage(petitions, radius):
            if len(group) < HOTSPOT_MIN_COUNT:
                continue
            lat = sum(p.latitude for p in group) / len(group)
            lon = sum(p.longitude for p in group) / len(group)
            reach = max(_metres(lat, lon, p.latitude, p.longitude) for p in group)
            group.sort(key=lambda p: (p.created_at, p.id), reverse=True)
            spots.append(Hotspot(group[0].category, lat, lon, reach, group))
    spots.sort(key=lambda s: (-s.count, s.category.sort_order, s.petitions[0].id))
    return spots


def hotspots_geojson(spots: list[Hotspot], url_for_code) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f"hotspot-{i}",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(s.longitude, 6), round(s.latitude, 6)],
                },
                "properties": {
                    "count": s.count,
                    "category": s.category.label,
                    "category_id": s.category.id,
                    "radius_m": round(s.radius_m, 1),
                    "petitions": [
                        {"code": p.code, "title": p.title, "url": url_for_code(p.code)}
                        for p in s.petitions
                    ],
                },
            }
            for i, s in enumerate(spots[:MAX_FEATURES], start=1)
        ],
    }
