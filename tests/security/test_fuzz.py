"""Property-based fuzzing (Hypothesis): the filing form, the staff forms, the notice
parser and the importers never crash, whatever they are sent.

Runs are bounded (``max_examples``, no deadline, no example database on disk) so the
suite stays fast; a failure prints the smallest input that crashes.
"""

from __future__ import annotations

import json
from datetime import date

import jsonschema
import pytest
from flask import g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.meetings import documents, parser
from portal.meetings import services as meetings
from portal.meetings.models import ConclusionNotice, Meeting, MeetingKind, NoticeItem
from portal.petitions import photos
from portal.units import services as units
from tests import factories
from tests.conftest import make_app
from tests.meetings.test_parser import SCHEMA

FUZZ = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstu"
    "ùúủũụưừứửữựvxyỳýỷỹỵĐÂĂÊÔƠƯ0123456789 .,;:-+()/\n"
)
SPECIALS = [
    "",
    " ",
    "²",
    "٣",
    "𝟙",
    "1e309",
    "-0",
    "NaN",
    "inf",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202e",
    "\ufeff",
    "9" * 30,
    "a" * 6000,
    "\r\n\r\n",
    "31/02/2026",
    "2026-13-01",
    "../../etc/passwd",
]
text = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=60),
    st.text(VIETNAMESE, max_size=200),
    st.sampled_from(SPECIALS),
)


def ok(response, allowed=(200, 303, 400, 409, 422)) -> None:
    assert response.status_code in allowed, (
        response.status_code,
        response.get_data(as_text=True)[:2000],
    )


def _fresh_request_globals():
    g.__dict__.clear()
    db.session.rollback()


# --- the filing form --------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_the_filing_form_never_crashes(app, world, data):
    _fresh_request_globals()
    client = app.test_client()
    category = data.draw(
        st.one_of(st.sampled_from([str(c.id) for c in world.categories.values()]), text)
    )
    coordinate = st.one_of(
        st.sampled_from([str(factories.INSIDE_WEST[0]), str(factories.INSIDE_WEST[1])]),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        text,
    )
    form = {
        "category_id": category,
        "title": data.draw(st.one_of(st.just("Rác thải đầu ngõ 12"), text)),
        "description": data.draw(st.one_of(st.just("Rác đổ thành đống, bốc mùi."), text)),
        "latitude": data.draw(coordinate),
        "longitude": data.draw(coordinate),
        "area_id": data.draw(st.one_of(st.just(str(world.west.id)), text)),
        "address_text": data.draw(text),
        "petitioner_name": data.draw(text),
        "petitioner_phone": data.draw(st.one_of(st.just("0912 345 678"), text)),
        "petitioner_email": data.draw(st.one_of(st.just("an@example.vn"), text)),
        "petitioner_address": data.draw(text),
        "show_name_publicly": data.draw(st.sampled_from(["", "y", "on", "0"])),
    }
    ok(client.post("/kien-nghi/moi", data=form))
    ok(client.post("/kien-nghi/moi/kiem-tra?field=title", data=form))


# --- staff forms ------------------------------------------------------------------------


def _form_fields(app, form_class, prefix="") -> list[str]:
    with app.test_request_context():
        return [field.name for field in form_class(formdata=None, prefix=prefix)]


@pytest.fixture
def workplace(app, world):
    """A petition, a meeting with a notice item, and admin and MTTQ sessions."""
    petition = factories.assign(world, factories.file(world))
    meeting = Meeting(
        ward=world.ward, kind=MeetingKind.DIALOGUE, title="Hội nghị", held_on=date(2026, 9, 15)
    )
    notice = ConclusionNotice(meeting=meeting, title="Kết luận", full_text="…")
    item = NoticeItem(notice=notice, ref="1.", position=0, text="Xử lý rác ngõ 12.")
    db.session.add_all([meeting, notice, item])
    db.session.commit()
    clients = {}
    for role in ("admin", "mttq"):
        client = app.test_client()
        response = client.post(
            "/dang-nhap", data={"email": world.users[role].email, "password": factories.PASSWORD}
        )
        assert response.status_code == 303
        clients[role] = client
    return petition, meeting, item, clients


