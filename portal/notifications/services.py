"""Who gets which e-mail, queued in the outbox inside the caller's transaction.

:func:`on_petition_event` is connected to :data:`portal.signals.petition_event`. It runs
inside the service call that appended the event, adds :class:`Notification` rows to the
session and never flushes or commits: the change and its messages are saved together or
not at all.

Who gets what:

- the petitioner, if they gave an e-mail address: "received" (code and private link) when
  the petition is filed; then every status change and every event with a public note
  (internal-only events never); on ``resolved`` the result and a request to rate it;
- followers of a petition (confirmed, not unsubscribed): the same status changes and
  public updates, without anything about the petitioner;
- followers of a residential group: each new petition filed there;
- unit staff (active, with an e-mail): a petition newly given to their unit;
- ward staff and the lead unit's staff: the petitioner reopened the petition, not
  satisfied (with their reason, which staff may read);
- deadlines (``deadlines.py``): the lead unit's staff when a date is near or passed,
  ward staff and MTTQ once a day for what became overdue.

Followers of a petition may answer whether the problem is still there: a signed link in
their update e-mails records an :class:`Evidence` row (one current answer each).

Every message carries a signed one-click unsubscribe link (and ``List-Unsubscribe``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import func, or_, select, update

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.notifications.models import (
    Evidence,
    Follow,
    MailOptOut,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from portal.notifications.wording import event_lines, event_title, petitioner_wrote
from portal.petitions.models import (
    STATUS_LABELS,
    CoSignature,
    EventKind,
    Petition,
    PetitionEvent,
    Status,
)
from portal.timeutil import utcnow
from portal.units.models import Area
from portal.units.services import current_ward_id, of_this_ward

K = NotificationKind

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
CONFIRM_SALT = "notifications.follow-confirm"
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
EVIDENCE_SALT = "notifications.evidence"
CONFIRM_MAX_AGE = 7 * 24 * 3600
LOCALES = ("vi", "en")

_suppressed: ContextVar[bool] = ContextVar("notifications_suppressed", default=False)

STAFF_ASSIGNED = "staff-assigned"
STAFF_DIGEST = "staff-digest"
STAFF_REOPENED = "staff-reopened"
STAFF_DEADLINES = "staff-deadlines"
STAFF_ESCALATION = "staff-escalation"


class FollowError(Exception):
    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


# --- links ------------------------------------------------------------------------------


def setting(name: str, default=None):
    """A notifications setting: the app's configuration, else the environment."""
    value = current_app.config.get(name)
    if value is None or value == "":
        value = os.environ.get(name) or default
    return value


def base_url() -> str:
    """Where the portal is reached from outside: ``PORTAL_BASE_URL``, else the request's
    host, else the development address. Set it in production, so that links in e-mail
    never depend on a request's ``Host`` header."""
    configured = setting("PORTAL_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return DEFAULT_BASE_URL


def external_url(endpoint: str, **values) -> str:
    """An absolute URL that works in a request, a CLI command or the worker alike."""
    parts = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def _timed_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)


def unsubscribe_token(topic: str, email: str) -> str:
    return _serializer().dumps({"t": topic, "e": email})


def unsubscribe_url(topic: str, email: str) -> str:
    return external_url("notifications.unsubscribe", token=unsubscribe_token(topic, email))


def confirm_token(follow: Follow) -> str:
    return _timed_serializer().dumps({"f": follow.id, "e": follow.email})


def _evidence_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=EVIDENCE_SALT)


def evidence_token(follow: Follow, still_there: bool) -> str:
    return _evidence_serializer().dumps({"f": follow.id, "e": follow.email, "s": int(still_there)})


def evidence_url(follow: Follow, still_there: bool) -> str:
    return external_url("notifications.evidence", token=evidence_token(follow, still_there))


# --- queueing ---------------------------------------------------------------------------


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def recipient_hash(email: str) -> str:
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:20]


def mail_domain() -> str:
    sender = current_app.config.get("MAIL_FROM") or "kien-nghi@localhost"
    domain = sender.rsplit("@", 1)[-1].strip(" >")
    return domain or "localhost"


def _locale(value: str | None) -> str:
    return value if value in LOCALES else "vi"


