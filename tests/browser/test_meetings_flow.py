"""Meetings in a real browser: a ward officer creates a meeting, imports its conclusion
notice (paste, review with htmx, save), links a petition to an item and hands it to the
item's unit, then downloads the report back in three groups.

Screenshots of the key steps go to ``test-artifacts/`` (one per database backend).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.meetings.models import ConclusionNotice, NoticeItem
from portal.petitions import services
from portal.petitions.models import Status
from tests import factories

pytestmark = pytest.mark.browser

NOTICE_TEXT = (
    Path(__file__).resolve().parents[1] / "meetings/notices/sample-thi-tran-sao-vang-2023-07-31.txt"
).read_text(encoding="utf-8")
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE_VIEWPORT = {"width": 360, "height": 740}
CHOICES = "#review select[name$='-choice']"

# JavaScript run in the page: how far the page is wider than the window (0 when it fits).
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _log_in(browsing, **options):
    page = browsing.new_page(**(options or DESKTOP))
    browsing.log_in(page, "canbo@example.vn")
    expect(page).to_have_url(re.compile(r"/quan-ly/$"))
    return page


def _create_meeting(page) -> int:
    page.goto("/hoi-nghi/moi")
    page.locator("#kind").select_option(label="Hội nghị giao ban")
    page.locator("#title").fill("Giao ban xây dựng đô thị văn minh tháng 7/2023")
    page.locator("#held_on").fill("2023-07-31")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page).to_have_url(re.compile(r"/hoi-nghi/\d+$"))
    expect(page.locator("h1")).to_have_text("Giao ban xây dựng đô thị văn minh tháng 7/2023")
    expect(page.locator(".flash-success")).to_have_text("Đã tạo hội nghị.")
    return int(page.url.rsplit("/", 1)[1])


def _paste_notice(page):
    page.locator("#text").fill(NOTICE_TEXT)
    with page.expect_navigation():
        page.get_by_role("button", name="Phân tích và xem lại").click()
    expect(page.locator("h1")).to_have_text("Xem lại thông báo trước khi lưu")
    expect(page.locator("#review #number")).to_have_value(re.compile(r"07\s*-\s*TB/BCĐ"))
    # Nothing is saved before the officer confirms.
    assert _count(ConclusionNotice) == 0
    assert _count(NoticeItem) == 0


def _unit_row(page, name: str):
    """The row of the review's unit tables whose "Tên trong văn bản" is ``name``."""
    first_cell = page.locator("td:first-child", has_text=re.compile(rf"^{re.escape(name)}$"))
    return page.locator("#review table.units tbody tr").filter(has=first_cell)


def _drop_unresolved(page) -> int:
    """Set every unit select still "— Chưa xác định —" to "Bỏ qua tên này"."""
    dropped = 0
    choices = page.locator(CHOICES)
    for i in range(choices.count()):
        choice = choices.nth(i)
        if choice.input_value() == "":
            choice.select_option("drop")
            dropped += 1
    return dropped


