"""Another ward's objects: not found here (404 or 403), and never changed.

A city runs every ward on one database; each deployment serves one ward. An id in a URL
or a form may name another ward's meeting, notice item, place, API client, message or
petition: this ward's admin must not see it, nor change it.

``CASES`` has one row per rule of the URL map that has a path variable, generated from
the map like the authorization matrix (``test_authorization_matrix.py``): either the
kinds of object its variables name, or why it names none (and why what it names is
shared by the city). A rule with a path variable and no row fails the build, naming the
rule: add its row when you add the rule.

``test_another_wards_objects_are_not_found_and_stay`` seeds one of everything in this
ward and in another, logs in as this ward's admin, and requests every such rule (GET,
and POST where the rule takes it, with form data that would change the object) with the
other ward's objects (all of them, then each alone among this ward's): the answer must be
a refusal and the database (every row of every table) unchanged. The same GETs with this
ward's objects must not be refused, so that a refusal means the ward, not a broken URL.

``FORM_CASES`` does the same for ids that come in a form or a query string.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

import pytest
from PIL import Image

from portal.api import services as api
from portal.api.models import Open311Token
from portal.extensions import db
from portal.meetings.models import (
    ConclusionNotice,
    Meeting,
    MeetingKind,
    NoticeItem,
    NoticeItemUnit,
)
from portal.notifications import services as notifications
from portal.notifications.models import Notification, NotificationStatus
from portal.petitions import photos
from portal.petitions import services as petitions
from portal.petitions.models import AssignmentRole
from portal.timeutil import utcnow
from portal.units.models import PlaceKind
from portal.units.services import save_place
from tests import factories
from tests.conftest import make_app
from tests.security.test_authorization_matrix import routes

REFUSED = frozenset({403, 404})
# The follow links of e-mails are signed tokens: one that is not valid here (forged,
# expired, or another ward's) gets the "invalid link" page, 400.
INVALID_LINK = frozenset({400})


@dataclass(frozen=True)
class Objects:
    """The rule's path variables name these kinds of object (attributes of ``seed``)."""

    variables: dict[str, str]
    fixed: dict[str, str] = field(default_factory=dict)
    # Form data for a POST, from the seed of the ward whose objects are named: what would
    # change the object were it this ward's.
    data: Callable[[SimpleNamespace], dict] | None = None
    refused: frozenset[int] = REFUSED


@dataclass(frozen=True)
class NoObject:
    """The rule's path variables name no object of a ward; ``why`` says what they are."""

    why: str


def objects(*, fixed=None, data=None, refused=REFUSED, **variables) -> Objects:
    return Objects(variables, fixed or {}, data, refused)


FMT = {"fmt": "json"}

