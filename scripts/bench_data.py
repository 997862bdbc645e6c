"""Load a city-sized data set into PostgreSQL for ``make bench``.

One database holds every ward of a city (the deployments share it, each serving one ward
through ``PORTAL_WARD_CODE``). By default: 100 wards of Hà Nội (Phường Dương Nội, 09886,
among them), 12 residential groups each with a boundary, 1,000,000 petitions over four
years with their timelines (about five events each), assignments, ratings, meetings with
conclusion notices, notice items and their linked petitions.

    .venv/bin/python scripts/bench_data.py                    # database "bench", 1M petitions
    .venv/bin/python scripts/bench_data.py --petitions 20000  # a quick one

The database is dropped and created again, migrated with Alembic (``flask db upgrade``),
then filled with ``COPY``: secondary indexes are dropped during the load and built again
afterwards, foreign-key triggers are off for the loading session
(``session_replication_role = replica``), and the tables are vacuumed and analysed at
the end. The text is Vietnamese with accents, so that accent-free search means something.
Everything is random but seeded: the same arguments give the same data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_WARD_CODE = "09886"  # Phường Dương Nội, the ward `make bench` serves
BENCH_PASSWORD = "bench-kien-nghi-2026"  # noqa: S105 - a throwaway benchmark database
BENCH_STAFF_EMAIL = "canbo.{code}@bench.kiennghi.vn"
AREAS_PER_WARD = (4, 3)  # columns × rows of residential groups in a ward's square
WARD_SIZE = 0.025  # degrees: a ward is a square of about 2.6 km
GRID_ORIGIN = (105.70, 20.90)  # south-west corner of the 10 × 10 grid of wards
YEARS = 4
EVENTS_PER_STATUS_STEP = 1

# --- words ------------------------------------------------------------------------------

STREETS = [
    "Lê Trọng Tấn",
    "Quang Trung",
    "Tô Hiệu",
    "Nguyễn Trãi",
    "Văn Khê",
    "Phùng Hưng",
    "Trần Phú",
    "Đa Sỹ",
    "Yên Lộ",
    "Bùi Bằng Đoàn",
    "Chu Văn An",
    "Ngô Thì Nhậm",
    "Lê Văn Lương",
    "Tố Hữu",
    "Vạn Phúc",
    "Hoàng Hoa Thám",
    "Đội Cấn",
    "Kim Mã",
    "Nguyễn Chí Thanh",
    "Láng",
    "Trường Chinh",
    "Giải Phóng",
    "Minh Khai",
    "Bạch Mai",
    "Đại La",
    "Kim Ngưu",
    "Lĩnh Nam",
    "Tam Trinh",
    "Nguyễn Văn Cừ",
    "Ngọc Lâm",
    "Đức Giang",
    "Phạm Văn Đồng",
    "Hồ Tùng Mậu",
    "Cầu Giấy",
    "Xuân Thủy",
    "Trần Duy Hưng",
    "Hoàng Quốc Việt",
    "Âu Cơ",
    "Lạc Long Quân",
    "Thụy Khuê",
    "Đê La Thành",
    "Yên Hòa",
]
PLACES = [
    "chợ dân sinh",
    "trường tiểu học",
    "trường mầm non",
    "nhà văn hóa tổ dân phố",
    "trạm y tế phường",
    "khu tập thể",
    "cổng khu đô thị",
    "bến xe buýt",
    "công viên",
    "ao làng",
    "đình làng",
    "sân bóng",
    "bãi đất trống",
    "chung cư",
    "ngã ba",
    "cầu",
]
ISSUES = {
    "ve-sinh-moi-truong": [
        (
            "Điểm rác tự phát {at}",
            "Rác thải sinh hoạt đổ thành đống, bốc mùi hôi thối, nhất là buổi tối.",
        ),
        (
            "Xe thu gom rác không đến {d} ngày",
            "Rác tồn đọng trước cửa các hộ dân, ruồi muỗi rất nhiều.",
        ),
        (
            "Phế thải xây dựng đổ trộm {at}",
            "Có xe chở phế thải đổ trộm ban đêm, lấn ra lòng đường.",
        ),
        ("Đốt rác gây khói bụi {at}", "Người dân đốt rác, lá cây vào chiều tối, khói bay vào nhà."),
        (
            "Nước thải chăn nuôi chảy ra mương",
            "Hộ chăn nuôi lợn xả nước thải, mương đen kịt, hôi thối.",
        ),
    ],
    "thoat-nuoc": [
        ("Cống thoát nước bị tắc {at}", "Mỗi khi mưa to nước ngập đến đầu gối, tràn vào nhà dân."),
        ("Nắp cống bị vỡ {at}", "Nắp hố ga vỡ, trẻ em đi học qua rất nguy hiểm."),
        ("Ngập úng kéo dài sau mưa", "Sau mỗi trận mưa, nước rút rất chậm, đường ngập hai ngày."),
        (
            "Mương thoát nước bồi lắng",
            "Mương lâu ngày không nạo vét, bùn đất bồi lắng, cỏ mọc kín.",
        ),
    ],
    "chieu-sang": [
        ("Đèn đường hỏng {at}", "Cả đoạn đường tối om từ {d} hôm nay, người dân đi lại khó khăn."),
        ("Cần lắp thêm đèn chiếu sáng {at}", "Khu vực không có đèn, buổi tối mất an toàn."),
        ("Đèn đường bật cả ban ngày", "Đèn chiếu sáng bật suốt ngày, lãng phí điện."),
    ],
    "giao-thong": [
        (
            "Mặt đường xuống cấp, nhiều ổ gà {at}",
            "Đoạn đường dài khoảng {d}0 m có nhiều ổ gà, xe máy dễ ngã.",
        ),
        ("Đề nghị lắp gương cầu lồi {at}", "Ngã ba khuất tầm nhìn, đã xảy ra va chạm giữa xe máy."),
        (
            "Đề nghị lắp gờ giảm tốc {at}",
            "Xe chạy tốc độ cao qua khu dân cư, học sinh qua đường nguy hiểm.",
        ),
        ("Biển báo giao thông bị đổ", "Biển báo cấm đỗ xe bị đổ sau cơn bão, chưa được dựng lại."),
    ],
    "trat-tu-do-thi": [
        (
            "Lấn chiếm vỉa hè để kinh doanh {at}",
            "Các quán bày bàn ghế kín vỉa hè, người đi bộ phải xuống lòng đường.",
        ),
        ("Trông giữ xe trái phép {at}", "Bãi trông xe tự phát chiếm lối đi chung của tổ dân phố."),
        (
            "Quảng cáo rao vặt dán tràn lan",
            "Tờ rơi quảng cáo khoan cắt bê tông dán kín cột điện, tường nhà.",
        ),
    ],
    "dat-dai": [
        (
            "Chậm cấp giấy chứng nhận quyền sử dụng đất",
            "Hồ sơ nộp từ năm ngoái đến nay chưa có kết quả, đề nghị trả lời.",
        ),
        (
            "Xây dựng không phép {at}",
            "Có công trình xây dựng trên đất nông nghiệp, chưa thấy xử lý.",
        ),
        ("Tranh chấp lối đi chung", "Hộ liền kề xây tường lấn lối đi chung của ba hộ gia đình."),
    ],
    "an-ninh-trat-tu": [
        (
            "Tụ tập gây ồn ào ban đêm {at}",
            "Nhóm thanh niên tụ tập, nẹt pô, gây mất trật tự sau 23 giờ.",
        ),
        (
            "Trộm cắp xe máy {at}",
            "Trong tháng có {d} vụ mất trộm xe máy, đề nghị tăng cường tuần tra.",
        ),
        (
            "Karaoke gây ồn quá giờ",
            "Quán karaoke hát đến khuya, ảnh hưởng giấc ngủ của người già, trẻ nhỏ.",
        ),
    ],
    "van-hoa-xa-hoi": [
        (
            "Đề nghị xây dựng nhà văn hóa tổ dân phố",
            "Tổ dân phố chưa có nhà văn hóa, phải mượn nhà dân để họp.",
        ),
        (
            "Sân chơi trẻ em xuống cấp {at}",
            "Cầu trượt, xích đu gỉ sét, có nguy cơ gây tai nạn cho trẻ.",
        ),
        (
            "Chậm chi trả trợ cấp người cao tuổi",
            "Một số cụ trên 80 tuổi chưa nhận được trợ cấp tháng {d}.",
        ),
    ],
    "khac": [
        (
            "Loa phát thanh quá to vào sáng sớm",
            "Loa phát thanh phát từ 5 giờ sáng, ảnh hưởng người già và trẻ nhỏ.",
        ),
        ("Cây xanh gãy đổ {at}", "Cây xà cừ gãy cành sau mưa bão, đè lên dây điện."),
        (
            "Dây cáp viễn thông chằng chịt",
            "Dây điện, cáp viễn thông treo thấp, võng xuống lòng ngõ.",
        ),
    ],
}
CATEGORY_WEIGHTS = {
    "ve-sinh-moi-truong": 22,
    "thoat-nuoc": 14,
    "chieu-sang": 10,
    "giao-thong": 14,
    "trat-tu-do-thi": 12,
    "dat-dai": 8,
    "an-ninh-trat-tu": 8,
    "van-hoa-xa-hoi": 6,
    "khac": 6,
}
AREA_PREFIX = "Tổ dân phố số"
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
GIVEN = [
    "Văn An",
    "Thị Bình",
    "Văn Cường",
    "Thị Dung",
    "Minh Đức",
    "Thị Hà",
    "Quang Huy",
    "Thị Lan",
    "Văn Nam",
    "Thị Oanh",
    "Hữu Phúc",
    "Thị Quỳnh",
    "Đức Thắng",
    "Thị Yến",
]
UPDATES = [
    "Đơn vị đã kiểm tra hiện trường và lập kế hoạch xử lý.",
    "Đã làm việc với tổ dân phố, dự kiến hoàn thành trong tháng.",
    "Đang chờ kinh phí sửa chữa từ ngân sách phường.",
    "Đã phối hợp với Công an Phường xử lý vi phạm.",
]
RESOLUTIONS = [
    "Đã thu dọn sạch và bố trí lịch thu gom cố định.",
    "Đã thay mới thiết bị, hoạt động bình thường.",
    "Đã nạo vét, khơi thông dòng chảy.",
    "Đã xử phạt vi phạm hành chính và yêu cầu khắc phục.",
    "Đã sửa chữa xong, mời người dân kiểm tra.",
]

# --- the status a petition of a given age has reached -----------------------------------

# (status, outcome) weights by age in days: older petitions are further along.
OLD = [
    ("closed", 70),
    ("resolved", 4),
    ("cannot_resolve", 6),
    ("rejected", 6),
    ("merged", 2),
    ("forwarded", 3),
    ("in_progress", 1.5),
    ("assigned", 0.5),
    ("reviewing", 0.2),
]
MIDDLE = [
    ("closed", 30),
    ("resolved", 22),
    ("in_progress", 16),
    ("assigned", 10),
    ("forwarded", 6),
    ("reviewing", 4),
    ("rejected", 5),
    ("cannot_resolve", 4),
    ("merged", 1),
    ("received", 2),
]
RECENT = [
    ("received", 25),
    ("reviewing", 18),
    ("assigned", 24),
    ("in_progress", 18),
    ("resolved", 8),
    ("rejected", 4),
    ("merged", 1),
    ("forwarded", 2),
]

# Events each status implies (after "filed"): kind, from, to.
PATHS = {
    "received": [],
    "reviewing": [("status", "received", "reviewing")],
    "rejected": [("status", "received", "reviewing"), ("status", "reviewing", "rejected")],
    "merged": [("status", "received", "merged")],
    "assigned": [("status", "received", "reviewing"), ("status", "reviewing", "assigned")],
    "in_progress": [
        ("status", "received", "reviewing"),
        ("status", "reviewing", "assigned"),
        ("status", "assigned", "in_progress"),
        ("update", None, None),
    ],
    "forwarded": [("status", "received", "reviewing"), ("status", "reviewing", "forwarded")],
    "resolved": [
        ("status", "received", "reviewing"),
        ("status", "reviewing", "assigned"),
        ("status", "assigned", "in_progress"),
        ("status", "in_progress", "resolved"),
    ],
    "cannot_resolve": [
        ("status", "received", "reviewing"),
        ("status", "reviewing", "assigned"),
        ("status", "assigned", "cannot_resolve"),
    ],
    "closed": [
        ("status", "received", "reviewing"),
        ("status", "reviewing", "assigned"),
        ("status", "assigned", "in_progress"),
        ("status", "in_progress", "resolved"),
        ("status", "resolved", "closed"),
    ],
}
ASSIGNED_STATUSES = {"assigned", "in_progress", "resolved", "cannot_resolve", "closed"}


def _up(value: str | None) -> str | None:
    """Enum columns hold the member's name (``RECEIVED``), as SQLAlchemy writes them."""
    return value.upper() if value else None


