from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow


class Ward(db.Model):
    """A phường/xã: the lowest administrative level, with its official code."""

    __tablename__ = "ward"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    province_code: Mapped[str] = mapped_column(String(10))
    province_name: Mapped[str] = mapped_column(String(200))
    # GeoJSON geometry (Polygon/MultiPolygon, WGS84); when absent, the union of areas.
    boundary: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    areas: Mapped[list[Area]] = relationship(back_populates="ward", order_by="Area.sort_order")

    def __str__(self) -> str:
        return self.name


class WardRevision(db.Model):
    """A number that goes up with every committed change in the ward's data.

    The public pages' cache (``portal.pagecache``) keys its pages by it: a page made at
    revision 41 is never served once a change made it 42. Bumped at the end of every
    transaction that changed something the public may see (``portal.pagecache``).
    """

    __tablename__ = "ward_revision"

    ward_id: Mapped[int] = mapped_column(
        ForeignKey("ward.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(BigInteger, default=1)
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AreaKind(enum.StrEnum):
    RESIDENTIAL_GROUP = "residential_group"  # tổ dân phố
    NEIGHBORHOOD = "neighborhood"  # khu phố
    HAMLET = "hamlet"  # thôn


class Area(db.Model):
    """A tổ dân phố, khu phố or thôn with its boundary on the map."""

    __tablename__ = "area"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AreaKind] = mapped_column(
        Enum(AreaKind, native_enum=False, length=30), default=AreaKind.RESIDENTIAL_GROUP
    )
    boundary: Mapped[dict | None] = mapped_column(JSON)
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    centroid_lon: Mapped[float | None] = mapped_column(Float)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    ward: Mapped[Ward] = relationship(back_populates="areas")

    def __str__(self) -> str:
        return self.name


class UnitLevel(enum.StrEnum):
    WARD = "ward"
    HIGHER = "higher"
    ENTERPRISE = "enterprise"
    ORGANISATION = "organisation"


class Unit(db.Model):
    """A responsible unit: UBND Phường, Công an Phường, a waste contractor…"""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    abbreviation: Mapped[str | None] = mapped_column(String(50))
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    level: Mapped[UnitLevel] = mapped_column(
        Enum(UnitLevel, native_enum=False, length=20), default=UnitLevel.WARD
    )
    contact_email: Mapped[str | None] = mapped_column(String(254))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.name

    @property
    def short_name(self) -> str:
        return self.abbreviation or self.name


class PlaceKind(enum.StrEnum):
    STREET = "street"  # đường, phố
    LANE = "lane"  # ngõ, ngách, hẻm
    LANDMARK = "landmark"  # chợ, trường, nhà văn hóa…


class Place(db.Model):
    """The ward's own gazetteer: streets, lanes and landmarks, searched before any geocoder."""

    __tablename__ = "place"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PlaceKind] = mapped_column(Enum(PlaceKind, native_enum=False, length=20))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    # Accent-free, lower-case name, for searching "ngo 12 van khe".
    search_key: Mapped[str] = mapped_column(String(200), index=True)

    ward: Mapped[Ward] = relationship()
    area: Mapped[Area | None] = relationship()
