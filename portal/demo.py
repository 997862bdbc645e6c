"""A demo ward to try the portal on: Phường Dương Nội (Hà Nội).

The boundaries of its residential groups are invented (marked ``is_demo``); units come
from the sample conclusion notices. Petitions are taken through the real services, with
the clock set back, so every timeline is one the status machine could have produced.
Running the loader twice changes nothing.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

from shapely.geometry import Point, Polygon, box, mapping, shape
from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.accounts.services import create_user
from portal.extensions import db
from portal.meetings import services as meetings
from portal.meetings.models import (
    ConclusionNotice,
    ItemStatus,
    Meeting,
    MeetingKind,
    NoticeItem,
    NoticeItemUnit,
)
from portal.meetings.parser import analyse_item
from portal.monitoring import services as monitoring
from portal.petitions import services
from portal.petitions.models import AssignmentRole, Category, Channel, Petition
from portal.timeutil import frozen_clock, utcnow
from portal.units.models import Area, AreaKind, Unit, UnitLevel, Ward
from portal.units.services import ward_from_registry

WARD_CODE = "09886"

# An invented outline around the real ward (lon, lat), about 3 km by 3 km.
WARD_OUTLINE = [
    (105.7395, 20.9655),
    (105.7580, 20.9620),
    (105.7705, 20.9700),
    (105.7720, 20.9830),
    (105.7650, 20.9945),
    (105.7480, 20.9960),
    (105.7370, 20.9880),
    (105.7345, 20.9750),
]

AREA_NAMES = [
    "Tổ dân phố Nhân Trạch",
    "Tổ dân phố La Dương",
    "Tổ dân phố La Nội",
    "Tổ dân phố Yên Lộ",
    "Tổ dân phố Đồng Dầu",
    "Tổ dân phố Cầu Đơ",
    "Tổ dân phố Ao Sen",
    "Tổ dân phố Nam La Khê",
    "Tổ dân phố Park City",
    "Tổ dân phố An Hưng",
]

CATEGORIES = [
    ("ve-sinh-moi-truong", "Vệ sinh môi trường", "Environmental sanitation"),
    ("thoat-nuoc", "Thoát nước, ngập úng", "Drainage and flooding"),
    ("chieu-sang", "Chiếu sáng công cộng", "Street lighting"),
    ("giao-thong", "Giao thông, đường sá", "Roads and traffic"),
    ("trat-tu-do-thi", "Trật tự đô thị", "Urban order"),
    ("dat-dai", "Đất đai, xây dựng", "Land and construction"),
    ("an-ninh-trat-tu", "An ninh trật tự", "Public security"),
    ("van-hoa-xa-hoi", "Văn hóa, xã hội", "Culture and social affairs"),
    ("khac", "Khác", "Other"),
]

UNITS = [
    ("Ủy ban nhân dân Phường", "UBND Phường", ["UBND", "Ủy ban nhân dân"], UnitLevel.WARD),
    (
        "Phòng Kinh tế, Hạ tầng và Đô thị",
        "Phòng KT-HT-ĐT",
        ["Phòng Kinh tế"],
        UnitLevel.WARD,
    ),
    ("Phòng Văn hóa - Xã hội", "Phòng VH-XH", [], UnitLevel.WARD),
    ("Văn phòng HĐND - UBND Phường", "VP HĐND-UBND", ["Văn phòng HĐND-UBND"], UnitLevel.WARD),
    ("Ủy ban Mặt trận Tổ quốc Phường", "UBMTTQ Phường", ["Ủy ban MTTQ", "MTTQ"], UnitLevel.WARD),
    ("Công an Phường", "CA Phường", ["Công an"], UnitLevel.WARD),
    ("Ủy ban Kiểm tra Đảng ủy", "UBKT Đảng ủy", ["UBKT"], UnitLevel.WARD),
    ("Văn phòng Đảng ủy", "VPĐU", [], UnitLevel.WARD),
    (
        "Công ty CP Tập đoàn Nam Hà Nội",
        "Nam Hà Nội",
        ["đơn vị thu gom rác"],
        UnitLevel.ENTERPRISE,
    ),
    ("UBND Thành phố Hà Nội", "UBND TP", [], UnitLevel.HIGHER),
    ("Sở Xây dựng Hà Nội", "Sở XD", [], UnitLevel.HIGHER),
]

DEMO_PASSWORD = "demo-kien-nghi-2026"  # noqa: S105 - printed for the demo; refused in production
ACCOUNTS = [
    ("admin@demo.kiennghi.vn", "Quản trị viên (demo)", Role.ADMIN, None),
    ("canbo@demo.kiennghi.vn", "Nguyễn Văn Phường (cán bộ UBND, demo)", Role.WARD_STAFF, None),
    (
        "donvi@demo.kiennghi.vn",
        "Trần Thị Hạ Tầng (Phòng KT-HT-ĐT, demo)",
        Role.UNIT_STAFF,
        "Phòng Kinh tế, Hạ tầng và Đô thị",
    ),
    ("mttq@demo.kiennghi.vn", "Lê Thị Mặt Trận (UBMTTQ, demo)", Role.MTTQ, None),
]

PETITION_IDEAS = {
    "ve-sinh-moi-truong": [
        (
            "Điểm rác tự phát đầu ngõ {n}",
            "Rác thải sinh hoạt đổ thành đống, bốc mùi, nhất là buổi tối.",
        ),
        ("Xe thu gom rác không đến {d} ngày", "Rác tồn đọng trước cửa các hộ, ruồi muỗi nhiều."),
        (
            "Phế thải xây dựng đổ trộm ven đường",
            "Có xe chở phế thải đổ trộm ban đêm, lấn ra lòng đường.",
        ),
    ],
    "thoat-nuoc": [
        (
            "Cống thoát nước bị tắc ở ngõ {n}",
            "Mỗi khi mưa to nước ngập đến đầu gối, tràn vào nhà dân.",
        ),
        ("Nắp cống bị vỡ nguy hiểm", "Nắp hố ga vỡ, trẻ em đi học qua rất nguy hiểm."),
    ],
    "chieu-sang": [
        (
            "Đèn đường hỏng tại ngõ {n}",
            "Cả đoạn ngõ tối om từ {d} hôm nay, người dân đi lại khó khăn.",
        ),
        (
            "Cần lắp thêm đèn chiếu sáng khu vui chơi",
            "Khu vui chơi trẻ em không có đèn, buổi tối mất an toàn.",
        ),
    ],
    "giao-thong": [
        (
            "Mặt đường xuống cấp, nhiều ổ gà",
            "Đoạn đường dài khoảng {n}0 m có nhiều ổ gà, xe máy dễ ngã.",
        ),
        ("Đề nghị lắp gương cầu lồi tại ngã ba", "Ngã ba khuất tầm nhìn, đã xảy ra va chạm."),
    ],
    "trat-tu-do-thi": [
        (
            "Lấn chiếm vỉa hè để kinh doanh",
            "Các quán bày bàn ghế kín vỉa hè, người đi bộ phải xuống lòng đường.",
        ),
        ("Trông giữ xe trái phép", "Bãi trông xe tự phát chiếm lối đi chung của tổ dân phố."),
    ],
    "dat-dai": [
        (
            "Chậm cấp giấy chứng nhận quyền sử dụng đất",
            "Hồ sơ nộp từ năm ngoái đến nay chưa có kết quả.",
        ),
        (
            "Xây dựng không phép trên đất nông nghiệp",
            "Có công trình xây dựng trên đất nông nghiệp, chưa thấy xử lý.",
        ),
    ],
    "an-ninh-trat-tu": [
        ("Tụ tập gây ồn ào ban đêm", "Nhóm thanh niên tụ tập, nẹt pô sau 23 giờ."),
    ],
    "van-hoa-xa-hoi": [
        (
            "Đề nghị xây dựng nhà văn hóa tổ dân phố",
            "Tổ dân phố chưa có nhà văn hóa, phải mượn nhà dân để họp.",
        ),
    ],
    "khac": [
        (
            "Loa phát thanh quá to vào sáng sớm",
            "Loa phát thanh phát từ 5 giờ sáng, ảnh hưởng người già và trẻ nhỏ.",
        ),
    ],
}

# How far along each demo petition goes: older petitions are further along, the newest
# are still waiting, as in a real ward. Every status appears.
SCRIPTS = (
    ["closed"] * 8
    + ["resolved"] * 8
    + ["cannot"] * 4
    + ["rejected"] * 3
    + ["in_progress"] * 12
    + ["forwarded"] * 4
    + ["merged"] * 3
    + ["assigned"] * 7
    + ["reviewing"] * 5
    + ["received"] * 6
)


def _geojson(geometry) -> dict:
    """GeoJSON with lists, not tuples, so that it compares equal after a round trip."""
    return json.loads(json.dumps(mapping(geometry)))


def _ward() -> Ward:
    ward = ward_from_registry(WARD_CODE)
    ward.boundary = _geojson(Polygon(WARD_OUTLINE))
    return ward


def _areas(ward: Ward) -> list[Area]:
    outline = Polygon(WARD_OUTLINE)
    west, south, east, north = outline.bounds
    cols, rows = 5, 2
    existing = {a.name: a for a in ward.areas}
    result = []
    for index, name in enumerate(AREA_NAMES):
        row, col = divmod(index, cols)
        cell = box(
            west + (east - west) * col / cols,
            south + (north - south) * row / rows,
            west + (east - west) * (col + 1) / cols,
            south + (north - south) * (row + 1) / rows,
        )
        part = outline.intersection(cell)
        area = existing.get(name) or Area(ward=ward, name=name)
        area.kind = AreaKind.RESIDENTIAL_GROUP
        area.boundary = _geojson(part)
        point = part.representative_point()
        area.centroid_lat, area.centroid_lon = point.y, point.x
        area.sort_order = index
        area.is_demo = True
        db.session.add(area)
        result.append(area)
    return result


def _categories() -> dict[str, Category]:
    found = {c.slug: c for c in db.session.scalars(select(Category))}
    for order, (slug, name, name_en) in enumerate(CATEGORIES):
        category = found.get(slug) or Category(slug=slug, name=name, name_en=name_en)
        category.sort_order = order
        db.session.add(category)
        found[slug] = category
    return found


def _units(ward: Ward) -> dict[str, Unit]:
    found = {u.name: u for u in db.session.scalars(select(Unit))}
    for name, abbreviation, aliases, level in UNITS:
        unit = found.get(name) or Unit(name=name)
        unit.abbreviation, unit.aliases, unit.level = abbreviation, aliases, level
        unit.ward = ward if level == UnitLevel.WARD else None
        db.session.add(unit)
        found[name] = unit
    return found


def _accounts(ward: Ward, units: dict[str, Unit]) -> list[User]:
    users = []
    for email, name, role, unit_name in ACCOUNTS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(
                email=email,
                full_name=name,
                password=DEMO_PASSWORD,
                role=role,
                unit=units.get(unit_name) if unit_name else None,
                ward=ward,
            )
        elif user.ward_id is None:
            # Demo accounts seeded before accounts had a ward: NULL would still mean this
            # ward (a legacy account), but say it.
            user.ward = ward
        users.append(user)
    return users


def _place(rng: random.Random, area: Area) -> tuple[float, float]:
    polygon = shape(area.boundary)
    west, south, east, north = polygon.bounds
    while True:
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if polygon.contains(Point(lon, lat)):
            return round(lat, 6), round(lon, 6)


def _petitions(ward, areas, categories, units, staff, unit_user, rng) -> int:
    start = utcnow() - timedelta(days=200)
    ideas = [(slug, idea) for slug, items in PETITION_IDEAS.items() for idea in items]
    channels = [Channel.WEB] * 5 + [Channel.IN_PERSON, Channel.PHONE, Channel.GROUP_LEADER]
    lead_units = [
        units["Phòng Kinh tế, Hạ tầng và Đô thị"],
        units["Công ty CP Tập đoàn Nam Hà Nội"],
        units["Công an Phường"],
        units["Phòng Văn hóa - Xã hội"],
    ]
    meeting = _meeting(ward, start)
    filed: list[Petition] = []
    for number, script in enumerate(SCRIPTS):
        slug, (title, description) = ideas[number % len(ideas)]
        area = areas[number % len(areas)]
        lat, lon = _place(rng, area)
        moment = start + timedelta(days=number * 3.2, hours=rng.randint(1, 10))
        fill = {"n": rng.randint(2, 180), "d": rng.randint(2, 9)}
        with frozen_clock(moment):
            petition = services.file_petition(
                ward,
                services.Filing(
                    category=categories[slug],
                    title=title.format(**fill),
                    description=description.format(**fill),
                    latitude=lat,
                    longitude=lon,
                    address_text=f"Ngõ {fill['n']}, {area.name}",
                    petitioner_name=f"Người dân demo {number + 1}",
                    petitioner_phone=f"09{rng.randint(10000000, 99999999)}",
                    channel=Channel.MEETING if number < 12 else rng.choice(channels),
                ),
            )
            if number < 12:
                petition.meeting_id = meeting.id
                petition.raised_by = area.name
        filed.append(petition)
        _advance(petition, script, moment, staff, unit_user, lead_units, filed, rng)
    _notice(meeting, units, staff, filed, start)
    _themes_and_repeats(staff, filed)
    return len(filed)


def _themes_and_repeats(staff, filed: list[Petition]) -> None:
    """Group waste petitions under one theme; link petitions that raise a problem again."""
    for petition in filed:
        if petition.category.slug == "ve-sinh-moi-truong":
            meetings.set_theme(petition, staff, "Điểm đen rác thải")
    by_title: dict[str, Petition] = {}
    linked = 0
    for petition in filed:
        earlier = by_title.get(petition.title)
        if earlier is not None and petition.status.is_open and linked < 4:
            meetings.mark_repeat(petition, staff, earlier)
            linked += 1
        by_title[petition.title] = petition


NOTICE_ITEMS = [
    (
        "1.(1)",
        "Phòng Kinh tế, Hạ tầng và Đô thị chủ trì, phối hợp với Công ty CP Tập đoàn Nam Hà "
        "Nội xử lý dứt điểm các điểm đen về rác thải trên địa bàn phường; hoàn thành trước "
        "ngày {d1}.",
        "Phòng Kinh tế, Hạ tầng và Đô thị",
        ["Công ty CP Tập đoàn Nam Hà Nội"],
        "ve-sinh-moi-truong",
        45,
    ),
    (
        "1.(2)",
        "Phòng Kinh tế, Hạ tầng và Đô thị rà soát, nạo vét hệ thống thoát nước các ngõ thường "
        "xuyên ngập úng; dự kiến hoàn thành trong tháng {m2}.",
        "Phòng Kinh tế, Hạ tầng và Đô thị",
        [],
        "thoat-nuoc",
        75,
    ),
    (
        "1.(3)",
        "Phòng Kinh tế, Hạ tầng và Đô thị thay thế đèn chiếu sáng hỏng, bổ sung đèn tại khu "
        "vui chơi; hoàn thành trước ngày {d3}.",
        "Phòng Kinh tế, Hạ tầng và Đô thị",
        [],
        "chieu-sang",
        60,
    ),
    (
        "2.(1)",
        "Công an Phường tăng cường tuần tra, xử lý nghiêm tình trạng tụ tập gây ồn ào ban đêm, "
        "lấn chiếm vỉa hè; báo cáo kết quả vào chiều thứ Sáu hàng tuần.",
        "Công an Phường",
        ["Ủy ban Mặt trận Tổ quốc Phường"],
        "trat-tu-do-thi",
        None,
    ),
    (
        "2.(2)",
        "Văn phòng HĐND - UBND Phường tổng hợp, báo cáo kết quả giải quyết kiến nghị gửi Ủy ban "
        "MTTQ Phường; định kỳ hàng tháng.",
        "Văn phòng HĐND - UBND Phường",
        [],
        "dat-dai",
        30,
    ),
]


def _meeting(ward, start):
    meeting = Meeting(
        ward=ward,
        kind=MeetingKind.DIALOGUE,
        title="Hội nghị tiếp xúc, đối thoại giữa Bí thư Đảng ủy, Chủ tịch UBND phường với "
        "MTTQ, các tổ chức chính trị - xã hội và Nhân dân năm 2026",
        held_on=(start - timedelta(days=1)).date(),
        place="Hội trường UBND phường Dương Nội",
        chair="Đồng chí Bí thư Đảng ủy phường",
        participants="Thường trực Đảng ủy, HĐND, UBND, Ủy ban MTTQ phường; đại diện các tổ "
        "chức chính trị - xã hội; tổ trưởng các tổ dân phố và Nhân dân.",
    )
    db.session.add(meeting)
    db.session.flush()
    return meeting


def _notice(meeting, units, staff, filed, start) -> None:
    """The meeting's conclusion notice: items with units and dates, petitions linked."""
    issued = start + timedelta(days=6)
    dates = {
        "d1": (issued + timedelta(days=60)).date(),
        "m2": (issued + timedelta(days=90)).date(),
        "d3": (issued + timedelta(days=50)).date(),
    }
    fill = {
        "d1": f"{dates['d1']:%d/%m/%Y}",
        "m2": f"{dates['m2']:%m/%Y}",
        "d3": f"{dates['d3']:%d/%m/%Y}",
    }
    with frozen_clock(issued):
        notice = ConclusionNotice(
            meeting=meeting,
            number="15-TB/ĐU",
            issued_on=issued.date(),
            issuer="Đảng ủy phường Dương Nội",
            title="Kết luận của đồng chí Bí thư Đảng ủy tại Hội nghị tiếp xúc, đối thoại năm 2026",
            meeting_date=meeting.held_on,
            full_text="\n\n".join(text.format(**fill) for _r, text, *_rest in NOTICE_ITEMS),
            created_by_id=staff.id,
        )
        db.session.add(notice)
        for position, (ref, text, lead, supports, slug, progress) in enumerate(NOTICE_ITEMS):
            found = analyse_item(text.format(**fill), issued.date())
            item = NoticeItem(
                notice=notice,
                ref=ref,
                position=position,
                text=text.format(**fill),
                deadlines=found["deadlines"],
                recurrences=found["recurrences"],
                persons=found["persons"],
            )
            item.units.append(NoticeItemUnit(unit=units[lead], role=AssignmentRole.LEAD))
            for name in supports:
                item.units.append(NoticeItemUnit(unit=units[name], role=AssignmentRole.SUPPORT))
            db.session.add(item)
            db.session.flush()
            for petition in filed:
                if petition.category.slug == slug and petition.status.value != "merged":
                    item.petitions.append(petition)
            if progress is not None:
                meetings.update_item(
                    item,
                    staff,
                    meetings.ItemUpdate(
                        status=ItemStatus.IN_PROGRESS,
                        progress=progress,
                        note="Đang triển khai theo kế hoạch.",
                        roadmap="Khảo sát; lập kế hoạch; triển khai; kiểm tra, nghiệm thu.",
                        responsible_person="Đ/c Phó Chủ tịch UBND phường phụ trách",
                    ),
                )
    db.session.flush()


