"""Followers say whether the problem is still there: evidence, counted, never who."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.notifications import services as notifications
from portal.notifications.models import Evidence, NotificationKind
from portal.petitions.models import Status
from tests import factories
from tests.notifications.conftest import link_in, outbox
from tests.notifications.test_recipients import follower

K = NotificationKind


def evidence_rows() -> list[Evidence]:
    db.session.expire_all()
    return list(db.session.scalars(select(Evidence).order_by(Evidence.id)))


def links(notification) -> tuple[str, str]:
    """The "still there" and "gone" links of a follower update, made relative."""
    for body in (notification.body_text, notification.body_html):
        assert "Vấn đề vẫn còn" in body and "Vấn đề đã hết" in body
    text = notification.body_text
    still = text.split("Vấn đề vẫn còn:", 1)[1]
    gone = text.split("Vấn đề đã hết:", 1)[1]
    return link_in(still, "/theo-doi/tinh-hinh/"), link_in(gone, "/theo-doi/tinh-hinh/")


def followed_update(world, email="nguoi.xem@example.vn"):
    petition = factories.file(world)
    follow = follower(email, petition=petition)
    factories.assign(world, petition)
    [update] = outbox(recipient=email)
    assert update.kind == K.FOLLOW_UPDATE
    return petition, follow, update


def test_follower_answers_and_a_later_answer_replaces_it(app, world, client):
    petition, follow, update = followed_update(world)
    still, gone = links(update)
    assert still != gone

    response = client.get(still)
    assert response.status_code == 200
    assert "Cảm ơn" in response.text and petition.code in response.text
    assert response.headers["Cache-Control"] == "no-store"
    [row] = evidence_rows()
    assert (row.petition_id, row.follow_id, row.still_there) == (petition.id, follow.id, True)

    assert client.get(gone).status_code == 200
    [row] = evidence_rows()  # replaced in its own row, not a second one
    assert row.still_there is False
    assert client.get(gone).status_code == 200
    assert len(evidence_rows()) == 1

    # Evidence, not a vote: the status is what staff set.
    db.session.refresh(petition)
    assert petition.status == Status.ASSIGNED


def test_tampered_and_foreign_tokens_are_refused(app, world, client):
    _petition, follow, update = followed_update(world)
    still, _gone = links(update)
    assert client.get(still[:-2] + ("AA" if not still.endswith("AA") else "BB")).status_code == 400
    assert client.get("/theo-doi/tinh-hinh/khong-hop-le").status_code == 400
    # An unsubscribe token (another salt) is not an answer.
    other = notifications.unsubscribe_token(f"follow:{follow.id}", follow.email)
    assert client.get(f"/theo-doi/tinh-hinh/{other}").status_code == 400
    assert evidence_rows() == []


def test_an_unconfirmed_follower_cannot_answer(app, world, client):
    petition = factories.file(world)
    pending = follower("chua.xac.nhan@example.vn", petition=petition, confirmed=False)
    with app.test_request_context():
        token = notifications.evidence_token(pending, True)
    assert client.get(f"/theo-doi/tinh-hinh/{token}").status_code == 400
    assert evidence_rows() == []


def test_counts_for_staff_and_public_without_identities(app, world, client, auth):
    petition = factories.file(world)
    follows = [follower(f"nguoi{i}@example.vn", petition=petition) for i in range(4)]
    factories.assign(world, petition)
    for follow, still_there in zip(follows, (True, True, True, False), strict=True):
        with app.test_request_context():
            token = notifications.evidence_token(follow, still_there)
        assert client.get(f"/theo-doi/tinh-hinh/{token}").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 4

    public = client.get(f"/kien-nghi/{petition.code}")
    assert public.status_code == 200
    assert "Người theo dõi cho biết: 3 vẫn còn, 1 đã hết" in public.text
    for follow in follows:
        assert follow.email not in public.text

    auth.as_role(world, "ward_staff")
    staff = client.get(f"/quan-ly/kien-nghi/{petition.code}")
    assert staff.status_code == 200
    assert "Người theo dõi cho biết: 3 vẫn còn, 1 đã hết" in staff.text
    for follow in follows:
        assert follow.email not in staff.text


def test_no_answers_no_line(app, world, client):
    petition = factories.assign(world, factories.file(world))
    assert "Người theo dõi cho biết" not in client.get(f"/kien-nghi/{petition.code}").text
