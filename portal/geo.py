"""Places: which residential group a point lies in, and the geocoder seam.

All geocoding goes through :class:`Geocoder`. It wraps geopy with a timeout, a cache
and a rate limit (in Redis when ``REDIS_URL`` is set, so shared by every app process),
and never raises to its callers: when the service is unreachable or slow it answers
``None`` and filing falls back to the residential-group list and the address text.
Tests install :class:`FakeGeocoder`; they never reach the network.
"""

from __future__ import annotations

import dataclasses
import json
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


class LocalGeocoderState:
    """Answers cached and requests spaced within one process."""

    def __init__(self, max_entries: int = 2048):
        self._lock = threading.Lock()
        self._last_call = 0.0
        self._cache: dict[tuple, Place | None] = {}
        self._max_entries = max_entries

    def get(self, key: tuple) -> tuple[bool, Place | None]:
        if key in self._cache:
            return True, self._cache[key]
        return False, None

    def put(self, key: tuple, place: Place | None) -> None:
        if len(self._cache) > self._max_entries:
            self._cache.clear()
        self._cache[key] = place

    def wait_turn(self, min_interval: float) -> bool:
        with self._lock:
            wait = min_interval - (time.monotonic() - self._last_call)
            if wait > 0:
                time.sleep(wait)
            self._last_call = time.monotonic()
        return True


class RedisGeocoderState:
    """The cache and the one-request-a-second limit shared by every app process.

    With several app servers an in-process limit would let each of them call the
    geocoder once a second; the Nominatim policy is one request a second in all. When
    Redis cannot be reached the process falls back to its own cache and spacing.
    """

    def __init__(self, client, *, prefix: str, ttl_seconds: int = 30 * 24 * 3600):
        self._client = client
        self._prefix = f"{prefix}geocoder:"
        self._ttl = ttl_seconds
        self._local = LocalGeocoderState()

    def _key(self, key: tuple) -> str:
        return self._prefix + json.dumps(key, ensure_ascii=False)

    def get(self, key: tuple) -> tuple[bool, Place | None]:
        import redis

        try:
            raw = self._client.get(self._key(key))
        except redis.RedisError:
            current_app.logger.warning("Redis unavailable: geocoder cache in this process")
            return self._local.get(key)
        if raw is None:
            return False, None
        data = json.loads(raw)
        return True, Place(**data) if data else None

    def put(self, key: tuple, place: Place | None) -> None:
        import redis

        value = json.dumps(dataclasses.asdict(place) if place else None, ensure_ascii=False)
        try:
            self._client.set(self._key(key), value, ex=self._ttl)
        except redis.RedisError:
            self._local.put(key, place)

    def wait_turn(self, min_interval: float, max_wait: float = 10.0) -> bool:
        """Take the next one-second slot shared by all processes; False after ``max_wait``."""
        import redis

        slot = self._prefix + "slot"
        deadline = time.monotonic() + max_wait
        try:
            while not self._client.set(slot, "1", nx=True, px=max(1, int(min_interval * 1000))):
                remaining = self._client.pttl(slot)
                if time.monotonic() + max(remaining, 0) / 1000 > deadline:
                    return False
                time.sleep(max(remaining, 5) / 1000)
        except redis.RedisError:
            return self._local.wait_turn(min_interval)
        return True


class Geocoder:
    """geopy behind a timeout, a cache and a one-request-a-second limit."""

    def __init__(self, backend, *, timeout: float = 3.0, min_interval: float = 1.0, state=None):
        self._backend = backend
        self._timeout = timeout
        self._min_interval = min_interval
        self._state = state or LocalGeocoderState()

    def _call(self, key: tuple, func, *args) -> Place | None:
        found, place = self._state.get(key)
        if found:
            return place
        if self._backend is None:
            return None
        if not self._state.wait_turn(self._min_interval):
            current_app.logger.warning("geocoder busy, no answer for %r", key)
            return None
        try:
            location = func(*args, timeout=self._timeout)
        except Exception:  # noqa: BLE001 - any geocoder failure means "no answer"
            current_app.logger.warning("geocoder unavailable for %r", key)
            return None
        place = Place(location.latitude, location.longitude, location.address) if location else None
        self._state.put(key, place)
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
        return Geocoder(
            Nominatim(**kwargs),
            timeout=config.get("GEOCODER_TIMEOUT", 3.0),
            state=shared_geocoder_state(config),
        )
    return FakeGeocoder()


def shared_geocoder_state(config: dict) -> RedisGeocoderState | None:
    """The geocoder's cache in Redis when ``REDIS_URL`` is set, else ``None`` (per process)."""
    if not config.get("REDIS_URL"):
        return None
    import redis

    client = redis.Redis.from_url(config["REDIS_URL"], socket_timeout=1, socket_connect_timeout=1)
    return RedisGeocoderState(client, prefix=config.get("REDIS_KEY_PREFIX", "kien-nghi:"))


def get_geocoder() -> Geocoder:
    return current_app.extensions["geocoder"]