def test_officer_imports_notice_links_petition_and_downloads_report(browsing, backend, tmp_path):
    world = browsing.server.world
    police = world.units["police"]
    code = factories.file(world, title="Xe máy đỗ tràn lòng đường trước chợ").code
    page = _log_in(browsing)

    # 1. A meeting.
    meeting_id = _create_meeting(page)
    browsing.screenshot(page, "11-meeting-page")

    # 2. Its conclusion notice, pasted: the review screen, nothing saved.
    with page.expect_navigation():
        page.get_by_role("link", name="Nhập thông báo kết luận").click()
    expect(page.locator("h1")).to_have_text("Nhập thông báo kết luận")
    expect(page.locator("#meeting_id")).to_have_value(str(meeting_id))
    _paste_notice(page)
    expect(page.locator("#review #meeting_id")).to_have_value(str(meeting_id))

    # 3. Units: the town police is our ward police; every other unknown name is dropped.
    police_choice = _unit_row(page, "Công an thị trấn").locator("select[name$='-choice']")
    expect(police_choice).to_have_count(1)
    expect(police_choice).to_have_value("")
    police_choice.select_option(label="Công an Phường")
    dropped = _drop_unresolved(page)
    assert dropped > 0, "the sample names units the test ward does not have"
    choice_name = police_choice.get_attribute("name")
    page.evaluate("window.__sameDocument = true")
    browsing.screenshot(page, "12-review")

    with page.expect_response(
        lambda r: r.url.endswith("/hoi-nghi/thong-bao/xem-lai") and r.request.method == "POST"
    ) as response:
        page.get_by_role("button", name="Cập nhật bản xem lại").click()
    assert response.value.status == 200
    assert response.value.request.headers.get("hx-request") == "true"
    assert f"{choice_name}={police.id}" in (response.value.request.post_data or "")
    # The swapped-in review keeps every choice, and the page was not reloaded.
    police_choice = page.locator(f"#review select[name='{choice_name}']")
    expect(police_choice).to_have_value(str(police.id))
    expect(_unit_row(page, "Công an thị trấn").locator("select[name$='-choice']")).to_have_value(
        str(police.id)
    )
    choices = page.locator(CHOICES)
    values = [choices.nth(i).input_value() for i in range(choices.count())]
    assert "" not in values
    assert values.count("drop") == dropped
    assert page.evaluate("window.__sameDocument") is True
    assert _count(ConclusionNotice) == 0

    # The review screen on a phone: nothing wider than the screen.
    page.set_viewport_size(PHONE_VIEWPORT)
    assert page.evaluate(OVERFLOW) <= 0
    # Each name's unit and role stack at full width, readable, not squeezed into columns.
    for control in _unit_row(page, "Công an thị trấn").locator("select").all():
        assert control.bounding_box()["width"] > PHONE_VIEWPORT["width"] / 2
    browsing.screenshot(page, "13-phone-review")
    page.set_viewport_size(DESKTOP["viewport"])

    with page.expect_navigation():
        page.get_by_role("button", name="Lưu thông báo").click()
    expect(page).to_have_url(re.compile(r"/hoi-nghi/thong-bao/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu thông báo với")
    item_row = page.locator("table.inbox tbody tr").filter(
        has=page.get_by_role("link", name="2.4", exact=True)
    )
    expect(item_row).to_have_count(1)
    expect(item_row).to_contain_text("CA Phường")
    browsing.screenshot(page, "14-notice-page")

    db.session.rollback()
    notice = db.session.scalar(select(ConclusionNotice))
    assert notice.meeting_id == meeting_id
    item = next(i for i in notice.items if i.ref == "2.4")
    assert [u.unit.name for u in item.units] == ["Công an Phường"]

    # 4. Item 2.4: link the petition and hand it to the item's unit.
    with page.expect_navigation():
        item_row.get_by_role("link", name="2.4", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/hoi-nghi/muc/{item.id}$"))
    expect(page.locator("h1")).to_contain_text("Mục 2.4")
    petitions = page.locator("#item-petitions")
    expect(petitions).to_contain_text("Chưa có kiến nghị nào được liên kết với mục này.")
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Mã kiến nghị").fill(code)
    page.get_by_label("Giao luôn cho đơn vị của mục này").check()
    with page.expect_response(lambda r: r.url.endswith(f"/hoi-nghi/muc/{item.id}/lien-ket")) as (
        response
    ):
        petitions.get_by_role("button", name="Liên kết kiến nghị").click()
    assert response.value.status == 200
    assert response.value.request.headers.get("hx-request") == "true"
    expect(petitions.locator(".row-code")).to_have_text([code])
    expect(petitions).to_contain_text("đã giao xử lý")
    # The form is ready for the next code.
    expect(page.get_by_label("Mã kiến nghị")).to_have_value("")
    assert page.evaluate("window.__sameDocument") is True
    browsing.screenshot(page, "15-item-page")

    db.session.rollback()
    petition = services.get_by_code(code)
    assert petition.status == Status.ASSIGNED
    assert petition.lead_assignment.unit.name == "Công an Phường"
    assert item in petition.notice_items

    # 5. The report for the meeting: the petition is in progress; both downloads work.
    response = page.goto(f"/bao-cao?meeting={meeting_id}")
    assert response.status == 200
    expect(page.locator("#group-2 h2")).to_contain_text("Những nội dung đang thực hiện")
    row = page.locator(f"#group-2 #row-{code}")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Công an Phường")
    expect(page.locator(f"#group-1 #row-{code}, #group-3 #row-{code}")).to_have_count(0)
    browsing.screenshot(page, "16-report")

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải .docx").click()
    assert download.value.suggested_filename.endswith(".docx")
    docx_path = tmp_path / download.value.suggested_filename
    download.value.save_as(docx_path)
    document = Document(str(docx_path))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for r in table.rows for cell in r.cells]
    assert "BÁO CÁO" in texts
    assert any(code in text for text in texts)

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải .xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    xlsx_path = tmp_path / download.value.suggested_filename
    download.value.save_as(xlsx_path)
    workbook = load_workbook(xlsx_path, read_only=True)
    rows = [r for sheet in workbook.worksheets for r in sheet.iter_rows(values_only=True)]
    assert any(code in (str(v) for v in r if v is not None) for r in rows)
    workbook.close()


def test_notice_import_without_javascript(browsing, backend):
    page = _log_in(browsing, java_script_enabled=False, **DESKTOP)

    page.goto("/hoi-nghi/thong-bao/nhap")
    _paste_notice(page)
    # The first save, with names still unknown, comes back with the errors and saves nothing.
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Lưu thông báo").click()
    assert navigation.value.status == 422
    expect(page.locator("#review .form-errors")).to_contain_text(
        "Còn tên đơn vị chưa được xác định"
    )
    assert _count(ConclusionNotice) == 0

    assert _drop_unresolved(page) > 0
    browsing.screenshot(page, "17-nojs-review")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Lưu thông báo").click()
    assert navigation.value.status == 200  # after the 303
    expect(page).to_have_url(re.compile(r"/hoi-nghi/thong-bao/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu thông báo với")
    expect(page.get_by_role("link", name="2.4", exact=True)).to_be_visible()
    browsing.screenshot(page, "18-nojs-notice-page")

    db.session.rollback()
    notice = db.session.scalar(select(ConclusionNotice))
    assert notice.number and "07" in notice.number
    assert notice.meeting_id is None
    assert all(not item.units for item in notice.items)
