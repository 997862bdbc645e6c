"""The dashboard's tables as an .xlsx workbook, one sheet per table."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from portal.monitoring.services import Dashboard


def _sheet(workbook, title: str, header: list[str], rows: list[list]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(name) + 4)


def dashboard_xlsx(data: Dashboard) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    _sheet(
        workbook,
        "Trạng thái",
        ["Trạng thái", "Số kiến nghị"],
        [[status.label, count] for status, count in sorted(data.by_status.items())],
    )
    _sheet(
        workbook,
        "Đơn vị",
        [
            "Đơn vị",
            "Được giao",
            "Đã giải quyết",
            "Đúng hạn",
            "Tỷ lệ đúng hạn (%)",
            "Trung vị ngày làm việc",
            "Đang quá hạn",
        ],
        [
            [
                r.unit.name,
                r.assigned,
                r.resolved,
                r.on_time,
                r.on_time_rate,
                r.median_days,
                r.overdue,
            ]
            for r in data.units
        ],
    )
    for title, rows in (("Tổ dân phố", data.areas), ("Lĩnh vực", data.categories)):
        _sheet(
            workbook,
            title,
            [title, "Tổng số", "Đang xử lý", "Đã giải quyết", "Quá hạn"],
            [[r.name, r.total, r.open, r.resolved, r.overdue] for r in rows],
        )
    _sheet(
        workbook,
        "Quá hạn",
        ["Mã", "Tiêu đề", "Trạng thái", "Đơn vị chủ trì", "Hạn"],
        [
            [
                p.code,
                p.title,
                p.status.label,
                p.lead_assignment.unit.name if p.lead_assignment else "",
                p.due_on,
            ]
            for p in data.overdue
        ],
    )
    for row in workbook["Quá hạn"].iter_rows(min_row=2, min_col=5, max_col=5):
        row[0].number_format = "dd/mm/yyyy"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
