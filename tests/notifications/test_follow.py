"""Following by e-mail: double opt-in, one-click unsubscribe, CSRF, rate limit, no JS needed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import Follow, NotificationKind, NotificationStatus
from portal.petitions import services
from tests import factories
from tests.notifications.conftest import link_in, outbox

K = NotificationKind
EMAIL = "theo.doi@example.vn"


def follows() -> list[Follow]:
    db.session.expire_all()
    return list(db.session.scalars(select(Follow).order_by(Follow.id)))


def ask(client, petition=None, email=EMAIL, **extra):
    data = {"email": email, **extra}
    if petition is not None:
        data["ma"] = petition.code
    return client.post("/theo-doi", data=data)


def test_public_page_offers_the_follow_form_and_the_feed(client, world):
    petition = factories.file(world)
    page = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    assert 'id="follow-box"' in page
    assert 'action="/theo-doi"' in page
    assert f'name="ma" value="{petition.code}"' in page
    assert 'name="csrf_token"' in page
    assert f"/feeds/kien-nghi/{petition.code}.atom" in page
    assert "/theo-doi" in client.get("/").get_data(as_text=True)  # footer link


def test_double_opt_in_then_updates_then_one_click_unsubscribe(client, world):
    petition = factories.file(world)
    response = ask(client, petition, email="  Theo.Doi@Example.VN ")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/theo-doi/da-gui")
    assert client.get(response.headers["Location"]).status_code == 200
    [follow] = follows()
    assert follow.email == EMAIL and follow.confirmed_at is None
    [confirmation] = outbox(recipient=EMAIL)
    assert confirmation.kind == K.FOLLOW_CONFIRM
    assert petition.code in confirmation.subject

    # Not confirmed: nothing.
    factories.assign(world, petition)
    assert outbox(recipient=EMAIL) == [confirmation]

    confirm = link_in(confirmation.body_text, "/theo-doi/xac-nhan/")
    page = client.get(confirm)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert follows()[0].confirmed_at is not None
    assert client.get(confirm).status_code == 200  # twice is fine

    services.post_update(petition, world.users["unit_staff"], public_note="Đã khảo sát.")
    db.session.commit()
    update = outbox(recipient=EMAIL)[-1]
    assert update.kind == K.FOLLOW_UPDATE

    unsubscribe = link_in(update.body_text, "/theo-doi/huy/")
    assert update.unsubscribe_url.endswith(unsubscribe)
    page = client.get(unsubscribe)
    assert page.status_code == 200
    assert petition.code in page.get_data(as_text=True)
    assert follows()[0].unsubscribed_at is not None

    services.resolve(petition, world.users["unit_staff"], public_note="Xong.")
    db.session.commit()
    assert outbox(recipient=EMAIL)[-1].id == update.id
    assert client.get(unsubscribe).status_code == 200  # idempotent


def test_tampered_tokens_are_refused(client, world):
    petition = factories.file(world)
    ask(client, petition)
    [confirmation] = outbox(recipient=EMAIL)
    confirm = link_in(confirmation.body_text, "/theo-doi/xac-nhan/")
    unsubscribe = link_in(confirmation.body_text, "/theo-doi/huy/")
    for url in (confirm, unsubscribe):
        token = url.rsplit("/", 1)[1]
        forged = url[: -len(token)] + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert client.get(forged).status_code == 400
        assert client.get(url.rsplit("/", 1)[0] + "/khong-hop-le").status_code == 400
    assert follows()[0].confirmed_at is None
    assert follows()[0].unsubscribed_at is None


def test_a_token_signed_with_another_key_is_refused(app, client, world):
    from itsdangerous import URLSafeSerializer

    petition = factories.file(world)
    ask(client, petition)
    [follow] = follows()
    token = URLSafeSerializer("another-key", salt="notifications.unsubscribe").dumps(
        {"t": f"follow:{follow.id}", "e": EMAIL}
    )
    assert client.get(f"/theo-doi/huy/{token}").status_code == 400


def test_a_bad_email_gets_422_in_vietnamese(client, world):
    petition = factories.file(world)
    response = ask(client, petition, email="khong-phai-thu")
    assert response.status_code == 422
    assert "Địa chỉ thư điện tử không hợp lệ." in response.get_data(as_text=True)
    response = ask(client, petition, email="")
    assert response.status_code == 422
    assert "Hãy nhập địa chỉ thư điện tử." in response.get_data(as_text=True)
    assert follows() == [] and outbox() == []


def test_unknown_petition_or_no_target(client, world):
    response = client.post("/theo-doi", data={"email": EMAIL, "ma": "KN-2020-99999"})
    assert response.status_code == 422
    response = client.post("/theo-doi", data={"email": EMAIL})
    assert response.status_code == 422
    assert "Hãy chọn kiến nghị hoặc tổ dân phố cần theo dõi." in response.get_data(as_text=True)
    assert client.get("/theo-doi?ma=KN-2020-99999").status_code == 404
    assert follows() == []


def test_asking_again_reveals_nothing_and_does_not_flood_the_mailbox(client, world):
    petition = factories.file(world)
    first = ask(client, petition)
    second = ask(client, petition)
    assert first.status_code == second.status_code == 303
    assert len(outbox(recipient=EMAIL)) == 1  # one confirmation per hour
    client.get(link_in(outbox(recipient=EMAIL)[0].body_text, "/theo-doi/xac-nhan/"))
    third = ask(client, petition)
    assert third.status_code == 303 and third.headers["Location"] == first.headers["Location"]
    assert len(outbox(recipient=EMAIL)) == 1  # already following: nothing sent
    assert len(follows()) == 1


def test_following_a_residential_group(client, world):
    form = client.get("/theo-doi")
    assert form.status_code == 200
    assert world.west.name in form.get_data(as_text=True)
    assert f"/feeds/to-dan-pho/{world.west.id}.atom" in form.get_data(as_text=True)
    response = client.post("/theo-doi", data={"email": EMAIL, "area_id": str(world.west.id)})
    assert response.status_code == 303
    [confirmation] = outbox(recipient=EMAIL)
    assert world.west.name in confirmation.subject
    client.get(link_in(confirmation.body_text, "/theo-doi/xac-nhan/"))
    petition = factories.file(world)  # in the west half
    news = outbox(recipient=EMAIL)[-1]
    assert news.kind == K.AREA_NEW and petition.code in news.body_text
    factories.file(world, point=factories.INSIDE_EAST)
    assert outbox(recipient=EMAIL)[-1].id == news.id


def test_htmx_swaps_the_box_in_place(client, world):
    petition = factories.file(world)
    headers = {"HX-Request": "true", "HX-Target": "follow-box"}
    bad = client.post("/theo-doi", data={"email": "x", "ma": petition.code}, headers=headers)
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert body.lstrip().startswith("<section") and "Địa chỉ thư điện tử không hợp lệ." in body
    good = client.post("/theo-doi", data={"email": EMAIL, "ma": petition.code}, headers=headers)
    assert good.status_code == 200
    body = good.get_data(as_text=True)
    assert 'id="follow-box"' in body and "<html" not in body
    assert 'role="status"' in body


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_follow_needs_csrf_but_one_click_unsubscribe_does_not(client, world):
    petition = factories.file(world)
    assert ask(client, petition).status_code == 400
    page = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert ask(client, petition, csrf_token=token).status_code == 303
    [confirmation] = outbox(recipient=EMAIL)
    # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click" with no form of ours.
    response = client.post(
        confirmation.unsubscribe_url.split("localhost", 1)[-1],
        data={"List-Unsubscribe": "One-Click"},
    )
    assert response.status_code == 200
    assert follows()[0].unsubscribed_at is not None
    assert outbox(recipient=EMAIL)[0].status == NotificationStatus.FAILED  # cancelled


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "FOLLOW_RATE_LIMIT": "3 per hour"}]
)
def test_follow_is_rate_limited(client, world):
    petition = factories.file(world)
    codes = [ask(client, petition, email=f"n{i}@example.vn").status_code for i in range(4)]
    assert codes == [303, 303, 303, 429]


def test_unsubscribing_from_petitioner_mail(client, world):
    petition = factories.file(world, petitioner_email="nguoidan@example.vn")
    [receipt] = outbox()
    response = client.get(link_in(receipt.body_text, "/theo-doi/huy/"))
    assert response.status_code == 200
    assert petition.code in response.get_data(as_text=True)
    assert outbox()[0].status == NotificationStatus.FAILED  # the queued receipt is cancelled
    factories.assign(world, petition)
    assert outbox(recipient="nguoidan@example.vn") == [outbox()[0]]
