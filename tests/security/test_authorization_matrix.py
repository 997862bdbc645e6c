"""The authorization matrix: every route of the URL map × every kind of visitor.

``RULES`` has one row per route (method and rule, as in ``flask routes``). Each row says,
for each role, what must happen:

- ``OK``: the view ran and answered (a page, a redirect, 400 or 422 for an empty form);
- ``LOGIN``: sent to the login page;
- ``DENIED``: 403;
- ``HIDDEN``: 404 (staff need not even know the thing exists).

URL parameters are filled from a seeded world (``seed``) by name; a row may override
them. A route missing from the table fails the build, naming the route: add its row
when you add the route. Roles:

- ``anonymous``: nobody in particular;
- ``resident``: not logged in, but holding the private link of the seeded petition (its
  token in ``/cua-toi/<token>``, ``?t=`` on its photos); everyone else gets a made-up
  token;
- ``unit_staff``: staff of the unit the seeded petition is assigned to;
  ``other_unit_staff``: staff of another unit;
- ``ward_staff``, ``mttq``, ``admin``;
- ``other_ward_staff``: a session of an account that belongs to another ward (it logged
  in, then was moved): treated as logged out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from urllib.parse import urlencode

from flask import g
from PIL import Image

from portal.accounts.models import Role
from portal.accounts.services import create_user
from portal.api.models import ApiClient, Open311Token
from portal.extensions import db
from portal.meetings.models import (
    ConclusionNotice,
    Meeting,
    MeetingKind,
    NoticeItem,
    NoticeItemUnit,
)
from portal.monitoring import services as monitoring
from portal.notifications import services as notifications
from portal.notifications.models import Notification
from portal.petitions import photos
from portal.petitions.models import AssignmentRole
from portal.units.models import PlaceKind, Ward
from portal.units.services import save_place
from tests import factories
from tests.conftest import _reset_schema, make_app

ROLES = (
    "anonymous",
    "resident",
    "unit_staff",
    "other_unit_staff",
    "ward_staff",
    "mttq",
    "admin",
    "other_ward_staff",
)
STAFF_ROLES = ("unit_staff", "other_unit_staff", "ward_staff", "mttq", "admin")

OK, LOGIN, DENIED, HIDDEN = "ok", "login", "403", "404"


def expect(default: str, **by_role: str) -> dict[str, str]:
    unknown = set(by_role) - set(ROLES)
    assert not unknown, unknown
    return {role: by_role.get(role, default) for role in ROLES}


def _not_logged_in(outcome: str) -> dict[str, str]:
    return {"anonymous": outcome, "resident": outcome, "other_ward_staff": outcome}


# --- who may: the groups the rows use ----------------------------------------------------

PUBLIC = expect(OK)
# Any staff role: the inbox (their unit's only), dashboard, reports, item search.
STAFF = expect(OK, **_not_logged_in(LOGIN))
# Supervision remarks: MTTQ, ward staff, admin.
SUPERVISORS = expect(OK, **_not_logged_in(LOGIN), unit_staff=DENIED, other_unit_staff=DENIED)
# Meetings, notices, bulk entry, linking, classifying, re-assigning areas.
EDITORS = {**SUPERVISORS, "mttq": DENIED}
# Calendar, outbox, residential groups, gazetteer, API keys.
ADMIN = {**EDITORS, "ward_staff": DENIED}
# The staff page of a petition assigned to unit_staff's unit.
ASSIGNED = {**STAFF, "other_unit_staff": HIDDEN}
# Acting on it (a progress update): unit staff of its unit, ward staff, admin.
ACTORS = {**ASSIGNED, "mttq": DENIED}
# The petitioner's private page: the link is the key, an account is not.
PRIVATE_LINK = expect(HIDDEN, resident=OK)
# A photo the petitioner sent, not yet published by staff.
PRIVATE_PHOTO = expect(OK, anonymous=HIDDEN, other_unit_staff=HIDDEN, other_ward_staff=HIDDEN)
# Filing through Open311 needs an api_key, which no role has.
API_KEY = expect(DENIED)


@dataclass
class Row:
    outcomes: dict[str, str]
    # URL parameters that differ from the defaults (values, or functions of the seed).
    params: dict = field(default_factory=dict)
    # Form data for a POST (functions of the seed are called), query string (by role).
    data: dict = field(default_factory=dict)
    query: object = None


def row(outcomes, *, params=None, data=None, query=None) -> Row:
    return Row(outcomes, params or {}, data or {}, query)


def _photo_query(seed, role):
    return {"t": seed.token} if role == "resident" else {}


RULES: dict[str, Row] = {
    # --- public pages, residents ------------------------------------------------------
    "GET /": row(PUBLIC),
    "GET /healthz": row(PUBLIC),
    "GET /static/<path:filename>": row(PUBLIC),
    "GET /tra-cuu": row(PUBLIC),
    "POST /ngon-ngu/<code>": row(PUBLIC, params={"code": "vi"}),
    "GET /thong-ke": row(PUBLIC),
    "GET /du-lieu-mo": row(PUBLIC),
    "GET /du-lieu-mo/<name>.<fmt>": row(PUBLIC),
    "GET /kien-nghi": row(PUBLIC),
    "GET /kien-nghi/<code>": row(PUBLIC),
    "GET /kien-nghi/<code>/dong-y": row(PUBLIC),
    "POST /kien-nghi/<code>/dong-y": row(PUBLIC),
    "GET /kien-nghi/moi": row(PUBLIC),
    "POST /kien-nghi/moi": row(PUBLIC),
    "GET /kien-nghi/moi/gan-day": row(PUBLIC),
    "POST /kien-nghi/moi/kiem-tra": row(PUBLIC, query=lambda seed, role: {"field": "title"}),
    "GET /cua-toi/<token>": row(PRIVATE_LINK),
    "POST /cua-toi/<token>": row(PRIVATE_LINK),
    "POST /cua-toi/<token>/danh-gia": row(PRIVATE_LINK),
    "GET /cua-toi/<token>/du-lieu": row(PRIVATE_LINK),
    "GET /cua-toi/<token>/du-lieu.json": row(PRIVATE_LINK),
    "POST /cua-toi/<token>/du-lieu/xac-nhan": row(PRIVATE_LINK),
    "GET /cua-toi/<token>/lien-he": row(PRIVATE_LINK),
    "POST /cua-toi/<token>/lien-he": row(PRIVATE_LINK),
    "GET /quyen-rieng-tu": row(PUBLIC),
    "GET /anh/<int:photo_id>": row(PRIVATE_PHOTO, query=_photo_query),
    "GET /anh/<int:photo_id>/<size>": row(PRIVATE_PHOTO, query=_photo_query),
    "GET /ban-do/": row(PUBLIC),
    "GET /ban-do/du-lieu.geojson": row(PUBLIC),
    "GET /ban-do/khu-vuc.geojson": row(PUBLIC),
    "GET /ban-do/diem-den.geojson": row(PUBLIC),
    "GET /ban-do/tim-dia-chi": row(PUBLIC),
    "GET /ban-do/dia-chi": row(PUBLIC),
    "GET /hoi-nghi/": row(PUBLIC),
    "GET /hoi-nghi/<int:meeting_id>": row(PUBLIC),
    "GET /hoi-nghi/thong-bao/<int:notice_id>": row(PUBLIC),
    "GET /hoi-nghi/muc/<int:item_id>": row(PUBLIC),
    # E-mail links: the signed token is the key, whoever clicks it.
    "GET /theo-doi": row(PUBLIC),
    "POST /theo-doi": row(PUBLIC),
    "GET /theo-doi/da-gui": row(PUBLIC),
    "GET /theo-doi/xac-nhan/<token>": row(PUBLIC, params={"token": lambda s: s.confirm}),
    "GET /theo-doi/huy/<token>": row(PUBLIC, params={"token": lambda s: s.unsubscribe}),
    "POST /theo-doi/huy/<token>": row(PUBLIC, params={"token": lambda s: s.unsubscribe}),
    "GET /theo-doi/tinh-hinh/<token>": row(PUBLIC, params={"token": lambda s: s.evidence}),
    "GET /feeds/kien-nghi/<code>.atom": row(PUBLIC),
    "GET /feeds/to-dan-pho/<int:area_id>.atom": row(PUBLIC),
    # --- Open311 ----------------------------------------------------------------------
    "GET /open311/v2/discovery.<any(json,xml):fmt>": row(PUBLIC),
    "GET /open311/v2/services.<any(json,xml):fmt>": row(PUBLIC),
    "GET /open311/v2/services/<code>.<any(json,xml):fmt>": row(
        PUBLIC, params={"code": lambda s: s.category.slug}
    ),
    "GET /open311/v2/requests.<any(json,xml):fmt>": row(PUBLIC),
    "GET /open311/v2/requests/<code>.<any(json,xml):fmt>": row(PUBLIC),
    "POST /open311/v2/requests.<any(json,xml):fmt>": row(API_KEY),
    "GET /open311/v2/openapi.json": row(PUBLIC),
    "GET /open311/v2/tokens/<token>.<any(json,xml):fmt>": row(
        PUBLIC, params={"token": lambda s: s.open311_token}
    ),
    # --- logging in and out -----------------------------------------------------------
    "GET /dang-nhap": row(PUBLIC),
    "POST /dang-nhap": row(PUBLIC),
    "POST /dang-xuat": row(PUBLIC),
    # --- staff: petitions -------------------------------------------------------------
    "GET /quan-ly/": row(STAFF),
    "GET /quan-ly/kien-nghi/<code>": row(ASSIGNED),
    "POST /quan-ly/kien-nghi/<code>/<action>": row(ACTORS),
    "POST /quan-ly/kien-nghi/<code>/anh/<int:photo_id>": row(EDITORS),
    "POST /quan-ly/kien-nghi/<code>/muc": row({**EDITORS}, data={"item_id": lambda s: s.item.id}),
    "POST /quan-ly/kien-nghi/<code>/nhom": row(EDITORS),
    # --- staff: meetings and notices --------------------------------------------------
    "GET /hoi-nghi/moi": row(EDITORS),
    "POST /hoi-nghi/moi": row(EDITORS),
    "GET /hoi-nghi/<int:meeting_id>/sua": row(EDITORS),
    "POST /hoi-nghi/<int:meeting_id>/sua": row(EDITORS),
    "GET /hoi-nghi/<int:meeting_id>/kien-nghi": row(EDITORS),
    "POST /hoi-nghi/<int:meeting_id>/kien-nghi": row(EDITORS),
    "GET /hoi-nghi/thong-bao/nhap": row(EDITORS),
    "POST /hoi-nghi/thong-bao/nhap": row(EDITORS),
    "POST /hoi-nghi/thong-bao/xem-lai": row(EDITORS),
    "POST /hoi-nghi/muc/<int:item_id>/cap-nhat": row(EDITORS),
    "POST /hoi-nghi/muc/<int:item_id>/lien-ket": row(EDITORS),
    "POST /hoi-nghi/muc/<int:item_id>/bo-lien-ket/<code>": row(EDITORS),
    "POST /hoi-nghi/muc/<int:item_id>/giao-don-vi": row(EDITORS),
    "GET /hoi-nghi/muc/tim": row(STAFF),
    "GET /bao-cao": row(STAFF),
    "GET /bao-cao.docx": row(STAFF),
    "GET /bao-cao.xlsx": row(STAFF),
    # --- staff: monitoring ------------------------------------------------------------
    "GET /giam-sat": row(STAFF),
    "GET /giam-sat.xlsx": row(STAFF),
    "POST /giam-sat/y-kien": row(SUPERVISORS),
    "GET /quan-ly/lich": row(ADMIN),
    "POST /quan-ly/lich": row(ADMIN),
    "POST /quan-ly/lich/<day>/xoa": row(ADMIN),
    # --- admin ------------------------------------------------------------------------
    "GET /quan-ly/thu-di": row(ADMIN),
    "POST /quan-ly/thu-di/<int:notification_id>/gui-lai": row(ADMIN),
    "GET /quan-ly/to-dan-pho/": row(ADMIN),
    "POST /quan-ly/to-dan-pho/": row(ADMIN),
    "POST /quan-ly/to-dan-pho/gan-lai": row(EDITORS),
    "GET /quan-ly/to-dan-pho/dia-danh": row(ADMIN),
    "POST /quan-ly/to-dan-pho/dia-danh": row(ADMIN),
    "POST /quan-ly/to-dan-pho/dia-danh/<int:place_id>/xoa": row(ADMIN),
    "GET /quan-ly/khoa-api/": row(ADMIN),
    "POST /quan-ly/khoa-api/": row(ADMIN),
    "POST /quan-ly/khoa-api/<int:client_id>/thu-hoi": row(ADMIN),
    # Personal data: the audit log, and one person's data (export, erasure).
    "GET /quan-ly/nhat-ky-du-lieu": row(ADMIN),
    "GET /quan-ly/nhat-ky-du-lieu.csv": row(ADMIN),
    "GET /quan-ly/du-lieu-ca-nhan": row(ADMIN),
    "POST /quan-ly/du-lieu-ca-nhan": row(ADMIN),
}


# --- the URL map --------------------------------------------------------------------------


def routes(app) -> dict[str, object]:
    """``"METHOD /rule"`` → rule, for every rule and method (HEAD and OPTIONS aside)."""
    found = {}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found[f"{method} {rule.rule}"] = rule
    return found


def test_every_route_has_a_row_in_the_matrix(tmp_path):
    present = routes(make_app("sqlite://", tmp_path))
    missing = sorted(set(present) - set(RULES))
    assert not missing, (
        "Routes without a row in tests/security/test_authorization_matrix.py RULES "
        "(say who may use them): "
        + "; ".join(f"{key} (endpoint {present[key].endpoint})" for key in missing)
    )
    stale = sorted(set(RULES) - set(present))
    assert not stale, f"Rows for routes that no longer exist: {stale}"


# --- the seeded world -------------------------------------------------------------------


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(out, format="JPEG")
    return out.getvalue()


def seed_world(world) -> SimpleNamespace:
    stored = photos.store_all([photos.process(_jpeg(), "anh.jpg")])
    petition = factories.file(
        world, petitioner_name="Nguyễn Văn An", petitioner_email="an@example.vn", photos=stored
    )
    factories.assign(world, petition)
    meeting = Meeting(
        ward=world.ward,
        kind=MeetingKind.DIALOGUE,
        title="Hội nghị tiếp xúc, đối thoại năm 2026",
        held_on=date(2026, 9, 15),
        place="Hội trường UBND phường",
    )
    notice = ConclusionNotice(
        meeting=meeting,
        number="15-TB/ĐU",
        issued_on=date(2026, 9, 20),
        title="Kết luận hội nghị",
        full_text="…",
    )
    item = NoticeItem(notice=notice, ref="1.", position=0, text="Xử lý điểm rác ngõ 12.")
    item.units.append(NoticeItemUnit(unit=world.units["infra"], role=AssignmentRole.LEAD))
    db.session.add_all([meeting, notice, item])
    petition.notice_items.append(item)
    place = save_place(
        world.ward,
        name="Chợ Dương Nội",
        kind=PlaceKind.LANDMARK,
        latitude=factories.INSIDE_WEST[0],
        longitude=factories.INSIDE_WEST[1],
    )
    override = monitoring.set_override(date(2026, 12, 26), True, "Làm bù")
    follow = notifications.request_follow("theo-doi@example.vn", petition=petition)
    client = ApiClient(name="Ứng dụng thành phố", key_prefix="kn311_abcdef", key_hash="0" * 64)
    db.session.add(client)
    db.session.add(Open311Token(token="tok-" + "a" * 20, client=client, petition=petition))
    db.session.commit()
    notification = db.session.scalars(db.select(Notification)).first()
    return SimpleNamespace(
        petition=petition,
        token=petition.private_token,
        photo=petition.photos[0],
        category=world.categories["ve-sinh-moi-truong"],
        meeting=meeting,
        notice=notice,
        item=item,
        area=world.west,
        place=place,
        day=override.day,
        notification=notification,
        api_client=client,
        confirm=notifications.confirm_token(follow),
        unsubscribe=notifications.unsubscribe_token(f"follow:{follow.id}", follow.email),
        evidence=notifications.evidence_token(follow, True),
        open311_token="tok-" + "a" * 20,
    )


def default_params(seed, role: str) -> dict:
    """URL parameters by name; a row's ``params`` override them."""
    return {
        "code": seed.petition.code,
        # Only the resident holds the real private link.
        "token": seed.token if role == "resident" else "ma-tu-doan-" + "x" * 22,
        "photo_id": seed.photo.id,
        "size": "nho",
        "meeting_id": seed.meeting.id,
        "notice_id": seed.notice.id,
        "item_id": seed.item.id,
        "area_id": seed.area.id,
        "place_id": seed.place.id,
        "day": seed.day.isoformat(),
        "notification_id": seed.notification.id,
        "client_id": seed.api_client.id,
        "action": "update",
        "name": "kien-nghi",
        "fmt": "json",
        "filename": "css/portal.css",
    }


