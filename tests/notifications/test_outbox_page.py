"""/quan-ly/thu-di: the queue, for admins only."""

from __future__ import annotations

from portal.extensions import db
from portal.notifications.models import NotificationStatus
from tests import factories
from tests.notifications.conftest import outbox


def test_admins_see_the_queue(client, auth, world):
    factories.file(world, petitioner_email="nguoidan@example.vn")
    [row] = outbox()
    row.status = NotificationStatus.FAILED
    row.attempts = 10
    row.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
    db.session.commit()

    auth.as_role(world, "admin")
    page = client.get("/quan-ly/thu-di")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for text in ("nguoidan@example.vn", row.subject, "Connection refused", "thất bại", ">10<"):
        assert text in body, text
    assert row.body_text.splitlines()[2] not in body  # no bodies
    assert (
        client.get("/quan-ly/thu-di?trang-thai=sent")
        .get_data(as_text=True)
        .count("nguoidan@example.vn")
        == 0
    )

    response = client.post(f"/quan-ly/thu-di/{row.id}/gui-lai")
    assert response.status_code == 303
    [row] = outbox()
    assert row.status == NotificationStatus.QUEUED and row.attempts == 0


def test_only_admins(client, auth, world):
    assert client.get("/quan-ly/thu-di").status_code == 302  # to the login
    for role in ("ward_staff", "unit_staff", "mttq"):
        auth.as_role(world, role)
        assert client.get("/quan-ly/thu-di").status_code == 403, role
        assert client.post("/quan-ly/thu-di/1/gui-lai").status_code == 403, role
        auth.logout()