def queue(
    *,
    recipient: str,
    kind: NotificationKind,
    dedup_key: str,
    subject,
    context: dict,
    locale: str | None = "vi",
    topic: str | None = None,
    petition: Petition | None = None,
    template: str | None = None,
) -> Notification:
    """Render the message in the recipient's language and add it to the session.

    ``subject`` is a lazy string, translated here. Neither flushes nor commits.
    """
    locale = _locale(locale)
    recipient = normalize_email(recipient)
    unsubscribe = unsubscribe_url(topic, recipient) if topic else None
    name = template or kind.value
    with force_locale(locale):
        subject_text = " ".join(str(subject).split())
        values = dict(context, unsubscribe_url=unsubscribe, locale=locale, subject=subject_text)
        body_text = render_template(f"notifications/email/{name}.txt", **values)
        body_html = render_template(f"notifications/email/{name}.html", **values)
    notification = Notification(
        ward_id=_ward_id_of(petition),
        recipient=recipient,
        locale=locale,
        kind=kind,
        subject=subject_text[:300],
        body_text=body_text,
        body_html=body_html,
        petition=petition,
        dedup_key=dedup_key,
        topic=topic,
        unsubscribe_url=unsubscribe,
        status=NotificationStatus.QUEUED,
        attempts=0,
        next_attempt_at=utcnow(),
        message_id=make_msgid(domain=mail_domain()),
    )
    db.session.add(notification)
    return notification


def already_queued(dedup_key: str) -> bool:
    with db.session.no_autoflush:
        pending = any(
            isinstance(o, Notification) and o.dedup_key == dedup_key for o in db.session.new
        )
        return (
            pending
            or db.session.scalar(select(Notification.id).where(Notification.dedup_key == dedup_key))
            is not None
        )


def opted_out(email: str, scope: str) -> bool:
    return (
        db.session.scalar(
            select(MailOptOut.id).where(
                MailOptOut.email == normalize_email(email), MailOptOut.scope == scope
            )
        )
        is not None
    )


# --- who gets what ----------------------------------------------------------------------


