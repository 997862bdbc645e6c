"""SIGKILL the app server while residents file petitions with photos, again and again.

Afterwards every petition whose receipt a resident saw exists whole (its photos' files
and its first timeline event), and none exists half. "Half" would be a petition without
its ``filed`` event, a photo row whose file is gone, or a file that no row refers to.
The first two cannot happen: the petition, its photos' rows and its first event commit
in one transaction, after the files were written and synced. The third can: a kill
between writing the files and the commit leaves them behind, unreachable; ``flask portal
clean-uploads`` removes them (from cron, after a grace period; here at once, with every
server stopped).
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from portal.extensions import db
from portal.operations.uploads import referenced_names
from portal.petitions.models import EventKind, Petition, PetitionEvent, Photo
from portal.storage import LocalStorage
from tests.processes import ROOT, AppServer, Resident

pytestmark = pytest.mark.processes

KILLS = 3
RESIDENTS = 3
PHOTOS = 2
RECEIPTS_BETWEEN_KILLS = 4


def test_petitions_survive_sigkill_whole_or_not_at_all(app, world_ids, tmp_path):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    uploads = tmp_path / "uploads"
    server = AppServer(database_url, uploads)
    receipts: dict[str, str] = {}  # private token -> code the resident was shown
    refused: list[str] = []
    broken = 0
    stop = threading.Event()
    lock = threading.Lock()
    rng = random.Random(7)

    def resident(k: int) -> None:
        nonlocal broken
        person = Resident(world_ids, timeout=10)
        n = 0
        while not stop.is_set() and n < 200:
            n += 1
            try:
                response = person.file(server.url, k * 1000 + n, photos=PHOTOS)
                if response.status_code != 303:
                    with lock:
                        refused.append(f"{response.status_code}: {response.text[:300]}")
                    continue
                token, code = person.receipt(server.url, response)
            except requests.RequestException:
                with lock:
                    broken += 1  # the server died under this request: no receipt
                time.sleep(0.05)
                continue
            with lock:
                receipts[token] = code

    def receipts_grow_by(count: int, timeout: float = 30) -> None:
        """Let the residents get ``count`` more receipts (however slow the machine is)."""
        target = len(receipts) + count
        deadline = time.monotonic() + timeout
        while len(receipts) < target and time.monotonic() < deadline:
            time.sleep(0.02)

    server.start()
    threads = [threading.Thread(target=resident, args=(k,)) for k in range(RESIDENTS)]
    try:
        for thread in threads:
            thread.start()
        for _ in range(KILLS):
            receipts_grow_by(RECEIPTS_BETWEEN_KILLS)
            time.sleep(rng.uniform(0, 0.3))  # land anywhere in the requests in flight
            server.kill()
            server.start()
        receipts_grow_by(RECEIPTS_BETWEEN_KILLS)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        server.stop()
        logs = server.output()
    assert not refused, (refused[:3], logs)
    expected = RECEIPTS_BETWEEN_KILLS * (KILLS + 1)
    assert len(receipts) >= expected, f"too few filings got through: {len(receipts)}\n{logs}"

    db.session.expire_all()
    storage = LocalStorage(uploads)
    on_disk = {item.name for item in storage.list()}

    # Whole: every receipt is a petition with its first event and both files of each photo.
    for token, code in receipts.items():
        petition = db.session.scalar(select(Petition).where(Petition.private_token == token))
        assert petition is not None and petition.code == code
        assert petition.events and petition.events[0].kind == EventKind.FILED
        assert len(petition.photos) == PHOTOS
        for photo in petition.photos:
            assert {photo.stored_name, photo.thumb_name} <= on_disk
            assert (uploads / photo.stored_name).stat().st_size == photo.size_bytes

    # Never half: no petition without its filed event, no photo row without its file.
    without_event = db.session.scalar(
        select(func.count())
        .select_from(Petition)
        .where(
            ~select(PetitionEvent.id)
            .where(PetitionEvent.petition_id == Petition.id, PetitionEvent.kind == EventKind.FILED)
            .exists()
        )
    )
    assert without_event == 0
    referenced = referenced_names()
    assert referenced <= on_disk, f"rows whose files are gone: {sorted(referenced - on_disk)}"
    photo_rows = db.session.scalar(select(func.count()).select_from(Photo))
    petitions = db.session.scalar(select(func.count()).select_from(Petition))
    assert photo_rows == PHOTOS * petitions
    codes = db.session.scalars(select(Petition.code)).all()
    assert len(codes) == len(set(codes))

    # Files written for requests that were killed before their commit: orphans, which
    # the cleaning command removes. Afterwards the store holds exactly what rows name.
    orphans = on_disk - referenced
    cleaned = subprocess.run(
        [sys.executable, "-m", "flask", "portal", "clean-uploads", "--grace-minutes", "0"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cleaned.returncode == 0, cleaned.stderr
    assert f"Đã xoá {len(orphans)} tệp không dùng đến" in cleaned.stdout
    assert {item.name for item in storage.list()} == referenced
    print(  # the figures for the record (pytest -s)
        f"\ncrash test ({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}): "
        f"{KILLS} kills, {len(receipts)} receipts, {petitions} petitions, "
        f"{broken} requests cut off, {len(orphans)} orphan files cleaned"
    )