def _advance(petition, script, moment, staff, unit_user, lead_units, filed, rng) -> None:
    clock = {"now": moment}
    latest = utcnow() - timedelta(minutes=5)

    def at(func, *args, **kwargs):
        clock["now"] = min(clock["now"] + timedelta(hours=rng.uniform(6, 96)), latest)
        with frozen_clock(clock["now"]):
            func(*args, **kwargs)

    if script == "received":
        return
    if script in ("rejected", "merged"):
        at(services.review, petition, staff)
        if script == "rejected":
            at(
                services.reject,
                petition,
                staff,
                reason="Nội dung không thuộc phạm vi kiến nghị của Phường (tranh chấp dân sự giữa "
                "các hộ); đề nghị công dân liên hệ Tòa án nhân dân khu vực.",
            )
        else:
            target = next(p for p in filed if p.status.value in ("in_progress", "assigned"))
            at(services.merge, petition, staff, into=target)
        return
    at(services.review, petition, staff, internal_note="Đã kiểm tra thực địa.")
    if script == "reviewing":
        return
    lead = unit_user.unit if rng.random() < 0.6 else rng.choice(lead_units)
    expected = (moment + timedelta(days=rng.randint(20, 90))).date()
    at(
        services.assign,
        petition,
        staff,
        services.AssignmentPlan(
            lead_unit=lead,
            support_units=[rng.choice(lead_units)],
            responsible_person=rng.choice(
                ["Đ/c Nguyễn Văn Hùng", "Đ/c Phạm Thị Lan", "Đ/c Hoàng Minh Tuấn"]
            ),
            roadmap="Khảo sát hiện trạng; lập phương án; triển khai thi công; nghiệm thu.",
            expected_on=expected,
        ),
        public_note=f"Giao {lead.name} chủ trì giải quyết.",
    )
    if script == "assigned":
        return
    if script == "forwarded":
        at(
            services.forward,
            petition,
            staff,
            to_body="UBND Thành phố Hà Nội",
            public_note="Nội dung vượt thẩm quyền của Phường; đã chuyển UBND Thành phố.",
        )
        return
    actor = staff if lead.id != unit_user.unit_id else unit_user
    at(
        services.post_update,
        petition,
        actor,
        public_note="Đơn vị đã khảo sát hiện trạng và đang triển khai khắc phục.",
    )
    if script == "in_progress":
        return
    if script == "cannot":
        at(
            services.mark_cannot_resolve,
            petition,
            actor,
            reason="Vị trí nằm trong dự án chưa bàn giao cho địa phương quản lý.",
            recommendation="Đề nghị chủ đầu tư dự án khắc phục; Phường tiếp tục đôn đốc.",
        )
        return
    at(services.resolve, petition, actor, public_note="Đã khắc phục xong, hiện trạng đã sạch sẽ.")
    if script == "closed":
        if rng.random() < 0.5:
            at(monitoring.rate, petition, satisfied=True, comment="Cảm ơn cán bộ phường.")
        else:
            at(services.close, petition, staff, public_note="Kết thúc theo dõi.")
    elif script == "resolved" and rng.random() < 0.25:
        at(monitoring.rate, petition, satisfied=False, comment="Sau một tuần rác lại bị đổ.")


def seed() -> dict:
    """Load the demo ward; safe to run again (nothing is duplicated)."""
    ward = _ward()
    db.session.flush()
    areas = _areas(ward)
    categories = _categories()
    units = _units(ward)
    db.session.flush()
    users = _accounts(ward, units)
    db.session.flush()
    created = 0
    has_petitions = db.session.scalar(
        select(func.count()).select_from(Petition).where(Petition.ward_id == ward.id)
    )
    if not has_petitions:
        staff = next(u for u in users if u.role == Role.WARD_STAFF)
        unit_user = next(u for u in users if u.role == Role.UNIT_STAFF)
        created = _petitions(
            ward, areas, categories, units, staff, unit_user, random.Random(20260625)
        )
    db.session.flush()
    return {"ward": ward.name, "petitions_created": created, "accounts": ACCOUNTS}