@contextmanager
def notifications_suppressed() -> Iterator[None]:
    """Queue nothing for events inside the block (the demo's invented history)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def on_petition_event(petition: Petition, event: PetitionEvent | None = None, **_extra) -> None:
    """Receiver of ``petition_event``: queue what this event means for each recipient."""
    if event is None or _suppressed.get():
        return
    if not current_app.config.get("NOTIFICATIONS_ENABLED", True):
        return
    # Queries here must not flush the caller's half-built change.
    with db.session.no_autoflush:
        list(_queue_for_event(petition, event))


def _is_public_change(event: PetitionEvent) -> bool:
    """A status change, or an event whose public note everyone may read."""
    return event.is_status_change or (bool(event.public_note) and event.is_public)


def _event_key(kind: NotificationKind, petition: Petition, email: str) -> str:
    # The petition's version is bumped by every event: one key per event and recipient.
    return f"{kind.value}:{petition.code}:{petition.version}:{recipient_hash(email)}"


def _queue_for_event(petition: Petition, event: PetitionEvent) -> Iterator[Notification]:
    done: set[str] = set()
    public_change = _is_public_change(event)
    context = {
        "petition": petition,
        "event": event,
        "title_of": event_title,
        "lines_of": event_lines,
    }

    email = normalize_email(petition.petitioner_email)
    if email:
        scope = f"petition:{petition.code}"
        kind = _petitioner_kind(event, public_change)
        if kind is not None and not opted_out(email, scope):
            done.add(email)
            yield queue(
                recipient=email,
                kind=kind,
                dedup_key=_event_key(kind, petition, email),
                subject=_petitioner_subject(kind, petition),
                context=dict(
                    context,
                    private_url=external_url(
                        "petitions.private_page", token=petition.private_token
                    ),
                    public_url=external_url("petitions.public_page", code=petition.code),
                ),
                locale=_petitioner_locale(petition, event),
                topic=scope,
                petition=petition,
            )

    if "lead" in (event.data or {}):
        for user, role in _newly_assigned_staff(petition, event):
            if user.email in done or opted_out(user.email, STAFF_ASSIGNED):
                continue
            done.add(user.email)
            yield queue(
                recipient=user.email,
                kind=K.ASSIGNED,
                dedup_key=_event_key(K.ASSIGNED, petition, user.email),
                subject=_l(
                    "[%(code)s] Kiến nghị giao cho %(unit)s",
                    code=petition.code,
                    unit=user.unit.short_name,
                ),
                context=dict(
                    context,
                    unit=user.unit,
                    role=role,
                    staff_url=external_url("staff.petition_page", code=petition.code),
                ),
                locale=user.locale,
                topic=STAFF_ASSIGNED,
                petition=petition,
            )

    if event.is_status_change and (event.data or {}).get("reopened_by") == "petitioner":
        for user in _staff_for_reopen(petition):
            if user.email in done or opted_out(user.email, STAFF_REOPENED):
                continue
            done.add(user.email)
            yield queue(
                recipient=user.email,
                kind=K.REOPENED,
                dedup_key=_event_key(K.REOPENED, petition, user.email),
                subject=_l(
                    "[%(code)s] Người kiến nghị chưa hài lòng, kiến nghị được mở lại",
                    code=petition.code,
                ),
                context=dict(
                    context,
                    user=user,
                    reason=event.public_note,  # the petitioner's words: staff may read them
                    staff_url=external_url("staff.petition_page", code=petition.code),
                ),
                locale=user.locale,
                topic=STAFF_REOPENED,
                petition=petition,
            )

    # Followers hear of status changes and public updates, never the petitioner's words.
    by_petitioner = petitioner_wrote(event)
    follower_change = event.is_status_change or (public_change and not by_petitioner)
    if follower_change and event.kind != EventKind.FILED:
        for follow in _active_follows(Follow.petition_id == petition.id):
            if follow.email in done:
                continue
            done.add(follow.email)
            yield queue(
                recipient=follow.email,
                kind=K.FOLLOW_UPDATE,
                dedup_key=_event_key(K.FOLLOW_UPDATE, petition, follow.email),
                subject=_l(
                    "[%(code)s] Cập nhật kiến nghị bạn theo dõi: %(status)s",
                    code=petition.code,
                    status=STATUS_LABELS[petition.status],  # lazy: in the reader's language
                ),
                context=dict(
                    context,
                    show_note=not by_petitioner,
                    public_url=external_url("petitions.public_page", code=petition.code),
                    still_there_url=evidence_url(follow, True),
                    gone_url=evidence_url(follow, False),
                ),
                locale=follow.locale,
                topic=f"follow:{follow.id}",
                petition=petition,
            )

    if event.kind == EventKind.FILED and petition.area is not None:
        area = petition.area
        for follow in _active_follows(Follow.area_id == area.id):
            if follow.email in done:
                continue
            done.add(follow.email)
            yield queue(
                recipient=follow.email,
                kind=K.AREA_NEW,
                dedup_key=_event_key(K.AREA_NEW, petition, follow.email),
                subject=_l(
                    "Kiến nghị mới tại %(area)s: %(code)s", area=area.name, code=petition.code
                ),
                context=dict(
                    context,
                    area=area,
                    public_url=external_url("petitions.public_page", code=petition.code),
                ),
                locale=follow.locale,
                topic=f"follow:{follow.id}",
                petition=petition,
            )


def on_petition_cosigned(
    petition: Petition, co_signature: CoSignature | None = None, **_extra
) -> None:
    """Receiver of ``petition_cosigned``: a co-signer who gave an e-mail address is asked
    to confirm a follow of the petition (double opt-in, as at ``/theo-doi``)."""
    if co_signature is None or not co_signature.email or _suppressed.get():
        return
    if not current_app.config.get("NOTIFICATIONS_ENABLED", True):
        return
    locale = "vi"
    if has_request_context():
        from portal import select_locale

        locale = select_locale()
    request_follow(co_signature.email, petition=petition, locale=locale)


def on_petition_merging(petition: Petition, into: Petition | None = None, **_extra) -> int:
    """Receiver of ``petition_merging``: the merged petition's plain followers (who follow
    it by e-mail and are neither its petitioner nor one of its co-signers, whom
    :func:`on_petition_merged` looks after) follow the surviving petition. Returns how many.

    The rows are moved, not copied: each keeps its id, its state and so its links. A
    confirmed follow stays confirmed, one never confirmed stays so until its confirmation
    link (which now confirms the survivor) is used, and the unsubscribe link of any earlier
    message stops the survivor's messages. Not moved: a follow that was unsubscribed (its
    person asked to hear no more), and the follow of an address that already follows the
    survivor: each address follows the survivor once. That follow of the survivor stays as
    it is (unsubscribed stays unsubscribed), except that one never confirmed is confirmed
    when the address had confirmed its follow of the merged petition, as for co-signers.
    Sends nothing itself; flushes.
    """
    if into is None or petition.id is None or into.id is None:
        return 0
    target = f"petition:{into.id}"
    with db.session.no_autoflush:
        people = {normalize_email(petition.petitioner_email)}
        people |= {
            normalize_email(email)
            for email in db.session.scalars(
                select(CoSignature.email).where(
                    CoSignature.petition_id == petition.id, CoSignature.email.is_not(None)
                )
            )
        }
        following = {
            f.email: f for f in db.session.scalars(select(Follow).where(Follow.target == target))
        }
        follows = db.session.scalars(
            select(Follow)
            .where(Follow.petition_id == petition.id, Follow.unsubscribed_at.is_(None))
            .order_by(Follow.id)
        ).all()
    moved = 0
    for follow in follows:
        email = normalize_email(follow.email)
        if "@" not in email or email in people:
            continue
        there = following.get(follow.email)
        if there is not None:
            if follow.is_active and there.confirmed_at is None and there.unsubscribed_at is None:
                there.confirmed_at = utcnow()
            continue
        follow.petition = into
        follow.target = target
        following[follow.email] = follow
        moved += 1
    db.session.flush()
    return moved


def on_petition_merged(petition: Petition, event: PetitionEvent | None = None, **_extra) -> None:
    """Receiver of ``petition_event`` for a merge (data ``{"into": code}``): the merged
    petition's petitioner and co-signers follow the surviving petition and are told so.

    Their follows are confirmed at once: they already asked to hear about this problem.
    Their choices carry over: someone who unsubscribed from the surviving petition stays
    unsubscribed, a petitioner who stopped the merged petition's messages and a co-signer
    who unsubscribed from its follow are not subscribed again, and a co-signer who never
    confirmed their address (double opt-in) gets no mail here either. The merged
    petition's other followers were moved to the survivor before the merge was written
    (:func:`on_petition_merging`) and hear of it from the survivor's timeline.
    """
    if event is None or _suppressed.get() or event.to_status != Status.MERGED:
        return
    into_code = (event.data or {}).get("into")
    if not into_code or not current_app.config.get("NOTIFICATIONS_ENABLED", True):
        return
    with db.session.no_autoflush:
        into = db.session.scalar(select(Petition).where(Petition.code == into_code))
        if into is None or into.id is None:
            return
        locales, confirmed = {}, set()
        for follow in db.session.scalars(select(Follow).where(Follow.petition_id == petition.id)):
            locales[follow.email] = follow.locale
            if follow.confirmed_at is not None and follow.unsubscribed_at is None:
                confirmed.add(follow.email)
        emails = []
        petitioner = normalize_email(petition.petitioner_email)
        if petitioner and not opted_out(petitioner, f"petition:{petition.code}"):
            emails.append(petitioner)
        if petition.id is not None:
            emails += [
                email
                for email in (
                    normalize_email(e)
                    for e in db.session.scalars(
                        select(CoSignature.email)
                        .where(
                            CoSignature.petition_id == petition.id, CoSignature.email.is_not(None)
                        )
                        .order_by(CoSignature.id)
                    )
                )
                if email in confirmed
            ]
    seen: set[str] = set()
    for email in emails:
        if "@" not in email or email in seen:
            continue
        seen.add(email)
        target = f"petition:{into.id}"
        with db.session.no_autoflush:
            follow = db.session.scalar(
                select(Follow).where(Follow.email == email, Follow.target == target)
            )
        if follow is None:
            follow = Follow(
                email=email,
                target=target,
                petition=into,
                locale=_locale(locales.get(email)),
                confirmed_at=utcnow(),
            )
            db.session.add(follow)
            db.session.flush()  # the follow needs its id for the unsubscribe link
        elif follow.unsubscribed_at is not None:
            continue
        elif follow.confirmed_at is None:
            follow.confirmed_at = utcnow()
        key = f"{K.MERGED.value}:{petition.code}:{into.code}:{recipient_hash(email)}"
        if already_queued(key):
            continue
        queue(
            recipient=email,
            kind=K.MERGED,
            dedup_key=key,
            subject=_l(
                "[%(code)s] Kiến nghị đã được gộp vào %(into)s",
                code=petition.code,
                into=into.code,
            ),
            context={
                "petition": petition,
                "into": into,
                "public_url": external_url("petitions.public_page", code=into.code),
            },
            locale=follow.locale,
            topic=f"follow:{follow.id}",
            petition=into,
        )


def _petitioner_kind(event: PetitionEvent, public_change: bool) -> NotificationKind | None:
    if event.kind == EventKind.FILED:
        return K.RECEIVED
    if petitioner_wrote(event):
        return None  # what they did themselves
    if event.is_status_change and event.to_status == Status.RESOLVED:
        return K.RESOLVED
    return K.UPDATE if public_change else None


def _petitioner_subject(kind: NotificationKind, petition: Petition):
    if kind == K.RECEIVED:
        return _l("[%(code)s] Đã tiếp nhận kiến nghị của bạn", code=petition.code)
    if kind == K.RESOLVED:
        return _l("[%(code)s] Kiến nghị của bạn đã được giải quyết", code=petition.code)
    return _l(
        "[%(code)s] Kiến nghị của bạn: %(status)s",
        code=petition.code,
        status=STATUS_LABELS[petition.status],  # lazy: in the reader's language
    )


def _petitioner_locale(petition: Petition, event: PetitionEvent) -> str:
    """The language the petitioner filed in (on the web); Vietnamese otherwise."""
    if event.kind == EventKind.FILED:
        if event.actor is None and has_request_context():
            from portal import select_locale

            return select_locale()
        return "vi"
    if petition.id is None:
        return "vi"
    found = db.session.scalar(
        select(Notification.locale)
        .where(Notification.petition_id == petition.id, Notification.kind == K.RECEIVED)
        .limit(1)
    )
    return _locale(found)


def _newly_assigned_staff(petition: Petition, event: PetitionEvent) -> list[tuple[User, str]]:
    """Unit staff of units given the petition by this event, not of units that had it.

    The units before are those named by the previous assignment event; the units now are
    the petition's active assignments.
    """
    before: set[str] = set()
    for earlier in reversed(petition.events):
        if earlier is not event and "lead" in (earlier.data or {}):
            before = {earlier.data["lead"], *(earlier.data.get("support") or [])}
            break
    units: dict[int, str] = {}
    for assignment in petition.active_assignments:
        unit = assignment.unit
        if unit is not None and unit.name not in before:
            units.setdefault(unit.id, assignment.role.value)
    if not units:
        return []
    users = db.session.scalars(
        select(User)
        .where(
            User.role == Role.UNIT_STAFF,
            User.unit_id.in_(units),
            User.active.is_(True),
            User.email.is_not(None),
            _of_ward(petition.ward_id),
        )
        .order_by(User.id)
    )
    return [(user, units[user.unit_id]) for user in users if user.email]


def _ward_id_of(petition: Petition | None) -> int | None:
    """The ward of a message: its petition's (an object until the petition is flushed),
    else the deployment's (a digest, a follow confirmation)."""
    if petition is None:
        return current_ward_id()
    if petition.ward_id is not None:
        return petition.ward_id
    return petition.ward.id if petition.ward is not None else current_ward_id()


