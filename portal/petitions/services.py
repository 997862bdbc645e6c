"""The rules of a petition's life. Views, CLI commands and the API call these.

Every change of status goes through :func:`change_status`, which checks the move
against :data:`TRANSITIONS`, bumps the petition's version and appends one immutable
:class:`PetitionEvent`. Services flush; the request (or CLI command) commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal import calendar as work_calendar
from portal import geo, signals
from portal.accounts.models import Role, User
from portal.database import read_scalar
from portal.extensions import db
from portal.forms import normalize_phone
from portal.petitions.models import (
    Assignment,
    AssignmentRole,
    Category,
    Channel,
    CodeCounter,
    CoSignature,
    EventKind,
    Outcome,
    Petition,
    PetitionEvent,
    Photo,
    Status,
)
from portal.text import fold, normalize, search_terms
from portal.timeutil import local_today, utcnow
from portal.units.models import Area, Unit, Ward
from portal.units.services import current_ward_id

S = Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.RECEIVED: frozenset({S.REVIEWING, S.ASSIGNED, S.REJECTED, S.MERGED}),
    S.REVIEWING: frozenset({S.ASSIGNED, S.FORWARDED, S.REJECTED, S.MERGED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANNOT_RESOLVE, S.FORWARDED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.CANNOT_RESOLVE, S.FORWARDED}),
    S.FORWARDED: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANNOT_RESOLVE, S.CLOSED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CANNOT_RESOLVE: frozenset({S.CLOSED, S.REVIEWING}),
    S.REJECTED: frozenset({S.REVIEWING}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
    S.MERGED: frozenset(),
}

# Where "reopen" leads from each status it applies to.
REOPEN_TO = {
    S.RESOLVED: S.IN_PROGRESS,
    S.CANNOT_RESOLVE: S.REVIEWING,
    S.REJECTED: S.REVIEWING,
    S.CLOSED: S.IN_PROGRESS,
}

# Actions and the statuses in which they are offered.
ACTION_STATUSES: dict[str, frozenset[Status]] = {
    "review": frozenset({S.RECEIVED}),
    "edit": frozenset(set(Status) - {S.MERGED}),
    "assign": frozenset({S.RECEIVED, S.REVIEWING, S.ASSIGNED, S.IN_PROGRESS, S.FORWARDED}),
    "update": frozenset({S.ASSIGNED, S.IN_PROGRESS, S.FORWARDED}),
    "resolve": frozenset({S.ASSIGNED, S.IN_PROGRESS, S.FORWARDED}),
    "cannot": frozenset({S.ASSIGNED, S.IN_PROGRESS, S.FORWARDED}),
    "forward": frozenset({S.REVIEWING, S.ASSIGNED, S.IN_PROGRESS}),
    "forward_reply": frozenset({S.FORWARDED}),
    "reject": frozenset({S.RECEIVED, S.REVIEWING}),
    "merge": frozenset({S.RECEIVED, S.REVIEWING}),
    "close": frozenset({S.RESOLVED, S.CANNOT_RESOLVE, S.FORWARDED}),
    "reopen": frozenset(REOPEN_TO),
    "photo": frozenset(set(Status)),
}
UNIT_ACTIONS = frozenset({"update", "resolve", "cannot"})


class PetitionError(Exception):
    """A rule was broken; ``message`` is shown to the user, ``field`` names the input."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class TransitionError(PetitionError):
    pass


class ConflictError(PetitionError):
    """Someone else changed the petition since the form was loaded."""

    def __init__(self, petition: Petition, seen_version: int):
        super().__init__(
            _l(
                "Kiến nghị này vừa được người khác cập nhật. Thao tác của bạn chưa được "
                "lưu: hãy xem các thay đổi bên dưới rồi thực hiện lại."
            )
        )
        self.petition = petition
        self.seen_version = seen_version
        self.changes = [e for e in petition.events if e.petition_version > seen_version]


class NotAllowed(PetitionError):
    pass


# --- codes and tokens -------------------------------------------------------------------


def next_code(prefix: str, year: int) -> str:
    """The next public code for the year, e.g. ``KN-2026-00042``.

    Safe under concurrent inserts: the counter row is created if missing and then
    incremented with ``UPDATE … RETURNING``, which PostgreSQL serialises on the row lock
    and SQLite on its write lock.
    """
    key = f"{prefix}-{year}"
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(CodeCounter).values(key=key, value=0).on_conflict_do_nothing(index_elements=["key"])
    )
    value = db.session.execute(
        update(CodeCounter)
        .where(CodeCounter.key == key)
        .values(value=CodeCounter.value + 1)
        .returning(CodeCounter.value)
    ).scalar_one()
    return f"{key}-{value:05d}"


def _digits(text: str) -> bool:
    """0–9 only: ``str.isdigit`` also takes "²", which ``int`` refuses."""
    return text.isascii() and text.isdecimal()


