"""Co-signing a nearby petition from the filing form: the nearby list offers "Tôi cũng
gặp vấn đề này", which loads that petition's co-sign box into a dialog beside the filing
form (a form cannot hold another form)."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.petitions.models import CoSignature
from tests import factories

LAT, LON = factories.INSIDE_WEST
NEAR = (LAT + 0.0012, LON)
HTMX_NEARBY = {"HX-Request": "true", "HX-Target": "nearby"}
HTMX_PANEL = {"HX-Request": "true", "HX-Target": "cosign-panel"}


def test_nearby_items_offer_to_co_sign_in_place(client, world):
    petition = factories.file(world, point=NEAR, title="Rác đổ gần đây")
    body = client.get(
        "/kien-nghi/moi/gan-day",
        query_string={
            "latitude": LAT,
            "longitude": LON,
            "category_id": world.categories["ve-sinh-moi-truong"].id,
        },
        headers=HTMX_NEARBY,
    ).get_data(as_text=True)
    assert f'hx-get="/kien-nghi/{petition.code}/dong-y"' in body
    assert 'hx-target="#cosign-panel"' in body
    # Without htmx the same link leads to the petition's own co-sign box.
    assert f'href="/kien-nghi/{petition.code}#cosign-box" class="button small"' in body
    assert "Tôi cũng gặp vấn đề này" in body


def test_the_dialog_is_outside_the_filing_form(client, world):
    body = client.get("/kien-nghi/moi").get_data(as_text=True)
    form_end = body.index("</form>", body.index('id="petition-form"'))
    dialog = body.index('<dialog id="cosign-dialog"')
    assert form_end < dialog
    assert 'id="cosign-panel"' in body[dialog:]
    assert 'id="nearby"' in body[:form_end]


def test_the_co_sign_box_for_the_dialog(client, world):
    petition = factories.file(
        world,
        point=NEAR,
        title="Rác đổ gần đây",
        petitioner_name="Lê Văn Bí Mật",
        petitioner_phone="0987654321",
        petitioner_email="bi.mat@example.vn",
    )
    response = client.get(f"/kien-nghi/{petition.code}/dong-y", headers=HTMX_PANEL)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="cosign-dialog-title"' in body and petition.title in body
    assert 'id="cosign-box"' in body and "0 người cũng gặp vấn đề này" in body
    assert f'hx-post="/kien-nghi/{petition.code}/dong-y"' in body
    assert 'name="cosign-email"' in body
    assert "no-store" in response.headers["Cache-Control"]
    for secret in ("Lê Văn Bí Mật", "0987654321", "bi.mat@example.vn", petition.private_token):
        assert secret not in body

    # Confirmed in the dialog: the box answers in place, the count is one more.
    done = client.post(
        f"/kien-nghi/{petition.code}/dong-y",
        data={"cosign-email": "dong.y@example.vn"},
        headers={"HX-Request": "true", "HX-Target": "cosign-box"},
    ).get_data(as_text=True)
    assert "Cảm ơn bạn. Đã ghi nhận bạn cũng gặp vấn đề này." in done
    assert "1 người cũng gặp vấn đề này" in done
    assert db.session.scalar(select(func.count()).select_from(CoSignature)) == 1


def test_without_htmx_the_box_is_on_the_petitions_page(client, world):
    petition = factories.file(world)
    response = client.get(f"/kien-nghi/{petition.code}/dong-y")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/kien-nghi/{petition.code}#cosign-box")
    assert client.get("/kien-nghi/KN-1999-99999/dong-y", headers=HTMX_PANEL).status_code == 404