def _of_ward(ward_id: int | None):
    """Accounts of the ward (``None``: the deployment's), legacy accounts of no ward too.

    A unit of no ward (a company, a higher level) has staff accounts in many wards: each
    hears only of its own ward's petitions.
    """
    if ward_id is None:
        return of_this_ward(User.ward_id, legacy=True)
    return or_(User.ward_id == ward_id, User.ward_id.is_(None))


def staff_of_unit(unit_id: int | None, ward_id: int | None = None) -> list[User]:
    """Active unit staff of a unit, of the ward (default: this deployment's), who have an
    e-mail address."""
    if unit_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role == Role.UNIT_STAFF,
                User.unit_id == unit_id,
                User.active.is_(True),
                User.email.is_not(None),
                _of_ward(ward_id),
            )
            .order_by(User.id)
        )
    )


def staff_with_roles(*roles: Role, ward_id: int | None = None) -> list[User]:
    """Active accounts of these roles, of the ward (default: this deployment's), that have
    an e-mail address."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role.in_(roles),
                User.active.is_(True),
                User.email.is_not(None),
                _of_ward(ward_id),
            )
            .order_by(User.id)
        )
    )


def _staff_for_reopen(petition: Petition) -> list[User]:
    """Every ward staff account and the staff of the petition's current lead unit."""
    lead = petition.lead_assignment
    users = staff_with_roles(Role.WARD_STAFF, ward_id=petition.ward_id) + staff_of_unit(
        lead.unit_id if lead else None, petition.ward_id
    )
    return [user for user in users if user.email]


