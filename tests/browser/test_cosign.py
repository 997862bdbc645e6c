"""Co-signing from the filing form in a real browser: the resident sets the pin near an
open petition of the same category, the nearby list appears, they say "Tôi cũng gặp vấn
đề này" in a dialog instead of filing, and the petition's public count goes up by one.

Screenshots go to ``test-artifacts/23-cosign*-<backend>.png``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.petitions.models import CoSignature, Petition
from tests import factories
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
LAT, LON = factories.INSIDE_WEST
NEAR = (LAT + 0.0009, LON)  # ~100 m from where the resident stands


def _screenshot(page, name: str, backend: str) -> None:
    """What the phone's screen shows (the dialog is over the form), not the whole page."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{backend}.png"))


def _count(model) -> int:
    db.session.rollback()  # what the server committed, not this thread's cache
    return db.session.scalar(select(func.count()).select_from(model))


def test_resident_co_signs_a_nearby_petition_instead_of_filing(browsing, backend):
    world = browsing.server.world
    petition = factories.file(
        world,
        point=NEAR,
        title="Rác đổ thành đống đầu ngõ 7",
        petitioner_name="Lê Văn Bí Mật",
        petitioner_email="bi.mat@example.vn",
    )
    lamp = factories.file(world, point=NEAR, category=world.categories["chieu-sang"])
    code = petition.code
    page = browsing.new_page(
        **PHONE, geolocation={"latitude": LAT, "longitude": LON}, permissions=["geolocation"]
    )

    page.goto(f"/kien-nghi/{code}")
    expect(page.locator("#cosign-count")).to_have_text("0 người cũng gặp vấn đề này")

    page.goto("/kien-nghi/moi")
    page.locator("#category_id").select_option(label="Vệ sinh môi trường")
    page.locator("#title").fill("Rác đầu ngõ 7")
    page.get_by_role("button", name="Dùng vị trí của tôi").tap()
    expect(page.locator("#latitude")).to_have_value(f"{LAT:.6f}")

    # The nearby list: the open petition of the same category, not the street light.
    nearby = page.locator("#nearby")
    expect(nearby).to_contain_text("Có thể vấn đề này đã được kiến nghị")
    expect(nearby).to_contain_text(code)
    expect(nearby).to_contain_text("cách khoảng 100 m")
    expect(nearby).not_to_contain_text(lamp.code)
    expect(nearby).not_to_contain_text("Lê Văn Bí Mật")

    nearby.get_by_role("link", name="Tôi cũng gặp vấn đề này").tap()
    dialog = page.locator("#cosign-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#cosign-dialog-title")).to_have_text(f"{code} · {petition.title}")
    expect(dialog.locator("#cosign-count")).to_have_text("0 người cũng gặp vấn đề này")
    dialog.get_by_label("Thư điện tử").fill("Dong.Y@example.vn")
    _screenshot(page, "23-cosign-dialog", backend)

    dialog.get_by_role("button", name="Tôi cũng gặp vấn đề này").tap()
    expect(dialog.get_by_role("status")).to_contain_text(
        "Cảm ơn bạn. Đã ghi nhận bạn cũng gặp vấn đề này."
    )
    expect(dialog.locator("#cosign-count")).to_have_text("1 người cũng gặp vấn đề này")
    expect(dialog.locator("form[hx-post]")).to_have_count(0)  # done: no second confirmation
    _screenshot(page, "23-cosign-done", backend)
    dialog.get_by_role("button", name="Đóng").tap()
    expect(dialog).to_be_hidden()
    # The filing form is as the resident left it; nothing new was filed.
    expect(page.locator("#title")).to_have_value("Rác đầu ngõ 7")
    assert _count(Petition) == 2
    assert _count(CoSignature) == 1
    assert db.session.scalar(select(CoSignature.email)) == "dong.y@example.vn"

    page.goto(f"/kien-nghi/{code}")
    expect(page.locator("#cosign-count")).to_have_text("1 người cũng gặp vấn đề này")
    body = page.locator("body")
    for secret in ("dong.y@example.vn", "Dong.Y@example.vn", "Lê Văn Bí Mật", "bi.mat@example.vn"):
        expect(body).not_to_contain_text(secret)
