"""Personal data (Decree 13/2023/NĐ-CP, Personal Data Protection Law 2025).

- **The audit log.** :func:`record` appends one :class:`AuditEntry` each time staff see or
  export residents' personal data, a petitioner downloads their own copy, or data is erased,
  and (:func:`on_login_attempt`) for every login, refused login and lockout.
  Views call it; it flushes, the request commits. Entries hold codes, counts and a keyed hash
  of a searched address, never the personal data itself: the log is append-only and outlives
  the data it describes.
- **Retention.** :func:`anonymise_batch` erases the personal data of petitions that ended
  more than ``PERSONAL_DATA_RETENTION_DAYS`` ago: the petitioner's name, phone, e-mail and
  address, co-signers' contacts, followers' addresses and the addresses (and bodies) of
  messages sent or queued about them. The petition, its timeline and every count stay, so
  public pages, statistics and open data do not change.
- **On request.** :func:`find_person` gathers what the portal holds about one e-mail address
  or phone number; :func:`erase_person` erases it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import (
    String,
    and_,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.extensions import db
from portal.notifications.models import (
    Follow,
    MailOptOut,
    Notification,
    NotificationStatus,
)
from portal.petitions.models import CoSignature, EventKind, Petition, PetitionEvent, Status
from portal.privacy.models import AuditEntry
from portal.timeutil import LOCAL_TZ, to_local, utcnow


class Action(enum.StrEnum):
    VIEW = "view"  # staff saw personal data on a page
    EXPORT = "export"  # personal data left the portal in a file (or a petitioner's copy)
    ANONYMISE = "anonymise"  # erased at the end of the retention period
    ERASE = "erase"  # erased on a person's request
    CORRECT = "correct"  # the petitioner corrected their contact details
    LOGIN = "login"  # a staff member logged in
    LOGIN_REFUSED = "login_refused"  # a login was refused (see ``LOGIN_REASONS``)
    LOCKOUT = "lockout"  # wrong passwords in a row locked an account for a while

    @property
    def label(self) -> str:
        return str(ACTION_LABELS[self])


ACTION_LABELS = {
    Action.VIEW: _l("xem thông tin cá nhân"),
    Action.EXPORT: _l("xuất dữ liệu cá nhân"),
    Action.ANONYMISE: _l("xóa khi hết thời hạn lưu trữ"),
    Action.ERASE: _l("xóa theo yêu cầu"),
    Action.CORRECT: _l("sửa thông tin liên hệ"),
    Action.LOGIN: _l("đăng nhập"),
    Action.LOGIN_REFUSED: _l("đăng nhập bị từ chối"),
    Action.LOCKOUT: _l("tài khoản bị tạm khóa"),
}

# The filter "Loại sự kiện" of the log page: logins, or everything else.
LOGIN_ACTIONS = (Action.LOGIN, Action.LOGIN_REFUSED, Action.LOCKOUT)
GROUPS = {
    "dang-nhap": _l("Đăng nhập (thành công, bị từ chối, tạm khóa)"),
    "du-lieu": _l("Dữ liệu cá nhân (xem, xuất, xóa, sửa)"),
}

LOGIN_REASONS = {
    "password": _l("sai mật khẩu"),
    "unknown": _l("tài khoản không tồn tại"),
    "locked": _l("tài khoản đang tạm khóa"),
    "inactive": _l("tài khoản đã bị vô hiệu hóa"),
    "other-ward": _l("tài khoản của phường/xã khác"),
}

SUBJECT_LABELS = {
    "petition": _l("kiến nghị"),
    "report": _l("báo cáo kèm thông tin người kiến nghị"),
    "outbox": _l("thư đi (địa chỉ người nhận)"),
    "audit_log": _l("nhật ký dữ liệu cá nhân"),
    "person": _l("dữ liệu của một người"),
    "login": _l("đăng nhập vào cổng kiến nghị"),
}

ACTOR_KINDS = {
    "staff": _l("cán bộ"),
    "petitioner": _l("người kiến nghị (đường dẫn riêng)"),
    "system": _l("hệ thống"),
    "visitor": _l("người chưa đăng nhập"),
}

# A petition has ended when it reached one of these and stayed there; retention counts from
# the last move into it. Resolved petitions are still waiting for the petitioner's rating.
ENDED_STATUSES = (Status.CLOSED, Status.CANNOT_RESOLVE, Status.REJECTED, Status.MERGED)
ERASED = "anonymised"  # last_error of a queued message cancelled by erasure
BATCH = 500


# --- the audit log ----------------------------------------------------------------------


def record(
    action: Action | str,
    subject_type: str,
    subject_id: int | None = None,
    *,
    data: dict | None = None,
    actor: User | None = None,
    actor_kind: str | None = None,
) -> AuditEntry:
    """Append one entry: who (the logged-in staff member unless told), when, what, from where.

    ``actor_kind`` is "staff", "petitioner" (through the private link) or "system" (a
    command). Flushes; the caller commits.
    """
    if (
        actor is None
        and actor_kind in (None, "staff")
        and has_request_context()
        and current_user
        and current_user.is_authenticated
    ):
        actor = current_user._get_current_object()
    kind = actor_kind or ("staff" if actor is not None else "system")
    entry = AuditEntry(
        created_at=utcnow(),
        actor=actor if kind == "staff" else None,
        actor_kind=kind,
        action=str(Action(action)),
        subject_type=subject_type,
        subject_id=subject_id,
        ip_address=(request.remote_addr or None) if has_request_context() else None,
        data=data or {},
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def on_login_attempt(
    _sender,
    *,
    account: User | None = None,
    outcome: str = "refused",
    reason: str | None = None,
    failures: int = 0,
    **_extra,
) -> AuditEntry:
    """Receiver of ``signals.login_attempt``: one entry per login tried on the form.

    The subject is the login page of this deployment's ward (``subject_id`` the ward's
    id), so that each ward's admins see what was tried at their portal. The account is
    named only when it exists, by its own address: never what was typed into the form,
    which may be a password typed into the wrong box, and never the password. A refused
    attempt has no actor: whoever typed it has proved nothing.
    """
    from portal.units.services import current_ward_id

    data: dict = {}
    if account is not None:
        data["account"] = account.email
        data["account_id"] = account.id
    if reason:
        data["reason"] = reason
    if failures:
        data["failures"] = failures
    if outcome == "lockout":
        data["minutes"] = current_app.config["LOGIN_LOCKOUT_MINUTES"]
    if outcome == "login":
        return record(Action.LOGIN, "login", current_ward_id(), actor=account, data=data)
    action = Action.LOCKOUT if outcome == "lockout" else Action.LOGIN_REFUSED
    return record(action, "login", current_ward_id(), actor_kind="visitor", data=data)


def holds_personal_data(petition: Petition) -> bool:
    """Whether the staff page of this petition shows anyone's contact details."""
    contact = (
        petition.petitioner_name,
        petition.petitioner_phone,
        petition.petitioner_email,
        petition.petitioner_address,
    )
    return any(contact) or any(c.name or c.phone or c.email for c in petition.co_signatures)


