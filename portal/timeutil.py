"""Times are stored in UTC and shown in Asia/Ho_Chi_Minh as dd/mm/yyyy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_frozen: ContextVar[datetime | None] = ContextVar("frozen_now", default=None)


def utcnow() -> datetime:
    """Naive UTC, the form stored in ``*_at`` columns on every database."""
    frozen = _frozen.get()
    if frozen is not None:
        return frozen
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def frozen_clock(moment: datetime) -> Iterator[None]:
    """Make :func:`utcnow` answer ``moment`` (naive UTC): demo history and tests."""
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ)


def local_today() -> date:
    return to_local(utcnow()).date()


def format_date(value: date | datetime | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_local(value).strftime("%H:%M %d/%m/%Y")


def parse_date(text: str | None) -> date | None:
    """Accept dd/mm/yyyy (what people type) and yyyy-mm-dd (what date inputs send)."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)
