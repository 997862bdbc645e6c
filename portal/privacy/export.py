"""Copies of personal data: a petitioner's own (through the private link) and, for a request
under the law, everything held under one e-mail address or phone number (admins).

The copies are plain dicts, written out as JSON and shown as a page. Times are ISO 8601 in
Vietnam time. Nothing here writes: views log the export and commit.

A private link proves that someone filed the petition, not that they own the e-mail address
they typed. So data found elsewhere under that address (co-signatures, follows, other
petitions) joins the copy only after the address is confirmed by a signed link mailed to it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import Follow, MailOptOut, Notification
from portal.petitions.models import CoSignature, EventKind, Petition
from portal.privacy import services
from portal.timeutil import to_local, utcnow

EMAIL_SALT = "privacy.my-data-email"
EMAIL_LINK_HOURS = 24


def _iso(moment) -> str | None:
    return to_local(moment).isoformat(timespec="seconds") if moment else None


def _day(value) -> str | None:
    return value.isoformat() if value else None


# --- confirming the address ---------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=EMAIL_SALT)


def email_token(petition: Petition) -> str:
    return _serializer().dumps({"p": petition.id, "e": petition.petitioner_email})


def verified_email(petition: Petition, token: str | None) -> str | None:
    """The petition's e-mail address when ``token`` was mailed to it and is still valid."""
    if not token or not petition.petitioner_email:
        return None
    try:
        data = _serializer().loads(token, max_age=EMAIL_LINK_HOURS * 3600)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("p") != petition.id:
        return None
    if data.get("e") != petition.petitioner_email:
        return None
    return petition.petitioner_email


def queue_email_link(petition: Petition, locale: str = "vi") -> Notification | None:
    """Mail the petitioner a link that opens the full copy; at most one an hour.

    ``None`` when the petition has no address or a link went out this hour.
    """
    from portal.notifications import services as mail

    email = petition.petitioner_email
    if not email:
        return None
    key = f"data_export:{petition.id}:{mail.recipient_hash(email)}:{utcnow():%Y%m%d%H}"
    if mail.already_queued(key):
        return None
    from portal.notifications.models import NotificationKind

    link = mail.external_url(
        "privacy.my_data", token=petition.private_token, thu=email_token(petition)
    )
    return mail.queue(
        recipient=email,
        kind=NotificationKind.DATA_EXPORT,
        dedup_key=key,
        subject=_l("[%(code)s] Xác nhận để tải dữ liệu của bạn", code=petition.code),
        context={"petition": petition, "link": link, "hours": EMAIL_LINK_HOURS},
        locale=locale,
        petition=petition,
        template="data_export",
    )


# --- pieces -------------------------------------------------------------------------------


def _petition_fields(petition: Petition) -> dict:
    return {
        "code": petition.code,
        "title": petition.title,
        "description": petition.description,
        "category": petition.category.name,
        "area": petition.area.name if petition.area else None,
        "place": petition.address_text,
        "latitude": petition.latitude,
        "longitude": petition.longitude,
        "channel": petition.channel.value,
        "channel_label": petition.channel.label,
        "status": petition.status.value,
        "status_label": petition.status.label,
        "created_at": _iso(petition.created_at),
        "expected_on": _day(petition.expected_on),
        "resolved_at": _iso(petition.resolved_at),
        "closed_at": _iso(petition.closed_at),
        "outcome_note": petition.outcome_note if petition.outcome else None,
        "public_url": url_for("petitions.public_page", code=petition.code, _external=True),
    }


def _contact(petition: Petition) -> dict:
    return {
        "name": petition.petitioner_name,
        "phone": petition.petitioner_phone,
        "email": petition.petitioner_email,
        "address": petition.petitioner_address,
        "show_name_publicly": petition.show_name_publicly,
    }


def _photos(petition: Petition) -> list[dict]:
    return [
        {
            "id": photo.id,
            "uploaded_at": _iso(photo.created_at),
            "uploaded_by": photo.uploaded_by,
            "width": photo.width,
            "height": photo.height,
            "size_bytes": photo.size_bytes,
            "published": photo.published,
            "url": url_for(
                "petitions.photo", photo_id=photo.id, t=petition.private_token, _external=True
            ),
        }
        for photo in petition.photos
        if photo.uploaded_by == "petitioner" or photo.published
    ]


EVENT_LABELS = {
    EventKind.FILED: _l("Tiếp nhận kiến nghị"),
    EventKind.STATUS: _l("Chuyển trạng thái"),
    EventKind.ASSIGNED: _l("Cập nhật đơn vị xử lý"),
    EventKind.UPDATE: _l("Cập nhật tiến độ"),
    EventKind.INFO_ADDED: _l("Người kiến nghị bổ sung thông tin"),
    EventKind.EDITED: _l("Chỉnh sửa thông tin"),
    EventKind.FORWARD_REPLY: _l("Trả lời của cấp trên"),
    EventKind.PHOTO: _l("Ảnh"),
    EventKind.NOTE: _l("Theo dõi, phân loại"),
    EventKind.RATED: _l("Đánh giá kết quả"),
    EventKind.REMARK: _l("Ý kiến giám sát của Mặt trận"),
}