def _staff_forms(app, petition, meeting, item):
    from portal.meetings import forms as mf
    from portal.monitoring import forms as of
    from portal.petitions.forms import ACTION_FORMS
    from portal.units.forms import PlaceForm

    code = petition.code
    found = [
        (f"/quan-ly/kien-nghi/{code}/{action}", _form_fields(app, form, action), "admin")
        for action, form in ACTION_FORMS.items()
    ]
    found += [
        ("/hoi-nghi/moi", _form_fields(app, mf.MeetingForm), "admin"),
        (f"/hoi-nghi/{meeting.id}/sua", _form_fields(app, mf.MeetingForm), "admin"),
        (f"/hoi-nghi/muc/{item.id}/cap-nhat", _form_fields(app, mf.ItemUpdateForm), "admin"),
        (f"/hoi-nghi/muc/{item.id}/lien-ket", _form_fields(app, mf.LinkForm), "admin"),
        (f"/quan-ly/kien-nghi/{code}/nhom", _form_fields(app, mf.ThemeForm), "admin"),
        (f"/quan-ly/kien-nghi/{code}/muc", ["item_id", "unlink", "carry_units"], "admin"),
        (
            f"/hoi-nghi/{meeting.id}/kien-nghi",
            [
                f"rows-{i}-{f}"
                for i in range(2)
                for f in ("raised_by", "area_id", "category_id", "title", "text")
            ]
            + ["op"],
            "admin",
        ),
        ("/hoi-nghi/thong-bao/nhap", ["meeting_id", "text"], "admin"),
        ("/giam-sat/y-kien", _form_fields(app, of.RemarkForm), "mttq"),
        ("/quan-ly/lich", _form_fields(app, of.OverrideForm), "admin"),
        ("/quan-ly/to-dan-pho/dia-danh", _form_fields(app, PlaceForm), "admin"),
    ]
    return found


@FUZZ
@given(data=st.data())
def test_staff_forms_never_crash(app, world, workplace, data):
    _fresh_request_globals()
    petition, meeting, item, clients = workplace
    url, fields, role = data.draw(st.sampled_from(_staff_forms(app, petition, meeting, item)))
    form = {}
    for name in fields:
        if name.endswith("version"):
            db.session.refresh(petition)
            form[name] = data.draw(st.one_of(st.just(str(petition.version)), text))
        elif data.draw(st.booleans()):
            form[name] = data.draw(text)
    ok(clients[role].post(url, data=form), allowed=(200, 303, 400, 403, 404, 409, 422))


@FUZZ
@given(data=st.data())
def test_residents_forms_never_crash(app, world, workplace, data):
    _fresh_request_globals()
    petition = workplace[0]
    client = app.test_client()
    cosign = {f"cosign-{k}": data.draw(text) for k in ("name", "phone", "email")}
    ok(client.post(f"/kien-nghi/{petition.code}/dong-y", data=cosign))
    ok(client.post(f"/cua-toi/{petition.private_token}", data={"text": data.draw(text)}))
    rating = {"satisfied": data.draw(text), "comment": data.draw(text)}
    ok(client.post(f"/cua-toi/{petition.private_token}/danh-gia", data=rating))
    follow = {"email": data.draw(text), "ma": data.draw(text), "area_id": data.draw(text)}
    ok(client.post("/theo-doi", data=follow), allowed=(200, 303, 400, 404, 422))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "items",
                    "ref",
                    "text",
                    "units",
                    "title",
                    "name",
                    "choice",
                    "role",
                    "number",
                    "persons",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@FUZZ
@given(data=st.data())
def test_the_notice_review_never_crashes(app, world, workplace, data):
    """The review screen carries the draft as JSON in the form: any JSON, any edits."""
    _fresh_request_globals()
    _petition, meeting, _item, clients = workplace
    sample = (
        "THÔNG BÁO\nKết luận hội nghị\n1. Phòng Kinh tế, Hạ tầng và Đô thị xử lý rác ngõ 12 "
        "trước ngày 30/9/2026.\n2. Công an Phường kiểm tra hàng tuần.\n"
    )
    draft = meetings.draft_from_text(sample).to_dict()
    if data.draw(st.booleans()):
        draft = data.draw(JSON)
    form = {"draft": json.dumps(draft, ensure_ascii=False), "meeting_id": str(meeting.id)}
    for name in ("number", "issued_on", "issuer", "title", "meeting_date"):
        if data.draw(st.booleans()):
            form[name] = data.draw(text)
    for index in range(2):
        for field in ("ref", "text", "unit-0-choice", "unit-0-role"):
            if data.draw(st.booleans()):
                form[f"items-{index}-{field}"] = data.draw(
                    st.one_of(text, st.sampled_from(["new", "", "1", "lead", "support"]))
                )
    form["op"] = data.draw(
        st.one_of(
            st.sampled_from(["update", "save", "split:0", "merge:1", "delete:0", "split:9"]),
            text,
        )
    )
    ok(clients["admin"].post("/hoi-nghi/thong-bao/xem-lai", data=form))


