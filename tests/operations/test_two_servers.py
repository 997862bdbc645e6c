"""Two app servers on one database, as behind a load balancer: petition codes stay unique."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.petitions.models import Petition
from tests.processes import AppServer, Resident

pytestmark = pytest.mark.processes

RESIDENTS = 6
EACH = 5


def test_two_servers_filing_at_once_hand_out_every_code_once(app, world_ids, tmp_path):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    uploads = tmp_path / "uploads"
    receipts: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    with AppServer(database_url, uploads) as one, AppServer(database_url, uploads) as two:
        servers = [one.url, two.url]
        barrier = threading.Barrier(RESIDENTS)

        def resident(k: int) -> None:
            person = Resident(world_ids)
            barrier.wait()
            for n in range(EACH):
                url = servers[(k + n) % 2]
                try:
                    response = person.file(url, k * 100 + n)
                    if response.status_code != 303:
                        raise AssertionError(f"{url}: {response.status_code}")
                    _, code = person.receipt(url, response)
                except Exception as error:  # noqa: BLE001 - reported below
                    with lock:
                        failures.append(repr(error))
                    continue
                with lock:
                    receipts.append(code)

        threads = [threading.Thread(target=resident, args=(k,)) for k in range(RESIDENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        logs = one.output() + two.output()
    assert not failures, (failures, logs)
    total = RESIDENTS * EACH
    assert len(receipts) == total
    assert len(set(receipts)) == total, "a code was handed out twice"
    db.session.expire_all()
    stored = db.session.scalars(select(Petition.code)).all()
    assert sorted(stored) == sorted(receipts), "a petition is missing or one has no receipt"
    numbers = sorted(int(code[-5:]) for code in stored)
    assert numbers == list(range(1, total + 1)), "a number was skipped or repeated"
