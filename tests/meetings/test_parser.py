"""The conclusion-notice parser on the two real notices and on notices written for the tests.

No database: everything here is pure Python.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from portal.meetings import parser
from portal.meetings.documents import read_text
from portal.meetings.parser import analyse, missing_text, parse

NOTICES = Path(__file__).parent / "notices"
DUONG_NOI = NOTICES / "sample-phuong-duong-noi-2024-06-21.txt"
SAO_VANG = NOTICES / "sample-thi-tran-sao-vang-2023-07-31.txt"
ALL_NOTICES = sorted(NOTICES.glob("*.txt"))
SCHEMA = json.loads(
    (Path(parser.__file__).parent / "notice.schema.json").read_text(encoding="utf-8")
)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def by_ref(notice) -> dict:
    return {item.ref: item for item in notice.items}


def deadlines(item) -> list[tuple[str, str, str]]:
    return [(d.date.isoformat(), d.kind, d.text) for d in item.deadlines]


def units(item) -> list[tuple[str, str]]:
    return [(u.name, u.role) for u in item.units]


def recurrences(item) -> list[tuple[str, int | None, str | None]]:
    return [(r.freq, r.weekday, r.part_of_day) for r in item.recurrences]


@pytest.fixture(scope="module")
def sao_vang():
    return parse(read(SAO_VANG))


@pytest.fixture(scope="module")
def duong_noi():
    return parse(read(DUONG_NOI))


# --- sample 2: Thị trấn Sao Vàng, 07-TB/BCĐ --------------------------------------------


def test_sao_vang_header(sao_vang):
    assert sao_vang.number == "07-TB/BCĐ"
    assert sao_vang.issued_on == date(2023, 7, 31)
    assert sao_vang.meeting_date == date(2023, 7, 31)
    assert sao_vang.issuer == "Ban Chỉ đạo"
    assert sao_vang.title.startswith("Kết luận của đồng chí Bí thư Đảng ủy, Trưởng Ban Chỉ đạo")
    assert sao_vang.title.endswith("các tiêu chí Đô thị văn minh")


def test_sao_vang_refs_restart_numbering_inside_section_2(sao_vang):
    assert [item.ref for item in sao_vang.items] == [
        "1",
        "2",
        "2.1",
        "2.2",
        "2.2.-1",
        "2.2.-2",
        "2.2.-3",
        "2.2.-4",
        "2.3",
        "2.3.-1",
        "2.3.-2",
        "2.4",
        "2.5",
        "KL",
    ]


def test_sao_vang_narrative_bullets_stay_in_their_heading(sao_vang):
    first = by_ref(sao_vang)["1"]
    assert first.text.startswith("Kết quả thực hiện trong thời gian qua\n- Thực hiện Thông báo")
    assert "- Một số thành viên Ban Chỉ đạo" in first.text
    assert "- Kết quả triển khai thực hiện" in first.text
    # "106/TB-UBND" is a document's symbol, "Chủ tịch UBND huyện" a person's title.
    assert first.units == []
    assert first.deadlines == []


def test_sao_vang_persons_and_recurrences(sao_vang):
    items = by_ref(sao_vang)
    quynh = items["2.3.-1"]
    assert quynh.persons == ["Ninh Thị Quỳnh"]
    assert recurrences(quynh) == [("weekly", 4, "afternoon")]
    assert quynh.recurrences[0].text == "vào chiều thứ Sáu hàng tuần"

    pair = items["2.3.-2"]
    assert pair.persons == ["Nguyễn Xuân Hùng", "Hồ Thị Chung"]
    assert deadlines(pair) == [("2023-08-30", "by_date", "Thời gian hoàn thành trước 30/8/2023")]

    weekend = items["2.2"]
    assert recurrences(weekend) == [("weekly", 5, None), ("weekly", 6, None)]
    assert {r.text for r in weekend.recurrences} == {"vào thứ Bảy và chủ Nhật hàng tuần"}


def test_sao_vang_deadlines(sao_vang):
    items = by_ref(sao_vang)
    assert deadlines(items["2.2.-1"]) == [
        ("2023-08-30", "by_date", "Thời gian hoàn thành trước 30/8/2023")
    ]
    assert deadlines(items["2.2.-3"]) == [
        ("2023-08-04", "by_date", "Thời gian hoàn thành trước 4/8/2023")
    ]
    assert deadlines(items["2.3"]) == [
        ("2023-08-04", "by_date", "Thời gian hoàn thành trước 04/8/2023")
    ]
    assert deadlines(items["2.4"]) == [
        ("2023-08-31", "in_month", "Thời gian hoàn thành trong tháng 8 năm 2023")
    ]
    # "Nhiệm vụ trọng tâm tháng 8 năm 2023" names a month, it sets no limit.
    assert items["2"].deadlines == []
    all_dates = {d.date for item in sao_vang.items for d in item.deadlines}
    assert all_dates == {date(2023, 8, 30), date(2023, 8, 4), date(2023, 8, 31)}


def test_sao_vang_units(sao_vang):
    items = by_ref(sao_vang)
    assert units(items["2.2"]) == [("Ủy ban nhân dân", "lead")]
    assert units(items["2.3"]) == [
        ("Ủy ban Mặt trận Tổ quốc", "lead"),
        ("Hội Liên hiệp Phụ nữ", "support"),
    ]
    # "Tham mưu cho UBND thị trấn": UBND is who is advised, not an actor.
    assert units(items["2.4"]) == [("Công an thị trấn", "lead")]
    assert items["2.4"].units[0].text == "Công an thị trấn"
    assert units(items["KL"]) == [
        ("Thường trực Hội đồng nhân dân", "lead"),
        ("Ủy ban nhân dân", "support"),
        ("Ủy ban Mặt trận Tổ quốc", "support"),
    ]


def test_sao_vang_leaves_out_recipients_and_signature(sao_vang):
    joined = "\n".join(item.text for item in sao_vang.items)
    assert "Nơi nhận" not in joined
    assert "Lưu Văn phòng Đảng ủy" not in joined
    assert "Lê Văn Định" not in joined
    assert "TRƯỞNG BAN CHỈ ĐẠO" not in joined
    assert by_ref(sao_vang)["KL"].text.endswith("đạt chuẩn đô thị văn minh./.")


# --- sample 1: Phường Dương Nội, 21/6/2024 ----------------------------------------------


def test_duong_noi_header(duong_noi):
    assert duong_noi.number is None
    assert duong_noi.issued_on is None
    assert duong_noi.meeting_date == date(2024, 6, 21)
    assert duong_noi.issuer == "Ban Thường vụ Đảng ủy Phường"
    assert duong_noi.title == (
        "Kết luận hội nghị Ban Thường vụ Đảng ủy Phường phiên họp thường kỳ ngày 21/6/2024"
    )


def test_duong_noi_refs(duong_noi):
    expected = ["1", "1.(1)", "1.(2)", "2"]
    expected += [f"2.({n})" for n in range(1, 7)] + ["3"]
    expected += [f"3.({n})" for n in range(1, 6)] + ["4"]
    expected += [f"4.({n})" for n in range(1, 5)] + ["KL"]
    assert [item.ref for item in duong_noi.items] == expected
    assert len(duong_noi.items) == 22


def test_duong_noi_broken_paragraphs_and_continuations(duong_noi):
    items = by_ref(duong_noi)
    first = items["1.(1)"]
    assert "(dự kiến lộ trình, thời gian hoàn thành, trách nhiệm của cá nhân)" in first.text
    assert first.text.startswith("Ủy ban nhân dân Phường tổ chức rà soát")
    assert "\nChỉ đạo tổng hợp báo cáo tình hình" in first.text
    assert "xử lý dứt điểm các điểm đen về rác thải trên toàn địa bàn Phường;" in (
        items["2.(2)"].text
    )
    assert "tỷ lệ đảng viên tham gia sinh hoạt thường xuyên còn chưa cao" in items["3"].text
    # "(1) Ban Thường vụ …" without a dot is a sub-item too.
    assert items["4.(1)"].text.startswith("Ban Thường vụ Đảng ủy cơ bản nhất trí")


def test_duong_noi_deadlines(duong_noi):
    items = by_ref(duong_noi)
    assert deadlines(items["1.(1)"]) == [("2024-08-31", "by_date", "trước tháng 9/2024")]
    assert deadlines(items["1.(2)"]) == [
        ("2024-09-30", "expected", "dự kiến tháng 9/2024"),
        ("2024-08-31", "in_month", "trong tháng 8/2024"),
    ]
    # "từ ngày 01/8/2024" is when the plan starts, not a limit.
    assert deadlines(items["2.(2)"]) == [
        ("2024-07-20", "by_date", "hoàn thành trước ngày 20/7/2024")
    ]
    with_deadlines = {item.ref for item in duong_noi.items if item.deadlines}
    assert with_deadlines == {"1.(1)", "1.(2)", "2.(2)"}


def test_duong_noi_false_positives(duong_noi):
    items = by_ref(duong_noi)
    assert "nhiệm kỳ 2025-2027" in items["3.(4)"].text
    assert "Đề án số 11-ĐA/TU ngày 06/12/2021" in items["3"].text
    assert "06 tháng đầu năm 2024" in items["4.(1)"].text
    assert "kỷ niệm 15 năm" in items["2"].text
    for ref in ("3.(4)", "3", "4.(1)", "2", "4.(2)", "4.(4)"):
        assert items[ref].deadlines == [], ref
    # "đồng chí Bí thư Đảng ủy", "đồng chí Phó Chủ tịch": titles, not names.
    assert all(item.persons == [] for item in duong_noi.items)


def test_duong_noi_recurrences(duong_noi):
    items = by_ref(duong_noi)
    assert recurrences(items["2.(2)"]) == [("monthly", None, None)]
    assert items["2.(2)"].recurrences[0].text == "Định kỳ hàng tháng"
    assert recurrences(items["3.(2)"]) == [("monthly", None, None), ("quarterly", None, None)]


def test_duong_noi_units(duong_noi):
    items = by_ref(duong_noi)
    # "gửi Ban Thường vụ Đảng ủy, Ủy ban MTTQ Phường": MTTQ receives the report.
    assert units(items["1.(1)"]) == [("Ủy ban nhân dân phường", "lead")]
    assert units(items["1.(2)"]) == [
        ("Ủy ban Mặt trận Tổ quốc phường", "lead"),
        ("Ủy ban nhân dân phường", "support"),
    ]
    assert units(items["2.(2)"]) == [
        ("Ủy ban nhân dân phường", "lead"),
        ("Ủy ban Mặt trận Tổ quốc", "support"),
        ("Công an phường", "support"),
        ("Công ty CP Tập đoàn Nam Hà Nội", "support"),
    ]
    assert units(items["2.(3)"]) == [
        ("Ủy ban nhân dân phường", "lead"),
        ("Công ty CP Tập đoàn Nam Hà Nội", "support"),
    ]
    # "bám sát kế hoạch của UBND Phường": the plan's owner is not a supporting unit.
    assert units(items["2.(4)"]) == [("Ủy ban Mặt trận Tổ quốc phường", "lead")]
    assert units(items["2.(6)"]) == [("Ủy ban Kiểm tra Đảng ủy", "lead")]
    assert units(items["4.(3)"]) == [("Văn phòng Đảng ủy", "lead")]
    assert items["4.(3)"].units[0].text == "VPĐU"
    assert units(items["4.(4)"]) == [("Ủy ban Kiểm tra Đảng ủy", "lead")]
    assert items["4.(4)"].units[0].text == "UBKT Đảng ủy"
    named = {u.name for item in duong_noi.items for u in item.units}
    assert named >= {
        "Ủy ban nhân dân phường",
        "Ủy ban Mặt trận Tổ quốc phường",
        "Công an phường",
        "Ủy ban Kiểm tra Đảng ủy",
        "Văn phòng Đảng ủy",
        "Công ty CP Tập đoàn Nam Hà Nội",
    }
    assert all(u.name != "Ủy ban nhân dân quận" for item in duong_noi.items for u in item.units)


# --- notices written for the tests -----------------------------------------------------


def test_roman_sections_and_letter_items():
    notice = parse(read(NOTICES / "roman-sections.txt"))
    assert notice.number == "15-TB/ĐU"
    assert notice.issued_on == date(2025, 11, 5)
    assert notice.meeting_date == date(2025, 11, 3)
    assert notice.issuer == "Đảng ủy phường Hòa Bình"
    assert notice.title.startswith("Kết luận của Ban Thường vụ Đảng ủy phường")
    assert [item.ref for item in notice.items] == [
        "I",
        "II",
        "II.1",
        "II.1.a",
        "II.1.b",
        "II.2",
        "II.3",
        "II.4",
        "II.5",
        "III",
        "III.1",
        "III.2",
    ]
    items = by_ref(notice)
    assert items["I"].deadlines == []  # "Năm 2024, …" and "xong 12/20 kiến nghị"
    assert units(items["II.1.a"]) == [
        ("Ủy ban nhân dân phường", "lead"),
        ("Công an phường", "support"),
        ("Công ty TNHH Môi trường Xanh Hòa Bình", "support"),
    ]
    assert deadlines(items["II.1.a"]) == [
        ("2025-11-30", "by_date", "hoàn thành trước ngày 30/11/2025")
    ]
    assert deadlines(items["II.1.b"]) == [("2026-03-31", "in_quarter", "trong quý I/2026")]
    assert deadlines(items["II.2"]) == [
        ("2026-03-31", "expected", "dự kiến hoàn thành tháng 3/2026")
    ]
    assert deadlines(items["II.3"]) == [
        ("2026-12-31", "in_year", "trong năm 2026"),
        ("2026-09-30", "in_quarter", "trong quý III năm 2026"),
    ]
    assert units(items["II.3"]) == [
        ("Ủy ban nhân dân phường", "lead"),
        ("Văn phòng Hội đồng nhân dân và Ủy ban nhân dân", "support"),
    ]
    assert items["II.4"].persons == ["Trần Văn Bình"]
    assert items["II.4"].units == []  # "Phó Chủ tịch UBND phường" is his title
    assert deadlines(items["II.4"]) == [("2026-12-31", "in_year", "hoàn thành năm 2026")]
    assert deadlines(items["II.5"]) == [("2026-12-31", "in_year", "năm 2026")]
    assert units(items["II.5"]) == [("Phòng Kinh tế, Hạ tầng và Đô thị", "lead")]
    assert recurrences(items["III.1"]) == [("quarterly", None, None)]
    assert deadlines(items["III.2"]) == [("2025-12-31", "in_month", "trong tháng 12/2025")]
    assert units(items["III.2"]) == [("Ủy ban Kiểm tra Đảng ủy", "lead")]


def test_old_tone_marks():
    notice = parse(read(NOTICES / "old-tone-marks.txt"))
    assert notice.number == "22-TB/ĐU"
    assert notice.issued_on == date(2025, 3, 12)
    assert notice.meeting_date == date(2025, 3, 10)  # "Chiều ngày 10/3/2025"
    assert notice.issuer == "Ban Thường vụ"
    items = by_ref(notice)
    first = items["1"]
    # "báo cáo kết quả về Thường trực Đảng uỷ": the recipient is not a unit of the task.
    assert units(first) == [
        ("Ủy ban nhân dân xã", "lead"),
        ("Ủy ban Mặt trận Tổ quốc Việt Nam xã", "support"),
    ]
    assert [u.text for u in first.units] == ["Uỷ ban nhân dân xã", "Uỷ ban MTTQ Việt Nam xã"]
    assert recurrences(first) == [("weekly", 6, "morning"), ("monthly", None, None)]
    assert first.recurrences[0].text == "vào sáng Chủ nhật hằng tuần"
    second = items["2"]
    assert units(second) == [("Công an xã", "lead"), ("Hội Liên hiệp Phụ nữ xã", "support")]
    assert recurrences(second) == [
        ("weekly", 5, "evening"),
        ("weekly", 6, "evening"),
        ("quarterly", None, None),
    ]
    third = items["3"]
    assert units(third) == [
        ("Thường trực Hội đồng nhân dân xã", "lead"),
        ("Văn phòng Hội đồng nhân dân và Ủy ban nhân dân xã", "support"),
    ]
    assert third.persons == ["Phạm Thị Hoà", "Lê Quang Thuỵ"]
    assert recurrences(third) == [("weekly", 0, None)]
    fourth = items["4"]
    assert units(fourth) == [
        ("Đoàn Thanh niên Cộng sản Hồ Chí Minh xã", "lead"),
        ("Hội Cựu chiến binh xã", "support"),
    ]
    assert deadlines(fourth) == [("2025-04-30", "by_date", "hoàn thành trước tháng 5/2025")]


@pytest.mark.parametrize("path", ALL_NOTICES, ids=lambda p: p.stem)
def test_nfd_input_gives_the_same_result(path):
    text = read(path)
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    assert parse(decomposed).to_json() == parse(text).to_json()


def test_broken_paragraphs_are_joined():
    notice = parse(read(NOTICES / "broken-paragraphs.txt"))
    assert notice.number == "41/TB-UBND"
    assert notice.issuer == "Ủy ban nhân dân phường Tân Mai"
    assert notice.title == (
        "Kết luận của Chủ tịch UBND phường tại buổi làm việc về công tác chỉnh trang đô thị"
    )
    assert notice.meeting_date == date(2025, 8, 18)
    items = by_ref(notice)
    assert list(items) == ["1", "2", "2.-1", "2.-2", "3"]
    assert "lập danh mục các tuyến đường" in items["1"].text
    assert "\n" not in items["1"].text
    assert deadlines(items["1"]) == [("2025-09-15", "by_date", "hoàn thành trước ngày 15/9/2025")]
    assert "trật tự vỉa hè, lòng đường trên các tuyến phố chính" in items["2"].text
    assert units(items["2"]) == [
        ("Công an phường", "lead"),
        ("Ban Chỉ huy Quân sự phường", "support"),
    ]
    assert deadlines(items["2"]) == [
        ("2025-10-31", "expected", "dự kiến hoàn thành trong tháng 10/2025")
    ]
    assert recurrences(items["2.-1"]) == [("weekly", 3, "afternoon")]
    assert deadlines(items["2.-2"]) == [("2025-09-30", "by_date", "trước 30/9/2025")]
    assert items["2.-2"].units == []  # "Báo cáo kết quả về UBND phường"
    assert items["3"].units == [] and items["3"].deadlines == []


def test_negatives_give_no_deadlines():
    notice = parse(read(NOTICES / "negatives.txt"))
    assert notice.meeting_date == date(2024, 7, 8)
    assert len(notice.items) == 7
    assert [deadlines(item) for item in notice.items] == [[]] * 7
    assert recurrences(by_ref(notice)["7"]) == [("monthly", None, None)]


def test_letter_items_and_months():
    notice = parse(read(NOTICES / "letter-items.txt"))
    assert notice.issuer == "Ban Chỉ đạo xây dựng đô thị văn minh"
    assert notice.meeting_date == date(2025, 10, 1)  # "Sáng ngày 01/10/2025"
    items = by_ref(notice)
    assert list(items) == ["1", "1.a", "1.b", "1.c", "2", "2.a", "2.b"]
    assert deadlines(items["1.a"]) == [("2025-12-31", "by_date", "trước tháng 1/2026")]
    assert deadlines(items["1.b"]) == [("2025-10-31", "expected", "dự kiến tháng 10/2025")]
    assert deadlines(items["1.c"]) == [
        ("2025-12-31", "in_month", "trong tháng 12/2025"),
        ("2025-12-15", "by_date", "thời hạn: 15/12/2025"),
    ]
    assert units(items["1.c"]) == [("Phòng Văn hóa - Xã hội", "lead")]
    # No year: the meeting's year.
    assert deadlines(items["2.a"]) == [("2025-12-20", "by_date", "trước ngày 20/12")]
    assert items["2.a"].recurrences == []  # "thứ Bảy cuối tháng" is not weekly
    assert deadlines(items["2.b"]) == [("2026-12-31", "in_year", "thực hiện trong năm 2026")]
    assert units(items["2.b"]) == [
        ("Đoàn Thanh niên Cộng sản Hồ Chí Minh phường", "lead"),
        ("Công an phường", "support"),
    ]


def test_bullets_only_notice_without_letterhead():
    notice = parse(read(NOTICES / "bullets-only.txt"))
    assert (notice.number, notice.issued_on, notice.issuer) == (None, None, None)
    assert notice.meeting_date == date(2025, 5, 14)
    items = by_ref(notice)
    assert list(items) == ["-1", "-2", "-3", "-4"]
    assert units(items["-1"]) == [("Công an xã", "lead")]
    assert deadlines(items["-1"]) == [("2025-05-31", "by_date", "hoàn thành trước ngày 31/5/2025")]
    assert deadlines(items["-2"]) == [("2025-06-30", "in_month", "trong tháng 6/2025")]
    assert recurrences(items["-3"]) == [("weekly", 5, "morning"), ("weekly", 6, "morning")]
    assert items["-4"].persons == ["Lê Văn Tám"]
    assert items["-4"].units == []  # "báo cáo UBND xã": the recipient
    assert recurrences(items["-4"]) == [("monthly", None, None)]


# --- a .docx built here -----------------------------------------------------------------


def _docx_bytes() -> bytes:
    from docx import Document

    document = Document()
    letterhead = document.add_table(rows=2, cols=2)
    letterhead.cell(0, 0).text = "ĐẢNG ỦY PHƯỜNG KIẾN HƯNG"
    letterhead.cell(0, 1).text = "ĐẢNG CỘNG SẢN VIỆT NAM"
    letterhead.cell(1, 0).text = "Số 12 - TB/ĐU"
    letterhead.cell(1, 1).text = "Kiến Hưng, ngày 15 tháng 9 năm 2025"
    document.add_paragraph("THÔNG BÁO")
    document.add_paragraph("Kết luận của Ban Thường vụ Đảng ủy về công tác dân vận")
    document.add_paragraph("Ngày 12/9/2025, Ban Thường vụ Đảng ủy phường họp và kết luận:")
    document.add_paragraph("1. UBND phường rà soát các kiến nghị tồn đọng, hoàn thành trước")
    document.add_paragraph("ngày 30/9/2025.")
    document.add_paragraph("2. Ủy ban MTTQ phường giám sát, báo cáo kết quả hằng tháng.")
    inner = document.add_table(rows=1, cols=1)
    inner.cell(0, 0).text = "3. Công an phường tuần tra vào tối thứ Sáu hằng tuần."
    signature = document.add_table(rows=1, cols=2)
    signature.cell(0, 0).text = "Nơi nhận:\n- Như trên;\n- Lưu VPĐU."
    signature.cell(0, 1).text = "T/M BAN THƯỜNG VỤ\nBÍ THƯ\n\nNguyễn Văn Khánh"
    merged = document.add_table(rows=1, cols=2)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Một ô gộp"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_notice(tmp_path):
    data = _docx_bytes()
    text = read_text(data, "thong-bao.docx")
    assert text.count("Một ô gộp") == 1  # a merged cell is read once
    path = tmp_path / "thong-bao.docx"
    path.write_bytes(data)
    assert read_text(path) == text
    notice = parse(text)
    assert notice.number == "12-TB/ĐU"
    assert notice.issued_on == date(2025, 9, 15)
    assert notice.meeting_date == date(2025, 9, 12)
    assert notice.issuer == "Đảng ủy phường Kiến Hưng"
    items = by_ref(notice)
    assert list(items) == ["1", "2", "3"]
    assert deadlines(items["1"]) == [("2025-09-30", "by_date", "hoàn thành trước ngày 30/9/2025")]
    assert units(items["2"]) == [("Ủy ban Mặt trận Tổ quốc phường", "lead")]
    assert recurrences(items["2"]) == [("monthly", None, None)]
    assert recurrences(items["3"]) == [("weekly", 4, "evening")]
    assert "Nguyễn Văn Khánh" not in "\n".join(item.text for item in notice.items)


# --- every notice: round trip, schema, unique refs --------------------------------------

_MARKER = re.compile(r"^(?:[IVX]+\s*[.)\-–]|\d{1,2}\s*[.)]|\(\d{1,2}\)\s*[.:]?|[a-z]\)|[-–+•])\s*")


def _fragments(text: str) -> list[str]:
    """Sentences of the body, cut independently of the parser: from the first numbered
    paragraph to "Nơi nhận", markers and emphasis removed."""
    lines = text.replace("*", "").splitlines()
    start = next(i for i, line in enumerate(lines) if _MARKER.match(line.strip()))
    end = next(
        (i for i, line in enumerate(lines) if line.strip().startswith("Nơi nhận")), len(lines)
    )
    fragments = []
    for line in lines[start:end]:
        line = _MARKER.sub("", line.strip())
        for piece in re.split(r"(?<=[.;:])\s+", line):
            piece = " ".join(piece.split())
            if len(piece) > 3:
                fragments.append(piece)
    return fragments


@pytest.mark.parametrize("path", ALL_NOTICES, ids=lambda p: p.stem)
def test_round_trip_no_text_lost(path):
    text = read(path)
    notice = parse(text)
    assert notice.items
    assert missing_text(text, notice) == []
    joined = " ".join(" ".join(item.text.split()) for item in notice.items)
    lost = [piece for piece in _fragments(text) if piece not in joined]
    assert lost == []


@pytest.mark.parametrize("path", ALL_NOTICES, ids=lambda p: p.stem)
def test_json_matches_the_schema_and_refs_are_unique(path):
    import jsonschema

    data = parse(read(path)).to_json()
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        data
    )
    refs = [item["ref"] for item in data["items"]]
    assert len(refs) == len(set(refs))
    assert all(item["text"] == unicodedata.normalize("NFC", item["text"]) for item in data["items"])


def test_schema_in_the_docs_is_the_schema_file():
    docs = (Path(__file__).parents[2] / "docs" / "notice-json.md").read_text(encoding="utf-8")
    block = docs.split("## JSON Schema", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    assert json.loads(block) == SCHEMA


def test_mixed_case_letterhead_and_heading():
    text = (
        "Đảng ủy phường Kiến Hưng\nSố: 5-TB/ĐU\nKiến Hưng, ngày 2 tháng 1 năm 2026\n"
        "Thông báo\nKết luận về công tác dân vận\n"
        "Căn cứ Quy chế làm việc, Ban Thường vụ kết luận:\n"
        "1. UBND phường hoàn thành trước ngày 31/1/2026.\n"
    )
    notice = parse(text)
    assert notice.issuer == "Đảng ủy phường Kiến Hưng"
    assert notice.title == "Kết luận về công tác dân vận"
    assert notice.issued_on == date(2026, 1, 2)
    assert notice.meeting_date is None
    assert [item.ref for item in notice.items] == ["1"]


def test_not_a_notice_has_no_items():
    assert parse("").items == []
    assert parse("Xin chào.\nĐây không phải thông báo kết luận.").items == []


def test_repeated_numbers_get_unique_refs():
    notice = parse("Kết luận:\n1. UBND phường làm A.\n1. Công an phường làm B.\n")
    assert [item.ref for item in notice.items] == ["1", "1#2"]


# --- analyse: the tables row by row -----------------------------------------------------

REFERENCE = date(2024, 6, 21)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("UBND phường hoàn thành trước ngày 20/7/2024.", ("2024-07-20", "by_date")),
        ("Báo cáo trước 30/8/2023.", ("2023-08-30", "by_date")),
        ("Sửa xong đường, hoàn thành trước ngày 30/11/2025.", ("2025-11-30", "by_date")),
        ("Gửi báo cáo trước tháng 9/2024.", ("2024-08-31", "by_date")),
        ("Gửi báo cáo trước tháng 1/2025.", ("2024-12-31", "by_date")),
        ("Tổ chức trong tháng 8 năm 2023.", ("2023-08-31", "in_month")),
        ("Báo cáo trong tháng 8/2024.", ("2024-08-31", "in_month")),
        ("Tổ chức hội nghị (dự kiến tháng 9/2024).", ("2024-09-30", "expected")),
        ("Lắp đèn, dự kiến hoàn thành tháng 3/2026.", ("2026-03-31", "expected")),
        ("Lắp đèn, dự kiến tháng 2/2024 xong.", ("2024-02-29", "expected")),
        ("Lắp camera quý I/2026.", ("2026-03-31", "in_quarter")),
        ("Nghiệm thu trong quý III năm 2025.", ("2025-09-30", "in_quarter")),
        ("Xây nhà văn hóa tổ dân phố 5 năm 2026.", ("2026-12-31", "in_year")),
        ("Xây nhà văn hóa trong năm 2026, báo cáo kết quả.", ("2026-12-31", "in_year")),
        ("Xây nhà văn hóa, hoàn thành năm 2026 để bàn giao.", ("2026-12-31", "in_year")),
        ("Chậm nhất ngày 05/7/2024 phải báo cáo.", ("2024-07-05", "by_date")),
        ("Trình kế hoạch trước ngày 20/7.", ("2024-07-20", "by_date")),
        ("Trình kế hoạch trước ngày 20 tháng 7 năm 2024.", ("2024-07-20", "by_date")),
        ("Trình kế hoạch trước quý IV/2024.", ("2024-09-30", "by_date")),
        ("Giải phóng mặt bằng trước năm 2026.", ("2025-12-31", "by_date")),
        ("Báo cáo đến hết tháng 9/2024.", ("2024-09-30", "by_date")),
        ("Hội nghị dự kiến ngày 15/9/2024.", ("2024-09-15", "expected")),
        ("Thời hạn: 15/12/2024.", ("2024-12-15", "by_date")),
        ("Nộp báo cáo trong ngày 25/6/2024.", ("2024-06-25", "by_date")),
    ],
)
def test_deadline_forms(text, expected):
    found = analyse(text, REFERENCE).deadlines
    assert [(d.date.isoformat(), d.kind) for d in found] == [expected]
    assert found[0].text in text


@pytest.mark.parametrize(
    "text",
    [
        "Chuẩn bị Đại hội chi bộ nhiệm kỳ 2025-2027 theo quy định.",
        "Thực hiện Đề án số 11-ĐA/TU ngày 06/12/2021 của Ban Thường vụ Thành ủy.",
        "Báo cáo kết quả 06 tháng đầu năm 2024.",
        "Phương hướng nhiệm vụ 06 tháng cuối năm 2024.",
        "Tổ chức kỷ niệm 15 năm thành lập phường.",
        "Triển khai thực hiện từ ngày 01/8/2024.",
        "Báo cáo kết quả năm 2023.",
        "Xây dựng kế hoạch năm 2026 của Đảng ủy phường.",
        "Chương trình công tác giai đoạn năm 2025 - 2027.",
        "Nhiệm vụ trọng tâm tháng 8 năm 2024.",
        "Rà soát quy định về quỹ đất công ích.",
        "Đánh giá kết quả quý I/2024 và so với quý II/2024.",
        "Đã giải quyết xong 12/20 kiến nghị.",
        "Ngày 31/7/2024, Ban Chỉ đạo họp.",
        "Rác thải được thu gom, vận chuyển trong ngày, không tồn đọng.",
    ],
)
def test_not_deadlines(text):
    assert analyse(text, REFERENCE).deadlines == []


def test_bare_year_needs_a_reference_date():
    text = "Xây nhà văn hóa tổ dân phố 5 năm 2026."
    assert analyse(text).deadlines == []
    assert [d.kind for d in analyse(text, REFERENCE).deadlines] == ["in_year"]
    assert parser.analyse_item("Hoàn thành trong năm 2026.")["deadlines"] == [
        {"date": "2026-12-31", "kind": "in_year", "text": "Hoàn thành trong năm 2026"}
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("báo cáo vào chiều thứ Sáu hàng tuần.", [("weekly", 4, "afternoon")]),
        ("dọn vệ sinh sáng Chủ nhật hằng tuần.", [("weekly", 6, "morning")]),
        ("trực vào tối thứ 2 hằng tuần.", [("weekly", 0, "evening")]),
        ("vào thứ Bảy và chủ Nhật hàng tuần.", [("weekly", 5, None), ("weekly", 6, None)]),
        ("vào thứ Ba, thứ Năm hằng tuần.", [("weekly", 1, None), ("weekly", 3, None)]),
        (
            "sáng thứ Hai và chiều thứ Tư hằng tuần.",
            [("weekly", 0, "morning"), ("weekly", 2, "afternoon")],
        ),
        ("giao ban hằng tuần vào chiều thứ Sáu.", [("weekly", 4, "afternoon")]),
        ("giao ban hàng tuần.", [("weekly", None, None)]),
        ("Định kỳ hàng tháng, tổ chức giao ban.", [("monthly", None, None)]),
        ("báo cáo hằng tháng.", [("monthly", None, None)]),
        ("sinh hoạt 01 lần/tháng.", [("monthly", None, None)]),
        ("báo cáo định kỳ hằng quý.", [("quarterly", None, None)]),
        ("kiểm tra mỗi quý.", [("quarterly", None, None)]),
        ("Dọn vệ sinh vào thứ Bảy cuối tháng.", []),
        ("Báo cáo kết quả thứ Sáu.", []),
    ],
)
def test_recurrence_forms(text, expected):
    assert recurrences(analyse(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Giao đồng chí Ninh Thị Quỳnh, công chức Văn phòng.", ["Ninh Thị Quỳnh"]),
        (
            "Giao đồng chí Nguyễn Xuân Hùng, đồng chí Hồ Thị Chung làm.",
            ["Nguyễn Xuân Hùng", "Hồ Thị Chung"],
        ),
        ("đồng chí Nguyễn Sĩ Hoạt - Bí thư Đảng ủy chủ trì.", ["Nguyễn Sĩ Hoạt"]),
        ("Đồng chí Lê Văn Định, Ủy viên Ban Chấp hành.", ["Lê Văn Định"]),
        ("Giao đ/c Tôn Nữ Thị Minh Châu theo dõi.", ["Tôn Nữ Thị Minh Châu"]),
        ("đồng chí Bí thư Đảng ủy, đồng chí Chủ tịch UBND phường.", []),
        ("các đồng chí Phó Chủ tịch UBND Phường, đồng chí Trưởng Công an.", []),
        ("các đồng chí Ủy viên Ban Thường vụ.", []),
        ("đồng chí Hùng phụ trách.", []),
        ("đồng chí Nguyễn Văn An Chủ tịch UBND xã kết luận.", ["Nguyễn Văn An"]),
        ("đồng chí Nguyễn Văn Thành phụ trách.", ["Nguyễn Văn Thành"]),
        ("Giao ông Lê Văn Tám, trưởng thôn, và bà Đỗ Thị Mai.", ["Lê Văn Tám", "Đỗ Thị Mai"]),
    ],
)
def test_persons(text, expected):
    assert analyse(text).persons == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Công an phường chủ trì, phối hợp với UBND phường và Hội LHPN phường tuần tra.",
            [
                ("Công an phường", "lead"),
                ("Ủy ban nhân dân phường", "support"),
                ("Hội Liên hiệp Phụ nữ phường", "support"),
            ],
        ),
        (
            "Phối hợp với Công an phường, Ủy ban MTTQ phường chủ trì vận động.",
            [("Ủy ban Mặt trận Tổ quốc phường", "lead"), ("Công an phường", "support")],
        ),
        ("Phối hợp với Công an phường tuần tra.", [("Công an phường", "support")]),
        (
            "UBND phường cùng Ủy ban MTTQ phường kiểm tra.",
            [("Ủy ban nhân dân phường", "lead"), ("Ủy ban Mặt trận Tổ quốc phường", "support")],
        ),
        ("Phó Chủ tịch UBND phường kiểm tra.", []),
        ("Báo cáo UBND Quận những khó khăn.", []),
        ("Gửi Ban Thường vụ Đảng ủy, Ủy ban MTTQ phường trước ngày 5/7/2024.", []),
        ("Báo cáo kết quả, gửi UBND phường, Ủy ban MTTQ phường.", []),
        ("Thực hiện theo kế hoạch của UBND phường.", []),
    ],
)
def test_unit_roles(text, expected):
    assert units(analyse(text)) == expected
