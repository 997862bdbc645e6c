"""The report back on petitions in three groups (báo cáo kết quả giải quyết kiến nghị).

:func:`build_report` gathers the petitions of a meeting, a period or all of them and sorts
them into the three groups the ward reports to the dialogue meeting (done, in progress,
cannot be done), each split into what lies within the ward's competence and what a higher
level answered. :func:`to_docx` lays the report out as an administrative document
(Decree 30/2020/NĐ-CP) and :func:`to_xlsx` as a workbook to sort and filter.

The documents are always in Vietnamese, whatever the reader's language. Personal data of
petitioners is carried only when asked for (staff), is shown on the page and in the
workbook then, and never printed in the .docx, which goes to MTTQ and residential groups.
"""

from __future__ import annotations

import enum
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.meetings.models import ConclusionNotice, Meeting, NoticeItem, petition_notice_item
from portal.petitions.models import (
    Assignment,
    Channel,
    Competence,
    Outcome,
    Petition,
    Status,
)
from portal.timeutil import LOCAL_TZ, local_today, to_local
from portal.units.models import Ward

S = Status


class Group(enum.IntEnum):
    DONE = 1
    IN_PROGRESS = 2
    CANNOT = 3

    @property
    def label(self) -> str:
        return str(GROUP_LABELS[self])


GROUP_LABELS = {
    Group.DONE: _l("đã thực hiện xong"),
    Group.IN_PROGRESS: _l("đang thực hiện"),
    Group.CANNOT: _l("không thực hiện được"),
}


class Split(enum.StrEnum):
    """Within the ward's competence, or answered by (forwarded to) a higher level."""

    WARD = "ward"
    HIGHER = "higher"

    @property
    def label(self) -> str:
        return str(SPLIT_LABELS[self])


SPLIT_LABELS = {
    Split.WARD: _l("thuộc thẩm quyền Phường"),
    Split.HIGHER: _l("trả lời của cấp trên"),
}

EXCLUDED_STATUSES = (S.REJECTED, S.MERGED)
IN_PROGRESS_STATUSES = frozenset({S.RECEIVED, S.REVIEWING, S.ASSIGNED, S.IN_PROGRESS})


def classify(petition: Petition) -> Group | None:
    """The report group of a petition, or None when it is left out (rejected, merged).

    A forwarded petition stays in progress until it is resolved, marked cannot or closed,
    even once the higher level has replied: the reply alone does not settle it. One closed
    straight from forwarded counts as done when the reply came, and as in progress when it
    never did, so that a matter nobody answered is not reported as settled.
    """
    status = petition.status
    if status in EXCLUDED_STATUSES:
        return None
    if status == S.RESOLVED:
        return Group.DONE
    if status == S.CANNOT_RESOLVE:
        return Group.CANNOT
    if status == S.CLOSED:
        if petition.outcome == Outcome.CANNOT:
            return Group.CANNOT
        if petition.outcome == Outcome.DONE or (petition.forward_reply or "").strip():
            return Group.DONE
        return Group.IN_PROGRESS
    if status == S.FORWARDED or status in IN_PROGRESS_STATUSES:
        return Group.IN_PROGRESS
    return None


def split_of(petition: Petition) -> Split:
    if petition.competence == Competence.HIGHER or petition.forwarded_to:
        return Split.HIGHER
    return Split.WARD


@dataclass(frozen=True)
class Petitioner:
    """Personal data: only in a report built with ``include_personal=True``."""

    name: str | None
    phone: str | None
    email: str | None
    address: str | None


@dataclass(frozen=True)
class ReportRow:
    code: str
    title: str
    category: str
    area: str | None
    raised_by: str | None
    channel: Channel
    status: Status
    created_on: date
    lead_unit: str | None
    responsible_person: str | None
    roadmap: str | None
    expected_on: date | None
    outcome_note: str | None
    recommendation: str | None
    forwarded_to: str | None
    forward_reply: str | None
    notice_refs: tuple[str, ...]
    group: Group
    split: Split
    petitioner: Petitioner | None = None

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def source(self) -> str:
        """Who raised it (a residential group, an organisation) or else the channel."""
        return self.raised_by or self.channel.label

    @property
    def expected_text(self) -> str:
        return self.expected_on.strftime("%d/%m/%Y") if self.expected_on else ""


