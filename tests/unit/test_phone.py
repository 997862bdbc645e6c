import pytest

from portal.forms import normalize_phone


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("0912 345 678", "0912345678"),
        ("+84 912.345.678", "0912345678"),
        ("84912345678", "0912345678"),
        ("024 3825 1234", "02438251234"),
    ],
)
def test_normalize_phone(raw, phone):
    assert normalize_phone(raw) == phone
