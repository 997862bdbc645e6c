"""Markup typed into any field comes back as text, on every page that shows the field.

Each field gets its own payload, starting with a tag (``x01``, ``x02``…) that says which
field it came from. A page passes when it shows the tags it should (so the field really
is on that page) and never the markup itself.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.api.models import ApiClient
from portal.extensions import db
from portal.meetings import services as meetings
from portal.meetings.models import ConclusionNotice, Meeting, NoticeItem, NoticeItemUnit
from portal.petitions.models import AssignmentRole, Petition
from portal.units.models import Unit, UnitLevel
from tests import factories

RAW = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=")


def payload(tag: str) -> str:
    return f"{tag} \"'><script>alert(1)</script><img src=x onerror=alert(1)><svg onload=alert(1)>"


def assert_escaped(body: str, where: str) -> None:
    for raw in RAW:
        assert raw not in body, f"{where}: raw markup {raw!r} in the page"


def tags_in(body: str) -> set[str]:
    return set(re.findall(r"\bx\d\d\b", body))


def login(client, user):
    response = client.post("/dang-nhap", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 303
    return response


def act(client, petition, action, **fields):
    db.session.refresh(petition)
    data = {f"{action}-version": petition.version}
    data.update({f"{action}-{k}": v for k, v in fields.items()})
    response = client.post(f"/quan-ly/kien-nghi/{petition.code}/{action}", data=data)
    assert response.status_code == 303, (action, response.get_data(as_text=True)[:3000])


def _file(client, world, **fields) -> Petition:
    lat, lon = factories.INSIDE_WEST
    data = {
        "category_id": world.categories["ve-sinh-moi-truong"].id,
        "latitude": lat,
        "longitude": lon,
        **fields,
    }
    response = client.post("/kien-nghi/moi", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    token = re.search(r"/cua-toi/([^?]+)", response.headers["Location"]).group(1)
    return db.session.scalar(select(Petition).where(Petition.private_token == token))


@pytest.fixture
def hostile(app, world):
    """Every text field that some page shows, filled with markup through its own form."""
    resident = app.test_client()
    staff = world.users["ward_staff"]
    staff.full_name = payload("x01")
    unit = Unit(name=payload("x02"), abbreviation="X", level=UnitLevel.WARD)
    db.session.add(unit)
    db.session.commit()

    a = _file(
        resident,
        world,
        title=payload("x03"),
        description=payload("x04"),
        address_text=payload("x05"),
        petitioner_name=payload("x06"),
        petitioner_phone="0912345678",
        petitioner_address=payload("x07"),
        show_name_publicly="y",
    )
    response = resident.post(
        f"/kien-nghi/{a.code}/dong-y",
        data={"cosign-name": payload("x08"), "cosign-email": "dongy@example.vn"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    response = resident.post(f"/cua-toi/{a.private_token}", data={"text": payload("x09")})
    assert response.status_code == 303

    ward = app.test_client()
    login(ward, staff)
    act(
        ward,
        a,
        "assign",
        lead_unit_id=unit.id,
        responsible_person=payload("x10"),
        roadmap=payload("x11"),
        public_note=payload("x12"),
        internal_note=payload("x13"),
    )
    act(ward, a, "update", public_note=payload("x14"), internal_note=payload("x15"))
    response = ward.post(
        f"/quan-ly/kien-nghi/{a.code}/nhom", data={"theme": payload("x16"), "competence": "ward"}
    )
    assert response.status_code == 303

    b = factories.file(world, title="Rác ở cổng chợ")
    act(ward, b, "reject", reason=payload("x17"))
    c = factories.file(world, title="Cống tắc trước nhà văn hoá")
    act(ward, c, "review", title=c.title, category_id=c.category_id)
    act(ward, c, "forward", to_body=payload("x18"))
    act(ward, c, "forward_reply", reply=payload("x19"))
    d = factories.assign(world, factories.file(world, title="Đèn đường hỏng ngõ 4"))
    act(ward, d, "cannot", reason=payload("x20"), recommendation=payload("x21"))
    e = factories.assign(world, factories.file(world, title="Ổ gà đầu ngõ 7"))
    act(ward, e, "resolve", public_note=payload("x22"))
    response = resident.post(
        f"/cua-toi/{e.private_token}/danh-gia", data={"satisfied": "0", "comment": payload("x23")}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]

    mttq = app.test_client()
    login(mttq, world.users["mttq"])
    response = mttq.post(
        "/giam-sat/y-kien",
        data={
            "petition_code": a.code,
            "remark": payload("x24"),
            "recommendation": payload("x25"),
            "is_public": "y",
        },
    )
    assert response.status_code == 303

    response = ward.post(
        "/hoi-nghi/moi",
        data={
            "kind": "dialogue",
            "title": payload("x26"),
            "held_on": "15/09/2026",
            "place": payload("x27"),
            "chair": payload("x28"),
            "participants": payload("x29"),
            "minutes": payload("x30"),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    meeting = db.session.scalar(select(Meeting))
    (raised,) = meetings.file_raised_at_meeting(
        meeting,
        staff,
        [
            meetings.RaisedRow(
                text=payload("x31"),
                raised_by=payload("x32"),
                title="Kiến nghị tại hội nghị",
                category=world.categories["thoat-nuoc"],
                area=world.west,
            )
        ],
    )
    notice = ConclusionNotice(
        meeting=meeting,
        number="x33<script>alert(1)</script>",  # at most 60 characters
        issued_on=date(2026, 9, 20),
        title=payload("x34"),
        full_text=payload("x34"),
    )
    item = NoticeItem(notice=notice, ref="1.", position=0, text=payload("x35"))
    item.units.append(NoticeItemUnit(unit=unit, role=AssignmentRole.LEAD))
    db.session.add_all([notice, item])
    db.session.commit()
    response = ward.post(
        f"/hoi-nghi/muc/{item.id}/cap-nhat",
        data={
            "status": "in_progress",
            "competence": "higher",
            "progress": "40",
            "note": payload("x36"),
            "roadmap": payload("x37"),
            "responsible_person": payload("x38"),
            "forwarded_to": payload("x39"),
            "higher_reply": payload("x40"),
            "outcome_note": payload("x41"),
            "recommendation": payload("x42"),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]

    admin = app.test_client()
    login(admin, world.users["admin"])
    lat, lon = factories.INSIDE_EAST
    response = admin.post(
        "/quan-ly/to-dan-pho/dia-danh",
        data={"name": payload("x43"), "kind": "landmark", "latitude": lat, "longitude": lon},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    response = admin.post(
        "/quan-ly/lich", data={"day": "26/12/2026", "kind": "working", "note": payload("x44")}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": payload("x45")},
                "geometry": world.west.boundary,
            }
        ],
    }
    response = admin.post(
        "/quan-ly/to-dan-pho/",
        data={
            "name_property": "name",
            "document": (io.BytesIO(json.dumps(geojson).encode()), "ranh-gioi.geojson"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code in (303, 422), response.get_data(as_text=True)[:2000]
    db.session.add(ApiClient(name=payload("x46"), key_prefix="kn311_xss", key_hash="1" * 64))
    db.session.commit()
    return {
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "e": e,
        "raised": raised,
        "meeting": meeting,
        "notice": notice,
        "item": item,
        "clients": {"resident": resident, "ward": ward, "mttq": mttq, "admin": admin},
    }


def pages(h) -> list[tuple[str, str, set[str]]]:
    """(who, url, tags that must show there)."""
    a, b, c, d, e = h["a"], h["b"], h["c"], h["d"], h["e"]
    item, notice, meeting = h["item"], h["notice"], h["meeting"]
    return [
        # Public pages, as anyone sees them.
        (
            "anonymous",
            f"/kien-nghi/{a.code}",
            {"x02", "x03", "x04", "x05", "x06", "x11", "x12", "x14", "x24", "x25"},
        ),
        ("anonymous", f"/kien-nghi/{b.code}", {"x17"}),
        ("anonymous", f"/kien-nghi/{c.code}", {"x18", "x19"}),
        ("anonymous", f"/kien-nghi/{d.code}", {"x20", "x21"}),
        ("anonymous", f"/kien-nghi/{e.code}", {"x22"}),
        ("anonymous", "/kien-nghi", {"x03"}),
        ("anonymous", "/kien-nghi?q=" + payload("x50"), {"x50"}),
        # Not found (404), saying which code was not found.
        ("anonymous", "/tra-cuu?ma=" + payload("x51"), {"x51"}),
        ("anonymous", "/kien-nghi/moi", {"x45"}),
        ("anonymous", "/ban-do/", {"x45"}),
        ("anonymous", "/thong-ke", set()),
        ("anonymous", "/hoi-nghi/", {"x26"}),
        ("anonymous", f"/hoi-nghi/{meeting.id}", {"x26", "x27", "x28", "x29"}),
        ("anonymous", f"/hoi-nghi/thong-bao/{notice.id}", {"x33", "x34", "x35"}),
        ("anonymous", f"/hoi-nghi/muc/{item.id}", {"x35", "x36", "x37", "x02"}),
        # The petitioner's own page.
        ("resident", f"/cua-toi/{a.private_token}", {"x03", "x04", "x06", "x07", "x09", "x12"}),
        # Staff pages.
        ("ward", "/quan-ly/", {"x03", "x02"}),
        ("ward", "/quan-ly/?q=" + payload("x52"), {"x52"}),
        (
            "ward",
            f"/quan-ly/kien-nghi/{a.code}",
            {
                "x01",
                "x02",
                "x03",
                "x04",
                "x05",
                "x06",
                "x07",
                "x08",
                "x09",
                "x10",
                "x11",
                "x12",
                "x13",
                "x14",
                "x15",
                "x16",
                "x24",
                "x25",
            },
        ),
        ("ward", f"/quan-ly/kien-nghi/{e.code}", {"x22", "x23"}),
        ("ward", f"/hoi-nghi/{meeting.id}", {"x30"}),
        ("ward", f"/quan-ly/kien-nghi/{h['raised'].code}", {"x31"}),
        ("ward", f"/hoi-nghi/muc/{item.id}", {"x38", "x39", "x40", "x41", "x42"}),
        ("ward", "/giam-sat", {"x02"}),
        ("ward", "/bao-cao", {"x03", "x32"}),
        ("admin", "/quan-ly/to-dan-pho/", {"x45"}),
        ("admin", "/quan-ly/to-dan-pho/dia-danh", {"x43"}),
        ("admin", "/quan-ly/lich", {"x44"}),
        ("admin", "/quan-ly/khoa-api/", {"x46"}),
    ]


def test_every_text_field_is_shown_escaped(app, world, hostile):
    clients = {**hostile["clients"], "anonymous": app.test_client()}
    problems = []
    for who, url, wanted in pages(hostile):
        response = clients[who].get(url)
        body = response.get_data(as_text=True)
        where = f"{url} as {who}"
        if response.status_code != (404 if url.startswith("/tra-cuu") else 200):
            problems.append(f"{where}: {response.status_code}")
            continue
        for raw in RAW:
            if raw in body:
                problems.append(f"{where}: raw markup {raw!r}")
        if not wanted <= tags_in(body):
            problems.append(f"{where}: fields not shown: {sorted(wanted - tags_in(body))}")
    assert not problems, "\n".join(problems)
    # The same fields, in what machines read (built once: the world is slow to make).
    machine_outputs_carry_markup_as_data(app, world, hostile)


def machine_outputs_carry_markup_as_data(app, world, hostile):
    """JSON is served as JSON (never sniffed as HTML), XML and feeds escape it."""
    client = app.test_client()
    a = hostile["a"]
    for url in (
        "/ban-do/du-lieu.geojson",
        "/ban-do/khu-vuc.geojson",
        f"/open311/v2/requests/{a.code}.json",
        "/du-lieu-mo/kien-nghi.json",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "json" in response.mimetype, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for url in (
        f"/open311/v2/requests/{a.code}.xml",
        f"/feeds/kien-nghi/{a.code}.atom",
        f"/feeds/to-dan-pho/{world.west.id}.atom",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert_escaped(body, url)
        assert tags_in(body) & {"x03", "x04", "x05"}, url
    csv = client.get("/du-lieu-mo/kien-nghi.csv")
    assert csv.mimetype == "text/csv" and "x03" in csv.get_data(as_text=True)


def test_flash_messages_escape_what_they_quote(app, world):
    client = app.test_client()
    user = world.users["mttq"]
    user.full_name = payload("x60")
    db.session.commit()
    response = client.post(
        "/dang-nhap",
        data={"email": user.email, "password": factories.PASSWORD},
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert "x60" in body
    assert_escaped(body, "the greeting after login")
