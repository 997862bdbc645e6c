"""Accessibility in a real browser: axe-core on the main public and staff pages, and
filing a petition with the keyboard alone, the list of residential groups standing in for
the map.

axe-core is vendored under ``static/vendor/axe-core-*/`` for these tests only: no page
loads it. It is evaluated in the page through the DevTools protocol, which the page's
Content-Security-Policy (no inline scripts) does not govern.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.meetings.models import (
    ConclusionNotice,
    Meeting,
    MeetingKind,
    NoticeItem,
    NoticeItemUnit,
)
from portal.petitions import services
from portal.petitions.models import AssignmentRole
from tests import factories

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "static"
AXE_SOURCE = sorted(STATIC.glob("vendor/axe-core-*/axe.min.js"))[-1].read_text(encoding="utf-8")
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
# What fails the build; A11Y_IMPACTS=minor,moderate,serious,critical shows everything.
SERIOUS = tuple(os.environ.get("A11Y_IMPACTS", "serious,critical").split(","))

# Run in the page once axe is loaded: the serious and critical violations, made plain.
RUN_AXE = """
async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({
      target: n.target.join(" "),
      html: n.html.slice(0, 160),
      summary: (n.failureSummary || "").split("\\n").slice(1).join(" ").trim(),
    })),
  }));
}
"""


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now, with every
    ``<details>`` open (the staff's action forms live in them)."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE + "\n;true")
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in SERIOUS]


def describe(found: dict[str, list[dict]]) -> str:
    """One block per page: rule, impact, what it asks, and each offending element."""
    lines = []
    for url, violations in found.items():
        lines.append(f"{url}:")
        for v in violations:
            lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
            for node in v["nodes"][:8]:
                lines.append(f"      {node['target']}  {node['html']}")
                if node["summary"]:
                    lines.append(f"        → {node['summary'][:300]}")
            if len(v["nodes"]) > 8:
                lines.append(f"      … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def check_pages(browsing, page, urls: list[str], name: str) -> None:
    found = {}
    for url in urls:
        page.goto(url)
        violations = axe_violations(page)
        if violations:
            found[url] = violations
            browsing.screenshot(page, f"a11y-{name}-{len(found)}")
    assert not found, "serious or critical accessibility problems:\n" + describe(found)


@pytest.fixture
def a11y_world(live_server):
    """Petitions in several states, one with a photo-free public history, a meeting with a
    conclusion notice and an item, so every page has something to show."""
    world = live_server.world
    received = factories.file(world, title="Đèn đường ngõ 5 hỏng")
    worked = factories.file(world, point=factories.INSIDE_EAST)
    factories.assign(world, worked)
    services.post_update(
        worked, world.users["unit_staff"], public_note="Đã khảo sát, lên phương án thu gom."
    )
    resolved = factories.file(world, title="Cống thoát nước tắc trước nhà văn hóa")
    factories.assign(world, resolved)
    services.resolve(resolved, world.users["unit_staff"], public_note="Đã nạo vét xong cống.")
    meeting = Meeting(
        ward=world.ward,
        kind=MeetingKind.DIALOGUE,
        title="Hội nghị tiếp xúc, đối thoại năm 2026",
        held_on=date(2026, 9, 15),
        place="Hội trường UBND phường",
    )
    notice = ConclusionNotice(
        meeting=meeting,
        number="15-TB/ĐU",
        issued_on=date(2026, 9, 20),
        title="Kết luận hội nghị tiếp xúc, đối thoại năm 2026",
        full_text="…",
    )
    item = NoticeItem(
        notice=notice,
        ref="2.(1)",
        position=0,
        text="Phòng Kinh tế, Hạ tầng và Đô thị xử lý dứt điểm điểm đen rác thải ngõ 12.",
        deadlines=[{"date": "2027-01-31", "kind": "by_date", "text": "trước ngày 31/01/2027"}],
    )
    item.units.append(NoticeItemUnit(unit=world.units["infra"], role=AssignmentRole.LEAD))
    db.session.add_all([meeting, notice, item])
    db.session.commit()
    return {
        "received": received.code,
        "worked": worked.code,
        "resolved": resolved.code,
        "private_token": received.private_token,
        "meeting": meeting.id,
        "notice": notice.id,
        "item": item.id,
    }


def test_public_pages_have_no_serious_accessibility_problems(browsing, a11y_world):
    page = browsing.new_page(**DESKTOP)
    check_pages(
        browsing,
        page,
        [
            "/",
            "/kien-nghi/moi",
            f"/cua-toi/{a11y_world['private_token']}?moi=1",  # the confirmation
            "/tra-cuu",
            "/tra-cuu?ma=KN-2026-99999",  # not found: the error state
            "/kien-nghi",
            f"/kien-nghi/{a11y_world['worked']}",
            f"/kien-nghi/{a11y_world['resolved']}",
            "/ban-do/",
            "/thong-ke",
            "/du-lieu-mo",
            "/hoi-nghi/",
            f"/hoi-nghi/{a11y_world['meeting']}",
            "/dang-nhap",
        ],
        "public",
    )
    # The filing form with every error showing, as a resident who sent it empty sees it.
    page.goto("/kien-nghi/moi")
    with page.expect_navigation():
        page.locator("#petition-form button[type=submit]").click()
    expect(page.locator(".form-errors")).to_be_visible()
    assert not (v := axe_violations(page)), describe({"/kien-nghi/moi (errors)": v})
    # A phone: the same pages, narrow.
    phone = browsing.new_page(**PHONE)
    check_pages(
        browsing, phone, ["/", "/kien-nghi/moi", f"/kien-nghi/{a11y_world['worked']}"], "phone"
    )


def test_staff_pages_have_no_serious_accessibility_problems(browsing, a11y_world):
    page = browsing.new_page(**DESKTOP)
    browsing.log_in(page, "canbo@example.vn", keyboard=True)
    check_pages(
        browsing,
        page,
        [
            "/quan-ly/",
            f"/quan-ly/kien-nghi/{a11y_world['received']}",
            f"/quan-ly/kien-nghi/{a11y_world['worked']}",
            f"/hoi-nghi/{a11y_world['meeting']}",
            f"/hoi-nghi/thong-bao/{a11y_world['notice']}",
            f"/hoi-nghi/muc/{a11y_world['item']}",
            "/hoi-nghi/moi",
            "/hoi-nghi/thong-bao/nhap",
            f"/hoi-nghi/{a11y_world['meeting']}/kien-nghi",
            "/bao-cao",
            "/giam-sat",
        ],
        "staff",
    )
    # An action sent without its reason: the workspace comes back through htmx with errors.
    page.goto(f"/quan-ly/kien-nghi/{a11y_world['received']}")
    reject = page.locator("#action-reject")
    reject.locator("summary").click()
    reject.locator("button[type=submit]").click()
    expect(page.locator("#workspace .form-errors")).to_be_visible()
    assert not (v := axe_violations(page)), describe({"staff page (htmx errors)": v})

    mttq = browsing.new_page(**DESKTOP)
    browsing.log_in(mttq, "mttq@example.vn", keyboard=True)
    check_pages(browsing, mttq, ["/giam-sat", f"/hoi-nghi/muc/{a11y_world['item']}"], "mttq")


def test_admin_pages_have_no_serious_accessibility_problems(browsing, a11y_world):
    from portal.monitoring import services as monitoring

    # The calendar with both kinds of day swap: every ward's, and this ward's own.
    monitoring.set_override(date(2026, 12, 26), True, "Làm bù", every_ward=True)
    monitoring.set_override(date(2026, 12, 28), False, "Nghỉ theo quyết định của UBND")
    db.session.commit()
    page = browsing.new_page(**DESKTOP)
    browsing.log_in(page, "admin@example.vn", keyboard=True)
    pages = [
        "/quan-ly/lich?nam=2026",
        "/quan-ly/to-dan-pho/",
        "/quan-ly/to-dan-pho/dia-danh",
        "/quan-ly/khoa-api/",
        "/quan-ly/thu-di",
        "/quan-ly/nhat-ky-du-lieu",
        "/quan-ly/du-lieu-ca-nhan",
    ]
    assert {url: page.goto(url).status for url in pages} == dict.fromkeys(pages, 200)
    check_pages(browsing, page, pages, "admin")
    # The calendar's form sent with a day that does not exist: the errors, as shown.
    page.goto("/quan-ly/lich")
    page.locator("#note").fill("Làm bù")
    with page.expect_navigation():
        page.locator("form.card button[type=submit]").click()
    expect(page.locator(".form-errors")).to_be_visible()
    assert not (v := axe_violations(page)), describe({"/quan-ly/lich (errors)": v})


# Run in the page: what has the focus, and can it be seen (an outline of 2px or more).
FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    id: el.id, tag: el.tagName.toLowerCase(), cls: String(el.className || ""),
    inMap: Boolean(el.closest("#pick-map")),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}
"""


