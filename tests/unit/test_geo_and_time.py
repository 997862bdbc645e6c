from datetime import date, datetime

import pytest

from portal import geo, timeutil
from portal.geo import FakeGeocoder, Geocoder, Place


class Area:
    def __init__(self, name, boundary):
        self.name, self.boundary = name, boundary


SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def test_area_containing():
    areas = [Area("A", SQUARE)]
    assert geo.area_containing(areas, 0.5, 0.5).name == "A"
    assert geo.area_containing(areas, 1.0, 0.5).name == "A"  # on the edge counts
    assert geo.area_containing(areas, 2, 2) is None


def test_geocoder_falls_back_when_the_service_fails(app):
    class Broken:
        def reverse(self, *args, **kwargs):
            raise TimeoutError("slow")

        def geocode(self, *args, **kwargs):
            raise OSError("unreachable")

    geocoder = Geocoder(Broken(), timeout=0.1, min_interval=0)
    assert geocoder.reverse(20.98, 105.75) is None
    assert geocoder.geocode("ngõ 12 Văn Khê") is None


def test_geocoder_caches_answers(app):
    class Counting:
        calls = 0

        def reverse(self, point, timeout):
            Counting.calls += 1
            return type(
                "L", (), {"latitude": point[0], "longitude": point[1], "address": "Ngõ 1"}
            )()

    geocoder = Geocoder(Counting(), min_interval=0)
    assert geocoder.reverse(20.98, 105.75).address == "Ngõ 1"
    assert geocoder.reverse(20.98, 105.75).address == "Ngõ 1"
    assert Counting.calls == 1


def test_fake_geocoder():
    fake = FakeGeocoder({"ngõ 12": Place(20.98, 105.75, "Ngõ 12, Dương Nội")})
    assert fake.geocode("Ngõ 12").address == "Ngõ 12, Dương Nội"
    assert fake.reverse(20.98, 105.75).address == "Ngõ 12, Dương Nội"
    assert fake.reverse(10, 10) is None


def test_dates_shown_in_vietnam_time():
    # 18:30 UTC on 31/12 is already 01/01 in Hà Nội.
    assert timeutil.format_date(datetime(2025, 12, 31, 18, 30)) == "01/01/2026"
    assert timeutil.format_datetime(datetime(2025, 12, 31, 18, 30)) == "01:30 01/01/2026"
    assert timeutil.format_date(date(2026, 7, 5)) == "05/07/2026"
    assert timeutil.format_date("2026-07-05") == "05/07/2026"


@pytest.mark.parametrize("text", ["31/12/2026", "2026-12-31", "31-12-2026"])
def test_parse_date(text):
    assert timeutil.parse_date(text) == date(2026, 12, 31)


def test_parse_date_rejects_nonsense():
    with pytest.raises(ValueError):
        timeutil.parse_date("31/02/2026")
    assert timeutil.parse_date("") is None


def test_frozen_clock():
    with timeutil.frozen_clock(datetime(2026, 1, 1, 3)):
        assert timeutil.utcnow() == datetime(2026, 1, 1, 3)
        assert timeutil.local_today() == date(2026, 1, 1)
    assert timeutil.utcnow().year >= 2026