CASES: dict[str, Objects | NoObject] = {
    # --- not objects of a ward ------------------------------------------------------------
    "/static/<path:filename>": NoObject("a file of the application"),
    "/ngon-ngu/<code>": NoObject("a language code"),
    "/du-lieu-mo/<name>.<fmt>": NoObject(
        "a data set's name and format; its rows are this ward's (tests/test_ward_scope.py)"
    ),
    "/open311/v2/discovery.<any(json,xml):fmt>": NoObject("a format"),
    "/open311/v2/services.<any(json,xml):fmt>": NoObject("a format"),
    "/open311/v2/requests.<any(json,xml):fmt>": NoObject(
        "a format; the api_key of another ward's client is refused (FORM_CASES)"
    ),
    "/open311/v2/services/<code>.<any(json,xml):fmt>": NoObject(
        "a category: categories are the city's, shared by its wards"
    ),
    "/quan-ly/lich/<day>/xoa": NoObject(
        "a day of the working-day calendar, which is the country's (official day swaps), "
        "shared by the city's wards"
    ),
    # --- petitions, their photos and private links ----------------------------------------
    "/kien-nghi/<code>": objects(code="petition"),
    "/kien-nghi/<code>/dong-y": objects(
        code="petition",
        data=lambda s: {"name": "Người Lạ", "email": "nguoi-la@example.vn", "consent": "y"},
    ),
    "/feeds/kien-nghi/<code>.atom": objects(code="petition"),
    "/open311/v2/requests/<code>.<any(json,xml):fmt>": objects(code="petition", fixed=FMT),
    "/open311/v2/tokens/<token>.<any(json,xml):fmt>": objects(token="open311_token", fixed=FMT),
    "/anh/<int:photo_id>": objects(photo_id="photo"),
    "/anh/<int:photo_id>/<size>": objects(photo_id="photo", fixed={"size": "nho"}),
    "/cua-toi/<token>": objects(
        token="private_token", data=lambda s: {"text": "Thông tin bổ sung từ người lạ."}
    ),
    "/cua-toi/<token>/danh-gia": objects(
        token="private_token", data=lambda s: {"satisfied": "0", "comment": "Chưa xong."}
    ),
    "/cua-toi/<token>/du-lieu": objects(token="private_token"),
    "/cua-toi/<token>/du-lieu.json": objects(token="private_token"),
    "/cua-toi/<token>/du-lieu/xac-nhan": objects(token="private_token"),
    "/cua-toi/<token>/lien-he": objects(
        token="private_token",
        data=lambda s: {"name": "Tên Khác", "phone": "", "email": "", "address": ""},
    ),
    "/quan-ly/kien-nghi/<code>": objects(code="petition"),
    "/quan-ly/kien-nghi/<code>/<action>": objects(
        code="petition",
        fixed={"action": "update"},
        data=lambda s: {"update-public_note": "Cập nhật của phường khác."},
    ),
    "/quan-ly/kien-nghi/<code>/anh/<int:photo_id>": objects(
        code="petition", photo_id="photo", data=lambda s: {"publish": "0"}
    ),
    "/quan-ly/kien-nghi/<code>/muc": objects(code="petition", data=lambda s: {"item_id": s.item}),
    "/quan-ly/kien-nghi/<code>/nhom": objects(
        code="petition", data=lambda s: {"theme": "Nhóm của phường khác", "competence": "higher"}
    ),
    # --- following by e-mail --------------------------------------------------------------
    "/theo-doi/xac-nhan/<token>": objects(token="confirm", refused=INVALID_LINK),
    "/theo-doi/huy/<token>": objects(token="unsubscribe", refused=INVALID_LINK),
    "/theo-doi/tinh-hinh/<token>": objects(token="evidence", refused=INVALID_LINK),
    "/feeds/to-dan-pho/<int:area_id>.atom": objects(area_id="area"),
    # --- meetings, notices, items ---------------------------------------------------------
    "/hoi-nghi/<int:meeting_id>": objects(meeting_id="meeting"),
    "/hoi-nghi/<int:meeting_id>/sua": objects(
        meeting_id="meeting",
        data=lambda s: {"kind": "dialogue", "title": "Đổi tên", "held_on": "2026-09-16"},
    ),
    "/hoi-nghi/<int:meeting_id>/kien-nghi": objects(
        meeting_id="meeting",
        data=lambda s: {"rows-0-text": "Kiến nghị nêu tại hội nghị của phường khác."},
    ),
    "/hoi-nghi/thong-bao/<int:notice_id>": objects(notice_id="notice"),
    "/hoi-nghi/muc/<int:item_id>": objects(item_id="item"),
    "/hoi-nghi/muc/<int:item_id>/cap-nhat": objects(
        item_id="item",
        data=lambda s: {"status": "done", "progress": "100", "competence": "ward", "note": "Xong"},
    ),
    "/hoi-nghi/muc/<int:item_id>/lien-ket": objects(
        item_id="item", data=lambda s: {"code": s.waiting, "carry_units": "y"}
    ),
    "/hoi-nghi/muc/<int:item_id>/bo-lien-ket/<code>": objects(item_id="item", code="petition"),
    "/hoi-nghi/muc/<int:item_id>/giao-don-vi": objects(item_id="item"),
    # --- admin ----------------------------------------------------------------------------
    "/quan-ly/to-dan-pho/dia-danh/<int:place_id>/xoa": objects(place_id="place"),
    "/quan-ly/khoa-api/<int:client_id>/thu-hoi": objects(client_id="client"),
    "/quan-ly/thu-di/<int:notification_id>/gui-lai": objects(notification_id="notification"),
}


def rules_with_variables(app) -> dict[str, object]:
    return {rule.rule: rule for rule in app.url_map.iter_rules() if rule.arguments}


