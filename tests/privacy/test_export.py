"""A petitioner's own copy through the private link, corrections of their contact details,
and requests under the law handled by admins (copy or erase by e-mail or phone)."""

from __future__ import annotations

import io
import json
import re
from html import unescape

import pytest
from itsdangerous import TimestampSigner
from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import (
    Follow,
    MailOptOut,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from portal.petitions import services as petitions
from portal.petitions.models import CoSignature, Petition, PetitionEvent
from portal.privacy import export
from tests import factories
from tests.privacy.conftest import (
    ADDRESS,
    CO_EMAIL,
    CO_NAME,
    CO_PHONE,
    EMAIL,
    NAME,
    PHONE,
    audit_entries,
    close,
    co_sign,
    count,
    file_with_contact,
    follow,
)


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 160, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def file_on_the_web(client, world) -> Petition:
    lat, lon = factories.INSIDE_WEST
    response = client.post(
        "/kien-nghi/moi",
        data={
            "category_id": str(world.categories["ve-sinh-moi-truong"].id),
            "title": "Điểm rác tự phát đầu ngõ 12",
            "description": "Rác thải sinh hoạt đổ thành đống, bốc mùi.",
            "latitude": str(lat),
            "longitude": str(lon),
            "petitioner_name": NAME,
            "petitioner_phone": "0912 345 678",
            "petitioner_email": EMAIL,
            "petitioner_address": ADDRESS,
            "photos": [(io.BytesIO(jpeg()), "rac.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    token = re.search(r"/cua-toi/([^?]+)", response.headers["Location"]).group(1)
    db.session.expire_all()
    return db.session.scalar(select(Petition).where(Petition.private_token == token))


@pytest.fixture
def petition(client, world):
    petition = file_on_the_web(client, world)
    staff = world.users["ward_staff"]
    factories.assign(world, petition)
    petitions.post_update(
        petition,
        staff,
        public_note="Đã khảo sát hiện trường.",
        internal_note="Ghi chú nội bộ không dành cho người dân.",
    )
    db.session.commit()
    return petition


def body_of(response) -> str:
    return unescape(response.get_data(as_text=True))


# --- the petitioner's own copy ----------------------------------------------------------


def test_the_private_page_offers_the_copy(client, petition):
    body = body_of(client.get(f"/cua-toi/{petition.private_token}"))
    assert f"/cua-toi/{petition.private_token}/du-lieu" in body
    assert "Tải dữ liệu của tôi" in body
    assert f"/cua-toi/{petition.private_token}/lien-he" in body


def test_the_json_copy_holds_everything_about_the_petitioner(client, world, petition):
    response = client.get(f"/cua-toi/{petition.private_token}/du-lieu.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert f'filename="du-lieu-{petition.code}.json"' in response.headers["Content-Disposition"]
    copy = json.loads(response.get_data(as_text=True))

    assert copy["petition"]["code"] == petition.code
    assert copy["petition"]["title"] == "Điểm rác tự phát đầu ngõ 12"
    assert copy["petition"]["category"] == "Vệ sinh môi trường"
    assert copy["petition"]["status"] == "in_progress"  # after the update
    assert copy["contact"] == {
        "name": NAME,
        "phone": PHONE,
        "email": EMAIL,
        "address": ADDRESS,
        "show_name_publicly": False,
    }
    [photo] = copy["photos"]
    assert photo["published"] is False and photo["width"] == 64
    assert f"t={petition.private_token}" in photo["url"]
    notes = [e["public_note"] for e in copy["timeline"]]
    assert "Đã khảo sát hiện trường." in notes
    assert "Ghi chú nội bộ không dành cho người dân." not in json.dumps(copy, ensure_ascii=False)
    assert copy["timeline"][0]["by_you"] is True  # filed
    assert copy["timeline"][0]["kind_label"] == "Tiếp nhận kiến nghị"
    subjects = [m["subject"] for m in copy["messages"]]
    assert any("Đã tiếp nhận kiến nghị của bạn" in s for s in subjects)
    assert copy["retention_days"] == 730
    assert copy["email_confirmed"] is False
    assert "co_signatures" not in copy and "follows" not in copy
    assert copy["privacy_policy"].endswith("/quyen-rieng-tu")


def test_the_readable_copy_and_the_rating(client, world, petition):
    petitions.resolve(petition, world.users["ward_staff"], public_note="Đã thu gom xong.")
    db.session.commit()
    client.post(
        f"/cua-toi/{petition.private_token}/danh-gia",
        data={"satisfied": "1", "comment": "Cảm ơn phường."},
    )
    response = client.get(f"/cua-toi/{petition.private_token}/du-lieu")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = body_of(response)
    for text in (NAME, PHONE, EMAIL, ADDRESS, "Đã khảo sát hiện trường.", "Cảm ơn phường."):
        assert text in body, text
    assert "Ghi chú nội bộ" not in body
    assert "Ảnh (1)" in body and "chưa công khai" in body
    assert "Chuyển trạng thái</strong>: đã giao xử lý → đang giải quyết" in body
    assert "Tải tệp JSON" in body
    copy = json.loads(client.get(f"/cua-toi/{petition.private_token}/du-lieu.json").data)
    assert copy["rating"]["satisfied"] is True
    assert copy["rating"]["comment"] == "Cảm ơn phường."


def test_each_copy_is_logged_as_the_petitioner(client, petition):
    client.get(f"/cua-toi/{petition.private_token}/du-lieu")
    client.get(f"/cua-toi/{petition.private_token}/du-lieu.json")
    entries = audit_entries(action="export")
    assert [e.data["format"] for e in entries] == ["html", "json"]
    assert all(e.actor_kind == "petitioner" and e.actor_id is None for e in entries)
    assert all(e.subject_id == petition.id and e.ip_address for e in entries)


def test_a_wrong_link_gets_not_found(client, petition):
    assert client.get("/cua-toi/khong-dung/du-lieu").status_code == 404
    assert client.get("/cua-toi/khong-dung/du-lieu.json").status_code == 404
    assert client.post("/cua-toi/khong-dung/du-lieu/xac-nhan").status_code == 404
    assert audit_entries() == []


def _elsewhere(world, petition):
    """What the same address did on other petitions: a co-signature, a follow, a petition."""
    other = factories.file(world, title="Cống thoát nước bị tắc ở ngõ 5")
    co_sign(other, name="Trần Thị R.", phone=None, email=EMAIL)
    follow(other, EMAIL)
    mine_too = file_with_contact(world, title="Đèn đường hỏng trước nhà văn hóa")
    return other, mine_too


def test_data_under_the_same_address_elsewhere_needs_the_address_confirmed(client, world, petition):
    other, mine_too = _elsewhere(world, petition)
    copy = json.loads(client.get(f"/cua-toi/{petition.private_token}/du-lieu.json").data)
    text = json.dumps(copy, ensure_ascii=False)
    assert other.code not in text and mine_too.code not in text

    page = body_of(client.get(f"/cua-toi/{petition.private_token}/du-lieu"))
    assert "Gửi đường dẫn xác nhận đến thư điện tử của tôi" in page

    response = client.post(f"/cua-toi/{petition.private_token}/du-lieu/xac-nhan")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cua-toi/{petition.private_token}/du-lieu")
    [message] = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.DATA_EXPORT)
    )
    assert message.recipient == EMAIL
    link = re.search(r"http://\S+/du-lieu\?thu=\S+", message.body_text).group(0)
    # Asking again within the hour sends nothing more.
    client.post(f"/cua-toi/{petition.private_token}/du-lieu/xac-nhan")
    assert (
        len(
            db.session.scalars(
                select(Notification).where(Notification.kind == NotificationKind.DATA_EXPORT)
            ).all()
        )
        == 1
    )

    path = link.split("://", 1)[1].split("/", 1)[1]
    page = body_of(client.get("/" + path))
    assert other.code in page and mine_too.code in page and "Trần Thị R." in page
    token = path.split("thu=", 1)[1]
    copy = json.loads(
        client.get(f"/cua-toi/{petition.private_token}/du-lieu.json?thu={token}").data
    )
    assert copy["email_confirmed"] is True
    assert [c["petition"] for c in copy["co_signatures"]] == [other.code]
    assert [f["target"] for f in copy["follows"]] == [other.code]
    assert [p["code"] for p in copy["other_petitions"]] == [mine_too.code]
    assert audit_entries(action="export")[-1].data["email_verified"] is True


def test_a_confirmation_works_only_for_its_petition_its_address_and_a_day(
    client, world, petition, monkeypatch
):
    _other, mine_too = _elsewhere(world, petition)
    token = export.email_token(petition)

    def confirmed(target, thu):
        copy = json.loads(
            client.get(f"/cua-toi/{target.private_token}/du-lieu.json?thu={thu}").data
        )
        return copy["email_confirmed"]

    assert confirmed(petition, token) is True
    assert confirmed(mine_too, token) is False  # another petition of the same address
    assert confirmed(petition, token + "x") is False

    import time

    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 90000)
    stale = export.email_token(petition)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    assert confirmed(petition, stale) is False

    # The address changed since the link was mailed: the link no longer proves anything.
    client.post(
        f"/cua-toi/{petition.private_token}/lien-he",
        data={"name": NAME, "email": "dia.chi.moi@example.vn"},
    )
    assert confirmed(petition, token) is False


def test_without_an_address_there_is_nothing_to_confirm(client, world):
    petition = factories.file(world, petitioner_name=NAME)
    response = client.post(f"/cua-toi/{petition.private_token}/du-lieu/xac-nhan")
    assert response.status_code == 303
    page = body_of(client.get(response.headers["Location"]))
    assert "không có địa chỉ thư điện tử" in page
    assert not db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.DATA_EXPORT)
    ).all()


# --- the petitioner corrects their contact details --------------------------------------


def test_the_petitioner_corrects_their_contact_details(client, petition):
    events = count(PetitionEvent)
    version, updated = petition.version, petition.updated_at
    form = client.get(f"/cua-toi/{petition.private_token}/lien-he")
    assert form.status_code == 200
    assert PHONE in body_of(form)

    response = client.post(
        f"/cua-toi/{petition.private_token}/lien-he",
        data={"name": NAME, "phone": "0903 111 222", "email": "", "address": ADDRESS},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cua-toi/{petition.private_token}")
    db.session.expire_all()
    petition = db.session.get(Petition, petition.id)
    assert petition.petitioner_phone == "0903111222"
    assert petition.petitioner_email is None
    assert (petition.version, petition.updated_at) == (version, updated)
    assert count(PetitionEvent) == events  # the public timeline never holds contact details
    [entry] = audit_entries(action="correct")
    assert entry.actor_kind == "petitioner"
    assert entry.data["fields"] == ["phone", "email"]
    assert "0903111222" not in json.dumps(entry.data)


def test_a_bad_phone_is_refused_in_vietnamese_and_nothing_changes(client, petition):
    response = client.post(
        f"/cua-toi/{petition.private_token}/lien-he",
        data={"name": "Tên Khác", "phone": "12345", "email": EMAIL, "address": ADDRESS},
    )
    assert response.status_code == 422
    body = body_of(response)
    assert "Số điện thoại không hợp lệ" in body
    assert 'value="Tên Khác"' in body  # what was typed is kept
    db.session.expire_all()
    assert db.session.get(Petition, petition.id).petitioner_name == NAME


def test_consent_to_show_the_name_can_be_withdrawn(client, world):
    petition = factories.file(world, petitioner_name=NAME, show_name_publicly=True)
    assert NAME in body_of(client.get(f"/kien-nghi/{petition.code}"))
    client.post(f"/cua-toi/{petition.private_token}/lien-he", data={"name": NAME})
    assert NAME not in body_of(client.get(f"/kien-nghi/{petition.code}"))


# --- requests under the law, handled by an admin ----------------------------------------


def _person_world(world, petition):
    co_sign(petition)  # somebody else co-signs the petitioner's petition
    other = factories.file(world, title="Cống thoát nước bị tắc ở ngõ 5")
    co_sign(other, name=NAME, phone=PHONE, email=EMAIL)
    follow(other, EMAIL)
    db.session.add(MailOptOut(email=EMAIL, scope=f"petition:{petition.code}"))
    db.session.commit()
    return other


def test_admins_find_everything_under_an_address(client, auth, world, petition):
    other = _person_world(world, petition)
    auth.as_role(world, "admin")
    assert client.get("/quan-ly/du-lieu-ca-nhan").status_code == 200
    response = client.post("/quan-ly/du-lieu-ca-nhan", data={"email": EMAIL.upper(), "lam": "tim"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = body_of(response)
    for text in (petition.code, other.code, "Kiến nghị đã gửi (1)", "Cùng kiến nghị (1)"):
        assert text in body, text
    assert "Theo dõi (1)" in body
    assert CO_NAME not in body  # the other co-signer of the petition is somebody else
    [entry] = audit_entries(subject_type="person")
    assert entry.action == "view"
    assert entry.data["found"]["petitions"] == 1
    assert EMAIL not in json.dumps(entry.data)  # a keyed hash, not the address
    assert len(entry.data["hash"]["email"]) == 16


def test_admins_find_by_phone_typed_any_way(client, auth, world, petition):
    _person_world(world, petition)
    auth.as_role(world, "admin")
    response = client.post(
        "/quan-ly/du-lieu-ca-nhan", data={"phone": "+84 912 345 678", "lam": "tim"}
    )
    body = body_of(response)
    assert "Kiến nghị đã gửi (1)" in body and "Cùng kiến nghị (1)" in body
    assert "Theo dõi (0)" in body  # follows are by address only


def test_admins_download_the_copy_and_it_is_logged(client, auth, world, petition):
    other = _person_world(world, petition)
    auth.as_role(world, "admin")
    response = client.post(
        "/quan-ly/du-lieu-ca-nhan", data={"email": EMAIL, "phone": PHONE, "lam": "tai"}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    copy = json.loads(response.data)
    assert [p["code"] for p in copy["petitions"]] == [petition.code]
    assert copy["petitions"][0]["contact"]["phone"] == PHONE
    assert [c["petition"] for c in copy["co_signatures"]] == [other.code]
    assert [f["target"] for f in copy["follows"]] == [other.code]
    assert [o["scope"] for o in copy["opt_outs"]] == [f"petition:{petition.code}"]
    assert copy["messages"]
    [entry] = audit_entries(subject_type="person")
    assert (entry.action, entry.data["format"]) == ("export", "json")
    assert set(entry.data["hash"]) == {"email", "phone"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Hãy nhập thư điện tử hoặc số điện thoại của người yêu cầu."),
        ({"email": "khong-phai-thu"}, "Địa chỉ thư điện tử không hợp lệ."),
        ({"phone": "12"}, "Số điện thoại không hợp lệ"),
    ],
)
def test_a_bad_request_gets_a_vietnamese_message(client, auth, world, data, message):
    auth.as_role(world, "admin")
    response = client.post("/quan-ly/du-lieu-ca-nhan", data={**data, "lam": "tim"})
    assert response.status_code == 422
    assert message in body_of(response)
    assert audit_entries() == []


def test_admins_erase_one_persons_data_on_request(client, auth, world, petition):
    other = _person_world(world, petition)
    auth.as_role(world, "admin")
    unconfirmed = client.post(
        "/quan-ly/du-lieu-ca-nhan", data={"email": EMAIL, "phone": PHONE, "lam": "xoa"}
    )
    assert unconfirmed.status_code == 422
    assert "Hãy đánh dấu ô xác nhận trước khi xóa." in body_of(unconfirmed)
    db.session.expire_all()
    assert db.session.get(Petition, petition.id).petitioner_email == EMAIL

    events = count(PetitionEvent)
    response = client.post(
        "/quan-ly/du-lieu-ca-nhan",
        data={"email": EMAIL, "phone": PHONE, "lam": "xoa", "xac_nhan": "1"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    mine = db.session.get(Petition, petition.id)
    assert (mine.petitioner_name, mine.petitioner_phone, mine.petitioner_email) == (None,) * 3
    assert mine.petitioner_address is None
    signatures = {c.petition_id: c for c in db.session.scalars(select(CoSignature))}
    assert (signatures[other.id].name, signatures[other.id].email) == (None, None)
    # Somebody else's co-signature on the petitioner's petition is theirs, not erased.
    assert (signatures[petition.id].name, signatures[petition.id].phone) == (CO_NAME, CO_PHONE)
    assert signatures[petition.id].email == CO_EMAIL
    assert not db.session.scalars(select(Follow).where(Follow.email == EMAIL)).all()
    assert not db.session.scalars(select(Notification).where(Notification.recipient == EMAIL)).all()
    assert count(MailOptOut) == 0
    assert count(PetitionEvent) == events
    assert all(
        n.status != NotificationStatus.QUEUED
        for n in db.session.scalars(select(Notification).where(Notification.recipient == ""))
    )
    [entry] = audit_entries(action="erase")
    assert entry.data["erased"]["petitioners"] == 1
    assert entry.data["erased"]["co_signers"] == 1
    assert entry.data["codes"] == [petition.code]
    page = body_of(client.get(response.headers["Location"]))
    assert "Đã xóa dữ liệu cá nhân: 1 kiến nghị, 1 lần cùng kiến nghị" in page


def test_a_closed_petitions_copy_says_when_it_will_be_erased(client, world):
    petition = close(world, file_with_contact(world))
    copy = json.loads(client.get(f"/cua-toi/{petition.private_token}/du-lieu.json").data)
    assert copy["erase_on"] is not None
    page = body_of(client.get(f"/cua-toi/{petition.private_token}/du-lieu"))
    assert "sẽ được tự động xóa vào khoảng ngày" in page
