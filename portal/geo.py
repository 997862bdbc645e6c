"""Places: which residential group a point lies in, and the geocoder seam.

All geocoding goes through :class:`Geocoder`. It wraps geopy with a timeout, a cache
and a rate limit, and never raises to its callers: when the service is unreachable or
slow it answers ``None`` and filing falls back to the residential-group list and the
address text. Tests install :class:`FakeGeocoder`; they never reach the network.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from flask import current_app
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    address: str


def centroid(geojson: dict) -> tuple[float, float]:
    """(lat, lon) of a GeoJSON geometry's centroid."""
    point = shape(geojson).centroid
    return point.y, point.x


def area_containing(areas, latitude: float, longitude: float):
    """The first area whose boundary holds the point, or ``None``."""
    point = Point(longitude, latitude)
    for area in areas:
        if area.boundary and shape(area.boundary).covers(point):
            return area
    return None


def ward_geometry(ward) -> BaseGeometry | None:
    if ward.boundary:
        return shape(ward.boundary)
    shapes = [shape(a.boundary) for a in ward.areas if a.boundary]
    return unary_union(shapes) if shapes else None


def in_ward(ward, latitude: float, longitude: float) -> bool:
    geometry = ward_geometry(ward)
    if geometry is None:  # a ward without any boundary accepts every point
        return True
    return geometry.covers(Point(longitude, latitude))


EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(latitude: float, longitude: float, radius_m: float):
    """(south, west, north, east) of a box holding every point within ``radius_m``."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(latitude)), 1e-6)
    dlon = min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat)))
    return latitude - dlat, longitude - dlon, latitude + dlat, longitude + dlon


def bounds(ward) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) of the ward, for fitting a map."""
    geometry = ward_geometry(ward)
    if geometry is None:
        return None
    west, south, east, north = geometry.bounds
    return south, west, north, east


class Geocoder:
    """geopy behind a timeout, a cache and a one-request-a-second limit."""

    def __init__(self, backend, *, timeout: float = 3.0, min_interval: float = 1.0):
        self._backend = backend
        self._timeout = timeout
        self._min_interval = min_interval
        self._lock = threading.Lock()
        self._last_call = 0.0
        self._cache: dict[tuple, Place | None] = {}

    def _call(self, key: tuple, func, *args) -> Place | None:
        if key in self._cache:
            return self._cache[key]
        if self._backend is None:
            return None
        with self._lock:
            wait = self._min_interval - (time.monotonic() - self._last_call)
            if wait > 0:
                time.sleep(wait)
            self._last_call = time.monotonic()
        try:
            location = func(*args, timeout=self._timeout)
        except Exception:  # noqa: BLE001 - any geocoder failure means "no answer"
            current_app.logger.warning("geocoder unavailable for %r", key)
            return None
        place = Place(location.latitude, location.longitude, location.address) if location else None
        if len(self._cache) > 2048:
            self._cache.clear()
        self._cache[key] = place
        return place

    def geocode(self, address: str) -> Place | None:
        if self._backend is None or not address.strip():
            return None
        return self._call(("fwd", address.strip().lower()), self._backend.geocode, address)

    def reverse(self, latitude: float, longitude: float) -> Place | None:
        if self._backend is None:
            return None
        key = ("rev", round(latitude, 5), round(longitude, 5))
        return self._call(key, self._backend.reverse, (latitude, longitude))


class FakeGeocoder(Geocoder):
    """A geocoder that knows a fixed list of places; for tests and offline demos."""

    def __init__(self, places: dict[str, Place] | None = None):
        super().__init__(None)
        self.places = places or {}
        self.calls: list[tuple] = []

    def geocode(self, address: str) -> Place | None:
        self.calls.append(("geocode", address))
        return self.places.get(address.strip().lower())

    def reverse(self, latitude: float, longitude: float) -> Place | None:
        self.calls.append(("reverse", latitude, longitude))
        for place in self.places.values():
            if abs(place.latitude - latitude) < 1e-4 and abs(place.longitude - longitude) < 1e-4:
                return place
        return None


def make_geocoder(config: dict) -> Geocoder:
    kind = config.get("GEOCODER", "offline")
    if kind == "nominatim":
        from geopy.geocoders import Nominatim

        kwargs = {"user_agent": config["GEOCODER_USER_AGENT"]}
        if config.get("GEOCODER_URL"):
            kwargs["domain"] = config["GEOCODER_URL"]
        return Geocoder(Nominatim(**kwargs), timeout=config.get("GEOCODER_TIMEOUT", 3.0))
    return FakeGeocoder()


def get_geocoder() -> Geocoder:
    return current_app.extensions["geocoder"]
