"""Query plans of the hot paths on PostgreSQL: no sequential scan of the petition table.

A city's database holds every ward's petitions. Here 24,000 petitions over 24 wards are
written straight into PostgreSQL and analysed; then the hot pages are requested as
residents and staff would, every statement the app sends that reads ``petition`` is
captured, and its EXPLAIN must not hold a ``Seq Scan`` on ``petition``: lookup by code,
the list by status ordered by date with LIMIT, search, the map's GeoJSON for a box,
the staff inbox, the dashboard and the statistics. The trigram index must serve a
search for a rare word.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import event

from portal.extensions import db

PETITIONS, WARDS = 24_000, 24
READS_PETITION = re.compile(r"\b(FROM|JOIN)\s+petition\b", re.IGNORECASE)


@pytest.fixture
def city(app, world, backend, sql):
    if backend != "postgresql":
        pytest.skip("query plans are PostgreSQL's (SQLite has no trigram index)")
    for n in range(1, WARDS):
        west = 105.0 + 0.03 * n
        sql(
            "INSERT INTO ward (code, name, province_code, province_name, boundary, created_at)"
            " VALUES (:code, :name, '01', 'Thành phố Hà Nội', :boundary, now())",
            code=f"9{n:04d}",
            name=f"Phường thử {n}",
            boundary=json.dumps(
                {
                    "type": "Polygon",
                    "coordinates": [
                        [[west, 21], [west + 0.02, 21], [west + 0.02, 21.02], [west, 21]]
                    ],
                }
            ),
        )
    category = world.categories["ve-sinh-moi-truong"].id
    # Ward i gets every WARDS-th petition; ours (the world's ward, lowest id) as many.
    sql(
        """
        WITH wards AS (SELECT array_agg(id ORDER BY id) AS ids FROM ward)
        INSERT INTO petition (code, ward_id, title, description, category_id, latitude,
            longitude, channel, show_name_publicly, status, competence, created_at,
            updated_at, version, private_token, search_key, reply_due_on, resolve_due_on)
        SELECT 'KN-2025-' || lpad(g::text, 5, '0'), wards.ids[1 + g % :wards],
            'Kiến nghị ' || g, 'Nội dung ' || g, :category,
            20.97 + (g % 100) * 0.0002, 105.74 + (g % 97) * 0.0002, 'WEB', false,
            (ARRAY['RECEIVED','REVIEWING','ASSIGNED','IN_PROGRESS','RESOLVED','CLOSED',
                   'CLOSED','CLOSED','REJECTED','MERGED'])[1 + g % 10],
            'WARD', now() - (g || ' hours')::interval, now() - (g || ' hours')::interval, 1,
            md5(g::text),
            'kn-2025-' || g || ' ' || (ARRAY['rac thai ngo', 'cong thoat nuoc bi tac',
                'den duong hong', 'lan chiem via he'])[1 + g % 4]
                || CASE WHEN g % 5000 = 0 THEN ' quyzzkhiem' ELSE '' END,
            (now() - (g || ' hours')::interval)::date + 7,
            (now() - (g || ' hours')::interval)::date + 28
        FROM generate_series(1, :n) AS g, wards
        """,
        wards=WARDS,
        category=category,
        n=PETITIONS,
    )
    unit = world.units["infra"].id
    sql(
        "INSERT INTO assignment (petition_id, unit_id, role, created_at)"
        " SELECT id, :unit, 'LEAD', created_at FROM petition"
        " WHERE status IN ('ASSIGNED', 'IN_PROGRESS', 'RESOLVED', 'CLOSED')",
        unit=unit,
    )
    sql(
        "INSERT INTO petition_event (petition_id, created_at, actor_kind, kind, to_status,"
        " petition_version, data) SELECT id, created_at, 'petitioner', 'FILED', 'RECEIVED',"
        " 1, '{}' FROM petition"
    )
    db.session.commit()
    with db.engine.begin() as connection:  # committed, or the statistics roll back
        connection.exec_driver_sql("ANALYZE")
    yield sql(
        "SELECT code FROM petition WHERE ward_id = :ward ORDER BY id LIMIT 1", ward=world.ward.id
    ).scalar()
    # Emptied in one statement: the next test's row-by-row reset would take minutes.
    db.session.rollback()
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def _captured(client, urls) -> list[tuple[str, str, object]]:
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and READS_PETITION.search(statement):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        found = []
        for url in urls:
            statements.clear()
            response = client.get(url)
            assert response.status_code in (200, 303), url
            found += [(url, s, p) for s, p in statements]
        return found
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def _plan(statement: str, parameters) -> dict:
    with db.engine.connect() as connection:
        raw = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
        return raw.scalar()[0]["Plan"]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _seq_scans_of_petition(plan: dict) -> list[dict]:
    return [
        n
        for n in _nodes(plan)
        if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "petition"
    ]


def test_hot_paths_never_scan_the_petition_table(client, auth, world, city):
    code = city
    box = "105.74,20.97,105.76,20.99"
    public = [
        f"/tra-cuu?ma={code}",
        f"/kien-nghi/{code}",
        "/kien-nghi",
        "/kien-nghi?status=in_progress",
        "/kien-nghi?q=rac+thai",
        "/kien-nghi?q=cong+thoat&status=received",
        f"/ban-do/du-lieu.geojson?bbox={box}&zoom=16",
        f"/ban-do/du-lieu.geojson?bbox={box}&zoom=12",
        "/thong-ke",
        "/",
    ]
    found = _captured(client, public)
    auth.as_role(world, "ward_staff")
    found += _captured(
        client,
        ["/quan-ly/", "/quan-ly/?status=in_progress", "/quan-ly/?q=den+duong", "/giam-sat"],
    )
    assert len({url for url, _s, _p in found}) == 14  # every page read petitions
    for url, statement, parameters in found:
        plan = _plan(statement, parameters)
        assert not _seq_scans_of_petition(plan), f"{url}\n{statement}\n{json.dumps(plan)}"


def test_trigram_index_serves_a_rare_word(client, world, city, sql):
    # A big ward (a tenth of a million-petition city): reading all its rows would cost
    # more than the index.
    sql(
        """
        INSERT INTO petition (code, ward_id, title, description, category_id, channel,
            show_name_publicly, status, competence, created_at, updated_at, version,
            private_token, search_key)
        SELECT 'KN-2024-' || lpad(g::text, 5, '0'), :ward, 'Kiến nghị', 'Nội dung',
            :category, 'WEB', false, 'CLOSED', 'WARD', now(), now(), 1, md5('b' || g),
            'rac thai ngo ' || g
        FROM generate_series(1, 20000) AS g
        """,
        ward=world.ward.id,
        category=world.categories["thoat-nuoc"].id,
    )
    db.session.commit()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE petition")
    found = _captured(client, ["/kien-nghi?q=quyzzkhiem"])
    used = set()
    for _url, statement, parameters in found:
        used |= {n.get("Index Name") for n in _nodes(_plan(statement, parameters))}
    assert "ix_petition_search_key_trgm" in used, used
    body = client.get("/kien-nghi?q=quyzzkhiem").get_data(as_text=True)
    assert body.count("/kien-nghi/KN-2025-") >= 1