def build_url(key: str, rule, seed, role: str) -> str:
    spec = RULES[key]
    values = default_params(seed, role)
    for name, value in spec.params.items():
        values[name] = value(seed) if callable(value) else value
    missing = rule.arguments - set(values)
    assert not missing, f"{key}: no value for {sorted(missing)}; add it to default_params"
    _domain, path = rule.build({k: v for k, v in values.items() if k in rule.arguments})
    query = spec.query(seed, role) if spec.query else {}
    return path + ("?" + urlencode(query) if query else "")


def outcome(response) -> str:
    location = response.headers.get("Location", "") + response.headers.get("HX-Redirect", "")
    if response.status_code in (204, 302, 303) and "/dang-nhap" in location:
        return LOGIN
    if response.status_code in (401, 403, 404, 405) or response.status_code >= 500:
        return str(response.status_code)
    return OK


def _order(key: str) -> tuple:
    """GETs first (nothing changes), POSTs after, logging out last."""
    return (key == "POST /dang-xuat", not key.startswith("GET "), key)


def _log_in_as(client, world, role: str) -> None:
    if role in ("anonymous", "resident"):
        return
    if role == "other_ward_staff":
        # Logged in while the account was this ward's, then moved to another ward.
        user = create_user(
            email="chuyen-phuong@example.vn",
            full_name="Cán Bộ Đã Chuyển",
            password=factories.PASSWORD,
            role=Role.WARD_STAFF,
            ward=world.ward,
        )
        db.session.commit()
        email = user.email
    else:
        email = world.users[role].email
    response = client.post("/dang-nhap", data={"email": email, "password": factories.PASSWORD})
    assert response.status_code == 303, f"{role} could not log in"
    if role == "other_ward_staff":
        other = Ward(code="09887", name="Phường Kiến Hưng", province_code="01", province_name="HN")
        db.session.add(other)
        user.ward = other
        db.session.commit()


