"""Atom feeds: valid, complete, and without anyone's personal data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from portal.extensions import db
from portal.petitions import services
from tests import factories

ATOM = "{http://www.w3.org/2005/Atom}"
PETITIONER = {
    "petitioner_name": "Nguyễn Thị Riêngtư",
    "petitioner_phone": "0912345678",
    "petitioner_email": "rieng.tu@example.vn",
    "petitioner_address": "Số 99 ngõ Bí Mật",
}
ADDED = "Gọi tôi theo số 0987654321 nhé"
INTERNAL = "Ghi chú nội bộ: chưa báo lãnh đạo"
PRIVATE = [*PETITIONER.values(), ADDED, "0987654321", INTERNAL, "Cán Bộ Phường", "Người Phụ Trách"]


def parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    body = response.get_data(as_text=True)
    leaked = [v for v in PRIVATE if v in body]
    assert not leaked, f"the feed shows {leaked}"
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{tag}") is not None, tag
    assert root.find(f"{ATOM}author/{ATOM}name").text
    rels = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert rels["self"].endswith(".atom") and rels["alternate"]
    for entry in root.findall(f"{ATOM}entry"):
        for tag in ("id", "title", "updated", "content"):
            element = entry.find(f"{ATOM}{tag}")
            assert element is not None and element.text, tag
        assert entry.find(f"{ATOM}link").get("href")
        assert entry.find(f"{ATOM}updated").text.endswith("Z")
    return root


def busy_petition(world):
    petition = factories.file(world, **PETITIONER)
    services.assign(
        petition,
        world.users["ward_staff"],
        services.AssignmentPlan(
            lead_unit=world.units["infra"], responsible_person="Người Phụ Trách"
        ),
        internal_note=INTERNAL,
    )
    services.post_update(
        petition, world.users["unit_staff"], public_note="Đã khảo sát.", internal_note=INTERNAL
    )
    db.session.commit()
    services.add_information(petition, ADDED, [])
    db.session.commit()
    return petition


def test_petition_feed(client, world):
    petition = busy_petition(world)
    root = parse(client.get(f"/feeds/kien-nghi/{petition.code}.atom"))
    assert petition.code in root.find(f"{ATOM}title").text
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == len(petition.public_events) == 4
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == 4 and all(i.startswith("tag:") for i in ids)
    contents = " ".join(e.find(f"{ATOM}content").text for e in entries)
    assert "Đã khảo sát." in contents
    assert world.units["infra"].name in contents
    assert entries[0].find(f"{ATOM}link").get("href").endswith(f"/kien-nghi/{petition.code}")
    # The newest first; the feed is as new as its newest entry.
    assert root.find(f"{ATOM}updated").text == entries[0].find(f"{ATOM}updated").text


def test_area_feed_has_new_petitions_and_status_changes_of_the_area_only(client, world):
    west = busy_petition(world)
    east = factories.file(world, point=factories.INSIDE_EAST, title="Đèn đường hỏng ở ngõ 5")
    root = parse(client.get(f"/feeds/to-dan-pho/{world.west.id}.atom"))
    assert root.find(f"{ATOM}title").text == world.west.name
    titles = [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]
    # filed, assigned (received → assigned), in progress (assigned → in progress)
    assert len(titles) == 3
    assert all(west.code in t for t in titles)
    assert not any(east.code in t for t in titles)
    parse(client.get(f"/feeds/to-dan-pho/{world.east.id}.atom"))


def test_feed_entry_ids_agree_between_feeds(client, world):
    petition = busy_petition(world)
    own = parse(client.get(f"/feeds/kien-nghi/{petition.code}.atom"))
    area = parse(client.get(f"/feeds/to-dan-pho/{world.west.id}.atom"))
    own_ids = {e.find(f"{ATOM}id").text for e in own.findall(f"{ATOM}entry")}
    area_ids = {e.find(f"{ATOM}id").text for e in area.findall(f"{ATOM}entry")}
    assert area_ids <= own_ids


def test_unknown_feeds_are_404(client, world):
    assert client.get("/feeds/kien-nghi/KN-2020-99999.atom").status_code == 404
    assert client.get("/feeds/to-dan-pho/99999.atom").status_code == 404