def test_every_rule_with_a_path_variable_has_a_row(tmp_path):
    present = rules_with_variables(make_app("sqlite://", tmp_path))
    missing = sorted(set(present) - set(CASES))
    assert not missing, (
        "Rules with a path variable but no row in tests/security/test_ward_objects.py CASES "
        "(say what object of a ward each variable names, or why none): "
        + "; ".join(f"{rule} (endpoint {present[rule].endpoint})" for rule in missing)
    )
    stale = sorted(set(CASES) - set(present))
    assert not stale, f"Rows for rules that no longer exist: {stale}"
    for key, case in CASES.items():
        if isinstance(case, Objects):
            named = set(case.variables) | set(case.fixed)
            assert named == set(present[key].arguments), f"{key}: variables {sorted(named)}"


# --- one of everything, in a ward -----------------------------------------------------------


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (40, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def seed(place: SimpleNamespace, unit_key: str) -> SimpleNamespace:
    """In the ward of ``place`` (a world of tests.factories): a petition assigned to a
    unit with a published photo, another still waiting, a meeting with a notice whose
    item both are linked to, a gazetteer entry, two follows (one to confirm, one
    confirmed), a failed message, an API client and an Open311 token."""
    code = place.ward.code
    stored = photos.store_all([photos.process(_jpeg(), "anh.jpg")])
    petition = factories.file(
        place,
        petitioner_name="Nguyễn Văn An",
        petitioner_email=f"an-{code}@example.vn",
        photos=stored,
    )
    factories.assign(place, petition, unit_key)
    petitions.set_photo_published(petition, place.users["ward_staff"], petition.photos[0], True)
    waiting = factories.file(place, title="Đèn đường hỏng ở ngõ 3")
    meeting = Meeting(
        ward=place.ward,
        kind=MeetingKind.DIALOGUE,
        title=f"Hội nghị đối thoại {code}",
        held_on=date(2026, 9, 15),
        place="Hội trường",
    )
    notice = ConclusionNotice(
        meeting=meeting, number=f"{code}-TB/ĐU", title="Kết luận", full_text="…"
    )
    item = NoticeItem(notice=notice, ref="1.", position=0, text="Xử lý điểm rác ngõ 12.")
    item.units.append(NoticeItemUnit(unit=place.units[unit_key], role=AssignmentRole.LEAD))
    db.session.add_all([meeting, notice, item])
    petition.notice_items.append(item)
    waiting.notice_items.append(item)
    lat, lon = getattr(place, "point", factories.INSIDE_WEST)
    gazetteer = save_place(
        place.ward, name="Chợ đầu mối", kind=PlaceKind.LANDMARK, latitude=lat, longitude=lon
    )
    pending = notifications.request_follow(f"cho-{code}@example.vn", petition=petition)
    confirmed = notifications.request_follow(f"theo-doi-{code}@example.vn", petition=petition)
    confirmed.confirmed_at = utcnow()
    db.session.flush()
    failed = db.session.scalars(
        db.select(Notification).where(Notification.recipient == pending.email)
    ).first()
    failed.status, failed.last_error = NotificationStatus.FAILED, "550 hộp thư đầy"
    client, _key = api.issue_key(f"Ứng dụng {code}", ward=place.ward)
    token = Open311Token(token=f"tok-{code}-" + "a" * 20, client=client, petition=petition)
    db.session.add(token)
    db.session.commit()
    return SimpleNamespace(
        petition=petition.code,
        waiting=waiting.code,
        photo=petition.photos[0].id,
        private_token=petition.private_token,
        meeting=meeting.id,
        notice=notice.id,
        item=item.id,
        area=place.areas[0].id,
        place=gazetteer.id,
        notification=failed.id,
        client=client.id,
        open311_token=token.token,
        confirm=notifications.confirm_token(pending),
        unsubscribe=notifications.unsubscribe_token(f"follow:{confirmed.id}", confirmed.email),
        evidence=notifications.evidence_token(confirmed, False),
    )


@pytest.fixture
def wards(app, world, client, auth):
    """This ward's seed and another's; this ward's admin logged in."""
    other = factories.build_other_ward(world)
    db.session.commit()
    ours, theirs = seed(world, "infra"), seed(other, "own")
    assert auth.as_role(world, "admin").status_code == 303
    return ours, theirs


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, as committed."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(table.select()))
            for table in db.metadata.sorted_tables
        }


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def _url(rule, case: Objects, seeds: dict[str, SimpleNamespace]) -> str:
    values = dict(case.fixed)
    for variable, kind in case.variables.items():
        values[variable] = getattr(seeds[variable], kind)
    _domain, path = rule.build(values)
    return path