def _check_role(app, role: str) -> list[str]:
    world = factories.build_world()
    db.session.commit()
    seed = seed_world(world)
    client = app.test_client()
    _log_in_as(client, world, role)
    present = routes(app)
    wrong = []
    for key in sorted(set(present) & set(RULES), key=_order):
        spec = RULES[key]
        method = key.split(" ", 1)[0]
        url = build_url(key, present[key], seed, role)
        data = {k: (v(seed) if callable(v) else v) for k, v in spec.data.items()}
        response = client.open(url, method=method, data=data if method == "POST" else None)
        got, wanted = outcome(response), spec.outcomes[role]
        if got != wanted:
            wrong.append(f"{key} as {role}: expected {wanted}, got {got} ({method} {url})")
        db.session.rollback()
    return wrong


def test_authorization_matrix(app, database_url):
    """Each role on a world of its own (what one role's POSTs change stays with it)."""
    wrong = []
    for number, role in enumerate(ROLES):
        if number:
            db.session.remove()
            g.__dict__.clear()  # the ward of the world before, kept for this context
            app.extensions.pop("portal_ward_ids", None)  # and its id, kept by the app
            _reset_schema(app, database_url)
        wrong += _check_role(app, role)
    assert not wrong, "\n".join(wrong)


def test_every_petition_action_is_authorised_before_its_form_is_read(app, world):
    """An empty form for an action the role may not take is a 403, never a 422 form.

    The matrix above tries ``/quan-ly/kien-nghi/<code>/<action>`` with one action; the
    others must not let a role that may not take them see or submit their form.
    """
    from portal.petitions.forms import ACTION_FORMS
    from portal.petitions.services import may

    petition = factories.assign(world, factories.file(world))
    wrong = []
    for role in STAFF_ROLES:
        client = app.test_client()
        response = client.post(
            "/dang-nhap",
            data={"email": world.users[role].email, "password": factories.PASSWORD},
        )
        assert response.status_code == 303
        user = world.users[role]
        for action in ACTION_FORMS:
            response = client.post(f"/quan-ly/kien-nghi/{petition.code}/{action}", data={})
            if role == "other_unit_staff":
                wanted = {403, 404}
            elif may(user, action, petition):
                wanted = {422}
            else:
                wanted = {403}
            if response.status_code not in wanted:
                wrong.append(f"{role} {action}: {response.status_code}, expected {wanted}")
            db.session.rollback()
    assert not wrong, "\n".join(wrong)
