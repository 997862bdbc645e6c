"""An MTTQ officer opens the dashboard, follows a number to its list, adds a remark."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.timeutil import frozen_clock
from tests import factories

pytestmark = pytest.mark.browser


def test_mttq_reads_the_dashboard_and_adds_a_remark(browsing, backend):
    world = browsing.server.world
    with frozen_clock(datetime.now() - timedelta(days=60)):
        late = factories.assign(
            world, factories.file(world, title="Cống tắc lâu ngày ngõ 8"), "infra"
        )
    factories.file(world, title="Đèn đường hỏng mới báo")
    db.session.commit()

    page = browsing.new_page(viewport={"width": 1280, "height": 900})
    browsing.log_in(page, "mttq@example.vn")

    page.goto("/giam-sat")
    expect(page.locator("h1")).to_have_text("Giám sát việc giải quyết kiến nghị")
    units = page.locator("#units")
    expect(units).to_contain_text("Phòng Kinh tế, Hạ tầng và Đô thị")
    expect(page.locator(".overdue-n")).to_have_text("1")
    expect(page.locator("svg.chart").first).to_be_visible()
    browsing.screenshot(page, "19-dashboard")

    # Every number links to the list it counts.
    with page.expect_navigation():
        page.locator(".overdue-n a").click()
    expect(page).to_have_url(re.compile(r"/quan-ly/\?overdue=y"))
    expect(page.locator("#results")).to_contain_text(late.code)
    expect(page.locator("#results")).not_to_contain_text("Đèn đường hỏng mới báo")

    page.goto(f"/quan-ly/kien-nghi/{late.code}")
    page.locator("#remark").fill("Đề nghị Phòng KT-HT-ĐT báo cáo lý do chậm trễ.")
    page.locator("#supervision").get_by_role("checkbox").check()
    with page.expect_navigation():
        page.locator("#supervision").get_by_role("button", name="Ghi ý kiến").click()
    expect(page.locator("#supervision")).to_contain_text("báo cáo lý do chậm trễ")

    public = browsing.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    public.goto(f"/kien-nghi/{late.code}")
    expect(public.locator("#timeline")).to_contain_text("Ý kiến giám sát của Mặt trận")
    expect(public.locator("body")).to_contain_text("quá hạn")

    phone = browsing.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    browsing.log_in(phone, "mttq@example.vn")
    phone.goto("/giam-sat")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 370, f"the dashboard overflows a 360 px phone ({width} px)"
    browsing.screenshot(phone, "20-dashboard-phone")
