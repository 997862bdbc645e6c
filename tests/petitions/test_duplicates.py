"""Duplicates and co-signing: nearby open petitions while filing, "Tôi cũng gặp vấn đề
này", likely duplicates for staff, and followers moved by a merge."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import geo
from portal.extensions import db
from portal.notifications.models import Follow, Notification, NotificationKind
from portal.petitions import services
from portal.petitions.models import CoSignature, Petition, Status
from tests import factories

LAT, LON = factories.INSIDE_WEST
# About 111 m of latitude per 0.001 degree.
NEAR = (LAT + 0.0012, LON)  # ~133 m north
FAR = (LAT + 0.0025, LON)  # ~278 m north

CO_SIGNER = {
    "cosign-name": "Trần Thị Đồng Ý",
    "cosign-phone": "+84 912 345 678",
    "cosign-email": "Dong.Y@Example.vn",
}


def count(model=CoSignature) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def nearby(client, world, point=(LAT, LON), category="ve-sinh-moi-truong"):
    return client.get(
        "/kien-nghi/moi/gan-day",
        query_string={
            "latitude": point[0],
            "longitude": point[1],
            "category_id": world.categories[category].id,
        },
        headers={"HX-Request": "true", "HX-Target": "nearby"},
    )


def test_distance_is_the_haversine():
    assert abs(geo.distance_m(LAT, LON, *NEAR) - 133.4) < 1
    south, west, north, east = geo.bounding_box(LAT, LON, 200)
    assert south < LAT < north and west < LON < east
    assert geo.distance_m(LAT, LON, north, LON) > 199


def test_nearby_lists_open_petitions_of_the_category_within_the_radius(client, world):
    near = factories.file(
        world, point=NEAR, title="Rác đổ gần đây", petitioner_name="Lê Văn Bí Mật"
    )
    far = factories.file(world, point=FAR, title="Rác đổ ở xa")
    other = factories.file(
        world, point=NEAR, title="Cống tắc gần đây", category=world.categories["thoat-nuoc"]
    )
    closed = factories.file(world, point=NEAR, title="Rác đã không tiếp nhận")
    services.reject(closed, world.users["ward_staff"], reason="Không thuộc thẩm quyền.")
    db.session.commit()

    response = nearby(client, world)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert near.code in body and "Rác đổ gần đây" in body
    assert Status.RECEIVED.label in body
    assert "133 m" in body
    assert far.code not in body
    assert other.code not in body
    assert closed.code not in body
    assert "Lê Văn Bí Mật" not in body
    assert "<html" not in body

    assert other.code in nearby(client, world, category="thoat-nuoc").get_data(as_text=True)
    # A tighter radius from the configuration.
    db.session.expire_all()
    client.application.config["DUPLICATE_RADIUS_M"] = 100
    assert near.code not in nearby(client, world).get_data(as_text=True)


def test_nearby_without_a_pin_or_a_category_is_empty(client, world):
    factories.file(world, point=NEAR)
    for query in ({}, {"latitude": LAT, "longitude": "x", "category_id": 1}, {"latitude": LAT}):
        response = client.get("/kien-nghi/moi/gan-day", query_string=query)
        assert response.status_code == 200
        assert response.get_data(as_text=True).strip() == ""


def test_the_filing_form_has_the_nearby_box(client, world):
    body = client.get("/kien-nghi/moi").get_data(as_text=True)
    assert 'id="nearby"' in body
    assert "/kien-nghi/moi/gan-day" in body


def test_co_sign_without_javascript(client, world):
    petition = factories.file(world)
    page = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "Tôi cũng gặp vấn đề này" in page
    assert f"/kien-nghi/{petition.code}/dong-y" in page
    assert "0 người cũng gặp vấn đề này" in page

    response = client.post(f"/kien-nghi/{petition.code}/dong-y", data=CO_SIGNER)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/kien-nghi/{petition.code}#cosign-box")
    signature = db.session.scalar(select(CoSignature))
    assert (signature.name, signature.phone, signature.email) == (
        "Trần Thị Đồng Ý",
        "0912345678",
        "dong.y@example.vn",
    )
    # The e-mail asks to follow the petition: double opt-in still applies.
    follow = db.session.scalar(select(Follow))
    assert follow.petition_id == petition.id and follow.email == "dong.y@example.vn"
    assert follow.confirmed_at is None
    confirm = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.FOLLOW_CONFIRM)
    ).all()
    assert [n.recipient for n in confirm] == ["dong.y@example.vn"]

    page = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "1 người cũng gặp vấn đề này" in page
    assert "Đã ghi nhận bạn cũng gặp vấn đề này" in page  # the flash
    for secret in ("Trần Thị Đồng Ý", "0912345678", "912 345 678", "dong.y@example.vn"):
        assert secret not in page


def test_co_sign_without_contact_and_with_htmx(client, world):
    petition = factories.file(world)
    headers = {"HX-Request": "true", "HX-Target": "cosign-box"}
    response = client.post(f"/kien-nghi/{petition.code}/dong-y", data={}, headers=headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith("<section") and 'id="cosign-box"' in body
    assert "1 người cũng gặp vấn đề này" in body
    assert "Cảm ơn bạn" in body
    client.post(f"/kien-nghi/{petition.code}/dong-y", data={}, headers=headers)
    assert count() == 2  # without an e-mail, nothing to tell one resident from another
    assert count(Follow) == 0


def test_bad_phone_is_refused_in_vietnamese_and_nothing_saved(client, world):
    petition = factories.file(world)
    response = client.post(
        f"/kien-nghi/{petition.code}/dong-y", data=dict(CO_SIGNER, **{"cosign-phone": "12345"})
    )
    assert response.status_code == 422
    assert "Số điện thoại không hợp lệ" in response.get_data(as_text=True)
    assert count() == 0
    assert count(Follow) == 0

    htmx = client.post(
        f"/kien-nghi/{petition.code}/dong-y",
        data={"cosign-email": "khong-phai-thu"},
        headers={"HX-Request": "true", "HX-Target": "cosign-box"},
    )
    assert htmx.status_code == 422
    assert "Địa chỉ thư điện tử không hợp lệ" in htmx.get_data(as_text=True)
    assert count() == 0


def confirm_requests() -> list[str]:
    db.session.expire_all()
    return db.session.scalars(
        select(Notification.recipient).where(Notification.kind == NotificationKind.FOLLOW_CONFIRM)
    ).all()


def test_one_co_signature_per_email_and_the_same_answer_as_a_new_one(client, world):
    """Whether an address co-signed is nobody's business: a second time with the same
    address is answered exactly like a first co-signature, and counts nothing."""
    petition = factories.file(world)
    url = f"/kien-nghi/{petition.code}/dong-y"
    first = client.post(url, data=CO_SIGNER)
    assert first.status_code == 303
    first_page = client.get(first.headers["Location"]).get_data(as_text=True)

    again = client.post(
        url, data={"cosign-name": "Người Khác", "cosign-email": " dong.y@EXAMPLE.vn "}
    )
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    for words in (
        "Cảm ơn bạn. Đã ghi nhận bạn cũng gặp vấn đề này.",
        "Hãy mở thư chúng tôi vừa gửi để xác nhận theo dõi tiến độ.",
    ):
        assert words in first_page and words in page
    assert "Bạn đã cho biết" not in page
    assert "1 người cũng gặp vấn đề này" in page
    assert count() == 1 and count(Follow) == 1
    # Nothing about the first co-signature changed, and one confirmation request an hour.
    signature = db.session.scalar(select(CoSignature))
    assert (signature.name, signature.phone) == ("Trần Thị Đồng Ý", "0912345678")
    assert confirm_requests() == ["dong.y@example.vn"]

    # With htmx: the box a known address gets is the very box a new address gets.
    headers = {"HX-Request": "true", "HX-Target": "cosign-box"}
    new = client.post(url, data={"cosign-email": "moi@example.vn"}, headers=headers)
    known = client.post(url, data={"cosign-email": "Dong.Y@example.vn"}, headers=headers)
    assert new.status_code == known.status_code == 200
    assert known.get_data(as_text=True) == new.get_data(as_text=True)
    assert "2 người cũng gặp vấn đề này" in known.get_data(as_text=True)
    assert count() == 2 and count(Follow) == 2


def test_a_known_address_keeps_its_follow_as_it_is(client, world):
    petition = factories.file(world)
    url = f"/kien-nghi/{petition.code}/dong-y"
    client.post(url, data=CO_SIGNER)
    follow = db.session.scalar(select(Follow))
    follow.confirmed_at = petition.created_at  # confirmed with the link in the mail
    db.session.commit()

    assert client.post(url, data={"cosign-email": "dong.y@example.vn"}).status_code == 303
    db.session.expire_all()
    [follow] = db.session.scalars(select(Follow)).all()
    assert follow.is_active and follow.confirmed_at == petition.created_at
    assert confirm_requests() == ["dong.y@example.vn"]  # nothing more to confirm
    assert count() == 1


def test_honeypot_and_closed_petitions(client, world):
    petition = factories.file(world)
    bot = client.post(
        f"/kien-nghi/{petition.code}/dong-y", data=dict(CO_SIGNER, **{"cosign-website": "x"})
    )
    assert bot.status_code == 400
    assert count() == 0
    assert client.post("/kien-nghi/KN-1999-99999/dong-y", data={}).status_code == 404

    services.reject(petition, world.users["ward_staff"], reason="Không thuộc thẩm quyền.")
    db.session.commit()
    closed = client.post(f"/kien-nghi/{petition.code}/dong-y", data={})
    assert closed.status_code == 409
    assert count() == 0


def test_no_personal_data_of_co_signers_in_public(client, world):
    petition = factories.file(world)
    client.post(f"/kien-nghi/{petition.code}/dong-y", data=CO_SIGNER)
    pages = {
        "public page": client.get(f"/kien-nghi/{petition.code}"),
        "list": client.get("/kien-nghi"),
        "map data": client.get("/ban-do/du-lieu.geojson"),
        "feed": client.get(f"/feeds/kien-nghi/{petition.code}.atom"),
        "nearby": nearby(client, world),
    }
    for name, response in pages.items():
        body = response.get_data(as_text=True)
        assert response.status_code == 200, name
        for secret in ("Trần Thị Đồng Ý", "0912345678", "dong.y@example.vn"):
            assert secret not in body, (name, secret)
    assert petition.code in pages["nearby"].get_data(as_text=True)


def test_staff_see_co_signers_and_likely_duplicates(client, auth, world):
    petition = factories.file(world, title="Rác đổ đầu ngõ 12")
    twin = factories.file(world, point=NEAR, title="Rác đổ cuối ngõ 12")
    far = factories.file(world, point=FAR, title="Rác đổ ở xa")
    other = factories.file(world, point=NEAR, category=world.categories["chieu-sang"])
    client.post(f"/kien-nghi/{petition.code}/dong-y", data=CO_SIGNER)

    auth.as_role(world, "ward_staff")
    body = client.get(f"/quan-ly/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "Người cũng gặp vấn đề này (1)" in body
    for shown in ("Trần Thị Đồng Ý", "0912345678", "dong.y@example.vn"):
        assert shown in body
    assert twin.code in body
    assert far.code not in body and other.code not in body
    assert 'name="merge-into_code" value="' + twin.code + '"' in body
    assert "Gộp vào kiến nghị này" in body

    # MTTQ reads, but has no merge button.
    auth.logout()
    auth.as_role(world, "mttq")
    body = client.get(f"/quan-ly/kien-nghi/{petition.code}").get_data(as_text=True)
    assert twin.code in body and "Gộp vào kiến nghị này" not in body


def test_merge_moves_petitioner_and_co_signers_to_the_survivor(client, auth, world):
    survivor = factories.file(world, title="Rác đổ đầu ngõ 12")
    merged = factories.file(
        world, point=NEAR, title="Rác đổ cuối ngõ 12", petitioner_email="Nguoi.Gui@example.vn"
    )
    client.post(f"/kien-nghi/{merged.code}/dong-y", data=CO_SIGNER)
    client.post(
        f"/kien-nghi/{merged.code}/dong-y",
        data={"cosign-email": "nguoi.gui@example.vn"},  # the petitioner co-signed too
    )
    client.post(f"/kien-nghi/{merged.code}/dong-y", data={})  # no e-mail: nobody to tell
    # The co-signer confirmed their address with the link mailed to them (double opt-in).
    for follow in db.session.scalars(select(Follow).where(Follow.petition_id == merged.id)):
        follow.confirmed_at = merged.created_at
    db.session.commit()
    merged_code, survivor_code, survivor_id = merged.code, survivor.code, survivor.id
    version = merged.version

    auth.as_role(world, "ward_staff")
    response = client.post(
        f"/quan-ly/kien-nghi/{merged_code}/merge",
        data={"merge-into_code": survivor_code, "merge-version": version},
    )
    assert response.status_code == 303
    db.session.expire_all()
    merged = db.session.scalar(select(Petition).where(Petition.code == merged_code))
    assert merged.status == Status.MERGED and merged.merged_into_id == survivor_id

    follows = db.session.scalars(
        select(Follow).where(Follow.petition_id == survivor_id).order_by(Follow.email)
    ).all()
    assert [f.email for f in follows] == ["dong.y@example.vn", "nguoi.gui@example.vn"]
    assert all(f.is_active for f in follows)
    told = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.MERGED)
    ).all()
    assert sorted(n.recipient for n in told) == ["dong.y@example.vn", "nguoi.gui@example.vn"]
    assert all(n.petition_id == survivor_id for n in told)
    assert all(survivor_code in n.subject and merged_code in n.subject for n in told)
    assert all(f"/kien-nghi/{survivor_code}" in n.body_text for n in told)
    assert all(n.unsubscribe_url for n in told)

    # Followers of the survivor now hear of its progress.
    survivor = db.session.get(Petition, survivor_id)
    services.review(survivor, world.users["ward_staff"], public_note="Đang xem xét tại chỗ.")
    db.session.commit()
    updates = db.session.scalars(
        select(Notification.recipient).where(
            Notification.kind == NotificationKind.FOLLOW_UPDATE,
            Notification.petition_id == survivor_id,
        )
    ).all()
    assert sorted(updates) == ["dong.y@example.vn", "nguoi.gui@example.vn"]


def test_an_unsubscribed_follower_is_not_resubscribed_by_a_merge(client, auth, world):
    survivor = factories.file(world)
    merged = factories.file(world, point=NEAR, petitioner_email="nguoi.gui@example.vn")
    db.session.add(
        Follow(
            email="nguoi.gui@example.vn",
            target=f"petition:{survivor.id}",
            petition=survivor,
            confirmed_at=survivor.created_at,
            unsubscribed_at=survivor.created_at,
        )
    )
    db.session.commit()
    services.merge(merged, world.users["ward_staff"], into=survivor)
    db.session.commit()
    follow = db.session.scalar(select(Follow))
    assert follow.unsubscribed_at is not None
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == NotificationKind.MERGED)
        )
        == 0
    )
