"""Open311 GeoReport v2: what the API reads and files, without any personal data.

Views parse the request and call these functions; the functions raise :class:`ApiError`
with an HTTP status and a Vietnamese description, which the views render as an Open311
error array. Requests are filed through :func:`portal.petitions.services.file_petition`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from limits import parse_many
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.validators import ValidationError

from portal import geo
from portal.accounts.models import User
from portal.api.models import ApiClient, Open311Token
from portal.extensions import db
from portal.forms import vietnamese_phone
from portal.petitions import services as petitions
from portal.petitions.models import Category, Channel, Petition, Status
from portal.text import fold, normalize
from portal.timeutil import LOCAL_TZ, to_local, utcnow
from portal.units.models import Ward
from portal.units.services import current_ward_id, of_this_ward

MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
MIN_DESCRIPTION = 10
MAX_DESCRIPTION = 5000
OPEN_STATUSES = tuple(s for s in Status if s.is_open)
CLOSED_STATUSES = tuple(s for s in Status if not s.is_open)


class ApiError(Exception):
    """An Open311 error: ``status`` is the HTTP status, ``description`` is shown."""

    def __init__(self, status: int, description):
        super().__init__(str(description))
        self.status = status
        self.description = description


# --- clients and keys -------------------------------------------------------------------

KEY_PREFIX = "kn311_"
DEFAULT_RATE_LIMIT = "60/hour"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def valid_rate_limit(text: str) -> bool:
    """Flask-Limiter notation: "60/hour", "10 per minute", "100/day;10/minute"."""
    try:
        return bool(list(parse_many(text)))
    except ValueError:
        return False


def issue_key(
    name: str,
    *,
    contact: str | None = None,
    rate_limit: str = DEFAULT_RATE_LIMIT,
    requires_acceptance: bool = False,
    by: User | None = None,
    key: str | None = None,
    ward: Ward | None = None,
) -> tuple[ApiClient, str]:
    """A new client of ``ward`` (default: the deployment's) and its key. The key is
    returned once; only its hash is kept."""
    key = key or KEY_PREFIX + secrets.token_urlsafe(24)
    client = ApiClient(
        ward_id=ward.id if ward is not None else current_ward_id(),
        name=normalize(name),
        contact=normalize(contact) or None,
        key_prefix=key[:12],
        key_hash=_hash(key),
        rate_limit=rate_limit,
        requires_acceptance=requires_acceptance,
        created_by=by,
        request_count=0,
    )
    db.session.add(client)
    db.session.flush()
    return client, key


def revoke(client: ApiClient) -> None:
    if client.revoked_at is None:
        client.revoked_at = utcnow()
    db.session.flush()


def _here():
    """Clients of this deployment's ward (and of none: made before clients had a ward)."""
    return of_this_ward(ApiClient.ward_id, legacy=True)


def clients() -> list[ApiClient]:
    return list(
        db.session.scalars(
            select(ApiClient)
            .where(_here())
            .order_by(ApiClient.revoked_at.is_not(None), ApiClient.name)
        )
    )


def get_client(client_id: int) -> ApiClient | None:
    """This ward's client with the id; another ward's is not found."""
    return db.session.scalar(select(ApiClient).where(ApiClient.id == client_id, _here()))


def client_for_key(given: str | None) -> ApiClient | None:
    """The active client of this ward holding this key, or None (another ward's key files
    nothing here).

    Keys are random and long; the lookup is by their SHA-256, so the time it takes says
    nothing about how much of a guess was right, and the hash is compared again in
    constant time.
    """
    given = (given or "").strip()
    if not given or len(given) > 200:
        return None
    digest = _hash(given)
    client = db.session.scalar(select(ApiClient).where(ApiClient.key_hash == digest, _here()))
    if client is None or not secrets.compare_digest(client.key_hash, digest):
        return None
    return client if client.is_active else None


def check_api_key(given: str | None) -> ApiClient:
    client = client_for_key(given)
    if client is None:
        raise ApiError(403, _l("api_key không hợp lệ, đã bị thu hồi hoặc chưa được cấp."))
    client.last_used_at = utcnow()
    client.request_count = (client.request_count or 0) + 1
    return client


def check_jurisdiction(given: str | None, ward: Ward) -> None:
    """``jurisdiction_id`` is the ward's official code (mã đơn vị hành chính)."""
    if given and given.strip() != ward.code:
        raise ApiError(404, _l("Không có jurisdiction_id “%(id)s”.", id=safe_code(given.strip())))


# --- tokens -----------------------------------------------------------------------------


def issue_token(client: ApiClient, petition: Petition) -> Open311Token:
    token = Open311Token(token=secrets.token_urlsafe(18), client=client, petition=petition)
    db.session.add(token)
    db.session.flush()
    return token


def accepted(petition: Petition) -> bool:
    """Staff have looked at it: anything after "received" (a rejection too) is an answer."""
    return petition.status != Status.RECEIVED


def token_dict(ward: Ward, text: str) -> dict:
    token = db.session.scalar(
        select(Open311Token)
        .join(Open311Token.petition)
        .where(Open311Token.token == text.strip(), Petition.ward_id == ward.id)
    )
    if token is None:
        raise ApiError(404, _l("Không tìm thấy token %(token)s.", token=safe_code(text)))
    petition = token.petition
    return {
        "service_request_id": petition.code if accepted(petition) else None,
        "token": token.token,
    }


# --- times ------------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    """Naive UTC from the database -> ISO 8601 in Vietnam time: 2026-03-02T09:30:00+07:00."""
    if value is None:
        return None
    return to_local(value).replace(microsecond=0).isoformat()


def iso_day_end(value: date | None) -> str | None:
    """A due date means "by the end of that day" in Vietnam time."""
    if value is None:
        return None
    return datetime.combine(value, time(23, 59, 59), tzinfo=LOCAL_TZ).isoformat()


def parse_iso(text: str, name: str) -> datetime:
    """ISO 8601 date or date-time -> naive UTC; without an offset it is Vietnam time."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            moment = datetime.combine(date.fromisoformat(raw), time())
        else:
            moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            400,
            _l(
                "%(name)s không đúng định dạng ISO 8601, ví dụ 2026-03-01T00:00:00+07:00.",
                name=name,
            ),
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC).replace(tzinfo=None)


def date_range(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The window of ``requested_datetime``: at most 90 days; by default the last 90."""
    start_at = parse_iso(start, "start_date") if start and start.strip() else None
    end_at = parse_iso(end, "end_date") if end and end.strip() else None
    if start_at is None and end_at is None:
        end_at = utcnow()
    if start_at is None:
        start_at = end_at - MAX_SPAN
    if end_at is None:
        end_at = start_at + MAX_SPAN
    if end_at < start_at:
        raise ApiError(400, _l("end_date phải sau start_date."))
    if end_at - start_at > MAX_SPAN:
        raise ApiError(
            400, _l("start_date và end_date cách nhau tối đa %(days)d ngày.", days=MAX_SPAN.days)
        )
    return start_at, end_at


# --- services (categories) --------------------------------------------------------------


def categories() -> list[Category]:
    return list(
        db.session.scalars(
            select(Category).where(Category.active).order_by(Category.sort_order, Category.name)
        )
    )


def category_by_code(code: str | None) -> Category | None:
    code = (code or "").strip()
    if not code:
        return None
    return db.session.scalar(select(Category).where(Category.slug == code, Category.active))


def service(category: Category, ward: Ward | None) -> dict:
    words = [category.name, category.name_en, fold(category.name)]
    keywords = ", ".join(dict.fromkeys(w for w in words if w))
    return {
        "service_code": category.slug,
        "service_name": category.name,
        "description": category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": keywords,
        "group": ward.name if ward else "",
    }


def service_definition(category: Category) -> dict:
    return {"service_code": category.slug, "attributes": []}


# --- requests (petitions) ---------------------------------------------------------------


def open311_status(status: Status) -> str:
    return "open" if Status(status).is_open else "closed"


def status_notes(petition: Petition) -> str | None:
    """The latest public note written by staff (never the petitioner's own words)."""
    for event in reversed(petition.events):
        if event.is_public and event.public_note and event.actor_kind != "petitioner":
            return event.public_note
    return None


def media_url(petition: Petition) -> str | None:
    from portal.notifications.services import external_url

    photos = petition.published_photos
    return external_url("petitions.photo", photo_id=photos[0].id) if photos else None


def request_dict(petition: Petition) -> dict:
    """One service request. A whitelist: petitioner fields are never read here."""
    lead = petition.lead_assignment
    return {
        "service_request_id": petition.code,
        "status": open311_status(petition.status),
        "status_notes": status_notes(petition),
        "service_name": petition.category.name,
        "service_code": petition.category.slug,
        "description": petition.description,
        "agency_responsible": lead.unit.name if lead else None,
        "service_notice": None,
        "requested_datetime": iso(petition.created_at),
        "updated_datetime": iso(petition.updated_at),
        "expected_datetime": iso_day_end(petition.due_on) if petition.status.is_open else None,
        "address": petition.address_text,
        "address_id": None,
        "zipcode": None,
        "lat": petition.latitude,
        "long": petition.longitude,
        "media_url": media_url(petition),
    }


def _codes(text: str) -> list[str]:
    return [petitions.normalize_code(c) for c in text.split(",") if c.strip()][:MAX_RESULTS]


def _loaded():
    return select(Petition).options(
        selectinload(Petition.category),
        selectinload(Petition.events),
        selectinload(Petition.assignments),
        selectinload(Petition.photos),
    )


def find_requests(ward: Ward, args) -> list[Petition]:
    """``GET requests``: ids, or service_code, status and a window of at most 90 days."""
    query = _loaded().where(Petition.ward_id == ward.id)
    ids = (args.get("service_request_id") or "").strip()
    if ids:
        # As the specification says: with ids, the other filters do not apply.
        query = query.where(Petition.code.in_(_codes(ids)))
        return list(db.session.scalars(query.order_by(Petition.created_at.desc())))
    codes = [c.strip() for c in (args.get("service_code") or "").split(",") if c.strip()]
    if codes:
        query = query.join(Petition.category).where(Category.slug.in_(codes))
    wanted = {s.strip().lower() for s in (args.get("status") or "").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise ApiError(400, _l("status chỉ nhận open hoặc closed."))
    if wanted == {"open"}:
        query = query.where(Petition.status.in_(OPEN_STATUSES))
    elif wanted == {"closed"}:
        query = query.where(Petition.status.in_(CLOSED_STATUSES))
    start_at, end_at = date_range(args.get("start_date"), args.get("end_date"))
    query = query.where(Petition.created_at >= start_at, Petition.created_at <= end_at)
    query = query.order_by(Petition.created_at.desc(), Petition.id.desc()).limit(MAX_RESULTS)
    return list(db.session.scalars(query))


def get_request(ward: Ward, code: str) -> Petition:
    petition = db.session.scalar(
        _loaded().where(
            Petition.ward_id == ward.id, Petition.code == petitions.normalize_code(code)
        )
    )
    if petition is None:
        raise ApiError(404, _l("Không tìm thấy kiến nghị %(code)s.", code=safe_code(code)))
    return petition


# --- filing -----------------------------------------------------------------------------


@dataclass
class Submission:
    category: Category
    description: str
    latitude: float | None
    longitude: float | None
    address: str | None
    name: str | None
    phone: str | None
    email: str | None


def _coordinate(value: str | None, name: str, low: float, high: float) -> float | None:
    raw = (value or "").strip()
    if not raw:
        return None
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        number = None
    if number is None or number != number or not low <= number <= high:
        raise ApiError(400, _l("%(name)s không phải tọa độ hợp lệ.", name=name))
    return number


def _phone(value: str | None) -> str | None:
    if not (value or "").strip():
        return None
    field = SimpleNamespace(data=value.strip())
    try:
        vietnamese_phone(None, field)
    except ValidationError as error:
        raise ApiError(400, error.args[0]) from None
    return field.data


def _email(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        if len(value) > 254:
            raise EmailNotValidError(value)
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ApiError(400, _l("Địa chỉ thư điện tử không hợp lệ.")) from None
    return value


def parse_submission(form) -> Submission:
    """Check a ``POST requests`` body; nothing is written here."""
    code = (form.get("service_code") or "").strip()
    if not code:
        raise ApiError(400, _l("Thiếu service_code."))
    category = category_by_code(code)
    if category is None:
        raise ApiError(400, _l("service_code “%(code)s” không tồn tại.", code=safe_code(code)))
    description = (form.get("description") or "").strip()
    if len(description) < MIN_DESCRIPTION:
        raise ApiError(400, _l("description cần ít nhất %(min)d ký tự.", min=MIN_DESCRIPTION))
    if len(description) > MAX_DESCRIPTION:
        raise ApiError(400, _l("description tối đa %(max)d ký tự.", max=MAX_DESCRIPTION))
    latitude = _coordinate(form.get("lat"), "lat", -90, 90)
    longitude = _coordinate(form.get("long"), "long", -180, 180)
    if (latitude is None) != (longitude is None):
        raise ApiError(400, _l("Cần gửi cả lat và long."))
    address = normalize(form.get("address_string")) or None
    if address and len(address) > 300:
        raise ApiError(400, _l("address_string tối đa 300 ký tự."))
    if latitude is None and not address:
        raise ApiError(400, _l("Cần lat và long, hoặc address_string."))
    name = normalize(" ".join(normalize(form.get(k)) for k in ("last_name", "first_name")))
    if len(name) > 200:
        raise ApiError(400, _l("first_name và last_name tối đa 200 ký tự."))
    return Submission(
        category=category,
        description=description,
        latitude=latitude,
        longitude=longitude,
        address=address,
        name=name or None,
        phone=_phone(form.get("phone")),
        email=_email(form.get("email")),
    )


def title_from(description: str, limit: int = 100) -> str:
    """A petition's title: the first line of the description, cut at a word."""
    line = normalize(description.strip().splitlines()[0])
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut.rstrip(" ,.;:") + "…"


def _place(ward: Ward, address: str):
    """A residential group named in the address, else the geocoder's point."""
    key = fold(address)
    for area in ward.areas:
        if fold(area.name) and fold(area.name) in key:
            return area, None
    place = geo.get_geocoder().geocode(address)
    if place is None:
        raise ApiError(
            400,
            _l(
                "Không xác định được vị trí từ address_string; hãy gửi lat và long "
                "hoặc ghi rõ tổ dân phố."
            ),
        )
    return None, place


def file_request(ward: Ward, submission: Submission, client: ApiClient | None = None) -> Petition:
    """File the petition through the same service as the web form (channel: web)."""
    area = None
    latitude, longitude = submission.latitude, submission.longitude
    if latitude is None:
        area, place = _place(ward, submission.address)
        if place is not None:
            latitude, longitude = place.latitude, place.longitude
    filing = petitions.Filing(
        category=submission.category,
        title=title_from(submission.description),
        description=submission.description,
        latitude=latitude,
        longitude=longitude,
        area=area,
        address_text=submission.address,
        petitioner_name=submission.name,
        petitioner_phone=submission.phone,
        petitioner_email=submission.email,
        channel=Channel.WEB,
        via=client.name if client else None,
    )
    try:
        return petitions.file_petition(ward, filing)
    except petitions.PetitionError as error:
        raise ApiError(400, error.message) from None


_SAFE_CODE = re.compile(r"^[A-Za-z0-9._-]{1,60}$")


def safe_code(code: str) -> str:
    """A code fit to echo in an error message."""
    return code if _SAFE_CODE.match(code) else "…"