def record_petition_view(petition: Petition) -> AuditEntry | None:
    """Staff were shown the petition's personal data (nothing is logged when it has none)."""
    if not holds_personal_data(petition):
        return None
    return record(
        Action.VIEW,
        "petition",
        petition.id,
        data={"code": petition.code, "co_signers": len(petition.co_signatures)},
    )


def fingerprint(value: str) -> str:
    """A keyed hash of an e-mail address or phone number, for the log: the same value gives
    the same hash, and without the secret key nobody can tell which value it was."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


@dataclass
class AuditFilter:
    actor_id: int | None = None
    actor_kind: str | None = None  # "system" or "petitioner"
    action: str | None = None
    group: str | None = None  # a key of ``GROUPS``
    start: date | None = None  # local dates, both inclusive
    end: date | None = None
    petition_id: int | None = None

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}


def _utc_midnight(day: date) -> datetime:
    local = datetime.combine(day, time.min, tzinfo=LOCAL_TZ)
    return local.astimezone(UTC).replace(tzinfo=None)


def audit_query(criteria: AuditFilter, ward_id: int | None = None):
    """Entries matching ``criteria``, newest first. With ``ward_id`` (one database holding a
    city): what this ward's staff did, and what anyone did to this ward's petitions."""
    query = select(AuditEntry)
    if ward_id is not None:
        staff_here = select(User.id).where(or_(User.ward_id == ward_id, User.ward_id.is_(None)))
        petitions_here = select(Petition.id).where(Petition.ward_id == ward_id)
        query = query.where(
            or_(
                AuditEntry.actor_id.in_(staff_here),
                and_(
                    AuditEntry.subject_type == "petition",
                    AuditEntry.subject_id.in_(petitions_here),
                ),
                # Logins tried at this ward's portal, whoever tried them.
                and_(AuditEntry.subject_type == "login", AuditEntry.subject_id == ward_id),
            )
        )
    if criteria.actor_id is not None:
        query = query.where(AuditEntry.actor_id == criteria.actor_id)
    if criteria.actor_kind is not None:
        query = query.where(AuditEntry.actor_kind == criteria.actor_kind)
    if criteria.action is not None:
        query = query.where(AuditEntry.action == criteria.action)
    if criteria.group == "dang-nhap":
        query = query.where(AuditEntry.action.in_([str(a) for a in LOGIN_ACTIONS]))
    elif criteria.group == "du-lieu":
        query = query.where(AuditEntry.action.not_in([str(a) for a in LOGIN_ACTIONS]))
    if criteria.start is not None:
        query = query.where(AuditEntry.created_at >= _utc_midnight(criteria.start))
    if criteria.end is not None:
        query = query.where(AuditEntry.created_at < _utc_midnight(criteria.end + timedelta(1)))
    if criteria.petition_id is not None:
        query = query.where(
            AuditEntry.subject_type == "petition", AuditEntry.subject_id == criteria.petition_id
        )
    return query.options(selectinload(AuditEntry.actor)).order_by(
        AuditEntry.created_at.desc(), AuditEntry.id.desc()
    )


def describe(entry: AuditEntry) -> dict:
    """An entry in words, for the admin page and the CSV."""
    data = dict(entry.data or {})
    if entry.actor is not None:
        who, account = entry.actor.full_name, entry.actor.email
    else:
        who, account = str(ACTOR_KINDS.get(entry.actor_kind, entry.actor_kind)), ""
    if entry.subject_type == "login":
        # The account a login named, by its own address; none when it does not exist.
        account = data.get("account") or account or str(LOGIN_REASONS["unknown"])
        if data.get("reason"):
            data["reason"] = str(LOGIN_REASONS.get(data["reason"], data["reason"]))
    action = Action(entry.action).label if entry.action in set(Action) else entry.action
    details = "; ".join(
        f"{DETAIL_LABELS.get(key, key)}: {_detail(value)}"
        for key, value in sorted(data.items())
        if key not in ("code", "account", "account_id") and value not in (None, "", [], {})
    )
    return {
        "at": entry.created_at,
        "who": who,
        "account": account,
        "kind": str(ACTOR_KINDS.get(entry.actor_kind, entry.actor_kind)),
        "action": action,
        "subject": str(SUBJECT_LABELS.get(entry.subject_type, entry.subject_type)),
        "code": data.get("code") or "",
        "ip": entry.ip_address or "",
        "details": details,
    }


DETAIL_LABELS = {
    "co_signers": _l("số người cùng kiến nghị"),
    "rows": _l("số dòng"),
    "format": _l("định dạng"),
    "scope": _l("phạm vi"),
    "count": _l("số thư"),
    "page": _l("trang"),
    "status": _l("trạng thái"),
    "filters": _l("bộ lọc"),
    "retention_days": _l("thời hạn lưu trữ (ngày)"),
    "found": _l("tìm thấy"),
    "erased": _l("đã xóa"),
    "hash": _l("mã băm của địa chỉ/số điện thoại"),
    "codes": _l("kiến nghị"),
    "email_verified": _l("đã xác nhận thư điện tử"),
    "fields": _l("thông tin"),
    "name": _l("họ và tên"),
    "phone": _l("số điện thoại"),
    "email": _l("thư điện tử"),
    "address": _l("địa chỉ"),
    "show_name_publicly": _l("hiển thị tên công khai"),
    "petitions": _l("kiến nghị"),
    "co_signatures": _l("lần cùng kiến nghị"),
    "follows": _l("lượt theo dõi"),
    "notifications": _l("thư"),
    "opt_outs": _l("yêu cầu ngừng nhận thư"),
    "petitioners": _l("người kiến nghị"),
    "cancelled": _l("thư đang chờ bị hủy"),
    "reason": _l("lý do"),
    "failures": _l("số lần sai liên tiếp"),
    "minutes": _l("khóa trong (phút)"),
}


def _detail(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{DETAIL_LABELS.get(k, k)} {_detail(v)}" for k, v in value.items() if v)
    if isinstance(value, list | tuple):
        return ", ".join(str(DETAIL_LABELS.get(v, v)) for v in value)
    if isinstance(value, bool):
        return str(_l("có") if value else _l("không"))
    return str(value)


CSV_FIELDS = [
    ("at", "Thời điểm (giờ Việt Nam)"),
    ("who", "Người thực hiện"),
    ("account", "Tài khoản"),
    ("kind", "Loại"),
    ("action", "Hành động"),
    ("subject", "Đối tượng"),
    ("code", "Mã kiến nghị"),
    ("ip", "Địa chỉ IP"),
    ("details", "Chi tiết"),
]


def audit_csv(query) -> Iterator[str]:
    """The entries as CSV lines (with a BOM for spreadsheet programs), streamed."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([label for _name, label in CSV_FIELDS])
    yield "\ufeff" + flush()
    for entry in db.session.scalars(query.execution_options(yield_per=500)):
        row = describe(entry)
        row["at"] = to_local(row["at"]).strftime("%d/%m/%Y %H:%M:%S")
        writer.writerow([row[name] for name, _label in CSV_FIELDS])
        yield flush()