def normalize_code(text: str | None) -> str:
    """Tolerate case, spaces and missing dashes: " kn 2026 42 " -> "KN-2026-00042"."""
    raw = "".join((text or "").split()).upper().replace("_", "-")
    parts = [p for p in raw.replace("-", " ").split() if p]
    if len(parts) == 1 and parts[0][:2].isalpha():
        token = parts[0]
        prefix = "".join(c for c in token if c.isalpha())
        digits = token[len(prefix) :]
        if len(digits) > 4 and _digits(digits):
            parts = [prefix, digits[:4], digits[4:]]
    if len(parts) == 3 and _digits(parts[1]) and _digits(parts[2]):
        return f"{parts[0]}-{parts[1]}-{int(parts[2]):05d}"
    return raw


def in_current_ward(query: Select) -> Select:
    """Only the petitions of the ward this deployment serves (``PORTAL_WARD_CODE``).

    One database may hold every ward of a city: another ward's petitions never show,
    and the ward-first indexes serve the query. No ward set up: no petitions.
    """
    return query.where(Petition.ward_id == current_ward_id())


def get_by_code(code: str) -> Petition | None:
    """This ward's petition with the code; another ward's is not found (a 404)."""
    return db.session.scalar(
        in_current_ward(select(Petition)).where(Petition.code == normalize_code(code))
    )


def find_code(code: str) -> str | None:
    """The code of this ward's petition with the code as typed, or None.

    Lookup only needs to know that it exists: no row is loaded, and the one statement
    runs outside a transaction (a code, once given, never changes or goes away).
    """
    return read_scalar(_FIND_CODE, {"ward_id": current_ward_id(), "code": normalize_code(code)})


# Built once: a lookup only binds its two values (no statement to build per request).
_FIND_CODE = select(Petition.code).where(
    Petition.ward_id == bindparam("ward_id"), Petition.code == bindparam("code")
)


def of_this_ward(petition: Petition) -> bool:
    """Whether a petition found by other means (a photo's, a follow's) is this ward's."""
    return petition is not None and petition.ward_id == current_ward_id()


def get_by_token(token: str) -> Petition | None:
    """This ward's petition whose private link this is (another ward's: not found)."""
    if not token or len(token) > 64:
        return None
    petition = db.session.scalar(
        in_current_ward(select(Petition)).where(Petition.private_token == token)
    )
    # Compare in constant time as well, so a near miss tells nothing.
    if petition and secrets.compare_digest(petition.private_token, token):
        return petition
    return None


def refresh_search_key(petition: Petition) -> None:
    parts = [
        petition.code,
        petition.title,
        petition.description,
        petition.address_text,
        petition.area.name if petition.area else None,
    ]
    petition.search_key = fold(" ".join(p for p in parts if p))


# --- events -----------------------------------------------------------------------------


def _append_event(
    petition: Petition,
    kind: EventKind,
    *,
    actor: User | None,
    actor_kind: str = "staff",
    from_status: Status | None = None,
    to_status: Status | None = None,
    public_note: str | None = None,
    internal_note: str | None = None,
    data: dict | None = None,
) -> PetitionEvent:
    petition.version = (petition.version or 0) + 1
    petition.updated_at = utcnow()
    event = PetitionEvent(
        petition=petition,
        # Set now, not at flush: a later flush must not re-date the timeline.
        created_at=petition.updated_at,
        kind=kind,
        actor=actor,
        actor_kind=actor_kind if actor is None else "staff",
        from_status=from_status,
        to_status=to_status if to_status is not None else petition.status,
        public_note=normalize(public_note) or None,
        internal_note=(internal_note or "").strip() or None,
        petition_version=petition.version,
        data=data or {},
    )
    db.session.add(event)
    signals.petition_event.send(petition, event=event)
    return event


def _check_version(petition: Petition, seen_version: int | None) -> None:
    if seen_version is not None and seen_version != petition.version:
        raise ConflictError(petition, seen_version)


def change_status(
    petition: Petition,
    to_status: Status,
    *,
    actor: User | None,
    public_note: str | None = None,
    internal_note: str | None = None,
    seen_version: int | None = None,
    data: dict | None = None,
    actor_kind: str = "staff",
) -> PetitionEvent:
    """The one way a petition's status changes: check the move, append the event."""
    _check_version(petition, seen_version)
    from_status = petition.status
    if to_status not in TRANSITIONS[from_status]:
        raise TransitionError(
            _l(
                "Không thể chuyển kiến nghị từ trạng thái “%(from)s” sang “%(to)s”.",
                **{"from": from_status.label, "to": to_status.label},
            )
        )
    petition.status = to_status
    now = utcnow()
    if to_status == S.RESOLVED:
        petition.resolved_at = now
    if to_status == S.CLOSED:
        petition.closed_at = now
    if to_status in (S.IN_PROGRESS, S.REVIEWING) and from_status in REOPEN_TO:
        petition.outcome = None
        petition.closed_at = None
    return _append_event(
        petition,
        EventKind.STATUS,
        actor=actor,
        actor_kind=actor_kind,
        from_status=from_status,
        to_status=to_status,
        public_note=public_note,
        internal_note=internal_note,
        data=data,
    )


