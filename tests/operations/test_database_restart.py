"""The database goes away under load and comes back: the app recovers by itself.

PostgreSQL here is a cluster of the test's own (initdb and pg_ctl on a free port), so
stopping it never disturbs the shared server the other tests use.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from portal.extensions import db
from tests import factories
from tests.conftest import make_app
from tests.processes import AppServer, PrivateCluster, Resident


def test_a_page_that_needs_the_database_says_503_while_it_is_down(tmp_path):
    app = make_app(
        "postgresql+psycopg://postgres@127.0.0.1:1/none",
        tmp_path,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}},
    )
    response = app.test_client().get("/kien-nghi")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "tạm thời không kết nối được cơ sở dữ liệu" in response.get_data(as_text=True)


@pytest.fixture(scope="module")
def cluster():
    cluster = PrivateCluster().init()
    yield cluster
    cluster.destroy()


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.processes
def test_the_app_recovers_by_itself_when_the_database_restarts(cluster, tmp_path):
    app = make_app(cluster.url, tmp_path)
    with app.app_context():
        db.create_all()
        world = factories.build_world()
        db.session.commit()
        world_ids = {"category": world.categories["chieu-sang"].id}
    polls: list[tuple[float, int | str, float]] = []  # (when, status, seconds taken)
    filings: list[tuple[float, int | str]] = []
    stop = threading.Event()

    with AppServer(cluster.url, tmp_path / "uploads") as server:
        pid = server.process.pid

        def poll_health() -> None:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    status = requests.get(server.url + "/healthz", timeout=20).status_code
                except requests.RequestException as error:
                    status = type(error).__name__
                polls.append((started, status, time.monotonic() - started))
                time.sleep(0.05)

        def file_petitions() -> None:
            person = Resident(world_ids, timeout=20)
            n = 0
            while not stop.is_set() and n < 500:
                n += 1
                try:
                    status = person.file(server.url, n).status_code
                except requests.HTTPError as error:  # the form itself could not be shown
                    status = error.response.status_code
                except requests.RequestException as error:
                    status = type(error).__name__
                filings.append((time.monotonic(), status))
                time.sleep(0.02)

        workers = [threading.Thread(target=poll_health), threading.Thread(target=file_petitions)]
        for thread in workers:
            thread.start()
        try:
            assert wait_for(lambda: any(s == 303 for _, s in filings), 60), filings
            went_down = time.monotonic()
            cluster.stop("immediate")  # a crash, as far as the app can tell
            assert wait_for(lambda: any(t > went_down and s == 503 for t, s, _ in polls), 30), polls
            time.sleep(1.0)  # down for a while, under load
            came_back = time.monotonic()
            cluster.start()
            assert wait_for(lambda: any(t > came_back and s == 200 for t, s, _ in polls), 30), polls
            recovered = time.monotonic()
            assert wait_for(lambda: any(t > recovered and s == 303 for t, s in filings), 30), (
                filings
            )
            # A few health checks begun after the recovery, to judge them (a filing may
            # succeed before the next check starts).
            assert wait_for(lambda: sum(t > recovered for t, _, _ in polls) >= 5, 30), polls
        finally:
            stop.set()
            for thread in workers:
                thread.join(30)
        logs = server.output(tail=10**6)
        assert server.process.poll() is None and server.process.pid == pid  # never restarted

    during = [s for t, s, _ in polls if went_down < t < came_back]
    after = [s for t, s, _ in polls if t > recovered]
    assert set(during) <= {200, 503} and 503 in during, (during, logs)  # 200: not noticed yet
    assert set(after) == {200}, (after, logs)
    assert max(took for _, _, took in polls) < 9, "a health check hung"
    statuses = {s for _, s in filings}
    assert statuses <= {303, 503}, (statuses, logs)  # never a 500, never a dropped connection
    print(  # the figures for the record (pytest -s)
        f"\ndatabase restart: {len(polls)} health checks ({during.count(503)} × 503 while down), "
        f"{len(filings)} filings ({sum(s == 303 for _, s in filings)} filed, "
        f"{sum(s == 503 for _, s in filings)} × 503), back {recovered - came_back:.2f} s "
        "after the database"
    )