# --- erasure ----------------------------------------------------------------------------


@dataclass
class Erasure:
    """What an erasure touched (or, in a dry run, would touch)."""

    petitions: int = 0  # petitions marked anonymised
    petitioners: int = 0  # of them, those that still held the petitioner's contact details
    co_signers: int = 0  # co-signatures whose contacts were erased
    follows: int = 0  # followers' addresses erased (and their follows ended)
    notifications: int = 0  # messages whose address and body were erased
    cancelled: int = 0  # of them, still queued: they will not be sent
    opt_outs: int = 0  # "no more e-mail" wishes tied to the address, no longer needed
    codes: list[str] = field(default_factory=list)

    def add(self, other: Erasure) -> None:
        for name in (
            "petitions",
            "petitioners",
            "co_signers",
            "follows",
            "notifications",
            "cancelled",
            "opt_outs",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.codes.extend(other.codes)

    def counts(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "codes"}


def retention_days() -> int:
    days = int(current_app.config.get("PERSONAL_DATA_RETENTION_DAYS") or 730)
    if days < 1:
        raise ValueError("PERSONAL_DATA_RETENTION_DAYS must be at least 1")
    return days


def ended_at():
    """When the petition ended: its last move into its current status (SQL expression)."""
    last_move = (
        select(func.max(PetitionEvent.created_at))
        .where(
            PetitionEvent.petition_id == Petition.id,
            PetitionEvent.kind == EventKind.STATUS,
            PetitionEvent.to_status == Petition.status,
        )
        .correlate(Petition)
        .scalar_subquery()
    )
    return func.coalesce(last_move, Petition.closed_at, Petition.updated_at)


def expired(now: datetime, days: int, ward_id: int | None = None):
    """Ids of petitions that ended before ``now - days`` and still hold data to erase
    (of one ward, or of every ward when ``ward_id`` is None).

    A petition anonymised, reopened and ended again is due again (co-signers may have
    joined in between); one anonymised since it ended is not: running twice is harmless.
    """
    end = ended_at()
    query = select(Petition.id).where(
        Petition.status.in_(ENDED_STATUSES),
        end < now - timedelta(days=days),
        or_(Petition.anonymised_at.is_(None), Petition.anonymised_at < end),
    )
    if ward_id is not None:
        query = query.where(Petition.ward_id == ward_id)
    return query.order_by(Petition.id)


def _staff_addresses():
    return select(func.lower(User.email))


def _petitioner_holds_data():
    return or_(
        Petition.petitioner_name.is_not(None),
        Petition.petitioner_phone.is_not(None),
        Petition.petitioner_email.is_not(None),
        Petition.petitioner_address.is_not(None),
    )


def _co_signer_holds_data():
    return or_(
        CoSignature.name.is_not(None),
        CoSignature.phone.is_not(None),
        CoSignature.email.is_not(None),
    )


def _real_address(column):
    return column.contains("@")


def _messages_about(ids) -> object:
    """Messages about these petitions to residents (not to staff) still holding an address."""
    return and_(
        Notification.petition_id.in_(ids),
        Notification.recipient != "",
        Notification.recipient.not_in(_staff_addresses()),
    )


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def preview_expired(now: datetime, days: int, ward_id: int | None = None) -> Erasure:
    """What :func:`anonymise_batch` would erase, counted without changing anything."""
    ids = expired(now, days, ward_id).order_by(None)
    codes = list(db.session.scalars(select(Petition.code).where(Petition.id.in_(ids))))
    scopes = [f"petition:{code}" for code in codes]
    return Erasure(
        petitions=len(codes),
        petitioners=_count(Petition, Petition.id.in_(ids), _petitioner_holds_data()),
        co_signers=_count(CoSignature, CoSignature.petition_id.in_(ids), _co_signer_holds_data()),
        follows=_count(Follow, Follow.petition_id.in_(ids), _real_address(Follow.email)),
        notifications=_count(Notification, _messages_about(ids)),
        cancelled=_count(
            Notification, _messages_about(ids), Notification.status == NotificationStatus.QUEUED
        ),
        opt_outs=_count(MailOptOut, MailOptOut.scope.in_(scopes)) if scopes else 0,
        codes=codes,
    )


def _erase_follows(condition, now: datetime) -> int:
    placeholder = literal("da-xoa-", String) + cast(Follow.id, String)
    result = db.session.execute(
        update(Follow)
        .where(condition, _real_address(Follow.email))
        .values(email=placeholder, unsubscribed_at=func.coalesce(Follow.unsubscribed_at, now))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _erase_messages(condition) -> tuple[int, int]:
    """Cancel queued messages and erase addresses, bodies and recipient hashes."""
    cancelled = db.session.execute(
        update(Notification)
        .where(condition, Notification.status == NotificationStatus.QUEUED)
        .values(status=NotificationStatus.FAILED, last_error=ERASED)
        .execution_options(synchronize_session=False)
    ).rowcount
    erased = db.session.execute(
        update(Notification)
        .where(condition)
        .values(
            recipient="",
            body_text="",
            body_html="",
            unsubscribe_url=None,
            # The key holds a hash of the address; it only stopped duplicates.
            dedup_key=literal("da-xoa:", String) + cast(Notification.id, String),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return erased or 0, cancelled or 0


def _erase_petitioners(ids, *, mark: datetime | None) -> int:
    """Erase the petitioner's contact details, leaving ``updated_at`` and the version alone:
    nothing the public sees changes (a name shown with consent is erased too)."""
    table = Petition.__table__
    values = {
        "petitioner_name": None,
        "petitioner_phone": None,
        "petitioner_email": None,
        "petitioner_address": None,
        "show_name_publicly": False,
        "updated_at": table.c.updated_at,
    }
    holding = _count(Petition, Petition.id.in_(ids), _petitioner_holds_data())
    if mark is not None:
        values["anonymised_at"] = mark
    db.session.execute(table.update().where(table.c.id.in_(ids)).values(**values))
    return holding


def anonymise_batch(
    now: datetime, days: int, ward_id: int | None = None, limit: int = BATCH
) -> Erasure:
    """Erase the personal data of up to ``limit`` expired petitions; one audit entry each.

    Flushes; the caller commits and calls again until nothing is left.
    """
    ids = list(db.session.scalars(expired(now, days, ward_id).limit(limit)))
    if not ids:
        return Erasure()
    rows = db.session.execute(select(Petition.id, Petition.code).where(Petition.id.in_(ids)))
    codes = dict(rows.all())
    db.session.flush()
    result = Erasure(petitions=len(ids), codes=[codes[i] for i in ids])
    result.petitioners = _erase_petitioners(ids, mark=now)
    result.co_signers = (
        db.session.execute(
            update(CoSignature)
            .where(CoSignature.petition_id.in_(ids), _co_signer_holds_data())
            .values(name=None, phone=None, email=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )
    result.follows = _erase_follows(Follow.petition_id.in_(ids), now)
    result.notifications, result.cancelled = _erase_messages(_messages_about(ids))
    scopes = [f"petition:{code}" for code in result.codes]
    result.opt_outs = (
        db.session.execute(
            delete(MailOptOut)
            .where(MailOptOut.scope.in_(scopes))
            .execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )
    for petition_id in ids:
        record(
            Action.ANONYMISE,
            "petition",
            petition_id,
            actor_kind="system",
            data={"code": codes[petition_id], "retention_days": days},
        )
    db.session.expire_all()
    return result


# --- one person, on request -------------------------------------------------------------


@dataclass
class PersonQuery:
    """An e-mail address and/or a phone number, already normalised; ``ward_id`` keeps the
    search to one ward's petitions, areas and messages when one database holds a city."""

    email: str | None = None
    phone: str | None = None
    ward_id: int | None = None

    @property
    def fingerprints(self) -> dict:
        found = {}
        if self.email:
            found["email"] = fingerprint(self.email)
        if self.phone:
            found["phone"] = fingerprint(self.phone)
        return found

    def _ward_petitions(self):
        return select(Petition.id).where(Petition.ward_id == self.ward_id)

    def petitions(self):
        parts = []
        if self.email:
            parts.append(Petition.petitioner_email == self.email)
        if self.phone:
            parts.append(Petition.petitioner_phone == self.phone)
        condition = or_(*parts)
        if self.ward_id is not None:
            condition = and_(condition, Petition.ward_id == self.ward_id)
        return condition

    def co_signatures(self):
        parts = []
        if self.email:
            parts.append(CoSignature.email == self.email)
        if self.phone:
            parts.append(CoSignature.phone == self.phone)
        condition = or_(*parts)
        if self.ward_id is not None:
            condition = and_(condition, CoSignature.petition_id.in_(self._ward_petitions()))
        return condition

    def follows(self):
        """Follows are by address only."""
        condition = Follow.email == self.email
        if self.ward_id is not None:
            from portal.units.models import Area

            condition = and_(
                condition,
                or_(
                    Follow.petition_id.in_(self._ward_petitions()),
                    Follow.area_id.in_(select(Area.id).where(Area.ward_id == self.ward_id)),
                ),
            )
        return condition

    def notifications(self):
        condition = Notification.recipient == self.email
        if self.ward_id is not None:
            condition = and_(
                condition,
                or_(
                    Notification.petition_id.in_(self._ward_petitions()),
                    Notification.petition_id.is_(None),
                ),
            )
        return condition

    def opt_outs(self):
        condition = MailOptOut.email == self.email
        if self.ward_id is not None:
            scopes = select(literal("petition:", String) + Petition.code).where(
                Petition.ward_id == self.ward_id
            )
            condition = and_(
                condition,
                or_(MailOptOut.scope.in_(scopes), MailOptOut.scope.not_like("petition:%")),
            )
        return condition


@dataclass
class PersonData:
    query: PersonQuery
    petitions: list[Petition]
    co_signatures: list[CoSignature]
    follows: list[Follow]
    notifications: list[Notification]
    opt_outs: list[MailOptOut]

    def counts(self) -> dict:
        return {
            "petitions": len(self.petitions),
            "co_signatures": len(self.co_signatures),
            "follows": len(self.follows),
            "notifications": len(self.notifications),
            "opt_outs": len(self.opt_outs),
        }

    @property
    def empty(self) -> bool:
        return not any(self.counts().values())


def find_person(query: PersonQuery) -> PersonData:
    """Everything the portal holds under this e-mail address or phone number."""
    petitions = list(
        db.session.scalars(select(Petition).where(query.petitions()).order_by(Petition.created_at))
    )
    co_signatures = list(
        db.session.scalars(
            select(CoSignature)
            .where(query.co_signatures())
            .options(selectinload(CoSignature.petition))
            .order_by(CoSignature.created_at)
        )
    )
    follows = notifications = opt_outs = []
    if query.email:
        follows = list(
            db.session.scalars(select(Follow).where(query.follows()).order_by(Follow.id))
        )
        notifications = list(
            db.session.scalars(
                select(Notification)
                .where(query.notifications())
                .order_by(Notification.created_at, Notification.id)
            )
        )
        opt_outs = list(
            db.session.scalars(select(MailOptOut).where(query.opt_outs()).order_by(MailOptOut.id))
        )
    return PersonData(query, petitions, co_signatures, follows, notifications, opt_outs)


def erase_person(query: PersonQuery, now: datetime | None = None) -> Erasure:
    """Erase what :func:`find_person` finds (the person asked). Flushes; logged by the caller.

    Only this person's data: other co-signers of their petitions keep theirs.
    """
    now = now or utcnow()
    rows = db.session.execute(
        select(Petition.id, Petition.code, Petition.petitioner_email).where(query.petitions())
    ).all()
    ids = [row.id for row in rows]
    result = Erasure(codes=[row.code for row in rows])
    # Messages to the petitioner about their petitions, whatever address the query named.
    addresses = {row.petitioner_email for row in rows if row.petitioner_email}
    if ids:
        result.petitioners = _erase_petitioners(ids, mark=None)
    if addresses:
        erased, cancelled = _erase_messages(
            and_(Notification.petition_id.in_(ids), Notification.recipient.in_(addresses))
        )
        result.notifications += erased
        result.cancelled += cancelled
    result.co_signers = (
        db.session.execute(
            update(CoSignature)
            .where(query.co_signatures(), _co_signer_holds_data())
            .values(name=None, phone=None, email=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )
    if query.email:
        result.follows = _erase_follows(query.follows(), now)
        erased, cancelled = _erase_messages(query.notifications())
        result.notifications += erased
        result.cancelled += cancelled
        result.opt_outs = (
            db.session.execute(
                delete(MailOptOut)
                .where(query.opt_outs())
                .execution_options(synchronize_session=False)
            ).rowcount
            or 0
        )
    db.session.expire_all()
    return result


# --- the petitioner corrects their contact details --------------------------------------

CONTACT_FIELDS = ("name", "phone", "email", "address", "show_name_publicly")


def correct_contact(petition: Petition, **values) -> list[str]:
    """Replace the petitioner's contact details (through the private link).

    Not a timeline event: the timeline is public and append-only, and must never hold
    personal data. Leaves ``updated_at`` and the version alone. Returns what changed.
    """
    from portal.text import normalize

    new = {
        "name": normalize(values.get("name")) or None,
        "phone": values.get("phone") or None,
        "email": (values.get("email") or "").strip().lower() or None,
        "address": normalize(values.get("address")) or None,
    }
    new["show_name_publicly"] = bool(values.get("show_name_publicly")) and bool(new["name"])
    old = {
        "name": petition.petitioner_name,
        "phone": petition.petitioner_phone,
        "email": petition.petitioner_email,
        "address": petition.petitioner_address,
        "show_name_publicly": petition.show_name_publicly,
    }
    changed = [name for name in CONTACT_FIELDS if new[name] != old[name]]
    if not changed:
        return []
    table = Petition.__table__
    db.session.execute(
        table.update()
        .where(table.c.id == petition.id)
        .values(
            petitioner_name=new["name"],
            petitioner_phone=new["phone"],
            petitioner_email=new["email"],
            petitioner_address=new["address"],
            show_name_publicly=new["show_name_publicly"],
            updated_at=table.c.updated_at,
        )
    )
    record(
        Action.CORRECT,
        "petition",
        petition.id,
        actor_kind="petitioner",
        data={"code": petition.code, "fields": changed},
    )
    db.session.expire(petition)
    return changed