def tab_to(page, element_id: str, *, key: str = "Tab", limit: int = 40) -> list[dict]:
    """Press Tab (or Shift+Tab) until ``#element_id`` has the focus; every stop on the way
    must show where the focus is."""
    stops = []
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        assert focused is not None, f"the focus left the page after {stops}"
        assert focused["outline"], f"no visible focus on {focused}"
        stops.append(focused)
        if focused["id"] == element_id:
            return stops
    names = [s["id"] or s["cls"] for s in stops]
    raise AssertionError(f"#{element_id} not reached with {key}: {names}")


def test_filing_with_the_keyboard_alone_and_the_list_instead_of_the_map(browsing, backend):
    world = browsing.server.world
    page = browsing.new_page(**DESKTOP)
    page.goto("/kien-nghi/moi")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#pick-map")).to_be_visible()

    # The map says what it is and where its alternative is; the list says it is one.
    pick_map = page.locator("#pick-map")
    expect(pick_map).to_have_attribute("aria-describedby", re.compile(r"(^| )map-help( |$)"))
    expect(page.locator("#map-help")).to_contain_text("chọn tổ dân phố bên dưới")
    area = page.locator("#area_id")
    hint = page.locator(f"#{area.get_attribute('aria-describedby')}")
    expect(hint).to_contain_text("Không dùng bản đồ? Chọn tổ dân phố")
    expect(page.get_by_label("Tổ dân phố", exact=True)).to_have_count(1)

    # The first Tab reaches the skip link; Enter jumps over the header to the content.
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, "category_id", limit=5)
    page.keyboard.press("ArrowDown")  # the first category
    expect(page.locator("#category_id")).not_to_have_value("")
    tab_to(page, "title", limit=3)
    page.keyboard.type("Hố ga mất nắp trước số nhà 25")
    tab_to(page, "description", limit=3)
    page.keyboard.type("Hố ga sâu, không có nắp, rất nguy hiểm cho trẻ em và người đi xe máy.")

    # Through the map and out the other side: it holds the focus once and lets it go.
    stops = tab_to(page, "area_id")
    in_map = [s for s in stops if s["inMap"]]
    assert in_map, "the map can be reached with the keyboard (arrows pan it)"
    assert in_map[0]["id"] == "pick-map"
    assert len(in_map) <= 4, f"the map, its zoom buttons, its credit: {in_map}"
    assert not stops[-1]["inMap"]
    back = tab_to(page, "description", key="Shift+Tab")
    assert [s for s in back if s["inMap"]], "and left again backwards"
    tab_to(page, "area_id")
    page.keyboard.press("ArrowDown")  # the first residential group
    expect(area).to_have_value(str(world.west.id))
    tab_to(page, "address_text", limit=3)
    page.keyboard.type("Trước số nhà 25 ngõ 12")

    # On to the button, past the photos and the optional contact fields; Space sends.
    stops = tab_to(page, "send-petition")
    assert "photos" in [s["id"] for s in stops]
    with page.expect_navigation():
        page.keyboard.press("Space")
    code = page.locator("#petition-code")
    expect(code).to_have_text(re.compile(r"^KN-\d{4}-\d{5}$"))
    expect(page.locator("#confirm-title")).to_be_visible()

    db.session.rollback()
    petition = services.get_by_code(code.inner_text())
    assert petition.area_id == world.west.id
    assert not petition.has_location
    assert petition.address_text == "Trước số nhà 25 ngõ 12"
    assert petition.title == "Hố ga mất nắp trước số nhà 25"


