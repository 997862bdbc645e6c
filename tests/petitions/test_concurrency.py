"""Two officers at once, and many residents filing at once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db
from portal.petitions import services
from portal.petitions.models import Petition, Status
from tests import factories


def test_codes_unique_under_parallel_inserts(app, world, backend):
    if backend != "postgresql":
        pytest.skip("SQLite serialises every writer; the race only exists on PostgreSQL")
    ward_id = world.ward.id
    category_id = world.categories["thoat-nuoc"].id
    codes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(5):
                    ward = db.session.get(type(world.ward), ward_id)
                    category = db.session.get(type(world.categories["thoat-nuoc"]), category_id)
                    petition = services.file_petition(
                        ward,
                        services.Filing(
                            category=category,
                            title="Cống thoát nước bị tắc",
                            description="Ngập khi mưa to",
                            latitude=factories.INSIDE_EAST[0],
                            longitude=factories.INSIDE_EAST[1],
                        ),
                    )
                    db.session.commit()
                    codes.append(petition.code)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(codes) == 40
    assert len(set(codes)) == 40
    numbers = sorted(int(code[-5:]) for code in codes)
    assert numbers == list(range(1, 41))


def test_second_writer_on_same_version_is_stopped_by_the_database(app, world):
    petition = factories.file(world)
    staff_id = world.users["ward_staff"].id
    with Session(db.engine) as first, Session(db.engine) as second:
        mine = first.get(Petition, petition.id)
        theirs = second.get(Petition, petition.id)
        mine.title = "Tiêu đề của cán bộ thứ nhất"
        mine.version += 1
        first.commit()
        theirs.title = "Tiêu đề của cán bộ thứ hai"
        theirs.version += 1
        with pytest.raises(StaleDataError):
            second.commit()
    db.session.expire_all()
    assert db.session.get(Petition, petition.id).title == "Tiêu đề của cán bộ thứ nhất"
    assert staff_id


def test_conflict_over_http_shows_what_changed_and_keeps_both(client, auth, world):
    petition = factories.file(world)
    auth.as_role(world, "ward_staff")
    seen = petition.version
    first = client.post(
        f"/quan-ly/kien-nghi/{petition.code}/review",
        data={
            "review-version": seen,
            "review-title": petition.title,
            "review-public_note": "Đã tiếp nhận, đang xem xét",
        },
    )
    assert first.status_code == 303
    second = client.post(
        f"/quan-ly/kien-nghi/{petition.code}/reject",
        data={"reject-version": seen, "reject-reason": "Không thuộc thẩm quyền"},
    )
    assert second.status_code == 409
    body = second.get_data(as_text=True)
    assert "vừa được người khác cập nhật" in body
    assert "đang xem xét" in body  # what changed
    assert "Không thuộc thẩm quyền" in body  # the officer's text is still in the form
    db.session.expire_all()
    current = db.session.scalar(select(Petition).where(Petition.id == petition.id))
    assert current.status == Status.REVIEWING
