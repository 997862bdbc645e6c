"""Open data: every public petition and its public timeline as CSV and JSON.

Only what the public pages show, and less: no petitioner's name (even with consent),
phone, email or address, no internal notes, no photos. Licence: CC BY 4.0.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.petitions.models import Petition
from portal.petitions.services import in_current_ward
from portal.timeutil import to_local

LICENCE = "CC BY 4.0"

PETITION_FIELDS = [
    ("code", "Mã kiến nghị"),
    ("title", "Tiêu đề"),
    ("description", "Nội dung"),
    ("category", "Lĩnh vực"),
    ("area", "Tổ dân phố"),
    ("latitude", "Vĩ độ (WGS84)"),
    ("longitude", "Kinh độ (WGS84)"),
    ("place", "Địa điểm (do người kiến nghị mô tả)"),
    ("channel", "Kênh tiếp nhận"),
    ("status", "Trạng thái (mã)"),
    ("status_label", "Trạng thái"),
    ("lead_unit", "Đơn vị chủ trì"),
    ("expected_on", "Dự kiến hoàn thành (YYYY-MM-DD)"),
    ("created_at", "Thời điểm tiếp nhận (giờ Việt Nam, ISO 8601)"),
    ("resolved_at", "Thời điểm giải quyết"),
    ("closed_at", "Thời điểm đóng"),
    ("outcome_note", "Kết quả hoặc lý do (công khai)"),
]

EVENT_FIELDS = [
    ("code", "Mã kiến nghị"),
    ("at", "Thời điểm (giờ Việt Nam, ISO 8601)"),
    ("kind", "Loại sự kiện"),
    ("from_status", "Từ trạng thái"),
    ("to_status", "Sang trạng thái"),
    ("public_note", "Ghi chú công khai"),
]


def _iso(moment) -> str | None:
    return to_local(moment).isoformat(timespec="seconds") if moment else None


def _petitions():
    return db.session.scalars(
        in_current_ward(select(Petition))
        .order_by(Petition.id)
        .options(selectinload(Petition.events), selectinload(Petition.assignments))
    )


def petition_rows():
    for p in _petitions():
        lead = p.lead_assignment
        yield {
            "code": p.code,
            "title": p.title,
            "description": p.description,
            "category": p.category.name,
            "area": p.area.name if p.area else None,
            "latitude": p.latitude,
            "longitude": p.longitude,
            "place": p.address_text,
            "channel": p.channel.value,
            "status": p.status.value,
            "status_label": p.status.label,
            "lead_unit": lead.unit.name if lead else None,
            "expected_on": p.expected_on.isoformat() if p.expected_on else None,
            "created_at": _iso(p.created_at),
            "resolved_at": _iso(p.resolved_at),
            "closed_at": _iso(p.closed_at),
            "outcome_note": p.outcome_note if p.outcome else None,
        }


def event_rows():
    for p in _petitions():
        for e in p.public_events:
            yield {
                "code": p.code,
                "at": _iso(e.created_at),
                "kind": e.kind.value,
                "from_status": e.from_status.value if e.from_status else None,
                "to_status": e.to_status.value if e.to_status else None,
                "public_note": e.public_note,
            }


def to_csv(rows, fields) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[name for name, _label in fields])
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    # A BOM so that spreadsheet programs read Vietnamese as UTF-8.
    return "\ufeff" + buffer.getvalue()
