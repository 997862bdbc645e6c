"""How an event is told in e-mail and feeds: the words of the public timeline.

The petitioner's own words (added information, a rating comment, a reason to reopen) may
hold personal details: e-mails to others and feeds leave them out.
"""

from __future__ import annotations

from flask_babel import gettext as _

from portal.petitions.models import EventKind, PetitionEvent
from portal.timeutil import format_date


def petitioner_wrote(event: PetitionEvent) -> bool:
    return event.actor is None and event.actor_kind == "petitioner"


def event_title(event: PetitionEvent) -> str:
    kind = event.kind
    if kind == EventKind.FILED:
        return _("Tiếp nhận kiến nghị")
    if event.is_status_change and event.from_status and event.to_status:
        return _(
            "Chuyển trạng thái: %(from)s → %(to)s",
            **{"from": event.from_status.label, "to": event.to_status.label},
        )
    if kind == EventKind.RATED:
        if (event.data or {}).get("satisfied"):
            return _("Người kiến nghị đánh giá: hài lòng")
        return _("Người kiến nghị đánh giá: chưa hài lòng")
    return {
        EventKind.ASSIGNED: _("Cập nhật đơn vị xử lý"),
        EventKind.INFO_ADDED: _("Người kiến nghị bổ sung thông tin"),
        EventKind.EDITED: _("Chỉnh sửa thông tin"),
        EventKind.FORWARD_REPLY: _("Trả lời của cấp trên"),
        EventKind.PHOTO: _("Ảnh"),
        EventKind.NOTE: _("Theo dõi, phân loại"),
        EventKind.REMARK: _("Ý kiến giám sát của Mặt trận"),
    }.get(kind, _("Cập nhật tiến độ"))


def event_lines(event: PetitionEvent, *, with_note: bool = True) -> list[str]:
    """The public facts of an event, one per line; never internal notes or staff names."""
    data = event.data or {}
    lines = []
    if data.get("lead"):
        units = _("Đơn vị chủ trì: %(unit)s", unit=data["lead"])
        if data.get("support"):
            units += "; " + _("phối hợp: %(units)s", units=", ".join(data["support"]))
        lines.append(units)
    if data.get("expected_on"):
        lines.append(_("Dự kiến hoàn thành: %(date)s.", date=format_date(data["expected_on"])))
    if data.get("to"):
        lines.append(_("Chuyển đến: %(body)s", body=data["to"]))
    if data.get("followers_moved"):
        lines.append(
            _(
                "Những người theo dõi kiến nghị này từ nay nhận tin về kiến nghị %(code)s.",
                code=data["into"],
            )
        )
    if event.public_note and with_note and not petitioner_wrote(event):
        lines.append(event.public_note)
    if data.get("recommendation"):
        lines.append(_("Kiến nghị, đề xuất:") + " " + data["recommendation"])
    return lines