# --- authorisation ----------------------------------------------------------------------


def _assigned_to_unit(unit_id: int | None):
    return exists().where(
        Assignment.petition_id == Petition.id,
        Assignment.unit_id == unit_id,
        Assignment.ended_at.is_(None),
    )


def visible_query(user: User) -> Select:
    """Petitions of this ward a staff member may see: all, or for unit staff their unit's."""
    query = in_current_ward(select(Petition))
    if user.role == Role.UNIT_STAFF:
        query = query.where(_assigned_to_unit(user.unit_id))
    return query


def can_see(user: User, petition: Petition) -> bool:
    if user.role != Role.UNIT_STAFF:
        return True
    return any(a.unit_id == user.unit_id for a in petition.active_assignments)


def may(user: User, action: str, petition: Petition) -> bool:
    """Whether the user's role allows the action on this petition, whatever its status."""
    if user.role in (Role.WARD_STAFF, Role.ADMIN):
        return True
    if user.role == Role.UNIT_STAFF:
        return action in UNIT_ACTIONS and can_see(user, petition)
    return False


def can(user: User, action: str, petition: Petition) -> bool:
    """Whether the action is allowed now: by role and by the petition's status."""
    return petition.status in ACTION_STATUSES[action] and may(user, action, petition)


def available_actions(user: User, petition: Petition) -> list[str]:
    return [a for a in ACTION_STATUSES if can(user, a, petition)]


def _require(user: User, action: str, petition: Petition) -> None:
    if not may(user, action, petition):
        raise NotAllowed(_l("Bạn không có quyền thực hiện thao tác này."))
    if petition.status not in ACTION_STATUSES[action]:
        raise TransitionError(
            _l(
                "Thao tác này không áp dụng cho kiến nghị đang ở trạng thái “%(status)s”.",
                status=petition.status.label,
            )
        )


def _required(value: str | None, message, field: str) -> str:
    value = normalize(value)
    if not value:
        raise PetitionError(message, field=field)
    return value


# --- filing -----------------------------------------------------------------------------


@dataclass
class Filing:
    """What a resident (or staff on their behalf) submits."""

    category: Category
    title: str
    description: str
    latitude: float | None = None
    longitude: float | None = None
    area: Area | None = None
    address_text: str | None = None
    petitioner_name: str | None = None
    petitioner_phone: str | None = None
    petitioner_email: str | None = None
    petitioner_address: str | None = None
    show_name_publicly: bool = False
    channel: Channel = Channel.WEB
    photos: list = field(default_factory=list)
    # The system it came through when not the portal's own form (an Open311 client).
    via: str | None = None


def locate(ward: Ward, filing: Filing) -> Area | None:
    """Check the place and find its residential group by point-in-polygon."""
    if filing.latitude is None or filing.longitude is None:
        # A resident on the web must say where; a petition raised at a meeting by an
        # organisation may concern the whole ward.
        if filing.area is None and filing.channel == Channel.WEB:
            raise PetitionError(
                _l("Hãy chọn vị trí trên bản đồ hoặc chọn tổ dân phố."), field="area_id"
            )
        return filing.area
    if not geo.in_ward(ward, filing.latitude, filing.longitude):
        raise PetitionError(
            _l(
                "Vị trí bạn chọn nằm ngoài địa bàn %(ward)s. Hãy chọn lại điểm trên bản đồ "
                "hoặc chọn tổ dân phố trong danh sách.",
                ward=ward.name,
            ),
            field="location",
        )
    return geo.area_containing(ward.areas, filing.latitude, filing.longitude) or filing.area


def file_petition(ward: Ward, filing: Filing, *, actor: User | None = None) -> Petition:
    area = locate(ward, filing)
    year = local_today().year
    show_name = filing.show_name_publicly and bool(normalize(filing.petitioner_name))
    petition = Petition(
        created_at=utcnow(),
        code=next_code(current_app.config["PORTAL_CODE_PREFIX"], year),
        ward=ward,
        title=normalize(filing.title),
        description=(filing.description or "").strip(),
        category=filing.category,
        area=area,
        latitude=filing.latitude,
        longitude=filing.longitude,
        address_text=normalize(filing.address_text) or None,
        channel=filing.channel,
        petitioner_name=normalize(filing.petitioner_name) or None,
        petitioner_phone=filing.petitioner_phone or None,
        petitioner_email=(filing.petitioner_email or "").strip().lower() or None,
        petitioner_address=normalize(filing.petitioner_address) or None,
        show_name_publicly=show_name,
        status=S.RECEIVED,
        version=0,
        private_token=secrets.token_urlsafe(24),
    )
    _set_due_dates(petition, filing.category)
    refresh_search_key(petition)
    db.session.add(petition)
    for stored in filing.photos:
        petition.photos.append(_photo_row(stored, uploaded_by="petitioner"))
    _append_event(
        petition,
        EventKind.FILED,
        actor=actor,
        actor_kind="petitioner",
        to_status=S.RECEIVED,
        data={"channel": filing.channel.value, **({"via": filing.via} if filing.via else {})},
    )
    db.session.flush()
    return petition


