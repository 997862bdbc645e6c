"""The query plans of the hot paths on the benchmark database, for docs/performance.md.

Requests each hot page once in-process (Flask's test client, as a resident and as ward
staff), captures every statement that reads ``petition`` and prints its
``EXPLAIN (ANALYZE, BUFFERS)``. Prints ``SEQ SCAN ON PETITION`` and exits 1 if a plan
reads the whole petition table.

    .venv/bin/python scripts/bench_plans.py > /tmp/plans.txt
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

READS_PETITION = re.compile(r"\b(FROM|JOIN)\s+petition\b", re.IGNORECASE)


def main(argv: list[str] | None = None) -> int:
    from bench import DEFAULT_DATABASE_URL, STAFF_EMAIL, STAFF_PASSWORD, bbox_text, ward_facts

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--ward", default="09886")
    args = parser.parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["PORTAL_WARD_CODE"] = args.ward
    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db

    facts = ward_facts(args.database_url, args.ward)
    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    code = facts["codes"][0]
    box = bbox_text(facts["bbox"])
    pages = [
        ("lookup by code", f"/tra-cuu?ma={code}", False),
        ("list by status, newest first", "/kien-nghi?status=in_progress", False),
        ("search", "/kien-nghi?q=rac+thai", False),
        ("GeoJSON, ward box, zoom 16", f"/ban-do/du-lieu.geojson?bbox={box}&zoom=16", False),
        ("GeoJSON, ward box, zoom 14", f"/ban-do/du-lieu.geojson?bbox={box}&zoom=14", False),
        ("staff inbox", "/quan-ly/", True),
        ("dashboard", "/giam-sat", True),
    ]
    seen: set[str] = set()
    bad = 0
    client = app.test_client()
    with app.app_context():
        captured: list[tuple[str, object]] = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT") and READS_PETITION.search(statement):
                captured.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", capture)
    logged_in = False
    for label, url, staff in pages:
        if staff and not logged_in:
            client.post(
                "/dang-nhap",
                data={"email": STAFF_EMAIL.format(code=args.ward), "password": STAFF_PASSWORD},
            )
            logged_in = True
        client.get(url)  # warm
        captured.clear()
        response = client.get(url)
        print(f"## {label}: GET {url} → {response.status_code}\n")
        for statement, parameters in captured:
            shape = re.sub(r"\s+", " ", statement)
            if shape in seen:
                continue
            seen.add(shape)
            with app.app_context(), db.engine.connect() as connection:
                plan = connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                ).all()
            text = "\n".join(row[0] for row in plan)
            if re.search(r"Seq Scan on petition\b", text):
                bad += 1
                print("SEQ SCAN ON PETITION")
            print("```sql\n" + shape[:600] + (" …" if len(shape) > 600 else "") + "\n```")
            print("```\n" + text + "\n```\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
