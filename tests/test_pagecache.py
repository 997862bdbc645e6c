"""The public pages' cache: served while the ward's data is unchanged, never stale."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select, update

from portal import pagecache
from portal.extensions import db
from portal.petitions import services
from portal.petitions.models import Petition, Status
from portal.units.models import WardRevision
from tests import factories
from tests.conftest import Auth


@pytest.fixture
def statements(app):
    """The SQL statements that read or write the petition table, as they run."""
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        if "petition" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def revision(world) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(WardRevision.revision).where(WardRevision.ward_id == world.ward.id)
    )


def test_a_second_visit_is_served_without_reading_petitions(client, world, statements):
    factories.file(world, title="Đèn đường hỏng trước cổng chợ")
    first = client.get("/kien-nghi")
    assert first.status_code == 200
    assert statements, "the first visit reads the petitions"
    statements.clear()
    second = client.get("/kien-nghi")
    assert second.status_code == 200
    assert statements == []
    assert "Đèn đường hỏng trước cổng chợ" in second.get_data(as_text=True)
    assert first.get_data(as_text=True) == second.get_data(as_text=True)
    assert "HX-Request" in second.headers["Vary"]


def test_a_new_petition_shows_at_once(client, world):
    factories.file(world, title="Cống thoát nước tắc ở ngõ 5")
    assert "Cống thoát nước tắc ở ngõ 5" in client.get("/kien-nghi").get_data(as_text=True)
    before = revision(world)
    factories.file(world, title="Cây đổ chắn lối đi tổ 3")
    assert revision(world) == before + 1
    page = client.get("/kien-nghi").get_data(as_text=True)
    assert "Cây đổ chắn lối đi tổ 3" in page
    assert "Cống thoát nước tắc ở ngõ 5" in page
    # Searches and the home page are as fresh.
    assert "Cây đổ chắn lối đi tổ 3" in client.get("/kien-nghi?q=cay+do").get_data(as_text=True)
    assert "Cây đổ chắn lối đi tổ 3" in client.get("/").get_data(as_text=True)


def test_a_status_change_by_staff_shows_at_once(client, world):
    petition = factories.file(world, title="Hố ga mất nắp")
    page = client.get(f"/kien-nghi?status={Status.REVIEWING.value}").get_data(as_text=True)
    assert "Hố ga mất nắp" not in page
    services.review(petition, world.users["ward_staff"])
    db.session.commit()
    page = client.get(f"/kien-nghi?status={Status.REVIEWING.value}").get_data(as_text=True)
    assert "Hố ga mất nắp" in page


def test_a_bulk_update_counts_as_a_change(client, world):
    factories.file(world, title="Vỉa hè bị lấn chiếm")
    assert "Vỉa hè bị lấn chiếm" in client.get("/kien-nghi").get_data(as_text=True)
    db.session.execute(update(Petition).values(title="Vỉa hè đã được trả lại"))
    db.session.commit()
    page = client.get("/kien-nghi").get_data(as_text=True)
    assert "Vỉa hè đã được trả lại" in page
    assert "Vỉa hè bị lấn chiếm" not in page


def test_writes_the_public_never_sees_leave_the_revision(client, world):
    factories.file(world)
    before = revision(world)
    # A refused sign-in writes the account's failure counter and the audit log only.
    Auth(app_client := client).login(world.users["ward_staff"].email, "sai mật khẩu")
    assert app_client.get("/kien-nghi").status_code == 200
    assert revision(world) == before


def test_signed_in_staff_always_get_a_live_page(app, client, world, statements):
    factories.file(world)
    Auth(client).as_role(world, "ward_staff")
    client.get("/kien-nghi")
    statements.clear()
    page = client.get("/kien-nghi")
    assert statements, "a signed-in visit is rendered, not served from the cache"
    assert world.users["ward_staff"].full_name in page.get_data(as_text=True)
    assert len(app.extensions["page_cache"]) == 0


def test_every_visitor_gets_their_own_csrf_token(app, world):
    app.config["WTF_CSRF_ENABLED"] = True
    factories.file(world)
    first, second = app.test_client(), app.test_client()
    token_pattern = re.compile(r'name="csrf_token" value="([^"]+)"')
    page_one = first.get("/kien-nghi").get_data(as_text=True)
    page_two = second.get("/kien-nghi").get_data(as_text=True)  # from the cache
    assert pagecache.CSRF_MARKER not in page_one + page_two
    token_one = token_pattern.search(page_one).group(1)
    token_two = token_pattern.search(page_two).group(1)
    assert token_one != token_two
    # The second visitor's language switch (a POST form on the cached page) works for them.
    switched = second.post("/ngon-ngu/en", data={"csrf_token": token_two, "next": "/kien-nghi"})
    assert switched.status_code == 303
    english = second.get("/kien-nghi").get_data(as_text=True)
    assert 'lang="en"' in english
    assert 'lang="vi"' in first.get("/kien-nghi").get_data(as_text=True)
    # Someone else's token is still refused.
    refused = first.post("/ngon-ngu/en", data={"csrf_token": token_two, "next": "/kien-nghi"})
    assert refused.status_code == 400


def test_the_htmx_fragment_and_the_page_are_kept_apart(client, world):
    factories.file(world, title="Ổ gà giữa đường")
    headers = {"HX-Request": "true", "HX-Target": "results"}
    fragment = client.get("/kien-nghi?q=o+ga", headers=headers).get_data(as_text=True)
    assert "Ổ gà giữa đường" in fragment
    assert "<html" not in fragment
    page = client.get("/kien-nghi?q=o+ga").get_data(as_text=True)
    assert "<html" in page
    assert "<html" not in client.get("/kien-nghi?q=o+ga", headers=headers).get_data(as_text=True)


def test_a_new_day_makes_a_new_page(client, world, statements, monkeypatch):
    # "Overdue" and due dates depend on the day: yesterday's page is not today's.
    factories.file(world)
    client.get("/kien-nghi")
    statements.clear()
    client.get("/kien-nghi")
    assert statements == []
    from datetime import date

    monkeypatch.setattr(pagecache, "local_today", lambda: date(2099, 1, 1))
    client.get("/kien-nghi")
    assert statements


def test_flashed_messages_are_shown_live_and_not_kept(app, client, world):
    factories.file(world)
    client.get("/kien-nghi")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Cảm ơn bạn đã theo dõi")]
    assert "Cảm ơn bạn đã theo dõi" in client.get("/kien-nghi").get_data(as_text=True)
    assert "Cảm ơn bạn đã theo dõi" not in client.get("/kien-nghi").get_data(as_text=True)
    assert "Cảm ơn bạn đã theo dõi" not in app.test_client().get("/kien-nghi").get_data(
        as_text=True
    )


@pytest.mark.parametrize("app_config", [{"PAGE_CACHE_MAX_BYTES": 0}])
def test_the_cache_can_be_turned_off(app, client, world, statements):
    assert app.extensions["page_cache"] is None
    factories.file(world)
    client.get("/kien-nghi")
    statements.clear()
    client.get("/kien-nghi")
    assert statements


def test_bad_filters_are_answered_and_not_kept(app, client, world):
    factories.file(world)
    response = client.get("/kien-nghi?page=abc&status=<script>")
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True)


def test_the_budget_drops_the_least_recently_used_page():
    cache = pagecache.PageCache(max_bytes=8000)

    def page(n: int) -> pagecache.Page:
        return pagecache.Page(200, (), "x" * 900, 900 + n * 0)

    for n in range(8):
        cache.put(("k", n), page(n))
    assert len(cache) == 8
    assert cache.get(("k", 0)) is not None  # now the most recently used
    cache.put(("k", 8), page(8))  # 9 × 900 > 8000: one must go
    assert cache.get(("k", 1)) is None
    assert cache.get(("k", 0)) is not None
    # A page bigger than an eighth of the budget is not kept at all.
    cache.put(("big",), pagecache.Page(200, (), "y" * 1200, 1200))
    assert cache.get(("big",)) is None


def test_plain_sql_writes_count_as_a_change(client, world, sql):
    factories.file(world, title="Biển báo bị che khuất")
    assert "Biển báo bị che khuất" in client.get("/kien-nghi").get_data(as_text=True)
    sql("UPDATE petition SET title = :title", title="Biển báo đã được dời")
    db.session.commit()
    assert "Biển báo đã được dời" in client.get("/kien-nghi").get_data(as_text=True)


def test_a_petition_page_is_kept_and_follows_its_timeline(client, world, statements):
    petition = factories.file(world, title="Cột điện nghiêng trước số 8")
    code = petition.code
    assert client.get(f"/kien-nghi/{code}").status_code == 200
    statements.clear()
    page = client.get(f"/kien-nghi/{code}").get_data(as_text=True)
    assert statements == []
    assert "0 người cũng gặp vấn đề này" in page
    services.co_sign(petition, name="Hàng xóm")
    db.session.commit()
    assert "1 người cũng gặp vấn đề này" in client.get(f"/kien-nghi/{code}").get_data(as_text=True)
    services.review(petition, world.users["ward_staff"], public_note="Phường đã cử người xuống xem")
    db.session.commit()
    page = client.get(f"/kien-nghi/{code}").get_data(as_text=True)
    assert "Phường đã cử người xuống xem" in page
    # A code typed loosely is redirected, an unknown one is a 404: neither is kept.
    assert client.get(f"/kien-nghi/{code.lower()}").status_code == 303
    assert client.get("/kien-nghi/KN-2026-99999").status_code == 404
    assert client.get("/kien-nghi/KN-2026-99999").status_code == 404


def test_co_signing_from_a_kept_petition_page_works_for_each_visitor(app, world):
    app.config["WTF_CSRF_ENABLED"] = True
    petition = factories.file(world)
    code = petition.code
    token_pattern = re.compile(r'name="csrf_token" value="([^"]+)"')
    for n, visitor in enumerate((app.test_client(), app.test_client()), start=1):
        page = visitor.get(f"/kien-nghi/{code}").get_data(as_text=True)
        token = token_pattern.search(page).group(1)
        answer = visitor.post(
            f"/kien-nghi/{code}/dong-y",
            data={"csrf_token": token, "cosign-name": f"Người thứ {n}"},
        )
        assert answer.status_code == 303
        assert f"{n} người cũng gặp vấn đề này" in visitor.get(f"/kien-nghi/{code}").get_data(
            as_text=True
        )


def test_a_change_of_every_wards_data_renews_every_wards_pages(app, client, world):
    """A day swap of every ward or a company serving every ward shows on every ward's
    pages: each ward's revision moves, not only this deployment's."""
    from datetime import date

    from portal.monitoring import services as monitoring
    from portal.units.models import Unit, UnitLevel

    other = factories.build_other_ward(world)
    factories.file(other, category=world.categories["thoat-nuoc"])
    db.session.commit()

    def revisions():
        db.session.expire_all()
        return dict(db.session.execute(select(WardRevision.ward_id, WardRevision.revision)).all())

    before = revisions()
    assert set(before) == {world.ward.id, other.ward.id}
    monitoring.set_override(date(2026, 12, 7), False, "Nghỉ", every_ward=True)
    db.session.commit()
    after = revisions()
    assert after == {ward: n + 1 for ward, n in before.items()}

    # This ward's own day: this ward's pages only.
    monitoring.set_override(date(2026, 12, 8), False, "Nghỉ")
    db.session.commit()
    assert revisions() == {
        world.ward.id: after[world.ward.id] + 1,
        other.ward.id: after[other.ward.id],
    }

    company = Unit(name="Công ty Môi trường Đô thị", level=UnitLevel.ENTERPRISE, ward_id=None)
    db.session.add(company)
    db.session.flush()
    company.ward_id = None  # a company of no ward, whatever the default
    db.session.commit()
    before = revisions()
    company.name = "Công ty TNHH MTV Môi trường Đô thị"
    db.session.commit()
    assert revisions() == {ward: n + 1 for ward, n in before.items()}
