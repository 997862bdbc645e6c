"""Small builders for tests: a ward of two residential groups, units, one user per role."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

from portal.accounts.models import Role
from portal.accounts.services import create_user
from portal.extensions import db
from portal.petitions import services
from portal.petitions.models import Category
from portal.units.models import Area, Unit, UnitLevel, Ward

PASSWORD = "mat-khau-thu-nghiem"

# The ward is the square lon 105.74–105.76, lat 20.97–20.99, cut into a west and an east half.
INSIDE_WEST = (20.98, 105.745)
INSIDE_EAST = (20.98, 105.755)
OUTSIDE = (21.03, 105.85)


def _square(west, south, east, north) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_world() -> SimpleNamespace:
    ward = Ward(
        code="09886",
        name="Phường Dương Nội",
        province_code="01",
        province_name="Thành phố Hà Nội",
        boundary=_square(105.74, 20.97, 105.76, 20.99),
    )
    west = Area(
        ward=ward,
        name="Tổ dân phố Nhân Trạch",
        boundary=_square(105.74, 20.97, 105.75, 20.99),
        sort_order=1,
    )
    east = Area(
        ward=ward,
        name="Tổ dân phố La Dương",
        boundary=_square(105.75, 20.97, 105.76, 20.99),
        sort_order=2,
    )
    categories = {
        slug: Category(slug=slug, name=name, sort_order=i)
        for i, (slug, name) in enumerate(
            [
                ("ve-sinh-moi-truong", "Vệ sinh môi trường"),
                ("thoat-nuoc", "Thoát nước"),
                ("chieu-sang", "Chiếu sáng"),
            ]
        )
    }
    units = {
        "infra": Unit(
            name="Phòng Kinh tế, Hạ tầng và Đô thị", abbreviation="KT-HT-ĐT", level=UnitLevel.WARD
        ),
        "waste": Unit(
            name="Công ty CP Tập đoàn Nam Hà Nội",
            abbreviation="Nam Hà Nội",
            level=UnitLevel.ENTERPRISE,
        ),
        "police": Unit(name="Công an Phường", abbreviation="CA Phường", level=UnitLevel.WARD),
    }
    db.session.add_all([ward, west, east, *categories.values(), *units.values()])
    db.session.flush()
    users = {
        "ward_staff": create_user(
            email="canbo@example.vn",
            full_name="Cán Bộ Phường",
            password=PASSWORD,
            role=Role.WARD_STAFF,
            ward=ward,
        ),
        "unit_staff": create_user(
            email="donvi@example.vn",
            full_name="Cán Bộ Hạ Tầng",
            password=PASSWORD,
            role=Role.UNIT_STAFF,
            unit=units["infra"],
            ward=ward,
        ),
        "other_unit_staff": create_user(
            email="congty@example.vn",
            full_name="Nhân Viên Công Ty",
            password=PASSWORD,
            role=Role.UNIT_STAFF,
            unit=units["waste"],
            ward=ward,
        ),
        "mttq": create_user(
            email="mttq@example.vn",
            full_name="Cán Bộ Mặt Trận",
            password=PASSWORD,
            role=Role.MTTQ,
            ward=ward,
        ),
        "admin": create_user(
            email="admin@example.vn",
            full_name="Quản Trị",
            password=PASSWORD,
            role=Role.ADMIN,
            ward=ward,
        ),
    }
    db.session.flush()
    return SimpleNamespace(
        ward=ward,
        areas=[west, east],
        west=west,
        east=east,
        categories=categories,
        units=units,
        users=users,
    )


# Another ward in the same database (a city runs every ward on one database): Phường
# Hoàn Kiếm, far from the test ward.
OTHER_WARD_CODE = "00070"
OTHER_POINT = (21.03, 105.85)


@contextmanager
def serving(app, code: str):
    """This process as the deployment of the ward ``code`` (what the test's application
    context remembers of the ward, and its calendar, is forgotten on the way in and out)."""
    from flask import g

    from portal import calendar as work_calendar

    before = app.config["PORTAL_WARD_CODE"]

    def forget():
        g.pop("ward", None)
        work_calendar.forget_overrides()

    app.config["PORTAL_WARD_CODE"] = code
    forget()
    try:
        yield
    finally:
        app.config["PORTAL_WARD_CODE"] = before
        forget()


def build_other_ward(world) -> SimpleNamespace:
    """A second ward with a residential group, a unit of its own, staff (one of them in
    ``world``'s shared company) and a point inside it. Categories are the city's."""
    ward = Ward(
        code=OTHER_WARD_CODE,
        name="Phường Hoàn Kiếm",
        province_code="01",
        province_name="Thành phố Hà Nội",
        boundary=_square(105.84, 21.02, 105.86, 21.04),
    )
    area = Area(ward=ward, name="Tổ dân phố số 1", boundary=_square(105.84, 21.02, 105.86, 21.04))
    db.session.add_all([ward, area])
    db.session.flush()
    unit = Unit(ward_id=ward.id, name="Phòng Văn hóa - Xã hội", level=UnitLevel.WARD)
    db.session.add(unit)
    db.session.flush()

    def account(key, role, unit=None):
        return create_user(
            email=f"{key}@hoankiem.example.vn",
            full_name=f"Cán Bộ Hoàn Kiếm {key}",
            password=PASSWORD,
            role=role,
            unit=unit,
            ward=ward,
        )

    users = {
        "ward_staff": account("canbo", Role.WARD_STAFF),
        "unit_staff": account("donvi", Role.UNIT_STAFF, unit),
        # Staff of the company of no ward that also works for the test ward.
        "company_staff": account("congty", Role.UNIT_STAFF, world.units["waste"]),
        "mttq": account("mttq", Role.MTTQ),
        "admin": account("admin", Role.ADMIN),
    }
    db.session.flush()
    return SimpleNamespace(
        ward=ward,
        area=area,
        areas=[area],
        unit=unit,
        units={"own": unit, "waste": world.units["waste"]},
        users=users,
        categories=world.categories,
        point=OTHER_POINT,
    )


def file(world, **overrides):
    """File a petition through the service, as a resident would."""
    lat, lon = overrides.pop("point", getattr(world, "point", INSIDE_WEST))
    filing = services.Filing(
        category=overrides.pop("category", world.categories["ve-sinh-moi-truong"]),
        title=overrides.pop("title", "Điểm rác tự phát đầu ngõ 12"),
        description=overrides.pop("description", "Rác thải sinh hoạt đổ thành đống, bốc mùi."),
        latitude=lat,
        longitude=lon,
        **overrides,
    )
    petition = services.file_petition(world.ward, filing)
    db.session.commit()
    return petition


def assign(world, petition, unit_key="infra", **plan):
    services.assign(
        petition,
        world.users["ward_staff"],
        services.AssignmentPlan(lead_unit=world.units[unit_key], **plan),
    )
    db.session.commit()
    return petition
