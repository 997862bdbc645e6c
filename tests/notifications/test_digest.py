"""``flask portal digest --weekly``: counts and lists per account, once per ISO week."""

from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.notifications.digest import week_key
from portal.notifications.models import NotificationKind
from portal.petitions import services
from portal.timeutil import frozen_clock, local_today, utcnow
from tests import factories
from tests.notifications.conftest import link_in, outbox

K = NotificationKind


def run_digest(app):
    result = app.test_cli_runner().invoke(args=["portal", "digest", "--weekly"])
    assert result.exit_code == 0, result.output
    return result.output


def make_week(world):
    """An overdue petition of the infra unit, one new and resolved, one new for the waste firm."""
    with frozen_clock(utcnow() - timedelta(days=40)):
        old = factories.file(world, title="Cống thoát nước tắc lâu ngày", petitioner_name="Bí Mật")
        factories.assign(world, old, expected_on=local_today() + timedelta(days=10))
    done = factories.assign(world, factories.file(world, title="Đèn đường hỏng ngõ 3"))
    services.resolve(done, world.users["ward_staff"], public_note="Đã thay bóng.")
    db.session.commit()
    waste = factories.assign(world, factories.file(world, title="Rác tồn đọng chợ"), "waste")
    return old, done, waste


def test_weekly_digest_per_role_and_idempotent(app, world):
    old, done, waste = make_week(world)
    assert "5" in run_digest(app)
    digests = {n.recipient: n for n in outbox(kind=K.DIGEST)}
    assert set(digests) == {u.email for u in world.users.values()}
    week = week_key(local_today())

    ward = digests[world.users["ward_staff"].email]
    assert week in ward.subject
    assert "2 mới, 1 đã giải quyết, 1 quá hạn" in ward.subject
    for petition in (old, done, waste):
        assert petition.code in ward.body_text
        assert f"/quan-ly/kien-nghi/{petition.code}" in ward.body_html
    assert "Bí Mật" not in ward.body_text

    unit = digests[world.users["unit_staff"].email]  # infra: old (overdue) and done
    assert old.code in unit.body_text and done.code in unit.body_text
    assert waste.code not in unit.body_text
    assert "1 mới, 1 đã giải quyết, 1 quá hạn" in unit.subject

    firm = digests[world.users["other_unit_staff"].email]
    assert waste.code in firm.body_text and old.code not in firm.body_text

    # Twice in the same week: nothing new.
    assert "0" in run_digest(app)
    assert len(outbox(kind=K.DIGEST)) == 5
    # The next week: a new round, for those with something to read (the overdue petition
    # is the infra unit's; the firm's petition is no longer new).
    with frozen_clock(utcnow() + timedelta(days=7)):
        run_digest(app)
    later = {n.recipient for n in outbox(kind=K.DIGEST)[5:]}
    assert later == {world.users[r].email for r in ("ward_staff", "unit_staff", "mttq", "admin")}


def test_quiet_accounts_and_opted_out_accounts_get_no_digest(app, world, client):
    factories.assign(world, factories.file(world), "waste")
    run_digest(app)
    recipients = {n.recipient for n in outbox(kind=K.DIGEST)}
    assert world.users["unit_staff"].email not in recipients  # nothing for the infra unit
    assert world.users["mttq"].email in recipients

    digest = next(n for n in outbox(kind=K.DIGEST) if n.recipient == world.users["mttq"].email)
    assert client.get(link_in(digest.body_text, "/theo-doi/huy/")).status_code == 200
    with frozen_clock(utcnow() + timedelta(days=7)):
        run_digest(app)
    mttq = [n for n in outbox(kind=K.DIGEST) if n.recipient == world.users["mttq"].email]
    assert len(mttq) == 1


def test_inactive_staff_get_no_digest(app, world):
    world.users["admin"].active = False
    db.session.commit()
    make_week(world)
    run_digest(app)
    assert world.users["admin"].email not in {n.recipient for n in outbox(kind=K.DIGEST)}


def test_digest_needs_weekly(app):
    result = app.test_cli_runner().invoke(args=["portal", "digest"])
    assert result.exit_code != 0
