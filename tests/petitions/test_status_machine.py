"""The status machine: every move appends one immutable event; wrong moves are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.petitions import services
from portal.petitions.models import (
    EventKind,
    ImmutableEventError,
    Outcome,
    PetitionEvent,
    Status,
)
from tests import factories


def events(petition):
    return db.session.scalars(
        select(PetitionEvent)
        .where(PetitionEvent.petition_id == petition.id)
        .order_by(PetitionEvent.id)
    ).all()


def test_filing_gives_code_token_area_and_first_event(world):
    petition = factories.file(world, point=factories.INSIDE_EAST)
    assert petition.code.startswith("KN-")
    assert len(petition.code.split("-")[2]) == 5
    assert petition.area == world.east
    assert petition.status == Status.RECEIVED
    assert len(petition.private_token) >= 32
    [event] = events(petition)
    assert event.kind == EventKind.FILED
    assert event.to_status == Status.RECEIVED
    assert event.actor_kind == "petitioner"


def test_codes_are_sequential(world):
    first = factories.file(world)
    second = factories.file(world)
    assert int(second.code[-5:]) == int(first.code[-5:]) + 1


def test_point_outside_ward_is_refused_with_a_message(world):
    with pytest.raises(services.PetitionError) as caught:
        factories.file(world, point=factories.OUTSIDE)
    assert "ngoài địa bàn" in str(caught.value.message)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PetitionEvent)) == 0


def test_without_point_an_area_is_required(world):
    filing = services.Filing(
        category=world.categories["thoat-nuoc"], title="Cống tắc", description="Ngập khi mưa to"
    )
    with pytest.raises(services.PetitionError) as caught:
        services.file_petition(world.ward, filing)
    assert caught.value.field == "area_id"
    filing.area = world.east
    assert services.file_petition(world.ward, filing).area == world.east


def test_full_life_with_events(world):
    staff = world.users["ward_staff"]
    unit_user = world.users["unit_staff"]
    petition = factories.file(world)
    services.review(petition, staff, category=world.categories["thoat-nuoc"])
    services.assign(
        petition,
        staff,
        services.AssignmentPlan(
            lead_unit=world.units["infra"],
            support_units=[world.units["waste"]],
            responsible_person="Đ/c Nguyễn Văn Hùng",
            roadmap="Khảo sát; nạo vét",
        ),
    )
    assert petition.status == Status.ASSIGNED
    services.post_update(petition, unit_user, public_note="Đã khảo sát hiện trạng")
    assert petition.status == Status.IN_PROGRESS
    services.resolve(petition, unit_user, public_note="Đã nạo vét xong")
    assert petition.status == Status.RESOLVED and petition.outcome == Outcome.DONE
    services.close(petition, staff)
    db.session.commit()
    moves = [(e.from_status, e.to_status) for e in events(petition) if e.kind == EventKind.STATUS]
    assert moves == [
        (Status.RECEIVED, Status.REVIEWING),
        (Status.REVIEWING, Status.ASSIGNED),
        (Status.ASSIGNED, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.RESOLVED),
        (Status.RESOLVED, Status.CLOSED),
    ]
    assert petition.version == len(events(petition))
    assert [e.petition_version for e in events(petition)] == list(range(1, petition.version + 1))


def test_invalid_transition_is_refused(world):
    petition = factories.file(world)
    staff = world.users["ward_staff"]
    with pytest.raises(services.TransitionError) as caught:
        services.resolve(petition, staff, public_note="xong")
    assert "trạng thái" in str(caught.value.message)
    with pytest.raises(services.TransitionError):
        services.change_status(petition, Status.CLOSED, actor=staff)
    assert petition.status == Status.RECEIVED


@pytest.mark.parametrize(
    ("action", "kwargs", "field"),
    [
        ("reject", {"reason": "  "}, "reason"),
        ("forward", {"to_body": ""}, "to_body"),
        ("merge", {"into": None}, "into_code"),
    ],
)
def test_required_reasons(world, action, kwargs, field):
    petition = factories.file(world)
    services.review(petition, world.users["ward_staff"])
    with pytest.raises(services.PetitionError) as caught:
        getattr(services, action)(petition, world.users["ward_staff"], **kwargs)
    assert caught.value.field == field
    assert petition.status == Status.REVIEWING


def test_cannot_resolve_needs_reason_and_recommendation(world):
    petition = factories.assign(world, factories.file(world))
    staff = world.users["ward_staff"]
    with pytest.raises(services.PetitionError) as caught:
        services.mark_cannot_resolve(petition, staff, reason="Không có kinh phí", recommendation="")
    assert caught.value.field == "recommendation"
    services.mark_cannot_resolve(
        petition, staff, reason="Không có kinh phí", recommendation="Đề nghị Thành phố hỗ trợ"
    )
    assert petition.status == Status.CANNOT_RESOLVE
    assert petition.outcome == Outcome.CANNOT
    assert petition.recommendation == "Đề nghị Thành phố hỗ trợ"


def test_assign_needs_lead_unit(world):
    petition = factories.file(world)
    with pytest.raises(services.PetitionError) as caught:
        services.assign(
            petition, world.users["ward_staff"], services.AssignmentPlan(lead_unit=None)
        )
    assert caught.value.field == "lead_unit_id"


def test_reassign_ends_previous_assignment_and_moves_access(world):
    petition = factories.assign(world, factories.file(world), "infra")
    assert services.can_see(world.users["unit_staff"], petition)
    factories.assign(world, petition, "waste")
    assert petition.status == Status.ASSIGNED
    assert [a.unit for a in petition.active_assignments] == [world.units["waste"]]
    assert not services.can_see(world.users["unit_staff"], petition)
    assert services.can_see(world.users["other_unit_staff"], petition)
    assert len(petition.assignments) == 2  # history kept


def test_forward_then_reply_then_continue(world):
    staff = world.users["ward_staff"]
    petition = factories.assign(world, factories.file(world))
    services.forward(petition, staff, to_body="Sở Xây dựng Hà Nội")
    assert petition.status == Status.FORWARDED and petition.forwarded_to == "Sở Xây dựng Hà Nội"
    services.record_forward_reply(
        petition, staff, reply="Sở đã bố trí vốn năm 2027", continue_at_ward=True
    )
    assert petition.forward_reply == "Sở đã bố trí vốn năm 2027"
    assert petition.status == Status.IN_PROGRESS


def test_merge_names_surviving_petition_on_both(world):
    staff = world.users["ward_staff"]
    survivor = factories.file(world)
    duplicate = factories.file(world)
    services.merge(duplicate, staff, into=survivor)
    db.session.commit()
    assert duplicate.status == Status.MERGED and duplicate.merged_into == survivor
    assert events(duplicate)[-1].data == {"into": survivor.code}
    assert events(survivor)[-1].data["merged"] == duplicate.code
    with pytest.raises(services.PetitionError):
        services.merge(survivor, staff, into=survivor)
    assert services.TRANSITIONS[Status.MERGED] == frozenset()


def test_reject_as_duplicate_names_the_other(world):
    staff = world.users["ward_staff"]
    first = factories.file(world)
    second = factories.file(world)
    services.reject(second, staff, reason="Trùng nội dung", duplicate_of=first)
    assert second.status == Status.REJECTED and second.duplicate_of == first


@pytest.mark.parametrize(
    ("status_path", "expected"),
    [
        ("resolved", Status.IN_PROGRESS),
        ("closed", Status.IN_PROGRESS),
        ("cannot", Status.REVIEWING),
        ("rejected", Status.REVIEWING),
    ],
)
def test_reopen(world, status_path, expected):
    staff = world.users["ward_staff"]
    petition = factories.file(world)
    if status_path == "rejected":
        services.reject(petition, staff, reason="Không thuộc thẩm quyền")
    else:
        factories.assign(world, petition)
        if status_path == "cannot":
            services.mark_cannot_resolve(petition, staff, reason="a", recommendation="b")
        else:
            services.resolve(petition, staff, public_note="xong")
            if status_path == "closed":
                services.close(petition, staff)
    with pytest.raises(services.PetitionError):
        services.reopen(petition, staff, reason="")
    services.reopen(petition, staff, reason="Người dân phản ánh chưa xong")
    assert petition.status == expected
    assert petition.outcome is None


def test_unit_staff_limits(world):
    petition = factories.assign(world, factories.file(world), "infra")
    own = world.users["unit_staff"]
    other = world.users["other_unit_staff"]
    assert services.available_actions(own, petition) == ["update", "resolve", "cannot"]
    with pytest.raises(services.NotAllowed):
        services.reject(petition, own, reason="x")
    with pytest.raises(services.NotAllowed):
        services.post_update(petition, other, public_note="x")
    with pytest.raises(services.NotAllowed):
        services.post_update(petition, world.users["mttq"], public_note="x")
    assert services.available_actions(world.users["mttq"], petition) == []


def test_events_are_append_only(world):
    petition = factories.file(world)
    [event] = events(petition)
    event.public_note = "sửa lịch sử"
    with pytest.raises(ImmutableEventError):
        db.session.flush()
    db.session.rollback()
    [event] = events(petition)
    db.session.delete(event)
    with pytest.raises(ImmutableEventError):
        db.session.flush()
    db.session.rollback()


def test_stale_version_is_a_conflict_listing_changes(world):
    staff = world.users["ward_staff"]
    petition = factories.file(world)
    seen = petition.version
    services.review(petition, staff, public_note="Đang xem xét", seen_version=seen)
    db.session.commit()
    with pytest.raises(services.ConflictError) as caught:
        services.reject(petition, staff, reason="Không hợp lệ", seen_version=seen)
    assert [e.to_status for e in caught.value.changes] == [Status.REVIEWING]
    assert petition.status == Status.REVIEWING


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("kn-2026-00042", "KN-2026-00042"),
        (" KN 2026 42 ", "KN-2026-00042"),
        ("kn202600042", "KN-2026-00042"),
        ("KN-2026-42", "KN-2026-00042"),
    ],
)
def test_normalize_code(text, code):
    assert services.normalize_code(text) == code


def test_event_time_is_when_it_happened_not_when_flushed(world):
    from datetime import datetime

    from portal.timeutil import frozen_clock

    petition = factories.file(world)
    moment = datetime(2026, 3, 2, 3, 0)
    with frozen_clock(moment):
        services.review(petition, world.users["ward_staff"])
    db.session.commit()  # flushed after the clock moved on
    assert events(petition)[-1].created_at == moment