def _active_follows(condition) -> list[Follow]:
    return list(
        db.session.scalars(
            select(Follow)
            .where(condition, Follow.confirmed_at.is_not(None), Follow.unsubscribed_at.is_(None))
            .order_by(Follow.id)
        )
    )


# --- following --------------------------------------------------------------------------


def follow_target_name(follow: Follow):
    if follow.petition is not None:
        return _l("kiến nghị %(code)s", code=follow.petition.code)
    return follow.area.name if follow.area is not None else ""


def request_follow(
    email: str | None,
    *,
    petition: Petition | None = None,
    area: Area | None = None,
    locale: str | None = "vi",
) -> Follow:
    """Record the wish and mail a confirmation link (double opt-in).

    The answer is the same whether or not the address already follows, so that the form
    tells nobody who follows what. At most one confirmation per address, target and hour.
    """
    email = normalize_email(email)
    if "@" not in email:
        raise FollowError(_l("Địa chỉ thư điện tử không hợp lệ."), field="email")
    if petition is None and area is None:
        raise FollowError(_l("Hãy chọn kiến nghị hoặc tổ dân phố cần theo dõi."), field="area_id")
    target = f"petition:{petition.id}" if petition is not None else f"area:{area.id}"
    follow = db.session.scalar(select(Follow).where(Follow.email == email, Follow.target == target))
    if follow is None:
        follow = Follow(
            email=email,
            target=target,
            petition=petition,
            area=area if petition is None else None,
            locale=_locale(locale),
        )
        db.session.add(follow)
        db.session.flush()
    if follow.is_active:
        return follow
    follow.locale = _locale(locale)
    key = f"{K.FOLLOW_CONFIRM.value}:{follow.id}:{utcnow():%Y%m%d%H}"
    if not already_queued(key):
        queue(
            recipient=email,
            kind=K.FOLLOW_CONFIRM,
            dedup_key=key,
            subject=_l("Xác nhận theo dõi %(target)s", target=follow_target_name(follow)),
            context={
                "follow": follow,
                "target_name": follow_target_name(follow),
                "confirm_url": external_url("notifications.confirm", token=confirm_token(follow)),
                "valid_days": CONFIRM_MAX_AGE // (24 * 3600),
            },
            locale=follow.locale,
            topic=f"follow:{follow.id}",
            petition=petition,
        )
    db.session.flush()
    return follow