def _pick(weights: list[tuple[str, float]], rng: random.Random) -> str:
    return rng.choices([w[0] for w in weights], [w[1] for w in weights])[0]


class Folder:
    """``portal.text.fold`` with a cache: the text is made of a few thousand fragments."""

    def __init__(self):
        from portal.text import fold

        self._fold = fold
        self._cache: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        found = self._cache.get(text)
        if found is None:
            found = self._cache[text] = self._fold(text)
        return found


# --- database ---------------------------------------------------------------------------


def recreate_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def migrate(database_url: str) -> None:
    """``flask db upgrade`` against the bench database."""
    from flask_migrate import upgrade

    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))


LOADED_TABLES = (
    "petition",
    "petition_event",
    "assignment",
    "meeting",
    "conclusion_notice",
    "notice_item",
    "notice_item_unit",
    "petition_notice_item",
)


def drop_secondary_indexes(cur) -> list[str]:
    """Drop the indexes not backing a constraint; return their definitions."""
    cur.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        (list(LOADED_TABLES),),
    )
    rows = cur.fetchall()
    for name, _definition in rows:
        cur.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in rows]


# --- the generator ----------------------------------------------------------------------


def ward_codes(count: int) -> list[tuple[str, str]]:
    """(code, name) of ``count`` wards of Hà Nội, Phường Dương Nội first."""
    from vietnam_provinces import Ward

    wards = [(f"{w.code.value:05d}", w.name) for w in Ward.iter_all() if w.province_code.value == 1]
    wards.sort(key=lambda w: (w[0] != BENCH_WARD_CODE, w[0]))
    if count > len(wards):
        raise SystemExit(f"Hà Nội has {len(wards)} wards and communes; asked for {count}.")
    return wards[:count]