def _variants(case: Objects, ours, theirs) -> list[dict[str, SimpleNamespace]]:
    """All variables from the other ward; with several, also each alone among ours."""
    variables = list(case.variables)
    found = [dict.fromkeys(variables, theirs)]
    if len(variables) > 1:
        for variable in variables:
            found.append({v: theirs if v == variable else ours for v in variables})
    return found


def test_another_wards_objects_are_not_found_and_stay(app, client, wards):
    ours, theirs = wards
    present = routes(app)
    wrong = []
    for key, case in sorted(CASES.items()):
        if not isinstance(case, Objects):
            continue
        for method in ("GET", "POST"):
            rule = present.get(f"{method} {key}")
            if rule is None:
                continue
            data = case.data(theirs) if case.data and method == "POST" else {}
            for seeds in _variants(case, ours, theirs):
                url = _url(rule, case, seeds)
                before = snapshot()
                response = client.open(url, method=method, data=data)
                after = snapshot()
                db.session.rollback()
                if response.status_code not in case.refused:
                    wrong.append(f"{method} {url}: {response.status_code}, not refused")
                if changed := changed_tables(before, after):
                    wrong.append(f"{method} {url} changed {', '.join(changed)}")
            if method == "GET":
                url = _url(rule, case, dict.fromkeys(case.variables, ours))
                response = client.get(url)
                db.session.rollback()
                if response.status_code in case.refused | REFUSED:
                    wrong.append(f"GET {url} (this ward's): {response.status_code}")
    assert not wrong, "\n".join(wrong)


# --- ids in forms and query strings --------------------------------------------------------


@dataclass(frozen=True)
class FormCase:
    """A request whose form or query string names another ward's object."""

    method: str
    url: Callable[[SimpleNamespace, SimpleNamespace], str]
    data: Callable[[SimpleNamespace, SimpleNamespace], dict] = lambda ours, theirs: {}
    # 404 where the id is hidden in the page; 422 where it is a choice the page offers
    # (another ward's is not among them); 303 with a message where a code is typed.
    refused: frozenset[int] = REFUSED


def _review_draft(unit_choice: str) -> str:
    return json.dumps(
        {
            "number": "99-TB/ĐU",
            "issued_on": None,
            "issuer": None,
            "title": "Kết luận",
            "meeting_date": None,
            "full_text": "1. Nạo vét mương.",
            "source_filename": None,
            "items": [
                {
                    "ref": "1.",
                    "text": "Nạo vét mương.",
                    "units": [
                        {"name": "Đơn vị", "text": "Đơn vị", "role": "lead", "choice": unit_choice}
                    ],
                    "persons": [],
                    "deadlines": [],
                    "recurrences": [],
                }
            ],
        },
        ensure_ascii=False,
    )