# --- parsers and importers (no database) ------------------------------------------------


@pytest.fixture(scope="module")
def plain_app(tmp_path_factory):
    """Configuration and translations for the importers; they never touch the database."""
    app = make_app("sqlite://", tmp_path_factory.mktemp("fuzz"))
    with app.test_request_context():
        yield app


NOTICE_LINES = st.one_of(
    st.sampled_from(
        [
            "THÔNG BÁO",
            "Kết luận của Thường trực Đảng ủy tại hội nghị đối thoại",
            "Số 07-TB/BCĐ",
            "Dương Nội, ngày 21 tháng 6 năm 2024",
            "Ngày 21/6/2024, Đảng ủy phường tổ chức hội nghị",
            "I. KẾT QUẢ",
            "II.",
            "1. UBND Phường chỉ đạo xử lý điểm rác trước ngày 20/7/2024.",
            "2) Công an Phường tuần tra vào chiều thứ Sáu hàng tuần.",
            "(1). Giao đồng chí Ninh Thị Quỳnh theo dõi, dự kiến tháng 9/2024.",
            "a) Ủy ban MTTQ Phường giám sát; Định kỳ hàng tháng báo cáo.",
            "- Phòng Kinh tế, Hạ tầng và Đô thị phối hợp (Thời gian hoàn thành trước 30/8/2023)",
            "+ trong tháng 8 năm 2023",
            "• trước tháng 9/2024",
            "Ban Thường vụ Đảng ủy yêu cầu các đơn vị thực hiện./.",
            "Nơi nhận:",
            "T/M BAN THƯỜNG VỤ",
            "BÍ THƯ",
            "",
        ]
    ),
    st.text(VIETNAMESE + "IVX•*–", max_size=80),
)


@settings(max_examples=100, deadline=None, database=None)
@given(
    st.one_of(
        st.lists(NOTICE_LINES, max_size=25).map("\n".join),
        st.text(max_size=400),
    )
)
def test_the_notice_parser_always_returns_the_documented_shape(source):
    notice = parser.parse(source)
    result = notice.to_json()
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        result
    )
    refs = [item["ref"] for item in result["items"]]
    assert len(refs) == len(set(refs))
    assert isinstance(parser.missing_text(source, notice), list)
    for item in result["items"][:3]:
        assert set(parser.analyse_item(item["text"])) >= {"units", "deadlines"}


@settings(max_examples=60, deadline=None, database=None)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8")),
        st.sampled_from([b"PK\x03\x04" + b"\x00" * 40, b"\xd0\xcf\x11\xe0" + b"x" * 40]),
    ),
    name=st.one_of(
        st.sampled_from(["thong-bao.docx", "thong-bao.txt", "a.doc", "", "../../x.docx"]),
        st.text(max_size=40),
    ),
)
def test_notice_files_are_read_or_refused_with_a_message(plain_app, body, name):
    try:
        result = documents.read_text(body, name)
    except documents.DocumentError as error:
        assert error.message
    else:
        assert isinstance(result, str) and result.strip()


@settings(max_examples=60, deadline=None, database=None)
@given(raw=st.one_of(JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)))
def test_boundary_files_are_read_or_refused_with_a_message(plain_app, raw):
    try:
        result = units.parse_boundaries(raw, "name")
    except units.BoundaryImportError as error:
        assert error.problems and all(isinstance(p, str) for p in error.problems)
    else:
        assert isinstance(result, list)


@settings(max_examples=40, deadline=None, database=None)
@given(body=st.binary(max_size=400), name=st.text(max_size=40))
def test_photos_are_processed_or_refused_with_a_message(plain_app, body, name):
    try:
        photos.process(body, name)
    except photos.PhotoError as error:
        assert str(error.message)


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(text, st.text(st.sampled_from("kn-_ 0123456789²٣𝟙"), max_size=20)))
def test_any_typed_code_is_normalised_without_error(typed):
    """Codes are typed by residents in the lookup box and end up in URLs."""
    from portal.petitions.services import normalize_code

    assert isinstance(normalize_code(typed), str)
