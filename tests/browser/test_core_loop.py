"""The core loop in a real browser: a resident files, an officer assigns and resolves,
the public page shows the outcome and nothing personal.

Screenshots of the key steps go to ``test-artifacts/`` (one per database backend).
"""

from __future__ import annotations

import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.petitions import services
from portal.petitions.models import Petition, Status
from tests import factories

pytestmark = pytest.mark.browser

CODE = re.compile(r"^KN-\d{4}-\d{5}$")
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}

# The ward's square (see factories.build_world).
WEST, EAST, SOUTH, NORTH = 105.74, 105.76, 20.97, 20.99


def _stored(code: str) -> Petition:
    """The petition as committed by the server (not what this thread's session cached)."""
    db.session.rollback()
    petition = services.get_by_code(code)
    assert petition is not None, code
    return petition


def _petition_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Petition))


def _fill_problem(page, title="Điểm rác tự phát đầu ngõ 12 phố Văn Khê"):
    page.locator("#category_id").select_option(label="Vệ sinh môi trường")
    page.locator("#title").fill(title)
    page.locator("#description").fill(
        "Rác thải sinh hoạt đổ thành đống ở đầu ngõ, bốc mùi, chưa được thu gom."
    )


# JavaScript run in the page: wait until the map has drawn both residential groups and
# fitted them (their drawn box is centred in the map), then say where the west group is.
WARD_FITTED = """
() => {
  const map = document.getElementById("pick-map");
  const paths = map.querySelectorAll(".leaflet-overlay-pane path");
  if (paths.length < 2 || map.classList.contains("leaflet-zoom-anim")) return false;
  const m = map.getBoundingClientRect();
  let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
  for (const p of paths) {
    const r = p.getBoundingClientRect();
    left = Math.min(left, r.left); top = Math.min(top, r.top);
    right = Math.max(right, r.right); bottom = Math.max(bottom, r.bottom);
  }
  const dx = (left + right) / 2 - (m.left + m.right) / 2;
  const dy = (top + bottom) / 2 - (m.top + m.bottom) / 2;
  if (Math.abs(dx) > 2 || Math.abs(dy) > 2) return false;
  return {wardWidth: right - left, mapWidth: m.width, mapHeight: m.height};
}
"""


def test_resident_files_from_phone_with_map_pin_and_photo(browsing, backend, tmp_path):
    photo = tmp_path / "diem-rac.jpg"
    Image.new("RGB", (120, 90), (110, 140, 90)).save(photo, "JPEG", quality=80)
    page = browsing.new_page(**PHONE, device_scale_factor=2)

    page.goto("/kien-nghi/moi")
    _fill_problem(page)

    pick_map = page.locator("#pick-map")
    expect(pick_map).to_be_visible()
    fitted = page.wait_for_function(WARD_FITTED).json_value()
    # Near the centre of the map, a quarter of the ward to the west: inside the west group.
    x = fitted["mapWidth"] / 2 - fitted["wardWidth"] / 4
    y = fitted["mapHeight"] / 2
    pick_map.tap(position={"x": x, "y": y})

    latitude, longitude = page.locator("#latitude"), page.locator("#longitude")
    expect(latitude).to_have_value(re.compile(r"^\d+\.\d{6}$"))
    expect(longitude).to_have_value(re.compile(r"^\d+\.\d{6}$"))
    lat, lon = float(latitude.input_value()), float(longitude.input_value())
    assert SOUTH < lat < NORTH
    assert WEST < lon < EAST
    expect(pick_map.locator(".leaflet-marker-icon")).to_have_count(1)
    # The pin's residential group is suggested and chosen in the list.
    expect(page.locator("#address-suggestion")).to_contain_text("Tổ dân phố Nhân Trạch")
    west_id = str(browsing.server.world.west.id)
    expect(page.locator("#area_id")).to_have_value(west_id)

    page.locator("#photos").set_input_files(photo)
    browsing.screenshot(page, "1-phone-filing-form")

    with page.expect_navigation():
        page.locator("#petition-form button[type=submit]").tap()
    code_el = page.locator("#petition-code")
    expect(code_el).to_have_text(CODE)
    code = code_el.inner_text()
    expect(page.locator("#confirm-title")).to_have_text("Đã tiếp nhận kiến nghị của bạn")
    browsing.screenshot(page, "2-phone-confirmation")

    petition = _stored(code)
    assert petition.has_location
    assert petition.latitude == pytest.approx(lat)
    assert petition.longitude == pytest.approx(lon)
    assert petition.area is not None
    assert petition.area.name == "Tổ dân phố Nhân Trạch"
    assert len(petition.photos) == 1
    assert petition.status == Status.RECEIVED


