"""Merging petition A into B: A's petitioner and co-signers count for B, each person once,
their contact stays with staff, their choices about e-mail carry over, and A keeps its
own history."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.notifications.models import Follow, MailOptOut, Notification, NotificationKind
from portal.petitions import services
from portal.petitions.models import CoSignature, EventKind, Petition, PetitionEvent, Status
from tests import factories

LAT, LON = factories.INSIDE_WEST
NEAR = (LAT + 0.0012, LON)  # ~133 m north: a likely duplicate

# A's petitioner: personal data that must never reach a public page.
MERGED_PETITIONER = {
    "petitioner_name": "Phạm Thị Gộp",
    "petitioner_phone": "0911222333",
    "petitioner_email": "pham.gop@example.vn",
    "petitioner_address": "Số 9 ngõ Kín",
}
SURVIVOR_PETITIONER = {
    "petitioner_name": "Đỗ Văn Còn",
    "petitioner_phone": "0944555666",
    "petitioner_email": "do.con@example.vn",
}
SECRETS = [
    "Phạm Thị Gộp",
    "0911222333",
    "pham.gop@example.vn",
    "Số 9 ngõ Kín",
    "Vũ Hai Nơi",
    "vu.hai.noi@example.vn",
    "Lý Chỉ Gọi",
    "0977888999",
    "Đỗ Văn Còn",
    "0944555666",
    "do.con@example.vn",
]


def co_sign(client, petition, **contact):
    data = {f"cosign-{key}": value for key, value in contact.items()}
    response = client.post(f"/kien-nghi/{petition.code}/dong-y", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)


def signatures(petition_id: int) -> list[CoSignature]:
    db.session.expire_all()
    return db.session.scalars(
        select(CoSignature).where(CoSignature.petition_id == petition_id).order_by(CoSignature.id)
    ).all()


def public_count(client, code: str) -> int:
    page = client.get(f"/kien-nghi/{code}").get_data(as_text=True)
    found = re.search(r'id="cosign-count">(\d+) người cũng gặp vấn đề này<', page)
    assert found, page
    return int(found.group(1))


@pytest.fixture
def pair(client, world):
    """B (the survivor) with one co-signer; A (a duplicate near it) with four.

    One of A's co-signers co-signed B too (same e-mail), one is B's petitioner (same
    phone), one gave only a phone, one gave nothing at all.
    """
    survivor = factories.file(world, title="Rác đổ đầu ngõ 12", **SURVIVOR_PETITIONER)
    merged = factories.file(world, point=NEAR, title="Rác đổ cuối ngõ 12", **MERGED_PETITIONER)
    both = {"name": "Vũ Hai Nơi", "email": "Vu.Hai.Noi@example.vn"}
    co_sign(client, survivor, **both)
    co_sign(client, merged, **both)
    co_sign(client, merged, name="Đỗ Văn Còn", phone="+84 944 555 666")
    co_sign(client, merged, name="Lý Chỉ Gọi", phone="0977 888 999")
    co_sign(client, merged)
    return survivor.code, merged.code


def confirm_requests(petition_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.kind == NotificationKind.FOLLOW_CONFIRM,
            Notification.petition_id == petition_id,
        )
    )


def get(code: str) -> Petition:
    db.session.expire_all()
    return db.session.scalar(select(Petition).where(Petition.code == code))


def test_merge_counts_the_merged_petitions_people_once_on_the_survivor(client, world, pair):
    survivor_code, merged_code = pair
    survivor, merged = get(survivor_code), get(merged_code)
    merged_rows = [(s.id, s.name, s.phone, s.email) for s in signatures(merged.id)]
    merged_events = [(e.id, e.kind, e.public_note) for e in merged.events]
    assert public_count(client, survivor_code) == 1
    assert public_count(client, merged_code) == 4
    asked_before = confirm_requests(survivor.id)

    services.merge(merged, world.users["ward_staff"], into=survivor)
    db.session.commit()

    rows = signatures(survivor.id)
    # B's own co-signer, then A's petitioner, the phone-only co-signer and the anonymous
    # one. Not counted again: the co-signer of both, and B's petitioner (by phone).
    assert [(s.name, s.phone, s.email) for s in rows] == [
        ("Vũ Hai Nơi", None, "vu.hai.noi@example.vn"),
        ("Phạm Thị Gộp", "0911222333", "pham.gop@example.vn"),
        ("Lý Chỉ Gọi", "0977888999", None),
        (None, None, None),
    ]
    assert public_count(client, survivor_code) == 4
    # A keeps its own record: the same rows, the same count, its timeline only added to.
    assert [(s.id, s.name, s.phone, s.email) for s in signatures(merged.id)] == merged_rows
    assert public_count(client, merged_code) == 4
    merged = get(merged_code)
    assert [(e.id, e.kind, e.public_note) for e in merged.events][:-1] == merged_events
    assert merged.events[-1].to_status == Status.MERGED
    # Copying sent no follow request: the co-signers' own choices decide who is told.
    assert confirm_requests(survivor.id) == asked_before


def test_both_timelines_say_what_happened_without_personal_data(client, auth, world, pair):
    survivor_code, merged_code = pair
    merged = get(merged_code)
    auth.as_role(world, "ward_staff")
    # The one-click merge from the likely duplicates on A's staff page.
    staff_page = client.get(f"/quan-ly/kien-nghi/{merged_code}").get_data(as_text=True)
    assert 'name="merge-into_code" value="' + survivor_code + '"' in staff_page
    response = client.post(
        f"/quan-ly/kien-nghi/{merged_code}/merge",
        data={"merge-into_code": survivor_code, "merge-version": merged.version},
        headers={"HX-Request": "true", "HX-Target": "workspace"},
    )
    assert response.status_code == 200
    assert get(merged_code).status == Status.MERGED

    survivor_page = client.get(f"/quan-ly/kien-nghi/{survivor_code}").get_data(as_text=True)
    assert "Người cũng gặp vấn đề này (4)" in survivor_page
    assert "Phạm Thị Gộp" in survivor_page and "pham.gop@example.vn" in survivor_page
    auth.logout()

    survivor_public = client.get(f"/kien-nghi/{survivor_code}").get_data(as_text=True)
    assert (
        f"Kiến nghị {merged_code} trùng nội dung được gộp vào đây: thêm 3 người cũng gặp vấn đề "
        "này." in survivor_public
    )
    assert "4 người cũng gặp vấn đề này" in survivor_public
    merged_public = client.get(f"/kien-nghi/{merged_code}").get_data(as_text=True)
    assert f"được gộp vào kiến nghị {survivor_code} có cùng nội dung" in merged_public
    assert f'href="/kien-nghi/{survivor_code}"' in merged_public

    pages = {
        "survivor": survivor_public,
        "merged": merged_public,
        "feed": client.get(f"/feeds/kien-nghi/{survivor_code}.atom").get_data(as_text=True),
        "list": client.get("/kien-nghi").get_data(as_text=True),
        "map list": client.get("/ban-do/").get_data(as_text=True),
        "open data": json.dumps(
            client.get("/du-lieu-mo/dong-thoi-gian.json").get_json(), ensure_ascii=False
        ),
    }
    assert "thêm 3 người cũng gặp vấn đề này" in pages["feed"]
    assert "thêm 3 người cũng gặp vấn đề này" in pages["open data"]
    for name, body in pages.items():
        for secret in SECRETS:
            assert secret not in body, (name, secret)


def test_a_note_given_by_staff_is_the_merged_petitions_public_note(client, world, pair):
    survivor_code, merged_code = pair
    services.merge(
        get(merged_code),
        world.users["ward_staff"],
        into=get(survivor_code),
        public_note="Cùng một điểm rác với kiến nghị đầu ngõ.",
    )
    db.session.commit()
    status_event = get(merged_code).events[-1]
    assert status_event.public_note == "Cùng một điểm rác với kiến nghị đầu ngõ."
    assert status_event.data == {"into": survivor_code}


def test_nobody_new_to_count_still_says_so(client, world):
    survivor = factories.file(world, **SURVIVOR_PETITIONER)
    # The same resident filed twice, and co-signed their own first petition's twin.
    merged = factories.file(world, point=NEAR, petitioner_email="DO.CON@example.vn")
    co_sign(client, merged, email="do.con@example.vn")
    services.merge(merged, world.users["ward_staff"], into=survivor)
    db.session.commit()
    assert signatures(survivor.id) == []
    (event,) = [e for e in get(survivor.code).events if e.kind == EventKind.UPDATE]
    assert event.data == {"merged": merged.code, "co_signers_added": 0}
    assert "đã được tính ở kiến nghị này" in event.public_note


def test_a_stale_merge_changes_nothing_on_the_survivor(client, auth, world, pair):
    survivor_code, merged_code = pair
    merged = get(merged_code)
    seen = merged.version
    services.review(merged, world.users["ward_staff"])  # someone else acted meanwhile
    db.session.commit()
    survivor_id = get(survivor_code).id
    survivor_events = db.session.scalar(
        select(func.count())
        .select_from(PetitionEvent)
        .where(PetitionEvent.petition_id == survivor_id)
    )

    auth.as_role(world, "ward_staff")
    response = client.post(
        f"/quan-ly/kien-nghi/{merged_code}/merge",
        data={"merge-into_code": survivor_code, "merge-version": seen},
    )
    assert response.status_code == 409
    survivor = get(survivor_code)
    assert len(signatures(survivor.id)) == 1
    assert len(survivor.events) == survivor_events
    assert get(merged_code).status == Status.REVIEWING


def test_e_mail_choices_carry_over_to_the_survivor(client, world):
    survivor = factories.file(world, **SURVIVOR_PETITIONER)
    merged = factories.file(world, point=NEAR, **MERGED_PETITIONER)
    co_sign(client, merged, email="con.theo@example.vn")
    co_sign(client, merged, email="da.huy@example.vn")
    merged = get(merged.code)
    for follow in db.session.scalars(select(Follow).where(Follow.petition_id == merged.id)):
        follow.confirmed_at = merged.created_at
        if follow.email == "da.huy@example.vn":
            follow.unsubscribed_at = merged.created_at  # asked to hear no more
    # The petitioner stopped this petition's messages with the link in an e-mail.
    db.session.add(MailOptOut(email="pham.gop@example.vn", scope=f"petition:{merged.code}"))
    db.session.commit()

    services.merge(merged, world.users["ward_staff"], into=get(survivor.code))
    db.session.commit()

    survivor = get(survivor.code)
    # All three still count as people with the problem...
    assert {s.email for s in signatures(survivor.id)} == {
        "pham.gop@example.vn",
        "con.theo@example.vn",
        "da.huy@example.vn",
    }
    # ...but only the one who still wanted news follows the survivor and is told.
    follows = db.session.scalars(select(Follow).where(Follow.petition_id == survivor.id)).all()
    assert [(f.email, f.is_active) for f in follows] == [("con.theo@example.vn", True)]
    told = db.session.scalars(
        select(Notification.recipient).where(Notification.kind == NotificationKind.MERGED)
    ).all()
    assert told == ["con.theo@example.vn"]
    # The survivor's petitioner hears of the merge once, as an update of their petition.
    updates = db.session.scalars(
        select(Notification).where(
            Notification.recipient == "do.con@example.vn",
            Notification.kind == NotificationKind.UPDATE,
        )
    ).all()
    assert len(updates) == 1 and merged.code in updates[0].body_text
    for secret in ("Phạm Thị Gộp", "0911222333", "pham.gop@example.vn"):
        assert secret not in updates[0].body_text


def test_a_co_signer_who_never_confirmed_their_address_gets_no_mail(client, world):
    survivor = factories.file(world, **SURVIVOR_PETITIONER)
    merged = factories.file(world, point=NEAR, **MERGED_PETITIONER)
    co_sign(client, merged, email="chua.xac.nhan@example.vn")
    co_sign(client, merged, email="da.xac.nhan@example.vn")
    merged = get(merged.code)
    for follow in db.session.scalars(select(Follow).where(Follow.petition_id == merged.id)):
        if follow.email == "da.xac.nhan@example.vn":
            follow.confirmed_at = merged.created_at
    db.session.commit()

    services.merge(merged, world.users["ward_staff"], into=get(survivor.code))
    db.session.commit()

    survivor = get(survivor.code)
    # Both still count as people with the problem…
    emails = {s.email for s in signatures(survivor.id)}
    assert {"chua.xac.nhan@example.vn", "da.xac.nhan@example.vn"} <= emails
    # …but an address nobody confirmed is not written to: double opt-in holds.
    follows = db.session.scalars(select(Follow).where(Follow.petition_id == survivor.id)).all()
    assert "chua.xac.nhan@example.vn" not in {f.email for f in follows}
    told = set(
        db.session.scalars(
            select(Notification.recipient).where(Notification.kind == NotificationKind.MERGED)
        )
    )
    assert "chua.xac.nhan@example.vn" not in told and "da.xac.nhan@example.vn" in told


def follow_by_mail(petition: Petition, email: str, *, confirmed: bool, unsubscribed=False):
    """A follow asked for at /theo-doi (confirmed or not), with the links of its mails."""
    from portal.notifications import services as mail

    row = mail.request_follow(email, petition=petition)
    if confirmed:
        mail.confirm_follow(mail.confirm_token(row))
    if unsubscribed:
        mail.unsubscribe(mail.unsubscribe_token(f"follow:{row.id}", email))
    db.session.commit()
    return {
        "id": row.id,
        "confirm": f"/theo-doi/xac-nhan/{mail.confirm_token(row)}",
        "unsubscribe": f"/theo-doi/huy/{mail.unsubscribe_token(f'follow:{row.id}', email)}",
    }


FOLLOWERS = ["theo.doi@example.vn", "chua.xac.nhan@example.vn", "da.huy@example.vn"]


def test_plain_followers_follow_the_survivor_once_each_with_their_links(client, world):
    survivor = factories.file(world, **SURVIVOR_PETITIONER)
    merged = factories.file(world, point=NEAR, **MERGED_PETITIONER)
    co_sign(client, merged, email="dong.y@example.vn")  # a co-signer: not a plain follower
    merged = get(merged.code)
    confirmed = follow_by_mail(merged, "theo.doi@example.vn", confirmed=True)
    unconfirmed = follow_by_mail(merged, "chua.xac.nhan@example.vn", confirmed=False)
    stopped = follow_by_mail(merged, "da.huy@example.vn", confirmed=True, unsubscribed=True)
    # Follows both: keeps their own follow of the survivor, confirmed now that they
    # confirmed their address for the merged petition.
    both = follow_by_mail(merged, "ca.hai@example.vn", confirmed=True)
    theirs = follow_by_mail(get(survivor.code), "ca.hai@example.vn", confirmed=False)

    services.merge(get(merged.code), world.users["ward_staff"], into=get(survivor.code))
    db.session.commit()

    survivor, merged = get(survivor.code), get(merged.code)
    rows = {
        f.email: f
        for f in db.session.scalars(select(Follow).where(Follow.petition_id == survivor.id))
    }
    # The merged petition's petitioner follows the survivor as before (its co-signer never
    # confirmed their address); its plain followers are moved.
    assert set(rows) == {
        "pham.gop@example.vn",
        "theo.doi@example.vn",
        "chua.xac.nhan@example.vn",
        "ca.hai@example.vn",
    }
    # Moved, not copied: the same rows, in the same state.
    assert rows["theo.doi@example.vn"].id == confirmed["id"]
    assert rows["theo.doi@example.vn"].is_active
    assert rows["theo.doi@example.vn"].target == f"petition:{survivor.id}"
    assert rows["chua.xac.nhan@example.vn"].id == unconfirmed["id"]
    assert rows["chua.xac.nhan@example.vn"].confirmed_at is None
    assert rows["ca.hai@example.vn"].id == theirs["id"]
    assert rows["ca.hai@example.vn"].is_active
    left = {
        f.email: f.id
        for f in db.session.scalars(select(Follow).where(Follow.petition_id == merged.id))
    }
    assert left == {
        "dong.y@example.vn": left["dong.y@example.vn"],
        "da.huy@example.vn": stopped["id"],
        "ca.hai@example.vn": both["id"],
    }

    # The confirmed followers hear of the merge once, from the survivor's timeline.
    told = db.session.scalars(
        select(Notification).where(Notification.recipient == "theo.doi@example.vn")
    ).all()
    assert [(n.kind, n.petition_id) for n in told] == [
        (NotificationKind.FOLLOW_CONFIRM, merged.id),
        (NotificationKind.FOLLOW_UPDATE, survivor.id),
    ]
    assert merged.code in told[-1].body_text
    assert not db.session.scalars(
        select(Notification).where(
            Notification.recipient.in_(["chua.xac.nhan@example.vn", "da.huy@example.vn"]),
            Notification.kind != NotificationKind.FOLLOW_CONFIRM,
        )
    ).all()

    # The merged timeline says so, without anyone's address.
    [event] = [e for e in merged.events if e.to_status == Status.MERGED]
    assert event.data == {"into": survivor.code, "followers_moved": 2}
    page = client.get(f"/kien-nghi/{merged.code}").get_data(as_text=True)
    assert (
        f"Những người theo dõi kiến nghị này từ nay nhận tin về kiến nghị {survivor.code}." in page
    )
    for secret in [*FOLLOWERS, "ca.hai@example.vn", *SECRETS]:
        assert secret not in page

    # Links mailed before the merge still work, now for the survivor.
    assert client.get(unconfirmed["confirm"]).status_code == 200
    assert client.get(confirmed["unsubscribe"]).status_code == 200
    db.session.expire_all()
    assert db.session.get(Follow, unconfirmed["id"]).is_active
    assert db.session.get(Follow, confirmed["id"]).unsubscribed_at is not None

    def updates() -> list[str]:
        return db.session.scalars(
            select(Notification.recipient)
            .where(
                Notification.kind == NotificationKind.FOLLOW_UPDATE,
                Notification.petition_id == survivor.id,
            )
            .order_by(Notification.id)
        ).all()

    before = updates()
    services.review(get(survivor.code), world.users["ward_staff"], public_note="Đã kiểm tra.")
    db.session.commit()
    # The one who confirmed after the merge hears of the survivor; the one who unsubscribed
    # with an earlier link does not.
    assert sorted(before) == ["ca.hai@example.vn", "theo.doi@example.vn"]
    assert sorted(updates()[len(before) :]) == [
        "ca.hai@example.vn",
        "chua.xac.nhan@example.vn",
        "pham.gop@example.vn",
    ]