FORM_CASES: dict[str, FormCase] = {
    "remark on another ward's item": FormCase(
        "POST", lambda o, t: "/giam-sat/y-kien", lambda o, t: {"item_id": t.item, "remark": "Chậm."}
    ),
    "remark on another ward's unit": FormCase(
        "POST", lambda o, t: "/giam-sat/y-kien", lambda o, t: {"unit_id": t.unit, "remark": "Chậm."}
    ),
    "remark on another ward's petition": FormCase(
        "POST",
        lambda o, t: "/giam-sat/y-kien",
        lambda o, t: {"petition_code": t.petition, "remark": "Chậm."},
    ),
    "dashboard of another ward's meeting": FormCase(
        "GET", lambda o, t: f"/giam-sat?meeting={t.meeting}"
    ),
    "dashboard workbook of another ward's meeting": FormCase(
        "GET", lambda o, t: f"/giam-sat.xlsx?meeting={t.meeting}"
    ),
    "report of another ward's meeting": FormCase(
        "GET", lambda o, t: f"/bao-cao?meeting={t.meeting}"
    ),
    "report .docx of another ward's meeting": FormCase(
        "GET", lambda o, t: f"/bao-cao.docx?meeting={t.meeting}"
    ),
    "report .xlsx of another ward's meeting": FormCase(
        "GET", lambda o, t: f"/bao-cao.xlsx?meeting={t.meeting}"
    ),
    "linking our petition to another ward's item": FormCase(
        "POST",
        lambda o, t: f"/quan-ly/kien-nghi/{o.petition}/muc",
        lambda o, t: {"item_id": t.item, "carry_units": "1"},
    ),
    "saving a notice into another ward's meeting": FormCase(
        "POST",
        lambda o, t: "/hoi-nghi/thong-bao/xem-lai",
        lambda o, t: {"op": "save", "meeting_id": t.meeting, "draft": _review_draft("drop")},
    ),
    "giving a notice item to another ward's unit": FormCase(
        "POST",
        lambda o, t: "/hoi-nghi/thong-bao/xem-lai",
        lambda o, t: {"op": "save", "draft": _review_draft(str(t.unit))},
    ),
    "importing a notice into another ward's meeting": FormCase(
        "POST",
        lambda o, t: "/hoi-nghi/thong-bao/nhap",
        lambda o, t: {"meeting_id": t.meeting, "text": "1. Nạo vét mương thoát nước."},
        frozenset({404, 422}),
    ),
    "assigning our petition to another ward's unit": FormCase(
        "POST",
        lambda o, t: f"/quan-ly/kien-nghi/{o.waiting}/assign",
        lambda o, t: {"assign-lead_unit_id": t.unit, "assign-public_note": "Giao việc."},
        frozenset({404, 422}),
    ),
    "moving our petition to another ward's group": FormCase(
        "POST",
        lambda o, t: f"/quan-ly/kien-nghi/{o.waiting}/edit",
        lambda o, t: {"edit-title": "Đèn đường hỏng ở ngõ 3", "edit-area_id": t.area},
        frozenset({404, 422}),
    ),
    "merging our petition into another ward's": FormCase(
        "POST",
        lambda o, t: f"/quan-ly/kien-nghi/{o.waiting}/merge",
        lambda o, t: {"merge-into_code": t.petition},
        frozenset({404, 422}),
    ),
    "linking another ward's petition to our item": FormCase(
        "POST",
        lambda o, t: f"/hoi-nghi/muc/{o.item}/lien-ket",
        lambda o, t: {"code": t.petition, "carry_units": "y"},
        frozenset({404, 422}),
    ),
    "our petition repeating another ward's": FormCase(
        "POST",
        lambda o, t: f"/quan-ly/kien-nghi/{o.waiting}/nhom",
        lambda o, t: {"repeat_code": t.petition, "competence": "ward"},
        frozenset({303}),  # "Không tìm thấy kiến nghị có mã …", as for a mistyped code
    ),
    "petitions of our meeting in another ward's group": FormCase(
        "POST",
        lambda o, t: f"/hoi-nghi/{o.meeting}/kien-nghi",
        lambda o, t: {"rows-0-text": "Kiến nghị nêu tại hội nghị.", "rows-0-area_id": t.area},
        frozenset({404, 422}),
    ),
    "following another ward's group": FormCase(
        "POST",
        lambda o, t: "/theo-doi",
        lambda o, t: {"email": "ai-do@example.vn", "area_id": t.area},
        frozenset({404, 422}),
    ),
    "filing through Open311 with another ward's key": FormCase(
        "POST",
        lambda o, t: "/open311/v2/requests.json",
        lambda o, t: {
            "api_key": t.api_key,
            "service_code": "thoat-nuoc",
            "description": "Cống thoát nước bị tắc gây ngập.",
            "lat": str(factories.INSIDE_WEST[0]),
            "long": str(factories.INSIDE_WEST[1]),
        },
        frozenset({403}),
    ),
}


@pytest.fixture
def form_wards(app, world, client, auth):
    other = factories.build_other_ward(world)
    db.session.commit()
    ours, theirs = seed(world, "infra"), seed(other, "own")
    theirs.unit = other.unit.id
    _client, theirs.api_key = api.issue_key("Ứng dụng Hoàn Kiếm", ward=other.ward)
    db.session.commit()
    assert auth.as_role(world, "admin").status_code == 303
    return ours, theirs


def test_ids_of_another_ward_in_forms_are_refused_and_change_nothing(client, form_wards):
    ours, theirs = form_wards
    wrong = []
    for name, case in FORM_CASES.items():
        url = case.url(ours, theirs)
        before = snapshot()
        response = client.open(url, method=case.method, data=case.data(ours, theirs))
        after = snapshot()
        db.session.rollback()
        if response.status_code not in case.refused:
            wrong.append(f"{name}: {case.method} {url} answered {response.status_code}")
        if changed := changed_tables(before, after):
            wrong.append(f"{name}: {case.method} {url} changed {', '.join(changed)}")
    assert not wrong, "\n".join(wrong)