def _follow_here(follow: Follow | None) -> bool:
    """A follow of this ward's petition or residential group: another ward's links are
    not valid on this ward's portal."""
    if follow is None:
        return False
    ward_id = current_ward_id()
    if follow.petition is not None:
        return follow.petition.ward_id == ward_id
    return follow.area is not None and follow.area.ward_id == ward_id


def confirm_follow(token: str) -> Follow | None:
    """Confirm the follow a valid, unexpired token names; ``None`` for a bad token."""
    try:
        data = _timed_serializer().loads(token, max_age=CONFIRM_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    follow = db.session.get(Follow, data.get("f")) if isinstance(data.get("f"), int) else None
    if not _follow_here(follow) or follow.email != data.get("e"):
        return None
    if not follow.is_active:
        follow.confirmed_at = utcnow()
        follow.unsubscribed_at = None
    db.session.flush()
    return follow


def unsubscribe(token: str) -> tuple[str, str] | None:
    """Stop what the signed token names and cancel such messages still queued.

    Returns ``(topic, email)``, or ``None`` for a bad token. Idempotent.
    """
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    topic, email = data.get("t"), data.get("e")
    if not isinstance(topic, str) or not isinstance(email, str) or not topic or not email:
        return None
    now = utcnow()
    if topic.startswith("follow:"):
        follow = db.session.get(Follow, int(topic.split(":", 1)[1] or 0))
        if not _follow_here(follow) or follow.email != email:
            return None
        if follow.unsubscribed_at is None:
            follow.unsubscribed_at = now
    elif not opted_out(email, topic):
        db.session.add(MailOptOut(email=email, scope=topic))
    db.session.execute(
        update(Notification)
        .where(
            Notification.topic == topic,
            Notification.recipient == email,
            Notification.status == NotificationStatus.QUEUED,
        )
        .values(status=NotificationStatus.FAILED, last_error="unsubscribed")
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return topic, email


def unsubscribed_what(topic: str):
    """Words for the confirmation page."""
    if topic.startswith("follow:"):
        follow = db.session.get(Follow, int(topic.split(":", 1)[1]))
        return follow_target_name(follow) if follow else ""
    if topic.startswith("petition:"):
        return _l("kiến nghị %(code)s", code=topic.split(":", 1)[1])
    if topic == STAFF_DIGEST:
        return _l("thư tổng hợp hằng tuần")
    if topic == STAFF_REOPENED:
        return _l("thông báo kiến nghị bị mở lại do người kiến nghị chưa hài lòng")
    if topic == STAFF_DEADLINES:
        return _l("nhắc hạn kiến nghị của đơn vị")
    if topic == STAFF_ESCALATION:
        return _l("báo cáo kiến nghị quá hạn hằng ngày")
    return _l("thông báo giao việc cho đơn vị")


# --- evidence: "is the problem still there?" -------------------------------------------


def record_evidence(token: str) -> Evidence | None:
    """Record (or replace) a follower's answer; ``None`` for a bad token or a follower who
    never confirmed. One row per follower: a new answer updates it. Flushes."""
    try:
        data = _evidence_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") not in (0, 1):
        return None
    follow_id = data.get("f")
    follow = db.session.get(Follow, follow_id) if isinstance(follow_id, int) else None
    if (
        not _follow_here(follow)
        or follow.email != data.get("e")
        or follow.confirmed_at is None
        or follow.petition_id is None
    ):
        return None
    still_there = bool(data["s"])
    now = utcnow()
    evidence = db.session.scalar(select(Evidence).where(Evidence.follow_id == follow.id))
    if evidence is None:
        evidence = Evidence(
            petition_id=follow.petition_id,
            follow_id=follow.id,
            still_there=still_there,
            created_at=now,
            updated_at=now,
        )
        db.session.add(evidence)
    else:
        evidence.still_there = still_there
        evidence.updated_at = now
    db.session.flush()
    return evidence


def evidence_counts(petition: Petition) -> dict[str, int]:
    """How many followers say the problem is still there, and how many say it is gone."""
    counts = {"still": 0, "gone": 0}
    if petition is None or petition.id is None:
        return dict(counts, total=0)
    rows = db.session.execute(
        select(Evidence.still_there, func.count())
        .where(Evidence.petition_id == petition.id)
        .group_by(Evidence.still_there)
    )
    for still_there, n in rows:
        counts["still" if still_there else "gone"] += n
    return dict(counts, total=counts["still"] + counts["gone"])


# --- the queue, for admins --------------------------------------------------------------


def retry(notification: Notification) -> None:
    """Give a failed message a fresh start (after fixing the mail settings)."""
    notification.status = NotificationStatus.QUEUED
    notification.attempts = 0
    notification.last_error = None
    notification.next_attempt_at = utcnow()


def queue_counts() -> dict[NotificationStatus, int]:
    """This ward's messages by status (the outbox page of a ward shows its own)."""
    rows = db.session.execute(
        select(Notification.status, func.count())
        .where(of_this_ward(Notification.ward_id))
        .group_by(Notification.status)
    )
    return {NotificationStatus(status): n for status, n in rows}