def _set_due_dates(petition: Petition, category: Category) -> None:
    """Time limits in working days from the day of filing (Vietnam time)."""
    config = current_app.config
    today = local_today()
    holidays = work_calendar.overrides()
    reply = category.reply_days or config["DEFAULT_REPLY_DAYS"]
    resolve = category.resolve_days or config["DEFAULT_RESOLVE_DAYS"]
    petition.reply_due_on = work_calendar.add_working_days(today, reply, holidays)
    petition.resolve_due_on = work_calendar.add_working_days(today, resolve, holidays)


def _photo_row(stored, *, uploaded_by: str) -> Photo:
    return Photo(
        stored_name=stored.stored_name,
        thumb_name=stored.thumb_name,
        width=stored.width,
        height=stored.height,
        size_bytes=stored.size_bytes,
        uploaded_by=uploaded_by,
        published=False,
    )


def add_information(petition: Petition, text: str | None, photos: list) -> PetitionEvent:
    """The petitioner adds information (and photos) through the private link."""
    text = normalize(text)
    if not text and not photos:
        raise PetitionError(_l("Hãy nhập nội dung bổ sung hoặc chọn ảnh."), field="text")
    if petition.status == S.MERGED:
        raise TransitionError(
            _l(
                "Kiến nghị này đã được gộp; hãy bổ sung vào kiến nghị %(code)s.",
                code=petition.merged_into.code if petition.merged_into else "",
            )
        )
    for stored in photos:
        petition.photos.append(_photo_row(stored, uploaded_by="petitioner"))
    event = _append_event(
        petition,
        EventKind.INFO_ADDED,
        actor=None,
        actor_kind="petitioner",
        public_note=text or None,
        data={"photos": len(photos)},
    )
    if text:
        petition.search_key = fold(f"{petition.search_key} {text}")
    db.session.flush()
    return event


# --- staff actions ----------------------------------------------------------------------