def square(west, south, east, north) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def load(database_url: str, *, petitions: int, wards: int, seed: int) -> dict:
    import psycopg
    from werkzeug.security import generate_password_hash

    from portal.demo import CATEGORIES, UNITS
    from portal.units.models import UnitLevel

    rng = random.Random(seed)
    fold = Folder()
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    started = time.monotonic()
    now = datetime.now(UTC).replace(tzinfo=None)
    first_day = now - timedelta(days=365 * YEARS)
    stats: dict[str, int] = {}

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers while loading
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET synchronous_commit = off")
        index_definitions = drop_secondary_indexes(cur)

        # Categories, shared by every ward.
        category_ids = {}
        for order, (slug, name, name_en) in enumerate(CATEGORIES):
            cur.execute(
                "INSERT INTO category (slug, name, name_en, sort_order, active) "
                "VALUES (%s, %s, %s, %s, true) RETURNING id",
                (slug, name, name_en, order),
            )
            category_ids[slug] = cur.fetchone()[0]
        slugs = list(CATEGORY_WEIGHTS)
        slug_weights = [CATEGORY_WEIGHTS[s] for s in slugs]

        # City-level units (no ward) shared by all; ward-level units per ward.
        shared_units = []
        for name, abbreviation, aliases, level in UNITS:
            if level == UnitLevel.WARD:
                continue
            cur.execute(
                "INSERT INTO unit (name, abbreviation, aliases, level, active) "
                "VALUES (%s, %s, %s, %s, true) RETURNING id",
                (name, abbreviation, json.dumps(aliases), level.name),
            )
            shared_units.append(cur.fetchone()[0])

        password_hash = generate_password_hash(BENCH_PASSWORD)
        ward_rows = []  # (ward_id, code, areas[(id, name, west, south, east, north)], units)
        cols, rows = AREAS_PER_WARD
        for index, (code, ward_name) in enumerate(ward_codes(wards)):
            gx, gy = index % 10, index // 10
            west = GRID_ORIGIN[0] + gx * WARD_SIZE
            south = GRID_ORIGIN[1] + gy * WARD_SIZE
            cur.execute(
                "INSERT INTO ward (code, name, province_code, province_name, boundary, created_at)"
                " VALUES (%s, %s, '01', 'Thành phố Hà Nội', %s, %s) RETURNING id",
                (
                    code,
                    ward_name,
                    json.dumps(square(west, south, west + WARD_SIZE, south + WARD_SIZE)),
                    first_day,
                ),
            )
            ward_id = cur.fetchone()[0]
            areas = []
            for a in range(cols * rows):
                row, col = divmod(a, cols)
                w = west + WARD_SIZE * col / cols
                s = south + WARD_SIZE * row / rows
                e, n = w + WARD_SIZE / cols, s + WARD_SIZE / rows
                name = f"{AREA_PREFIX} {a + 1}"
                cur.execute(
                    "INSERT INTO area (ward_id, name, kind, boundary, centroid_lat, centroid_lon,"
                    " sort_order, is_demo) VALUES (%s, %s, 'RESIDENTIAL_GROUP', %s, %s, %s, %s,"
                    " true) RETURNING id",
                    (ward_id, name, json.dumps(square(w, s, e, n)), (s + n) / 2, (w + e) / 2, a),
                )
                areas.append((cur.fetchone()[0], name, w, s, e, n))
            units = []
            for name, abbreviation, aliases, level in UNITS:
                if level != UnitLevel.WARD:
                    continue
                cur.execute(
                    "INSERT INTO unit (ward_id, name, abbreviation, aliases, level, active) "
                    "VALUES (%s, %s, %s, %s, 'WARD', true) RETURNING id",
                    (ward_id, name, abbreviation, json.dumps(aliases)),
                )
                units.append(cur.fetchone()[0])
            cur.execute(
                "INSERT INTO user_account (email, full_name, password_hash, role, ward_id, active,"
                " created_at, failed_login_count) VALUES (%s, %s, %s, 'WARD_STAFF', %s, true,"
                " %s, 0) RETURNING id",
                (
                    BENCH_STAFF_EMAIL.format(code=code),
                    f"Cán bộ {ward_name}",
                    password_hash,
                    ward_id,
                    first_day,
                ),
            )
            staff_id = cur.fetchone()[0]
            ward_rows.append((ward_id, code, areas, units + shared_units, staff_id))
        stats["wards"] = len(ward_rows)
        stats["areas"] = sum(len(w[2]) for w in ward_rows)

        # Meetings: one dialogue a year per ward, a notice with eight items.
        meetings: dict[tuple[int, int], int] = {}
        items_by_ward: dict[int, list[int]] = {}
        meeting_rows = notice_rows = 0
        for ward_id, _code, _areas, units, staff_id in ward_rows:
            items_by_ward[ward_id] = []
            for year in range(first_day.year + 1, now.year + 1):
                held = date(year, 6, 15)
                cur.execute(
                    "INSERT INTO meeting (ward_id, kind, title, held_on, place, chair, created_at,"
                    " created_by_id) VALUES (%s, 'DIALOGUE', %s, %s, %s, %s, %s, %s) RETURNING id",
                    (
                        ward_id,
                        f"Hội nghị tiếp xúc, đối thoại với nhân dân năm {year}",
                        held,
                        "Hội trường UBND phường",
                        "Chủ tịch UBND phường",
                        datetime(year, 6, 15, 2),
                        staff_id,
                    ),
                )
                meeting_id = cur.fetchone()[0]
                meetings[(ward_id, year)] = meeting_id
                meeting_rows += 1
                cur.execute(
                    "INSERT INTO conclusion_notice (ward_id, meeting_id, number, issued_on, issuer,"
                    " title, meeting_date, full_text, created_at, created_by_id) VALUES"
                    " (%s, %s, %s, %s, 'Đảng ủy phường', %s, %s, %s, %s, %s) RETURNING id",
                    (
                        ward_id,
                        meeting_id,
                        f"{rng.randint(1, 99):02d}-TB/ĐU",
                        held + timedelta(days=10),
                        f"Thông báo kết luận hội nghị đối thoại năm {year}",
                        held,
                        "Thông báo kết luận (dữ liệu đo hiệu năng).",
                        datetime(year, 6, 25, 2),
                        staff_id,
                    ),
                )
                notice_id = cur.fetchone()[0]
                notice_rows += 1
                for position in range(8):
                    due = held + timedelta(days=rng.randint(30, 240))
                    if due < now.date() - timedelta(days=60):
                        status = rng.choice(["DONE", "DONE", "DONE", "CANNOT", "IN_PROGRESS"])
                    else:
                        status = rng.choice(["PENDING", "IN_PROGRESS", "IN_PROGRESS", "DONE"])
                    slug = rng.choices(slugs, slug_weights)[0]
                    title = rng.choice(ISSUES[slug])[0].format(at="trên địa bàn", d=3)
                    cur.execute(
                        "INSERT INTO notice_item (notice_id, ref, position, text, persons,"
                        " deadlines, recurrences, status, progress, competence, created_at,"
                        " updated_at) VALUES (%s, %s, %s, %s, '[]', %s, '[]', %s, %s, 'WARD',"
                        " %s, %s) RETURNING id",
                        (
                            notice_id,
                            f"{position + 1}.",
                            position,
                            f"Giao {rng.choice(['UBND Phường', 'Công an Phường'])} xử lý: "
                            f"{title}; hoàn thành trước ngày {due:%d/%m/%Y}.",
                            json.dumps([{"date": due.isoformat(), "kind": "before"}]),
                            status,
                            100 if status == "DONE" else rng.choice([0, 30, 60]),
                            datetime(year, 6, 25, 2),
                            datetime(year, 6, 25, 2),
                        ),
                    )
                    item_id = cur.fetchone()[0]
                    items_by_ward[ward_id].append(item_id)
                    cur.execute(
                        "INSERT INTO notice_item_unit (item_id, unit_id, role) "
                        "VALUES (%s, %s, 'LEAD')",
                        (item_id, rng.choice(units)),
                    )
        stats["meetings"], stats["notices"] = meeting_rows, notice_rows
        stats["notice_items"] = sum(len(v) for v in items_by_ward.values())
        conn.commit()
        print(f"  wards, areas, units, meetings: {time.monotonic() - started:.0f} s", flush=True)

        # Petitions in order of filing, so codes follow the calendar like the real ones.
        span = (now - first_day).total_seconds()
        moments = sorted(rng.random() for _ in range(petitions))
        counters: dict[int, int] = {}
        petition_cols = (
            "id, code, ward_id, title, description, category_id, area_id, latitude, longitude,"
            " address_text, channel, petitioner_name, petitioner_phone, petitioner_email,"
            " show_name_publicly, status, outcome, expected_on, reply_due_on, resolve_due_on,"
            " satisfied, rating_comment, rated_at, outcome_note, recommendation, forwarded_to,"
            " merged_into_id, repeat_of_id, competence, meeting_id, created_at, updated_at,"
            " resolved_at, closed_at, version, private_token, search_key"
        )
        event_cols = (
            "petition_id, created_at, actor_id, actor_kind, kind, from_status, to_status,"
            " public_note, internal_note, petition_version, data"
        )
        assignment_cols = (
            "petition_id, unit_id, role, responsible_person, roadmap, expected_on, created_at"
        )
        links = []
        last_in_ward: dict[int, int] = {}
        events = assignments = 0
        petition_buffer: list[tuple] = []
        event_buffer: list[tuple] = []
        assignment_buffer: list[tuple] = []
        for number, fraction in enumerate(moments, start=1):
            created = first_day + timedelta(seconds=fraction * span)
            age = (now - created).days
            ward_id, _code, areas, units, staff_id = ward_rows[rng.randrange(len(ward_rows))]
            area_id, area_name, w, s, e, n = areas[rng.randrange(len(areas))]
            slug = rng.choices(slugs, slug_weights)[0]
            title_t, description_t = rng.choice(ISSUES[slug])
            street = rng.choice(STREETS)
            lane = rng.randint(1, 180)
            at = rng.choice(
                [
                    f"đầu ngõ {lane} {street}",
                    f"trước số nhà {lane} {street}",
                    f"gần {rng.choice(PLACES)}",
                    f"đường {street}",
                ]
            )
            d = rng.randint(2, 9)
            title = title_t.format(at=at, d=d)
            description = description_t.format(d=d)
            if rng.random() < 0.5:
                who = rng.choice(["phường", "các cơ quan chức năng", "đơn vị"])
                description += f" Đề nghị {who} sớm kiểm tra, xử lý."
            address = f"Ngõ {lane} {street}"
            year = created.year
            counters[year] = counters.get(year, 0) + 1
            code = f"KN-{year}-{counters[year]:05d}"
            status = _pick(OLD if age > 120 else MIDDLE if age > 30 else RECENT, rng)
            path = PATHS[status]
            step = timedelta(days=max(age, 1) / (len(path) + 2))
            moment = created
            version = 1
            # The timeline: filed, then each step of the path.
            event_buffer.append(
                (
                    number,
                    created,
                    None,
                    "petitioner",
                    "FILED",
                    None,
                    "RECEIVED",
                    None,
                    None,
                    1,
                    '{"channel": "web"}',
                )
            )
            resolved_at = closed_at = None
            outcome = outcome_note = recommendation = forwarded_to = None
            for kind, from_status, to_status in path:
                moment = moment + step * rng.uniform(0.3, 1.0)
                version += 1
                note = None
                data = "{}"
                if kind == "update":
                    note = rng.choice(UPDATES)
                elif to_status == "resolved":
                    note = rng.choice(RESOLUTIONS)
                    resolved_at, outcome, outcome_note = moment, "DONE", note
                elif to_status == "closed":
                    closed_at = moment
                elif to_status == "rejected":
                    note = "Nội dung không thuộc phạm vi tiếp nhận kiến nghị."
                    outcome, outcome_note = "REJECTED", note
                elif to_status == "cannot_resolve":
                    note = "Chưa bố trí được kinh phí trong năm nay."
                    outcome, outcome_note = "CANNOT", note
                    recommendation = "Đề nghị đưa vào kế hoạch đầu tư công năm sau."
                elif to_status == "forwarded":
                    forwarded_to = "UBND Thành phố Hà Nội"
                    data = '{"to": "UBND Thành phố Hà Nội"}'
                elif to_status == "merged":
                    outcome = "MERGED"
                event_buffer.append(
                    (
                        number,
                        moment,
                        staff_id,
                        "staff",
                        kind.upper(),
                        _up(from_status),
                        _up(to_status),
                        note,
                        None,
                        version,
                        data,
                    )
                )
            satisfied = rating_comment = rated_at = None
            if status == "closed" and rng.random() < 0.35:
                satisfied = rng.random() < 0.8
                rated_at = closed_at
                if not satisfied:
                    rating_comment = "Vấn đề vẫn tái diễn sau một thời gian."
                version += 1
                event_buffer.append(
                    (
                        number,
                        closed_at,
                        None,
                        "petitioner",
                        "RATED",
                        None,
                        None,
                        rating_comment,
                        None,
                        version,
                        json.dumps({"satisfied": satisfied}),
                    )
                )
            expected_on = None
            if status in ASSIGNED_STATUSES:
                expected_on = (created + timedelta(days=rng.randint(10, 150))).date()
                assignment_buffer.append(
                    (
                        number,
                        rng.choice(units),
                        "LEAD",
                        f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                        "Kiểm tra hiện trường, lập phương án, tổ chức thực hiện.",
                        expected_on,
                        created + step,
                    )
                )
            merged_into = None
            if status == "merged" and ward_id in last_in_ward:
                merged_into = last_in_ward[ward_id]
            repeat_of = None
            if ward_id in last_in_ward and rng.random() < 0.005:
                repeat_of = last_in_ward[ward_id]
            last_in_ward[ward_id] = number
            meeting_id = None
            channel = "WEB"
            if rng.random() < 0.03 and (ward_id, year) in meetings:
                meeting_id = meetings[(ward_id, year)]
                channel = "MEETING"
                if rng.random() < 0.3 and items_by_ward[ward_id]:
                    links.append((number, rng.choice(items_by_ward[ward_id])))
            name = f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}"
            lat = rng.uniform(s, n)
            lon = rng.uniform(w, e)
            key = " ".join(fold(part) for part in (code, title, description, address, area_name))
            petition_buffer.append(
                (
                    number,
                    code,
                    ward_id,
                    title,
                    description,
                    category_ids[slug],
                    area_id,
                    lat,
                    lon,
                    address,
                    channel,
                    name,
                    f"09{rng.randrange(10**8):08d}",
                    None,
                    False,
                    status.upper(),
                    outcome,
                    expected_on,
                    (created + timedelta(days=7)).date(),
                    (created + timedelta(days=28)).date(),
                    satisfied,
                    rating_comment,
                    rated_at,
                    outcome_note,
                    recommendation,
                    forwarded_to,
                    merged_into,
                    repeat_of,
                    "HIGHER" if forwarded_to else "WARD",
                    meeting_id,
                    created,
                    moment,
                    resolved_at,
                    closed_at,
                    version,
                    secrets.token_urlsafe(24),
                    key,
                )
            )
            if number % 50_000 == 0:
                _copy(cur, "petition", petition_cols, petition_buffer)
                events += _copy(cur, "petition_event", event_cols, event_buffer)
                assignments += _copy(cur, "assignment", assignment_cols, assignment_buffer)
                if number % 100_000 == 0:
                    print(
                        f"  {number:,} petitions: {time.monotonic() - started:.0f} s",
                        flush=True,
                    )
        _copy(cur, "petition", petition_cols, petition_buffer)
        events += _copy(cur, "petition_event", event_cols, event_buffer)
        assignments += _copy(cur, "assignment", assignment_cols, assignment_buffer)
        _copy(cur, "petition_notice_item", "petition_id, item_id", sorted(set(links)))
        stats.update(petitions=petitions, events=events, assignments=assignments)
        cur.execute(f"SELECT setval('petition_id_seq', {petitions})")
        for year, value in counters.items():
            cur.execute(
                "INSERT INTO code_counter (key, value) VALUES (%s, %s)", (f"KN-{year}", value)
            )
        conn.commit()
        print(f"  loaded: {time.monotonic() - started:.0f} s; building indexes", flush=True)
        for definition in index_definitions:
            cur.execute(definition)
        conn.commit()
        print(f"  indexes: {time.monotonic() - started:.0f} s", flush=True)
    # VACUUM outside a transaction: fresh visibility maps allow index-only scans.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    stats["seconds"] = round(time.monotonic() - started)
    return stats


def _copy(cur, table: str, columns: str, rows: list) -> int:
    count = len(rows)
    if rows:
        with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        rows.clear()
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="bench", help="database name (dropped first)")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_ADMIN_URL", DEFAULT_ADMIN_URL),
        help="a PostgreSQL URL allowed to create databases",
    )
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--wards", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    database_url = args.admin_url.rsplit("/", 1)[0] + f"/{args.database}"
    database_url = database_url.replace("postgresql://", "postgresql+psycopg://")
    print(f"Database {args.database}: dropped and created again, then migrated.", flush=True)
    recreate_database(
        args.admin_url.replace("postgresql+psycopg://", "postgresql://"), args.database
    )
    migrate(database_url)
    stats = load(database_url, petitions=args.petitions, wards=args.wards, seed=args.seed)
    print(", ".join(f"{k}: {v:,}" for k, v in stats.items()))
    print(f"DATABASE_URL={database_url} PORTAL_WARD_CODE={BENCH_WARD_CODE}")
    print(f"Staff: {BENCH_STAFF_EMAIL.format(code=BENCH_WARD_CODE)} / {BENCH_PASSWORD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
