"""The report back in three groups: what goes where, the scopes, the .docx and the .xlsx."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from docx import Document
from docx.shared import Mm
from flask import Blueprint, render_template
from openpyxl import load_workbook

from portal.extensions import db
from portal.meetings.models import ConclusionNotice, Meeting, MeetingKind, NoticeItem
from portal.meetings.reports import Group, Split, build_report, to_docx, to_xlsx
from portal.petitions import services
from portal.petitions.models import Competence, Status
from portal.timeutil import frozen_clock, local_today
from tests import factories

PETITIONER = "Nguyễn Thị Hoa Ban"
PHONE = "0912345678"
EXPECTED = local_today() + timedelta(days=30)


def _staff(world):
    return world.users["ward_staff"]


def _filed(world, title, **overrides):
    return factories.file(world, title=title, **overrides)


def _assigned(world, title, **plan):
    petition = _filed(world, title)
    return factories.assign(world, petition, **plan)


def _forwarded(world, title, *, reply=None):
    petition = _assigned(world, title)
    services.forward(petition, _staff(world), to_body="Sở Xây dựng Hà Nội")
    if reply:
        services.record_forward_reply(petition, _staff(world), reply=reply)
    db.session.commit()
    return petition


@pytest.fixture
def data(world):
    """One petition per case of the grouping rule, a meeting and a notice item."""
    staff = _staff(world)
    d = SimpleNamespace()

    d.resolved = _assigned(world, "Thu gom rác ngõ 12")
    services.resolve(d.resolved, staff, public_note="Đã thu gom, xóa điểm rác.")

    d.closed_done = _assigned(world, "Nạo vét rãnh thoát nước")
    services.resolve(d.closed_done, staff, public_note="Đã nạo vét xong.")
    services.close(d.closed_done, staff)

    d.forward_closed = _forwarded(world, "Cấp giấy chứng nhận QSDĐ", reply="Sở đã cấp giấy.")
    services.close(d.forward_closed, staff)

    d.received = _filed(
        world,
        "Đèn đường hỏng",
        petitioner_name=PETITIONER,
        petitioner_phone=PHONE,
        petitioner_email="hoaban@example.vn",
    )

    d.in_progress = _assigned(
        world,
        "Xây nhà văn hóa TDP La Dương",
        responsible_person="Ninh Thị Quỳnh",
        roadmap="Khảo sát tháng 12, khởi công quý I",
        expected_on=EXPECTED,
    )
    services.post_update(d.in_progress, staff, public_note="Đang khảo sát mặt bằng.")

    d.forward_open = _forwarded(world, "Mở rộng đường Lê Quang Đạo")
    d.forward_replied = _forwarded(
        world, "Cắm mốc giới quy hoạch", reply="Thành phố đã giao Sở Quy hoạch - Kiến trúc."
    )
    d.forward_closed_silent = _forwarded(world, "Điều chỉnh tuyến xe buýt")
    services.close(d.forward_closed_silent, staff)

    d.higher_competence = _assigned(world, "Ngập úng đường trục chính")
    d.higher_competence.competence = Competence.HIGHER

    d.cannot = _assigned(world, "Lắp camera an ninh tổ 5")
    services.mark_cannot_resolve(
        d.cannot, staff, reason="Chưa có kinh phí năm nay.", recommendation="Đưa vào kế hoạch 2027."
    )

    d.cannot_higher_closed = _forwarded(world, "Di dời trạm biến áp")
    services.mark_cannot_resolve(
        d.cannot_higher_closed,
        staff,
        reason="Ngành điện chưa bố trí vốn.",
        recommendation="Đề nghị Thành phố ưu tiên vốn.",
    )
    services.close(d.cannot_higher_closed, staff)

    d.rejected = _filed(world, "Nội dung không phải kiến nghị")
    services.reject(d.rejected, staff, reason="Không thuộc phạm vi tiếp nhận.")
    d.merged = _filed(world, "Rác ngõ 12 (lần 2)")
    services.merge(d.merged, staff, into=d.resolved)
    db.session.commit()

    d.meeting = Meeting(
        ward=world.ward,
        kind=MeetingKind.DIALOGUE,
        title="Hội nghị tiếp xúc, đối thoại năm 2026",
        held_on=date(2026, 6, 20),
    )
    notice = ConclusionNotice(
        meeting=d.meeting,
        number="07-TB/BCĐ",
        issued_on=date(2026, 6, 25),
        title="Kết luận hội nghị tiếp xúc, đối thoại",
        full_text="…",
    )
    item = NoticeItem(notice=notice, ref="2.(1)", position=1, text="Xây nhà văn hóa…")
    other_meeting = Meeting(
        ward=world.ward, kind=MeetingKind.BRIEFING, title="Giao ban", held_on=date(2026, 7, 3)
    )
    db.session.add_all([d.meeting, notice, item, other_meeting])
    db.session.flush()
    item.petitions.append(d.in_progress)
    # Raised at the meeting, by a residential group.
    d.cannot.meeting_id = d.meeting.id
    d.cannot.raised_by = "Tổ dân phố Nhân Trạch"
    d.rejected.meeting_id = d.meeting.id
    d.resolved.meeting_id = other_meeting.id
    db.session.commit()
    return d


def _codes(rows) -> set[str]:
    return {r.code for r in rows}


def _row(report, petition):
    return next(r for r in report.rows if r.code == petition.code)


# --- grouping ---------------------------------------------------------------------------


def test_groups_and_splits_follow_the_three_group_rule(app, world, data):
    report = build_report(ward=world.ward)
    done, doing, cannot = (report.block(g) for g in Group)

    assert _codes(done.ward) == {data.resolved.code, data.closed_done.code}
    assert _codes(done.higher) == {data.forward_closed.code}
    assert _codes(doing.ward) == {data.received.code, data.in_progress.code}
    assert _codes(doing.higher) == {
        data.forward_open.code,
        data.forward_replied.code,
        data.forward_closed_silent.code,
        data.higher_competence.code,
    }
    assert _codes(cannot.ward) == {data.cannot.code}
    assert _codes(cannot.higher) == {data.cannot_higher_closed.code}


def test_rejected_and_merged_are_left_out(app, world, data):
    codes = _codes(build_report(ward=world.ward).rows)
    assert data.rejected.code not in codes
    assert data.merged.code not in codes
    assert len(codes) == 11


def test_counts_per_group_split_and_total(app, world, data):
    report = build_report(ward=world.ward)
    assert report.counts == {
        Group.DONE: {Split.WARD: 2, Split.HIGHER: 1},
        Group.IN_PROGRESS: {Split.WARD: 2, Split.HIGHER: 4},
        Group.CANNOT: {Split.WARD: 1, Split.HIGHER: 1},
    }
    assert [b.count for b in report.groups] == [3, 6, 2]
    assert report.count(split=Split.HIGHER) == 6
    assert report.total == len(report.rows) == 11


def test_rows_are_sorted_by_code_and_carry_the_follow_up(app, world, data):
    report = build_report(ward=world.ward)
    codes = [r.code for r in report.rows]
    assert codes == sorted(codes)
    for block in report.groups:
        for _split, rows in block.splits:
            assert [r.code for r in rows] == sorted(r.code for r in rows)

    row = _row(report, data.in_progress)
    assert row.status == Status.IN_PROGRESS
    assert row.lead_unit == "Phòng Kinh tế, Hạ tầng và Đô thị"
    assert row.responsible_person == "Ninh Thị Quỳnh"
    assert row.roadmap == "Khảo sát tháng 12, khởi công quý I"
    assert row.expected_on == EXPECTED
    assert row.expected_text == EXPECTED.strftime("%d/%m/%Y")
    assert row.notice_refs == ("07-TB/BCĐ 2.(1)",)
    assert row.area == "Tổ dân phố Nhân Trạch"
    assert row.category == "Vệ sinh môi trường"

    cannot = _row(report, data.cannot)
    assert cannot.outcome_note == "Chưa có kinh phí năm nay."
    assert cannot.recommendation == "Đưa vào kế hoạch 2027."
    assert cannot.source == "Tổ dân phố Nhân Trạch"

    replied = _row(report, data.forward_replied)
    assert replied.forwarded_to == "Sở Xây dựng Hà Nội"
    assert replied.forward_reply.startswith("Thành phố đã giao")
    assert _row(report, data.resolved).outcome_note == "Đã thu gom, xóa điểm rác."


def test_a_reopened_petition_drops_its_old_result(app, world, data):
    services.reopen(data.resolved, _staff(world), reason="Rác lại bị đổ.")
    db.session.commit()
    row = _row(build_report(ward=world.ward), data.resolved)
    assert row.group == Group.IN_PROGRESS
    assert row.outcome_note is None


# --- scopes -----------------------------------------------------------------------------


def test_meeting_scope_takes_raised_and_linked_petitions(app, world, data):
    report = build_report(meeting=data.meeting, ward=world.ward)
    # Raised at it (the rejected one is left out) and linked to its notice's item.
    assert _codes(report.rows) == {data.cannot.code, data.in_progress.code}
    assert report.meeting_title == "Hội nghị tiếp xúc, đối thoại năm 2026"
    assert report.meeting_held_on == date(2026, 6, 20)
    assert report.count(Group.IN_PROGRESS) == 1
    assert report.count(Group.CANNOT) == 1
    assert report.count(Group.DONE) == 0


def test_period_scope_compares_local_dates(app, world, data):
    # 23:30 and 00:30 in Hà Nội, either side of the new year.
    with frozen_clock(datetime(2025, 12, 31, 16, 30)):
        late = _filed(world, "Gửi tối 31/12")
    with frozen_clock(datetime(2025, 12, 31, 17, 30)):
        early = _filed(world, "Gửi sáng 01/01")

    new_year = build_report(start=date(2026, 1, 1), end=date(2026, 1, 1), ward=world.ward)
    assert _codes(new_year.rows) == {early.code}
    old_year = build_report(start=date(2025, 12, 31), end=date(2025, 12, 31), ward=world.ward)
    assert _codes(old_year.rows) == {late.code}
    until = build_report(end=date(2025, 12, 31), ward=world.ward)
    assert _codes(until.rows) == {late.code}
    since = build_report(start=date(2026, 1, 1), ward=world.ward)
    assert late.code not in _codes(since.rows)
    assert early.code in _codes(since.rows)
    assert len(since.rows) == 12  # the 11 of the fixture and this one
    assert len(build_report(ward=world.ward).rows) == 13


# --- personal data ----------------------------------------------------------------------


def test_personal_data_only_when_asked(app, world, data):
    default = build_report(ward=world.ward)
    assert all(r.petitioner is None for r in default.rows)
    assert PETITIONER not in repr(default)
    assert PHONE not in repr(default)

    staff = build_report(ward=world.ward, include_personal=True)
    petitioner = _row(staff, data.received).petitioner
    assert petitioner.name == PETITIONER
    assert petitioner.phone == PHONE
    assert petitioner.email == "hoaban@example.vn"


# --- .docx ------------------------------------------------------------------------------


def _docx(report) -> Document:
    content = to_docx(
        report,
        issuer_lines=["UBND Phường Dương Nội"],
        number="125",
        place="Dương Nội",
        signer_title="Chủ tịch",
        signer_name="Nguyễn Văn An",
    )
    assert content[:2] == b"PK"
    return Document(io.BytesIO(content))


def _all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_docx_is_an_administrative_report(app, world, data):
    document = _docx(build_report(ward=world.ward))
    text = _all_text(document)
    header = document.tables[0]
    assert "UBND PHƯỜNG DƯƠNG NỘI" in header.cell(0, 0).text
    assert "Số: 125/BC-UBND" in header.cell(1, 0).text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header.cell(0, 1).text
    assert "Độc lập - Tự do - Hạnh phúc" in header.cell(0, 1).text
    date_line = header.cell(1, 1).paragraphs[0]
    assert date_line.text.startswith("Dương Nội, ngày ")
    assert all(run.italic for run in date_line.runs)

    titles = [p for p in document.paragraphs if p.text == "BÁO CÁO"]
    assert len(titles) == 1 and titles[0].runs[0].bold
    assert "Kết quả giải quyết kiến nghị" in text
    assert "TM. ỦY BAN NHÂN DÂN" in text and "CHỦ TỊCH" in text and "Nguyễn Văn An" in text
    assert "Nơi nhận:" in text

    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1)
    assert abs(section.page_height - Mm(297)) < Mm(1)
    assert abs(section.left_margin - Mm(30)) < Mm(1)
    assert abs(section.right_margin - Mm(15)) < Mm(1)
    assert abs(section.top_margin - Mm(20)) < Mm(1)
    assert document.styles["Normal"].font.name == "Times New Roman"


def test_docx_puts_each_petition_under_its_group(app, world, data):
    report = build_report(ward=world.ward)
    paragraphs = [p.text for p in _docx(report).paragraphs]

    def index_of(prefix: str) -> int:
        return next(i for i, text in enumerate(paragraphs) if text.startswith(prefix))

    done = index_of("1. Những nội dung đã thực hiện xong")
    doing = index_of("2. Những nội dung đang thực hiện")
    cannot = index_of("3. Những nội dung không thực hiện được")
    end = index_of("Trên đây là báo cáo")
    assert done < doing < cannot < end
    assert paragraphs[done].endswith("(03 nội dung)")
    assert sum(p.startswith("a) Thuộc thẩm quyền Phường") for p in paragraphs) == 3
    assert sum(p.startswith("b) Nội dung trả lời của cấp trên") for p in paragraphs) == 3

    bounds = {Group.DONE: (done, doing), Group.IN_PROGRESS: (doing, cannot)}
    bounds[Group.CANNOT] = (cannot, end)
    for row in report.rows:
        where = [i for i, text in enumerate(paragraphs) if text.startswith(f"- {row.code}:")]
        assert len(where) == 1, row.code
        low, high = bounds[row.group]
        assert low < where[0] < high, row.code

    in_progress = next(p for p in paragraphs if p.startswith(f"- {data.in_progress.code}:"))
    assert "Ninh Thị Quỳnh" in in_progress
    assert EXPECTED.strftime("%d/%m/%Y") in in_progress
    assert "07-TB/BCĐ 2.(1)" in in_progress
    cannot_text = next(p for p in paragraphs if p.startswith(f"- {data.cannot.code}:"))
    assert "Lý do: Chưa có kinh phí năm nay" in cannot_text
    assert "Kiến nghị, đề xuất: Đưa vào kế hoạch 2027" in cannot_text


@pytest.mark.parametrize("include_personal", [False, True])
def test_docx_never_prints_personal_data(app, world, data, include_personal):
    report = build_report(ward=world.ward, include_personal=include_personal)
    text = _all_text(_docx(report))
    assert data.received.code in text
    assert PETITIONER not in text
    assert PHONE not in text


def test_docx_for_a_meeting_names_it(app, world, data):
    text = _all_text(_docx(build_report(meeting=data.meeting, ward=world.ward)))
    assert "Hội nghị tiếp xúc, đối thoại năm 2026 ngày 20/06/2026" in text
    assert data.resolved.code not in text


# --- .xlsx ------------------------------------------------------------------------------


def _workbook(report):
    content = to_xlsx(report)
    return load_workbook(io.BytesIO(content))


def _header(sheet) -> list[str]:
    return [c.value for c in sheet[1]]


def test_xlsx_has_one_row_per_petition(app, world, data):
    report = build_report(ward=world.ward)
    book = _workbook(report)
    assert book.sheetnames == ["Kiến nghị", "Tổng hợp"]
    sheet = book["Kiến nghị"]
    header = _header(sheet)
    assert header[:4] == ["Nhóm", "Thẩm quyền", "Mã kiến nghị", "Nội dung kiến nghị"]
    assert "Thời gian hoàn thành dự kiến" in header
    assert "Người kiến nghị" not in header
    assert sheet.max_row == report.total + 1

    col = {name: index for index, name in enumerate(header)}
    rows = {r[col["Mã kiến nghị"]]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == _codes(report.rows)
    assert rows[data.resolved.code][col["Nhóm"]] == "1. Đã thực hiện xong"
    assert rows[data.forward_closed.code][col["Thẩm quyền"]] == "Trả lời của cấp trên"
    assert rows[data.in_progress.code][col["Nhóm"]] == "2. Đang thực hiện"
    assert rows[data.in_progress.code][col["Thẩm quyền"]] == "Thuộc thẩm quyền Phường"
    assert rows[data.cannot.code][col["Nhóm"]] == "3. Không thực hiện được"
    assert rows[data.in_progress.code][col["Cá nhân chịu trách nhiệm"]] == "Ninh Thị Quỳnh"
    assert rows[data.in_progress.code][col["Thông báo kết luận"]] == "07-TB/BCĐ 2.(1)"
    for values in rows.values():
        assert PETITIONER not in values


def test_xlsx_filter_freeze_and_dates(app, world, data):
    report = build_report(ward=world.ward)
    sheet = _workbook(report)["Kiến nghị"]
    last_column = sheet.cell(row=1, column=sheet.max_column).column_letter
    assert sheet.auto_filter.ref == f"A1:{last_column}{report.total + 1}"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["D"].width >= 30

    header = _header(sheet)
    expected_col = header.index("Thời gian hoàn thành dự kiến") + 1
    received_col = header.index("Ngày tiếp nhận") + 1
    code_col = header.index("Mã kiến nghị") + 1
    for row in range(2, sheet.max_row + 1):
        received = sheet.cell(row=row, column=received_col)
        assert isinstance(received.value, datetime)
        assert received.number_format == "dd/mm/yyyy"
        if sheet.cell(row=row, column=code_col).value == data.in_progress.code:
            expected = sheet.cell(row=row, column=expected_col)
            assert isinstance(expected.value, datetime)
            assert expected.value.date() == EXPECTED
            assert expected.number_format == "dd/mm/yyyy"


def test_xlsx_summary_sheet_counts(app, world, data):
    summary = _workbook(build_report(ward=world.ward))["Tổng hợp"]
    table = [
        list(row) for row in summary.iter_rows(min_row=3, max_row=7, max_col=4, values_only=True)
    ]
    assert table == [
        ["Nhóm", "Thuộc thẩm quyền Phường", "Trả lời của cấp trên", "Cộng"],
        ["1. Đã thực hiện xong", 2, 1, 3],
        ["2. Đang thực hiện", 2, 4, 6],
        ["3. Không thực hiện được", 1, 1, 2],
        ["Tổng cộng", 5, 6, 11],
    ]


def test_xlsx_personal_columns_only_when_asked(app, world, data):
    sheet = _workbook(build_report(ward=world.ward, include_personal=True))["Kiến nghị"]
    header = _header(sheet)
    assert header[-4:] == ["Người kiến nghị", "Điện thoại", "Email", "Địa chỉ"]
    values = [v for row in sheet.iter_rows(min_row=2, values_only=True) for v in row]
    assert PETITIONER in values
    assert PHONE in values


# --- the page ---------------------------------------------------------------------------


def _render(app, report, scope_args) -> str:
    if "meetings" not in app.blueprints:
        stand_in = Blueprint("meetings", __name__)
        stand_in.add_url_rule("/test/report.docx", "report_docx", lambda: "")
        stand_in.add_url_rule("/test/report.xlsx", "report_xlsx", lambda: "")
        app.register_blueprint(stand_in)
    with app.test_request_context("/"):
        return render_template("meetings/report.html", report=report, scope_args=scope_args)


def test_page_shows_counts_groups_and_download_links(app, world, data):
    report = build_report(meeting=data.meeting, ward=world.ward)
    html = _render(app, report, {"meeting_id": data.meeting.id})
    assert "Hội nghị tiếp xúc, đối thoại năm 2026" in html
    assert "20/06/2026" in html
    for heading in (
        "Những nội dung đã thực hiện xong",
        "Những nội dung đang thực hiện",
        "Những nội dung không thực hiện được",
        "Thuộc thẩm quyền Phường",
        "Nội dung trả lời của cấp trên",
    ):
        assert heading in html
    assert f'id="row-{data.in_progress.code}"' in html
    assert f'id="row-{data.cannot.code}"' in html
    assert data.resolved.code not in html
    assert "Ninh Thị Quỳnh" in html
    assert f"meeting_id={data.meeting.id}" in html
    assert "Tải .docx" in html and "Tải .xlsx" in html


def test_page_shows_personal_data_only_when_asked(app, world, data):
    html = _render(app, build_report(ward=world.ward), {})
    assert data.received.code in html
    assert PETITIONER not in html and PHONE not in html
    html = _render(app, build_report(ward=world.ward, include_personal=True), {})
    assert PETITIONER in html and PHONE in html