def test_use_my_location_places_the_pin_or_says_why_not(browsing, backend):
    page = browsing.new_page(
        **PHONE,
        geolocation={"latitude": 20.98, "longitude": 105.755},
        permissions=["geolocation"],
    )
    page.goto("/kien-nghi/moi")
    page.get_by_role("button", name="Dùng vị trí của tôi").tap()
    expect(page.locator("#latitude")).to_have_value("20.980000")
    expect(page.locator("#longitude")).to_have_value("105.755000")
    expect(page.locator("#address-suggestion")).to_contain_text("Tổ dân phố La Dương")
    expect(page.locator("#area_id")).to_have_value(str(browsing.server.world.east.id))

    # Location refused: the resident is told, and pointed to the map and the list.
    page = browsing.new_page(**PHONE)
    page.goto("/kien-nghi/moi")
    page.get_by_role("button", name="Dùng vị trí của tôi").tap()
    expect(page.locator("#address-suggestion")).to_have_text(
        "Không lấy được vị trí của bạn. Hãy chạm vào bản đồ hoặc chọn tổ dân phố bên dưới."
    )
    expect(page.locator("#latitude")).to_have_value("")


def test_on_a_phone_the_list_shows_a_petition_on_the_first_screen(browsing, backend):
    """The filters take two columns on a phone, so the first result is in sight without
    scrolling; on a wide screen they stay in one row with the search."""
    world = browsing.server.world
    factories.file(world, title="Rác thải ùn ứ đầu ngõ 12")
    db.session.commit()
    page = browsing.new_page(**PHONE)
    page.goto("/kien-nghi")
    first = page.locator("#results a", has_text="Rác thải ùn ứ đầu ngõ 12")
    expect(first).to_be_visible()
    assert first.bounding_box()["y"] + first.bounding_box()["height"] <= 740
    status, category = (page.locator(f"#{name}").bounding_box() for name in ("status", "category"))
    assert status["y"] == category["y"] and status["x"] + status["width"] <= category["x"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing sideways
    browsing.screenshot(page, "list-phone")


def test_on_a_phone_the_staff_inbox_reads_row_by_row(browsing, backend):
    """A ward officer on site: the inbox table scrolls sideways inside its frame, titles
    keep a readable width, and the code stays at the left while the rest scrolls."""
    world = browsing.server.world
    code = factories.file(world, title="Cống thoát nước bị tắc gây ngập cả đoạn ngõ 7").code
    db.session.commit()
    page = browsing.new_page(**PHONE)
    browsing.log_in(page, "canbo@example.vn")
    page.goto("/quan-ly/")
    row = page.locator("table.row-table tbody tr", has_text=code)
    code_cell, title_cell = row.locator("td").nth(0), row.locator("td").nth(1)
    assert title_cell.bounding_box()["width"] >= 160
    assert code_cell.locator("a").bounding_box()["height"] < 30  # the code on one line
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # the page stays put
    before = code_cell.bounding_box()["x"]
    page.locator(".table-wrap").evaluate("frame => frame.scrollBy(300, 0)")
    assert page.locator(".table-wrap").evaluate("frame => frame.scrollLeft") > 0
    assert code_cell.bounding_box()["x"] == before  # sticky
    browsing.screenshot(page, "inbox-phone")


def test_resident_files_without_javascript(browsing, backend):
    page = browsing.new_page(java_script_enabled=False)

    page.goto("/kien-nghi/moi")
    # Without JavaScript the map stays hidden; the list of residential groups does the job.
    expect(page.locator("#pick-map")).to_be_hidden()
    _fill_problem(page)
    page.locator("#area_id").select_option(label="Tổ dân phố La Dương")
    page.locator("#address_text").fill("Ngõ 12 phố Văn Khê")
    browsing.screenshot(page, "3-nojs-filing-form")

    with page.expect_navigation() as navigation:
        page.locator("#petition-form button[type=submit]").click()
    assert navigation.value.status == 200  # after the 303
    code_el = page.locator("#petition-code")
    expect(code_el).to_have_text(CODE)
    browsing.screenshot(page, "4-nojs-confirmation")

    petition = _stored(code_el.inner_text())
    assert not petition.has_location
    assert petition.area.name == "Tổ dân phố La Dương"
    assert petition.address_text == "Ngõ 12 phố Văn Khê"


def test_officer_assigns_and_resolves_in_place_and_public_page_shows_outcome(browsing, backend):
    world = browsing.server.world
    petitioner = {
        "petitioner_name": "Nguyễn Thị Hoa",
        "petitioner_phone": "0912345678",
        "petitioner_email": "hoa.nguyen@example.vn",
    }
    code = factories.file(world, **petitioner).code
    note = "Đã thu gom toàn bộ rác và đặt biển cấm đổ rác tại đầu ngõ."

    page = browsing.new_page(viewport={"width": 1280, "height": 900})
    browsing.log_in(page, "canbo@example.vn")
    expect(page).to_have_url(re.compile(r"/quan-ly/$"))

    page.goto(f"/quan-ly/kien-nghi/{code}")
    badge = page.locator(f"#status-{code}")
    expect(badge).to_have_text("đã tiếp nhận")
    # The officer sees the petitioner's details; the public must not (checked below).
    expect(page.locator("#workspace")).to_contain_text(petitioner["petitioner_phone"])
    place_pin = page.locator("#place-map .leaflet-marker-icon")
    expect(place_pin).to_have_count(1)
    # A marker that a full page load would wipe out.
    page.evaluate("window.__sameDocument = true")
    browsing.screenshot(page, "5-staff-workspace")

    assign = page.locator("#action-assign")
    assign.locator("summary").click()
    assign.locator("#assign-lead_unit_id").select_option(label="Phòng Kinh tế, Hạ tầng và Đô thị")
    with page.expect_response(
        lambda r: r.url.endswith(f"/quan-ly/kien-nghi/{code}/assign") and r.request.method == "POST"
    ) as response:
        assign.get_by_role("button", name="Giao đơn vị xử lý").click()
    assert response.value.status == 200
    assert response.value.request.headers.get("hx-request") == "true"
    expect(badge).to_have_text("đã giao xử lý")
    expect(page.locator("#workspace .flash-success")).to_have_text("Đã lưu.")
    expect(page.locator("#workspace")).to_contain_text("Phòng Kinh tế, Hạ tầng và Đô thị")
    assert page.evaluate("window.__sameDocument") is True
    assert page.url.endswith(f"/quan-ly/kien-nghi/{code}")
    # The swapped-in workspace brings its own map, which must be drawn again.
    expect(place_pin).to_have_count(1)
    browsing.screenshot(page, "6-staff-assigned")

    resolve = page.locator("#action-resolve")
    resolve.locator("summary").click()
    resolve.locator("#resolve-public_note").fill(note)
    with page.expect_response(lambda r: r.url.endswith(f"/{code}/resolve")) as response:
        resolve.get_by_role("button", name="Đã giải quyết xong").click()
    assert response.value.status == 200
    expect(badge).to_have_text("đã giải quyết")
    assert page.evaluate("window.__sameDocument") is True
    browsing.screenshot(page, "7-staff-resolved")

    petition = _stored(code)
    assert petition.status == Status.RESOLVED
    assert petition.lead_assignment.unit.name == "Phòng Kinh tế, Hạ tầng và Đô thị"

    public = browsing.new_page()
    response = public.goto(f"/kien-nghi/{code}")
    assert response.status == 200
    expect(public.locator(f"#status-{code}")).to_have_text("đã giải quyết")
    expect(public.locator("main")).to_contain_text(note)
    html = public.content()
    for value in petitioner.values():
        assert value not in html
    assert "Nguyễn Thị Hoa" not in public.locator("body").inner_text()
    browsing.screenshot(public, "8-public-page-resolved")


def test_inline_validation_on_blur(browsing, backend):
    page = browsing.new_page(**PHONE)
    page.goto("/kien-nghi/moi")

    title = page.locator("#title")
    with page.expect_response(lambda r: r.url.endswith("/kien-nghi/moi/kiem-tra")) as response:
        title.fill("ab")
        title.press("Tab")
    assert response.value.status == 422
    errors = page.locator("#title-errors")
    expect(errors).to_have_text("Cần từ 5 đến 200 ký tự.")
    expect(page.locator("#title-field")).to_have_class(re.compile(r"\bhas-error\b"))
    # The swapped-in field keeps what was typed and its attributes.
    title = page.locator("#title")
    expect(title).to_have_value("ab")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_attribute("aria-describedby", re.compile(r"\btitle-errors\b"))
    expect(title).to_have_attribute("maxlength", "200")
    # Only that field speaks: the others are untouched and nothing was submitted.
    expect(page.locator(".field-errors")).to_have_count(1)
    expect(page.locator(".form-errors")).to_have_count(0)
    assert page.url.endswith("/kien-nghi/moi")
    browsing.screenshot(page, "9-phone-inline-error")

    # Fixing it clears the message.
    with page.expect_response(lambda r: r.url.endswith("/kien-nghi/moi/kiem-tra")) as response:
        title.fill("Đèn đường hỏng")
        title.press("Tab")
    assert response.value.status == 200
    expect(page.locator("#title-errors")).to_have_count(0)

    # A re-rendered field keeps the attributes that pick a phone's keyboard.
    phone = page.locator("#petitioner_phone")
    with page.expect_response(lambda r: r.url.endswith("/kien-nghi/moi/kiem-tra")) as response:
        phone.fill("12345")
        phone.press("Tab")
    assert response.value.status == 422
    expect(page.locator("#petitioner_phone-errors")).to_contain_text("Số điện thoại không hợp lệ.")
    phone = page.locator("#petitioner_phone")
    expect(phone).to_have_value("12345")
    expect(phone).to_have_attribute("type", "tel")
    expect(phone).to_have_attribute("inputmode", "tel")
    expect(phone).to_have_attribute("autocomplete", "tel")
    assert _petition_count() == 0


def test_empty_form_without_javascript_comes_back_with_errors(browsing, backend):
    page = browsing.new_page(java_script_enabled=False)
    page.goto("/kien-nghi/moi")

    with page.expect_navigation() as navigation:
        page.locator("#petition-form button[type=submit]").click()
    assert navigation.value.status == 422
    assert navigation.value.request.method == "POST"
    expect(page.locator(".form-errors")).to_contain_text(
        "Biểu mẫu còn lỗi, hãy xem các ô được đánh dấu bên dưới."
    )
    expect(page.locator("#category_id-errors")).to_have_text("Hãy chọn lĩnh vực.")
    expect(page.locator("#title-errors")).to_have_text("Hãy nhập tiêu đề ngắn gọn.")
    expect(page.locator("#description-errors")).to_have_text("Hãy mô tả vấn đề.")
    expect(page.locator("#title")).to_have_attribute("aria-invalid", "true")
    browsing.screenshot(page, "10-nojs-empty-form-errors")
    assert _petition_count() == 0