@dataclass
class GroupBlock:
    group: Group
    ward: list[ReportRow] = field(default_factory=list)
    higher: list[ReportRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.group.label

    @property
    def count(self) -> int:
        return len(self.ward) + len(self.higher)

    @property
    def splits(self) -> list[tuple[Split, list[ReportRow]]]:
        return [(Split.WARD, self.ward), (Split.HIGHER, self.higher)]

    def rows(self, split: Split | None = None) -> list[ReportRow]:
        if split is None:
            return sorted(self.ward + self.higher, key=lambda r: r.code)
        return self.ward if split == Split.WARD else self.higher


@dataclass
class Report:
    ward_name: str
    groups: list[GroupBlock]
    generated_on: date
    meeting_id: int | None = None
    meeting_title: str | None = None
    meeting_held_on: date | None = None
    start: date | None = None
    end: date | None = None
    include_personal: bool = False

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def rows(self) -> list[ReportRow]:
        return sorted((r for g in self.groups for r in g.rows()), key=lambda r: r.code)

    def block(self, group: Group) -> GroupBlock:
        return self.groups[int(group) - 1]

    def count(self, group: Group | None = None, split: Split | None = None) -> int:
        blocks = self.groups if group is None else [self.block(group)]
        return sum(len(b.rows(split)) if split else b.count for b in blocks)

    @property
    def counts(self) -> dict[Group, dict[Split, int]]:
        return {b.group: {s: len(rows) for s, rows in b.splits} for b in self.groups}

    @property
    def split_totals(self) -> dict[Split, int]:
        return {s: self.count(split=s) for s in Split}


# --- building ---------------------------------------------------------------------------


def _utc_start_of(day: date) -> datetime:
    """The naive UTC moment at which the local (Asia/Ho_Chi_Minh) day begins."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def _meeting_petition_ids(meeting: Meeting):
    return (
        select(petition_notice_item.c.petition_id)
        .join(NoticeItem, NoticeItem.id == petition_notice_item.c.item_id)
        .join(ConclusionNotice, ConclusionNotice.id == NoticeItem.notice_id)
        .where(ConclusionNotice.meeting_id == meeting.id)
    )


def _notice_refs(petition_ids: list[int]) -> dict[int, list[str]]:
    """Each petition's linked notice items, written as "07-TB/BCĐ 2.(1)"."""
    refs: dict[int, list[str]] = defaultdict(list)
    if not petition_ids:
        return refs
    rows = db.session.execute(
        select(petition_notice_item.c.petition_id, ConclusionNotice.number, NoticeItem.ref)
        .join(NoticeItem, NoticeItem.id == petition_notice_item.c.item_id)
        .join(ConclusionNotice, ConclusionNotice.id == NoticeItem.notice_id)
        .where(petition_notice_item.c.petition_id.in_(petition_ids))
        .order_by(ConclusionNotice.issued_on, ConclusionNotice.id, NoticeItem.position)
    )
    for petition_id, number, ref in rows:
        label = f"{number} {ref}" if number else ref
        if label not in refs[petition_id]:
            refs[petition_id].append(label)
    return refs


def _row(petition: Petition, group: Group, refs: list[str], include_personal: bool) -> ReportRow:
    lead = petition.lead_assignment
    settled = petition.outcome in (Outcome.DONE, Outcome.CANNOT)
    return ReportRow(
        code=petition.code,
        title=petition.title,
        category=petition.category.name,
        area=petition.area.name if petition.area else None,
        raised_by=petition.raised_by,
        channel=petition.channel,
        status=petition.status,
        created_on=to_local(petition.created_at).date(),
        lead_unit=lead.unit.name if lead else None,
        responsible_person=lead.responsible_person if lead else None,
        roadmap=lead.roadmap if lead else None,
        expected_on=petition.expected_on or (lead.expected_on if lead else None),
        # A reopened petition keeps its old note in the column; it no longer applies.
        outcome_note=petition.outcome_note if settled else None,
        recommendation=petition.recommendation if petition.outcome == Outcome.CANNOT else None,
        forwarded_to=petition.forwarded_to,
        forward_reply=petition.forward_reply,
        notice_refs=tuple(refs),
        group=group,
        split=split_of(petition),
        petitioner=Petitioner(
            name=petition.petitioner_name,
            phone=petition.petitioner_phone,
            email=petition.petitioner_email,
            address=petition.petitioner_address,
        )
        if include_personal
        else None,
    )


def build_report(
    *,
    meeting: Meeting | None = None,
    start: date | None = None,
    end: date | None = None,
    ward: Ward,
    include_personal: bool = False,
) -> Report:
    """Sort the ward's petitions in scope into the three groups.

    Scope: the petitions raised at ``meeting`` and those linked to an item of its notices;
    or those filed between ``start`` and ``end`` (local dates, both inclusive, either may be
    open); both together narrow the meeting's petitions to the period; neither, all.
    Rejected and merged petitions are left out.
    """
    query = (
        select(Petition)
        .where(Petition.ward_id == ward.id, Petition.status.not_in(EXCLUDED_STATUSES))
        .options(
            selectinload(Petition.category),
            selectinload(Petition.area),
            selectinload(Petition.assignments).selectinload(Assignment.unit),
        )
    )
    if meeting is not None:
        query = query.where(
            or_(Petition.meeting_id == meeting.id, Petition.id.in_(_meeting_petition_ids(meeting)))
        )
    if start is not None:
        query = query.where(Petition.created_at >= _utc_start_of(start))
    if end is not None:
        query = query.where(Petition.created_at < _utc_start_of(end + timedelta(days=1)))
    # Sorted here rather than by the database, whose collation may weigh the dashes.
    petitions = sorted(db.session.scalars(query), key=lambda p: p.code)
    refs = _notice_refs([p.id for p in petitions])

    blocks = {g: GroupBlock(g) for g in Group}
    for petition in petitions:
        group = classify(petition)
        if group is None:
            continue
        row = _row(petition, group, refs.get(petition.id, []), include_personal)
        block = blocks[group]
        (block.higher if row.split == Split.HIGHER else block.ward).append(row)
    return Report(
        ward_name=ward.name,
        groups=[blocks[g] for g in Group],
        generated_on=local_today(),
        meeting_id=meeting.id if meeting else None,
        meeting_title=meeting.title if meeting else None,
        meeting_held_on=meeting.held_on if meeting else None,
        start=start,
        end=end,
        include_personal=include_personal,
    )


# --- shared wording ---------------------------------------------------------------------


def _cap(text: str) -> str:
    """Capitalise the first letter only ("thuộc thẩm quyền Phường" keeps its P)."""
    return text[:1].upper() + text[1:]


def _d(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def scope_text(report: Report) -> str:
    """What the report covers, in Vietnamese: the meeting, the period or everything."""
    if report.meeting_title:
        text = report.meeting_title
        if report.meeting_held_on:
            text += f" ngày {_d(report.meeting_held_on)}"
        if report.start or report.end:
            text += ", " + _period_text(report.start, report.end)
        return text
    if report.start or report.end:
        return _period_text(report.start, report.end)
    return "toàn bộ kiến nghị đã tiếp nhận"


def _period_text(start: date | None, end: date | None) -> str:
    if start and end:
        return f"tiếp nhận từ ngày {_d(start)} đến ngày {_d(end)}"
    if start:
        return f"tiếp nhận từ ngày {_d(start)}"
    return f"tiếp nhận đến ngày {_d(end)}"


def subtitle(report: Report) -> str:
    if report.meeting_title:
        return f"Kết quả giải quyết kiến nghị tại {scope_text(report)}"
    if report.start or report.end:
        return f"Kết quả giải quyết kiến nghị {scope_text(report)}"
    return "Kết quả giải quyết kiến nghị của cử tri và Nhân dân"


def _admin_date(place: str, day: date) -> str:
    """The place and date line: days below 10 and months 1-2 take a leading zero."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


DOC_GROUP_HEADINGS = {
    Group.DONE: "Những nội dung đã thực hiện xong",
    Group.IN_PROGRESS: "Những nội dung đang thực hiện",
    Group.CANNOT: "Những nội dung không thực hiện được",
}
DOC_SPLIT_HEADINGS = {
    Split.WARD: "a) Thuộc thẩm quyền Phường",
    Split.HIGHER: "b) Nội dung trả lời của cấp trên",
}
DEFAULT_RECIPIENTS = (
    "Thường trực Đảng ủy Phường;",
    "Thường trực HĐND Phường;",
    "Ủy ban MTTQ Phường;",
    "Lưu: VT.",
)


def _details(row: ReportRow) -> list[str]:
    """The sentences that follow a petition's title in the document."""
    parts = []
    if row.lead_unit:
        parts.append(f"Đơn vị chủ trì: {row.lead_unit}")
    if row.group == Group.DONE:
        if row.outcome_note:
            parts.append(f"Kết quả: {row.outcome_note}")
    elif row.group == Group.IN_PROGRESS:
        parts.append(f"Lộ trình: {row.roadmap or 'chưa xác định'}")
        parts.append(f"Thời gian hoàn thành dự kiến: {row.expected_text or 'chưa xác định'}")
        parts.append(f"Cá nhân chịu trách nhiệm: {row.responsible_person or 'chưa phân công'}")
    else:
        parts.append(f"Lý do: {row.outcome_note or 'chưa nêu'}")
        parts.append(f"Kiến nghị, đề xuất: {row.recommendation or 'không'}")
    if row.split == Split.HIGHER:
        if row.forwarded_to:
            parts.append(f"Đã chuyển: {row.forwarded_to}")
        parts.append(f"Trả lời của cấp trên: {row.forward_reply or 'chưa có trả lời'}")
    if row.notice_refs:
        parts.append("Theo Thông báo kết luận " + "; ".join(row.notice_refs))
    return [p.strip().rstrip(".;,") for p in parts]


# --- .docx ------------------------------------------------------------------------------

FONT = "Times New Roman"
BODY_PT = 14


def _set_font(run, size: float = BODY_PT, *, bold=None, italic=None, underline=None) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    if bold is not None:
        run.bold = bold
    if italic is not None:
        run.italic = italic
    if underline is not None:
        run.underline = underline


def _para(
    container,
    text: str = "",
    *,
    size: float = BODY_PT,
    bold=False,
    italic=False,
    align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: bool = False,
    before: float = 0,
    after: float = 6,
):
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    if indent:
        fmt.first_line_indent = Mm(10)
    if text:
        _set_font(paragraph.add_run(text), size, bold=bold, italic=italic)
    return paragraph


def _cell_para(cell, text: str, *, size: float = 13, bold=False, italic=False, after: float = 0):
    """Write in a header cell: the first paragraph is reused, the others are added."""
    if len(cell.paragraphs) == 1 and not cell.paragraphs[0].text:
        paragraph = cell.paragraphs[0]
    else:
        paragraph = cell.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_before = Pt(0)
    paragraph.paragraph_format.space_after = Pt(after)
    _set_font(paragraph.add_run(text), size, bold=bold, italic=italic)
    return paragraph


def _rule(container, *, width_mm: float, box_mm: float, after: float = 0) -> None:
    """A short centred line, as the decree draws under the issuer, the motto and the title."""
    paragraph = container.add_paragraph()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    # First in an empty pPr, so spacing and indents land after it, in schema order.
    paragraph._p.get_or_add_pPr().append(borders)
    fmt = paragraph.paragraph_format
    side = Mm(max(0.0, (box_mm - width_mm) / 2))
    fmt.left_indent = side
    fmt.right_indent = side
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(after)
    # A 2 pt line, so the rule sits right under the text above it.
    fmt.line_spacing = Pt(2)
    _set_font(paragraph.add_run(""), 2)


def _borderless_table(document, rows: int, widths_mm: Iterable[float]):
    widths = list(widths_mm)
    table = document.add_table(rows=rows, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.insert_element_before(
        borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption"
    )
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Mm(width)
        for cell in column.cells:
            cell.width = Mm(width)
    return table


def _setup_page(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width = Mm(210)
    section.page_height = Mm(297)
    # Decree 30/2020, Annex I: top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
    section.top_margin = Mm(20)
    section.bottom_margin = Mm(20)
    section.left_margin = Mm(30)
    section.right_margin = Mm(15)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(0)


TEXT_WIDTH_MM = 165  # 210 - 30 - 15
LEFT_MM, RIGHT_MM = 70, 95


def _header(document, issuer_lines: list[str], number: str, place: str, day: date) -> None:
    table = _borderless_table(document, 2, (LEFT_MM, RIGHT_MM))
    left, right = table.cell(0, 0), table.cell(0, 1)
    lines = [line.upper() for line in issuer_lines if line.strip()] or ["ỦY BAN NHÂN DÂN"]
    for line in lines[:-1]:
        _cell_para(left, line, size=13)
    _cell_para(left, lines[-1], size=13, bold=True)
    _rule(left, width_mm=max(20, len(lines[-1]) * 1.2), box_mm=LEFT_MM)
    _cell_para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12.5, bold=True)
    _cell_para(right, "Độc lập - Tự do - Hạnh phúc", size=13.5, bold=True)
    _rule(right, width_mm=64, box_mm=RIGHT_MM)
    # Blank spaces before the slash leave room for the number written in at issue.
    number_text = number if "/" in number else f"{number.strip() or '     '}/BC-UBND"
    _cell_para(table.cell(1, 0), f"Số: {number_text}", size=13, after=6)
    date_para = _cell_para(table.cell(1, 1), _admin_date(place, day), size=14, italic=True)
    date_para.paragraph_format.space_before = Pt(6)
    table.cell(1, 0).paragraphs[0].paragraph_format.space_before = Pt(6)


def _petition_paragraph(document, row: ReportRow) -> None:
    paragraph = _para(document, indent=True, after=4)
    _set_font(paragraph.add_run("- "), BODY_PT)
    _set_font(paragraph.add_run(row.code), BODY_PT, bold=True)
    place = ", ".join(p for p in (row.area, row.category) if p)
    head = f": {row.title}" + (f" ({place})" if place else "")
    if row.raised_by:
        head += f"; do {row.raised_by} nêu"
    _set_font(paragraph.add_run(head.rstrip(".") + ". "), BODY_PT)
    details = _details(row)
    if details:
        _set_font(paragraph.add_run(". ".join(details) + "."), BODY_PT)


def to_docx(
    report: Report,
    *,
    issuer_lines: list[str],
    number: str,
    place: str,
    signer_title: str,
    signer_name: str,
    recipients: Iterable[str] = DEFAULT_RECIPIENTS,
) -> bytes:
    """The report as a Vietnamese administrative document (báo cáo), ready to sign.

    No personal data is printed, even in a report built with it: the document goes to
    MTTQ and the residential groups.
    """
    with force_locale("vi"):
        return _docx(report, issuer_lines, number, place, signer_title, signer_name, recipients)


def _docx(report, issuer_lines, number, place, signer_title, signer_name, recipients) -> bytes:
    document = Document()
    _setup_page(document)
    core = document.core_properties
    core.title = f"Báo cáo {subtitle(report)}"
    core.author = (issuer_lines[-1] if issuer_lines else "") or report.ward_name
    core.language = "vi-VN"

    _header(document, issuer_lines, number, place, report.generated_on)
    _para(document, "BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, before=18, after=0)
    _para(document, subtitle(report), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _rule(document, width_mm=40, box_mm=TEXT_WIDTH_MM, after=12)

    done = report.count(Group.DONE)
    doing = report.count(Group.IN_PROGRESS)
    cannot = report.count(Group.CANNOT)
    _para(
        document,
        f"Ủy ban nhân dân {report.ward_name} báo cáo kết quả giải quyết kiến nghị "
        f"({scope_text(report)}) như sau: tổng số {report.total:02d} nội dung kiến nghị; "
        f"trong đó đã thực hiện xong {done:02d} nội dung, đang thực hiện {doing:02d} nội dung, "
        f"không thực hiện được {cannot:02d} nội dung. Cụ thể:",
        indent=True,
    )
    for block in report.groups:
        _para(
            document,
            f"{int(block.group)}. {DOC_GROUP_HEADINGS[block.group]} ({block.count:02d} nội dung)",
            bold=True,
            indent=True,
            before=6,
        )
        for split, rows in block.splits:
            _para(
                document,
                f"{DOC_SPLIT_HEADINGS[split]} ({len(rows):02d} nội dung)",
                bold=True,
                italic=True,
                indent=True,
            )
            if not rows:
                _para(document, "Không có.", italic=True, indent=True)
            for row in rows:
                _petition_paragraph(document, row)
    _para(
        document,
        f"Trên đây là báo cáo kết quả giải quyết kiến nghị của Ủy ban nhân dân "
        f"{report.ward_name}./.",
        indent=True,
        before=6,
    )
    _signature(document, signer_title, signer_name, recipients)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _signature(document, signer_title: str, signer_name: str, recipients: Iterable[str]) -> None:
    _para(document, after=0)
    table = _borderless_table(document, 1, (LEFT_MM, RIGHT_MM))
    left, right = table.cell(0, 0), table.cell(0, 1)
    heading = left.paragraphs[0]
    _set_font(heading.add_run("Nơi nhận:"), 12, bold=True, italic=True)
    for recipient in recipients:
        line = left.add_paragraph()
        _set_font(line.add_run(f"- {recipient}"), 11)
    title = (signer_title or "CHỦ TỊCH").strip().upper()
    # "TM." (thay mặt) is the decree's abbreviation; "T/M" is the colloquial spelling.
    _cell_para(right, "TM. ỦY BAN NHÂN DÂN", size=13, bold=True)
    if title != "CHỦ TỊCH" and not title.startswith(("KT.", "TM.", "T/M")):
        _cell_para(right, "KT. CHỦ TỊCH", size=13, bold=True)
    _cell_para(right, title, size=13, bold=True)
    for _ in range(4):
        _cell_para(right, "", size=14)
    _cell_para(right, signer_name, size=14, bold=True)


# --- .xlsx ------------------------------------------------------------------------------

DATE_FORMAT = "dd/mm/yyyy"
# (header, width, value)
XLSX_COLUMNS = [
    ("Nhóm", 24, lambda r: f"{int(r.group)}. {_cap(r.group.label)}"),
    ("Thẩm quyền", 24, lambda r: _cap(r.split.label)),
    ("Mã kiến nghị", 17, lambda r: r.code),
    ("Nội dung kiến nghị", 45, lambda r: r.title),
    ("Lĩnh vực", 20, lambda r: r.category),
    ("Tổ dân phố", 22, lambda r: r.area),
    ("Nơi nêu / kênh tiếp nhận", 24, lambda r: r.source),
    ("Ngày tiếp nhận", 13, lambda r: r.created_on),
    ("Trạng thái", 18, lambda r: r.status_label),
    ("Đơn vị chủ trì", 28, lambda r: r.lead_unit),
    ("Cá nhân chịu trách nhiệm", 22, lambda r: r.responsible_person),
    ("Lộ trình", 35, lambda r: r.roadmap),
    ("Thời gian hoàn thành dự kiến", 15, lambda r: r.expected_on),
    ("Kết quả / lý do", 40, lambda r: r.outcome_note),
    ("Kiến nghị, đề xuất", 35, lambda r: r.recommendation),
    ("Chuyển cấp trên", 28, lambda r: r.forwarded_to),
    ("Trả lời của cấp trên", 40, lambda r: r.forward_reply),
    ("Thông báo kết luận", 24, lambda r: "; ".join(r.notice_refs)),
]
XLSX_PERSONAL_COLUMNS = [
    ("Người kiến nghị", 22, lambda r: r.petitioner.name if r.petitioner else None),
    ("Điện thoại", 14, lambda r: r.petitioner.phone if r.petitioner else None),
    ("Email", 24, lambda r: r.petitioner.email if r.petitioner else None),
    ("Địa chỉ", 30, lambda r: r.petitioner.address if r.petitioner else None),
]
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")


def to_xlsx(report: Report) -> bytes:
    """One row per petition to sort and filter, and the counts on a second sheet."""
    with force_locale("vi"):
        return _xlsx(report)


def _xlsx(report: Report) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Kiến nghị"
    columns = XLSX_COLUMNS + (XLSX_PERSONAL_COLUMNS if report.include_personal else [])
    for index, (header, width, _value) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row_index, row in enumerate(report.rows, start=2):
        for index, (_header, _width, value) in enumerate(columns, start=1):
            content = value(row)
            cell = sheet.cell(row=row_index, column=index, value=content or None)
            cell.alignment = WRAP_TOP
            if isinstance(content, date):
                cell.number_format = DATE_FORMAT
    last_row = max(1, len(report.rows) + 1)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    _summary_sheet(workbook.create_sheet("Tổng hợp"), report)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


SUMMARY_HEADER_ROW = 3


def _summary_sheet(sheet, report: Report) -> None:
    title = subtitle(report)
    sheet["A1"] = f"Báo cáo {title[:1].lower()}{title[1:]}"
    sheet["A1"].font = Font(bold=True, size=13)
    headers = ["Nhóm", "Thuộc thẩm quyền Phường", "Trả lời của cấp trên", "Cộng"]
    for index, header in enumerate(headers, start=1):
        cell = sheet.cell(row=SUMMARY_HEADER_ROW, column=index, value=header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    row_index = SUMMARY_HEADER_ROW
    for block in report.groups:
        row_index += 1
        counts = [len(block.ward), len(block.higher), block.count]
        sheet.cell(row=row_index, column=1, value=f"{int(block.group)}. {_cap(block.label)}")
        for offset, count in enumerate(counts, start=2):
            sheet.cell(row=row_index, column=offset, value=count)
    row_index += 1
    totals = [report.count(split=Split.WARD), report.count(split=Split.HIGHER), report.total]
    sheet.cell(row=row_index, column=1, value="Tổng cộng").font = HEADER_FONT
    for offset, count in enumerate(totals, start=2):
        sheet.cell(row=row_index, column=offset, value=count).font = HEADER_FONT
    for letter, width in zip("ABCD", (30, 26, 22, 10), strict=True):
        sheet.column_dimensions[letter].width = width
