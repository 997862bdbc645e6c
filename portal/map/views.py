from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from portal import geo
from portal.map import services
from portal.units.services import current_ward
from portal.web import render

bp = Blueprint("map", __name__, url_prefix="/ban-do")


@bp.route("/")
def page():
    return render("map/page.html")


@bp.route("/khu-vuc.geojson")
def areas():
    response = jsonify(services.areas_geojson(current_ward()))
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.route("/du-lieu.geojson")
def petitions():
    data = services.petitions_geojson(lambda code: url_for("petitions.public_page", code=code))
    response = jsonify(data)
    response.cache_control.public = True
    response.cache_control.max_age = 60
    return response


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