def _timeline(petition: Petition) -> list[dict]:
    """What the public timeline shows (staff's internal notes are not the petitioner's data)."""
    return [
        {
            "at": _iso(event.created_at),
            "kind": event.kind.value,
            "kind_label": str(EVENT_LABELS.get(event.kind, event.kind.value)),
            "from_status": event.from_status.value if event.from_status else None,
            "to_status": event.to_status.value if event.to_status else None,
            "by_you": event.actor_kind == "petitioner",
            "public_note": event.public_note,
        }
        for event in petition.public_events
    ]


def _rating(petition: Petition) -> dict | None:
    if petition.satisfied is None and not petition.rating_comment:
        return None
    return {
        "satisfied": petition.satisfied,
        "comment": petition.rating_comment,
        "rated_at": _iso(petition.rated_at),
    }


def _message(notification: Notification) -> dict:
    return {
        "created_at": _iso(notification.created_at),
        "subject": notification.subject,
        "kind": notification.kind.value,
        "status": notification.status.value,
        "sent_at": _iso(notification.sent_at),
        "petition": notification.petition.code if notification.petition else None,
    }


def _follow(follow: Follow) -> dict:
    return {
        "target": (
            follow.petition.code
            if follow.petition is not None
            else (follow.area.name if follow.area else follow.target)
        ),
        "kind": "petition" if follow.petition_id else "area",
        "email": follow.email,
        "created_at": _iso(follow.created_at),
        "confirmed_at": _iso(follow.confirmed_at),
        "unsubscribed_at": _iso(follow.unsubscribed_at),
    }


def _co_signature(signature: CoSignature) -> dict:
    return {
        "petition": signature.petition.code,
        "title": signature.petition.title,
        "name": signature.name,
        "phone": signature.phone,
        "email": signature.email,
        "created_at": _iso(signature.created_at),
    }


def _opt_out(opt_out: MailOptOut) -> dict:
    return {"scope": opt_out.scope, "created_at": _iso(opt_out.created_at)}


def _erase_on(petition: Petition) -> str | None:
    """The day the retention period ends, for an ended petition not yet anonymised."""
    if petition.status not in services.ENDED_STATUSES or petition.anonymised_at is not None:
        return None
    ended = db.session.scalar(select(services.ended_at()).where(Petition.id == petition.id))
    if ended is None:
        return None
    return to_local(ended + timedelta(days=services.retention_days())).date().isoformat()


def _about() -> dict:
    from portal.units.services import current_ward

    ward = current_ward()
    return {
        "portal": ward.name if ward else None,
        "generated_at": _iso(utcnow()),
        "retention_days": services.retention_days(),
        "privacy_policy": url_for("privacy.policy", _external=True),
    }


# --- copies -------------------------------------------------------------------------------


def petitioner_copy(petition: Petition, *, email: str | None = None) -> dict:
    """Everything the portal holds about the petitioner of ``petition``.

    ``email`` is the petition's address once confirmed (:func:`verified_email`): then what
    that address did elsewhere is included too.
    """
    address = petition.petitioner_email
    messages = []
    if address:
        messages = list(
            db.session.scalars(
                select(Notification)
                .where(Notification.petition_id == petition.id, Notification.recipient == address)
                .order_by(Notification.created_at, Notification.id)
            )
        )
    copy = {
        **_about(),
        "petition": _petition_fields(petition),
        "contact": _contact(petition),
        "photos": _photos(petition),
        "timeline": _timeline(petition),
        "rating": _rating(petition),
        "messages": [_message(n) for n in messages],
        "opt_outs": [
            _opt_out(o)
            for o in db.session.scalars(
                select(MailOptOut).where(
                    MailOptOut.email == (address or ""),
                    MailOptOut.scope == f"petition:{petition.code}",
                )
            )
        ],
        "anonymised_at": _iso(petition.anonymised_at),
        "erase_on": _erase_on(petition),
        "email_confirmed": bool(email),
    }
    if email:
        found = services.find_person(services.PersonQuery(email=email, ward_id=petition.ward_id))
        copy["other_petitions"] = [
            {
                "code": p.code,
                "title": p.title,
                "status": p.status.value,
                "status_label": p.status.label,
                "created_at": _iso(p.created_at),
            }
            for p in found.petitions
            if p.id != petition.id
        ]
        copy["co_signatures"] = [_co_signature(c) for c in found.co_signatures]
        copy["follows"] = [_follow(f) for f in found.follows]
        copy["messages_elsewhere"] = [
            _message(n) for n in found.notifications if n.petition_id != petition.id
        ]
    return copy


def person_copy(found: services.PersonData) -> dict:
    """For a request under the law: everything held under an address or a phone number."""
    return {
        **_about(),
        "query": {"email": found.query.email, "phone": found.query.phone},
        "petitions": [
            {**_petition_fields(p), "contact": _contact(p), "photos": len(p.photos)}
            for p in found.petitions
        ],
        "co_signatures": [_co_signature(c) for c in found.co_signatures],
        "follows": [_follow(f) for f in found.follows],
        "messages": [_message(n) for n in found.notifications],
        "opt_outs": [_opt_out(o) for o in found.opt_outs],
    }
