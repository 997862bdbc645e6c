from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from portal import geo
from portal.map import services
from portal.petitions.models import Status
from portal.petitions.views import category_choices
from portal.units.services import area_choices, current_ward
from portal.web import render

bp = Blueprint("map", __name__, url_prefix="/ban-do")


def _public_url(code: str) -> str:
    return url_for("petitions.public_page", code=code)


def _public_urls():
    """``_public_url`` for thousands of features: the URL is built once, codes appended
    (a code is letters, digits and dashes: nothing to quote)."""
    sample = "KN-2000-00000"
    prefix = url_for("petitions.public_page", code=sample)[: -len(sample)]
    return lambda code: prefix + code


@bp.route("/")
def page():
    """The map, and beside it the same petitions as a list grouped by residential group.

    Without JavaScript the list and the GET form are the page; with it, the form updates
    the pins, the list (``HX-Target: map-list``) and the URL in step, and the list holds
    only the petitions inside the map's view (``bbox``, west,south,east,north).
    """
    criteria = services.parse_filter(request.args)
    try:
        bbox = services.parse_bbox(request.args.get("bbox"))
    except services.MapQueryError as error:
        criteria.errors["bbox"] = str(error.args[0])
        bbox = None
    page_number = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    results = services.list_page(
        criteria, page=page_number, per_page=current_app.config.get("PAGE_SIZE", 20), bbox=bbox
    )
    list_args = criteria.query_args()
    spots = services.hotspots(criteria)
    if bbox is not None:
        list_args["bbox"] = services.format_bbox(bbox)
        spots = [s for s in spots if services.in_bbox(s.latitude, s.longitude, bbox)]
    ward = current_ward()
    return render(
        "map/page.html",
        fragment="map/_list.html",
        targets=["map-list"],
        criteria=criteria,
        bbox=bbox,
        list_args=list_args,
        results=results,
        groups=services.group_by_area(results.items),
        on_map=services.count_on_map(criteria),
        without_place=services.count_without_place(criteria) if bbox is not None else 0,
        hotspots=spots,
        statuses=[(s.value, s.label) for s in Status],
        categories=category_choices(),
        areas=area_choices(ward),
        hide_days=services.hide_closed_days(),
        aggregate_below=services.AGGREGATE_BELOW_ZOOM,
    )


def _geojson(data: dict):
    """Public, cacheable for a minute, with an ETag (a 304 when unchanged)."""
    response = jsonify(data)
    response.mimetype = "application/geo+json"
    response.cache_control.public = True
    response.cache_control.max_age = 60
    response.vary.add("Cookie")  # labels follow the chosen language
    response.add_etag()
    return response.make_conditional(request)


def _bad_request(error: services.MapQueryError):
    response = jsonify({"error": str(error.args[0])})
    response.status_code = 400
    return response


@bp.route("/khu-vuc.geojson")
def areas():
    response = jsonify(services.areas_geojson(current_ward()))
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.route("/du-lieu.geojson")
def petitions():
    """Petitions in ``bbox`` (west,south,east,north); grid counts below the zoom threshold."""
    criteria = services.parse_filter(request.args)
    try:
        if criteria.errors:
            raise services.MapQueryError(next(iter(criteria.errors.values())))
        bbox = services.parse_bbox(request.args.get("bbox"))
        zoom = services.parse_zoom(request.args.get("zoom"))
    except services.MapQueryError as error:
        return _bad_request(error)
    return _geojson(services.petitions_geojson(_public_urls(), criteria, bbox=bbox, zoom=zoom))


@bp.route("/diem-den.geojson")
def hotspots():
    """Điểm đen: open petitions of one category close together (HOTSPOT_RADIUS_M)."""
    criteria = services.parse_filter(request.args)
    if criteria.errors:
        return _bad_request(services.MapQueryError(next(iter(criteria.errors.values()))))
    return _geojson(services.hotspots_geojson(services.hotspots(criteria), _public_url))


@bp.route("/tim-dia-chi")
def find_address():
    """Places matching what a resident types: the ward's gazetteer first, then the geocoder."""
    from portal.units.services import search_places

    query = (request.args.get("q") or "").strip()[:200]
    ward = current_ward()
    places = search_places(ward, query)
    found = None
    if query and not places and ward is not None:
        candidate = geo.get_geocoder().geocode(f"{query}, {ward.name}, {ward.province_name}")
        if candidate and geo.in_ward(ward, candidate.latitude, candidate.longitude):
            found = candidate
    return render("map/_places.html", query=query, places=places, found=found)


@bp.route("/dia-chi")
def address_suggestion():
    """Suggest an address and residential group for a pin (htmx, while filing)."""
    try:
        lat = float(request.args.get("latitude", ""))
        lon = float(request.args.get("longitude", ""))
    except ValueError:
        return render("map/_address.html", place=None, area=None, outside=False, status=422)
    ward = current_ward()
    outside = ward is not None and not geo.in_ward(ward, lat, lon)
    area = None if outside or ward is None else geo.area_containing(ward.areas, lat, lon)
    place = None if outside else geo.get_geocoder().reverse(lat, lon)
    return render("map/_address.html", place=place, area=area, outside=outside)