def test_the_filing_map_focused_and_with_a_pin_has_no_serious_problems(browsing, backend):
    """The map with the keyboard focus (its crosshair and keys showing) and a pin dropped
    with Enter, then the pin focused: on a desktop and on a phone."""
    for name, options in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browsing.new_page(**options)
        page.goto("/kien-nghi/moi")
        page.wait_for_load_state("networkidle")
        page.locator("#description").focus()
        tab_to(page, "pick-map", limit=3)
        expect(page.locator("#pick-map .map-crosshair")).to_be_visible()
        expect(page.locator("#map-keys")).to_be_visible()
        page.keyboard.press("Enter")
        expect(page.locator("#map-status")).to_contain_text("Đã đặt vị trí")
        expect(page.locator("#pick-map .leaflet-marker-icon")).to_have_count(1)
        found = {}
        if v := axe_violations(page):
            found[f"/kien-nghi/moi ({name}, map focused, pin placed)"] = v
        page.keyboard.press("Tab")
        expect(page.locator("#pick-map .leaflet-marker-icon")).to_be_focused()
        if v := axe_violations(page):
            found[f"/kien-nghi/moi ({name}, pin focused)"] = v
        if found:
            browsing.screenshot(page, f"a11y-map-keyboard-{name}")
        assert not found, describe(found)


def test_the_overview_map_lets_the_focus_through_to_its_list(browsing, a11y_world):
    page = browsing.new_page(**DESKTOP)
    page.goto("/ban-do/")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#overview-map .leaflet-marker-icon").first).to_be_visible()
    page.locator("#map-filters button[type=submit]").focus()
    stops = []
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => ({inMap: Boolean(document.activeElement.closest('#overview-map')),"
            " inList: Boolean(document.activeElement.closest('.map-list')),"
            " outline: getComputedStyle(document.activeElement).outlineStyle !== 'none'})"
        )
        stops.append(focused)
        assert focused["outline"], f"no visible focus at stop {len(stops)}"
        if focused["inList"]:
            break
    assert any(s["inMap"] for s in stops), "the map and its pins take the focus"
    assert stops[-1]["inList"], f"the focus never got past the map: {stops}"


def test_the_page_language_follows_the_chosen_language(browsing, a11y_world):
    page = browsing.new_page(**DESKTOP)
    page.goto("/tra-cuu")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    switch = page.get_by_role("button", name="English")
    expect(switch).to_have_attribute("lang", "en")
    switch.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert not (v := axe_violations(page)), describe({"/tra-cuu (English)": v})