def review(
    petition: Petition,
    actor: User,
    *,
    title: str | None = None,
    category: Category | None = None,
    area: Area | None = None,
    public_note: str | None = None,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    """Accept for review, correcting title, category or area on the way."""
    _require(actor, "review", petition)
    _check_version(petition, seen_version)
    changes = _apply_edits(petition, title=title, category=category, area=area)
    return change_status(
        petition,
        S.REVIEWING,
        actor=actor,
        public_note=public_note,
        internal_note=internal_note,
        data={"changes": changes} if changes else None,
    )


def edit(
    petition: Petition,
    actor: User,
    *,
    title: str | None = None,
    category: Category | None = None,
    area: Area | None = None,
    public_note: str | None = None,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    _require(actor, "edit", petition)
    _check_version(petition, seen_version)
    changes = _apply_edits(petition, title=title, category=category, area=area)
    if not changes:
        raise PetitionError(_l("Không có thay đổi nào để lưu."), field="title")
    return _append_event(
        petition,
        EventKind.EDITED,
        actor=actor,
        public_note=public_note,
        internal_note=internal_note,
        data={"changes": changes},
    )


def _apply_edits(petition, *, title, category, area) -> dict:
    changes = {}
    title = normalize(title)
    if title and title != petition.title:
        changes["title"] = [petition.title, title]
        petition.title = title
    if category is not None and category.id != petition.category_id:
        changes["category"] = [petition.category.name, category.name]
        petition.category = category
    if area is not None and area.id != petition.area_id:
        changes["area"] = [petition.area.name if petition.area else None, area.name]
        petition.area = area
    if changes:
        refresh_search_key(petition)
    return changes


@dataclass
class AssignmentPlan:
    lead_unit: Unit
    support_units: list[Unit] = field(default_factory=list)
    responsible_person: str | None = None
    roadmap: str | None = None
    expected_on: date | None = None


def assign(
    petition: Petition,
    actor: User,
    plan: AssignmentPlan,
    *,
    public_note: str | None = None,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    """Give the petition a lead unit (and supporting units) with person, roadmap, date."""
    _require(actor, "assign", petition)
    _check_version(petition, seen_version)
    if plan.lead_unit is None:
        raise PetitionError(_l("Hãy chọn đơn vị chủ trì."), field="lead_unit_id")
    if plan.expected_on and plan.expected_on < petition.created_at.date():
        raise PetitionError(
            _l("Ngày dự kiến hoàn thành không thể trước ngày tiếp nhận."), field="expected_on"
        )
    supports = [u for u in dict.fromkeys(plan.support_units) if u.id != plan.lead_unit.id]
    now = utcnow()
    for current in petition.active_assignments:
        current.ended_at = now
    db.session.add(
        Assignment(
            petition=petition,
            created_at=now,
            unit=plan.lead_unit,
            role=AssignmentRole.LEAD,
            responsible_person=normalize(plan.responsible_person) or None,
            roadmap=(plan.roadmap or "").strip() or None,
            expected_on=plan.expected_on,
        )
    )
    for unit in supports:
        db.session.add(
            Assignment(petition=petition, created_at=now, unit=unit, role=AssignmentRole.SUPPORT)
        )
    petition.expected_on = plan.expected_on
    data = {
        "lead": plan.lead_unit.name,
        "support": [u.name for u in supports],
        "responsible_person": normalize(plan.responsible_person) or None,
        "roadmap": (plan.roadmap or "").strip() or None,
        "expected_on": plan.expected_on.isoformat() if plan.expected_on else None,
    }
    if petition.status in (S.RECEIVED, S.REVIEWING):
        event = change_status(
            petition,
            S.ASSIGNED,
            actor=actor,
            public_note=public_note,
            internal_note=internal_note,
            data=data,
        )
    else:
        event = _append_event(
            petition,
            EventKind.ASSIGNED,
            actor=actor,
            public_note=public_note,
            internal_note=internal_note,
            data=data,
        )
    db.session.flush()
    return event


def post_update(
    petition: Petition,
    actor: User,
    *,
    public_note: str | None,
    internal_note: str | None = None,
    expected_on: date | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    """A progress update; the first one on an assigned petition starts the work."""
    _require(actor, "update", petition)
    _check_version(petition, seen_version)
    if not normalize(public_note) and not (internal_note or "").strip():
        raise PetitionError(_l("Hãy nhập nội dung cập nhật."), field="public_note")
    data = {}
    if expected_on and expected_on != petition.expected_on:
        data["expected_on"] = expected_on.isoformat()
        petition.expected_on = expected_on
        lead = petition.lead_assignment
        if lead:
            lead.expected_on = expected_on
    if petition.status == S.ASSIGNED:
        return change_status(
            petition,
            S.IN_PROGRESS,
            actor=actor,
            public_note=public_note,
            internal_note=internal_note,
            data=data,
        )
    return _append_event(
        petition,
        EventKind.UPDATE,
        actor=actor,
        public_note=public_note,
        internal_note=internal_note,
        data=data,
    )


def resolve(
    petition: Petition,
    actor: User,
    *,
    public_note: str | None,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    _require(actor, "resolve", petition)
    note = _required(public_note, _l("Hãy mô tả kết quả giải quyết cho người dân."), "public_note")
    event = change_status(
        petition,
        S.RESOLVED,
        actor=actor,
        public_note=note,
        internal_note=internal_note,
        seen_version=seen_version,
    )
    petition.outcome = Outcome.DONE
    petition.outcome_note = note
    return event


def mark_cannot_resolve(
    petition: Petition,
    actor: User,
    *,
    reason: str | None,
    recommendation: str | None,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    _require(actor, "cannot", petition)
    reason = _required(reason, _l("Hãy nêu rõ lý do không thực hiện được."), "reason")
    recommendation = _required(recommendation, _l("Hãy nêu kiến nghị, đề xuất."), "recommendation")
    event = change_status(
        petition,
        S.CANNOT_RESOLVE,
        actor=actor,
        public_note=reason,
        internal_note=internal_note,
        seen_version=seen_version,
        data={"reason": reason, "recommendation": recommendation},
    )
    petition.outcome = Outcome.CANNOT
    petition.outcome_note = reason
    petition.recommendation = recommendation
    return event


def forward(
    petition: Petition,
    actor: User,
    *,
    to_body: str | None,
    public_note: str | None = None,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    _require(actor, "forward", petition)
    to_body = _required(to_body, _l("Hãy ghi rõ cơ quan cấp trên nhận kiến nghị."), "to_body")
    event = change_status(
        petition,
        S.FORWARDED,
        actor=actor,
        public_note=public_note,
        internal_note=internal_note,
        seen_version=seen_version,
        data={"to": to_body},
    )
    petition.forwarded_to = to_body
    petition.forward_reply = None
    return event


def record_forward_reply(
    petition: Petition,
    actor: User,
    *,
    reply: str | None,
    continue_at_ward: bool = False,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    """Record the higher level's reply; the ward may then carry on the work itself."""
    _require(actor, "forward_reply", petition)
    _check_version(petition, seen_version)
    reply = _required(reply, _l("Hãy nhập nội dung trả lời của cấp trên."), "reply")
    petition.forward_reply = reply
    event = _append_event(
        petition,
        EventKind.FORWARD_REPLY,
        actor=actor,
        public_note=reply,
        internal_note=internal_note,
        data={"from": petition.forwarded_to},
    )
    if continue_at_ward:
        event = change_status(petition, S.IN_PROGRESS, actor=actor, internal_note=internal_note)
    return event


def reject(
    petition: Petition,
    actor: User,
    *,
    reason: str | None,
    duplicate_of: Petition | None = None,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    _require(actor, "reject", petition)
    reason = _required(reason, _l("Hãy nêu lý do không tiếp nhận (công khai)."), "reason")
    if duplicate_of is not None and duplicate_of.id == petition.id:
        raise PetitionError(_l("Kiến nghị không thể trùng với chính nó."), field="duplicate_of")
    event = change_status(
        petition,
        S.REJECTED,
        actor=actor,
        public_note=reason,
        internal_note=internal_note,
        seen_version=seen_version,
        data={"duplicate_of": duplicate_of.code} if duplicate_of else None,
    )
    petition.outcome = Outcome.REJECTED
    petition.outcome_note = reason
    petition.duplicate_of = duplicate_of
    return event


def merge(
    petition: Petition,
    actor: User,
    *,
    into: Petition | None,
    public_note: str | None = None,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    _require(actor, "merge", petition)
    if into is None:
        raise PetitionError(_l("Không tìm thấy kiến nghị cần gộp vào."), field="into_code")
    if into.id == petition.id:
        raise PetitionError(_l("Kiến nghị không thể gộp vào chính nó."), field="into_code")
    if into.status == S.MERGED:
        raise PetitionError(
            _l("Kiến nghị %(code)s đã được gộp vào kiến nghị khác.", code=into.code),
            field="into_code",
        )
    # Every check before the surviving petition is touched: nothing half-merged.
    _check_version(petition, seen_version)
    added = _carry_co_signers(petition, into)
    # Whoever follows the merged petition by e-mail follows the survivor from now on (the
    # notifications package moves the follows), and so hears of the merge from the
    # survivor's timeline, below.
    moved = sum(
        result or 0 for _receiver, result in signals.petition_merging.send(petition, into=into)
    )
    # The survivor's timeline first: whoever follows it now hears of the merge, and the
    # merged petition's people, who follow it from the next event on, are told once (by
    # the merge notice) rather than twice.
    with force_locale("vi"):  # stored public text, like staff notes: Vietnamese
        if added:
            into_note = _l(
                "Kiến nghị %(code)s trùng nội dung được gộp vào đây: thêm %(n)d người cũng "
                "gặp vấn đề này.",
                code=petition.code,
                n=added,
            )
        else:
            into_note = _l(
                "Kiến nghị %(code)s trùng nội dung được gộp vào đây; những người gặp vấn đề "
                "đó đã được tính ở kiến nghị này.",
                code=petition.code,
            )
        into_note = str(into_note)
        merged_note = normalize(public_note) or str(
            _l(
                "Kiến nghị này được gộp vào kiến nghị %(code)s có cùng nội dung; người gửi và "
                "những người cũng gặp vấn đề này được tính ở kiến nghị %(code)s.",
                code=into.code,
            )
        )
    _append_event(
        into,
        EventKind.UPDATE,
        actor=actor,
        public_note=into_note,
        data={"merged": petition.code, "co_signers_added": added},
    )
    event = change_status(
        petition,
        S.MERGED,
        actor=actor,
        public_note=merged_note,
        internal_note=internal_note,
        data={"into": into.code, "followers_moved": moved} if moved else {"into": into.code},
    )
    petition.outcome = Outcome.MERGED
    petition.merged_into = into
    return event


def _identities(email: str | None, phone: str | None) -> set[str]:
    """What tells one resident from another: their e-mail address and phone number."""
    keys = set()
    if email and email.strip():
        keys.add("email:" + email.strip().lower())
    if phone and normalize_phone(phone):
        keys.add("phone:" + normalize_phone(phone))
    return keys


def _carry_co_signers(merged: Petition, into: Petition) -> int:
    """Count the merged petition's petitioner and co-signers on the survivor. Flushes.

    Rows are copied, never moved: the merged petition keeps its own record. Whoever the
    survivor already counts (its petitioner, a co-signer), by e-mail or phone, is not
    counted twice; a co-signer who gave neither cannot be recognised and always counts.
    The copies send nothing: what the merged petition's people hear is decided by their
    own follows and opt-outs (see the notifications package).
    """
    counted = _identities(into.petitioner_email, into.petitioner_phone)
    for signature in db.session.scalars(
        select(CoSignature).where(CoSignature.petition_id == into.id)
    ):
        counted |= _identities(signature.email, signature.phone)
    petitioner = merged.petitioner_name, merged.petitioner_phone, merged.petitioner_email
    people = [(*petitioner, merged.created_at)]
    people += [
        (s.name, s.phone, s.email, s.created_at)
        for s in db.session.scalars(
            select(CoSignature).where(CoSignature.petition_id == merged.id).order_by(CoSignature.id)
        )
    ]
    added = 0
    for name, phone, email, created_at in people:
        keys = _identities(email, phone)
        if keys & counted:
            continue
        counted |= keys
        db.session.add(
            CoSignature(
                petition=into,
                name=name,
                phone=normalize_phone(phone) or None,
                email=(email or "").strip().lower() or None,
                created_at=created_at or utcnow(),
            )
        )
        added += 1
    db.session.flush()
    return added


def close(
    petition: Petition,
    actor: User | None,
    *,
    public_note: str | None = None,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    if actor is not None:
        _require(actor, "close", petition)
    return change_status(
        petition,
        S.CLOSED,
        actor=actor,
        actor_kind="system" if actor is None else "staff",
        public_note=public_note,
        internal_note=internal_note,
        seen_version=seen_version,
    )


def reopen(
    petition: Petition,
    actor: User,
    *,
    reason: str | None,
    internal_note: str | None = None,
    seen_version: int | None = None,
) -> PetitionEvent:
    _require(actor, "reopen", petition)
    reason = _required(reason, _l("Hãy nêu lý do mở lại kiến nghị."), "reason")
    return change_status(
        petition,
        REOPEN_TO[petition.status],
        actor=actor,
        public_note=reason,
        internal_note=internal_note,
        seen_version=seen_version,
    )


def set_photo_published(
    petition: Petition, actor: User, photo: Photo, published: bool
) -> PetitionEvent | None:
    _require(actor, "photo", petition)
    if photo.petition_id != petition.id:
        raise NotAllowed(_l("Ảnh không thuộc kiến nghị này."))
    if photo.published == published:
        return None
    photo.published = published
    return _append_event(
        petition,
        EventKind.PHOTO,
        actor=actor,
        data={"photo": photo.id, "published": published},
    )


def move_to_area(petition: Petition, actor: User, area: Area) -> PetitionEvent:
    """New boundaries put the petition's point in another group: an internal edit."""
    changes = {"area": [petition.area.name if petition.area else None, area.name]}
    petition.area = area
    refresh_search_key(petition)
    return _append_event(petition, EventKind.EDITED, actor=actor, data={"changes": changes})


def append_note(
    petition: Petition, actor: User, *, data: dict, public_note: str | None = None
) -> PetitionEvent:
    """A staff annotation that changes no status: links, themes, repeats."""
    return _append_event(petition, EventKind.NOTE, actor=actor, public_note=public_note, data=data)


def append_remark(petition: Petition, actor: User, remark) -> PetitionEvent:
    """A supervision remark joins the timeline; public only when MTTQ makes it public."""
    note = remark.remark + (f"\n{remark.recommendation}" if remark.recommendation else "")
    return _append_event(
        petition,
        EventKind.REMARK,
        actor=actor,
        public_note=note if remark.is_public else None,
        internal_note=None if remark.is_public else note,
        data={"remark": remark.id},
    )


def record_rating(petition: Petition, *, satisfied: bool, comment: str | None) -> PetitionEvent:
    return _append_event(
        petition,
        EventKind.RATED,
        actor=None,
        actor_kind="petitioner",
        public_note=comment,
        data={"satisfied": satisfied},
    )


def reopen_by_petitioner(petition: Petition, reason: str | None) -> PetitionEvent:
    """Not satisfied with the result: the petition goes back to work."""
    return change_status(
        petition,
        S.IN_PROGRESS,
        actor=None,
        actor_kind="petitioner",
        public_note=reason,
        data={"reopened_by": "petitioner"},
    )


# --- lists ------------------------------------------------------------------------------


@dataclass
class ListFilter:
    status: Status | None = None
    category_id: int | None = None
    area_id: int | None = None
    unit_id: int | None = None
    overdue: bool = False
    due_soon: bool = False
    q: str | None = None
    sort: str = "newest"
    open_only: bool = False


SORTS = {
    "newest": (Petition.created_at.desc(), Petition.id.desc()),
    "oldest": (Petition.created_at.asc(), Petition.id.asc()),
    "updated": (Petition.updated_at.desc(), Petition.id.desc()),
    "expected": (
        func.coalesce(Petition.expected_on, Petition.resolve_due_on).is_(None),
        func.coalesce(Petition.expected_on, Petition.resolve_due_on).asc(),
        Petition.id.asc(),
    ),
}

OPEN_STATUSES = tuple(s for s in Status if s.is_open)


def apply_filter(query: Select, f: ListFilter) -> Select:
    if f.status:
        query = query.where(Petition.status == f.status)
    if f.open_only:
        query = query.where(Petition.status.in_(OPEN_STATUSES))
    if f.category_id:
        query = query.where(Petition.category_id == f.category_id)
    if f.area_id:
        query = query.where(Petition.area_id == f.area_id)
    if f.unit_id:
        query = query.where(_assigned_to_unit(f.unit_id))
    if f.overdue:
        query = query.where(overdue_clause())
    if f.due_soon:
        query = query.where(due_soon_clause())
    for term in search_terms(f.q)[:8]:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matches = Petition.search_key.like(f"%{escaped}%", escape="\\")
        code = normalize_code(term)
        if any(c.isdigit() for c in code):
            # Shaped like a code ("kn 2026 42"): the petition of that code too. Codes
            # always hold digits, so other words skip this and leave the search to the
            # trigram index alone.
            matches = or_(matches, Petition.code == code)
        query = query.where(matches)
    return query.order_by(*SORTS.get(f.sort, SORTS["newest"]))


def status_counts(query: Select, *, unit_id: int | None = None) -> dict[Status, int]:
    """How many of the petitions in ``query`` (optionally one unit's) are in each status."""
    sub = apply_filter(query, ListFilter(unit_id=unit_id)).order_by(None).subquery()
    rows = db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status))
    return {Status(status): n for status, n in rows}


def due_soon_limit() -> date:
    """The last day that still counts as "due soon": N working days from today.

    Remembered for the request (per day), as badges ask it once per row of a list.
    """
    today, days = local_today(), current_app.config["DUE_SOON_DAYS"]
    known = g.setdefault("due_soon_limits", {})
    if (today, days) not in known:
        known[(today, days)] = work_calendar.add_working_days(
            today, days, work_calendar.overrides()
        )
    return known[(today, days)]


def due_state(petition: Petition) -> str | None:
    """ "overdue", "due_soon" or None, for an open petition."""
    return due_state_of(petition.status, petition.next_due_on)


def due_state_of(
    status: Status, next_due_on: date | None, *, today: date | None = None, soon=None
) -> str | None:
    """:func:`due_state` from a status and next due date; ``today`` and the due-soon
    limit may be given when many petitions are judged at once."""
    if not status.is_open or next_due_on is None:
        return None
    if next_due_on < (today or local_today()):
        return "overdue"
    if next_due_on <= (soon or due_soon_limit()):
        return "due_soon"
    return None


def _due_before(limit: date, *, inclusive: bool):
    due = func.coalesce(Petition.expected_on, Petition.resolve_due_on)

    def before(column):
        return column <= limit if inclusive else column < limit

    return and_(
        Petition.status.in_(OPEN_STATUSES),
        or_(
            before(due),
            and_(Petition.status == S.RECEIVED, before(Petition.reply_due_on)),
        ),
    )


def overdue_clause():
    return _due_before(local_today(), inclusive=False)


def due_soon_clause():
    return and_(_due_before(due_soon_limit(), inclusive=True), ~overdue_clause())


# --- duplicates and co-signing ----------------------------------------------------------


@dataclass(frozen=True)
class Nearby:
    petition: Petition
    distance_m: float


def nearby_open(
    *,
    category_id: int | None,
    latitude: float,
    longitude: float,
    exclude: Petition | None = None,
    radius_m: float | None = None,
    limit: int = 10,
) -> list[Nearby]:
    """Open petitions of the category within the radius, nearest first.

    The database narrows candidates to a latitude/longitude box; the exact distance is
    the haversine in Python.
    """
    if category_id is None:
        return []
    radius = float(radius_m if radius_m is not None else current_app.config["DUPLICATE_RADIUS_M"])
    south, west, north, east = geo.bounding_box(latitude, longitude, radius)
    query = in_current_ward(select(Petition)).where(
        Petition.category_id == category_id,
        Petition.status.in_(OPEN_STATUSES),
        Petition.latitude.between(south, north),
        Petition.longitude.between(west, east),
    )
    if exclude is not None and exclude.id is not None:
        query = query.where(Petition.id != exclude.id)
    found = []
    for petition in db.session.scalars(query):
        distance = geo.distance_m(latitude, longitude, petition.latitude, petition.longitude)
        if distance <= radius:
            found.append(Nearby(petition, distance))
    found.sort(key=lambda n: (n.distance_m, n.petition.id))
    return found[:limit]


def likely_duplicates(petition: Petition) -> list[Nearby]:
    """For staff: open petitions of the same category near this one, itself excluded."""
    if not petition.has_location:
        return []
    return nearby_open(
        category_id=petition.category_id,
        latitude=petition.latitude,
        longitude=petition.longitude,
        exclude=petition,
    )


def co_sign(
    petition: Petition,
    *,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> CoSignature:
    """Record that one more resident has the same problem. Flushes.

    An e-mail address that already co-signed is not counted again, and nothing about the
    earlier co-signature changes; the caller answers exactly as for a new one, so that the
    form never tells whether an address co-signed. Either way ``petition_cosigned`` is sent
    with the address's co-signature: the follow request (double opt-in) is the same as for a
    first co-signature. Raises :class:`PetitionError` when the petition is no longer open.
    """
    if not petition.status.is_open:
        raise PetitionError(_l("Kiến nghị này đã kết thúc xử lý, không thể đồng ý thêm."))
    email = (email or "").strip().lower() or None
    if email is not None:
        earlier = db.session.scalar(
            select(CoSignature).where(
                CoSignature.petition_id == petition.id, CoSignature.email == email
            )
        )
        if earlier is not None:
            signals.petition_cosigned.send(petition, co_signature=earlier)
            return earlier
    signature = CoSignature(
        petition=petition,
        name=normalize(name) or None,
        phone=phone or None,
        email=email,
        created_at=utcnow(),
    )
    db.session.add(signature)
    db.session.flush()
    signals.petition_cosigned.send(petition, co_signature=signature)
    return signature


def co_signer_count(petition: Petition) -> int:
    if petition is None or petition.id is None:
        return 0
    return (
        db.session.scalar(
            select(func.count())
            .select_from(CoSignature)
            .where(CoSignature.petition_id == petition.id)
        )
        or 0
    )
